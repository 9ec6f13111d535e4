/*
 * cmdutil.h: what `command` and `verify` share: turning argv/shell/env
 * fields into a struct spawn, and the tail of a command's output for error
 * messages.
 */
#ifndef NP_CMDUTIL_H
#define NP_CMDUTIL_H

#include "spawn.h"
#include "ytree.h"

struct cmd_spec {
	const char **argv;  /* owned array, borrowed strings */
	const char **env;   /* owned array of owned "K=V" strings */
	size_t nenv;
};

/** Build from field `field` (list = argv, string = `sh -c`; NULL: none, the caller sets argv), plus env map and cwd/timeout. */
int cmd_spec_build(struct cmd_spec *out, struct spawn *sp, const struct ynode *args,
		   const char *field);
void cmd_spec_release(struct cmd_spec *c);
/** The last n lines of text, appended to out. */
void cmd_tail(struct buf *out, const char *text, int n);

#endif
