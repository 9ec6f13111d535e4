/*
 * cmd_facts.c: `nodeprep facts`: print what recipes see as {{ facts.* }}.
 */
#include <stdio.h>

#include "cmd.h"
#include "facts.h"
#include "banned.h"

int cmd_facts(struct cli_opts *o)
{
	struct facts *f = facts_new(o->root);
	struct buf out = BUF_INIT;
	facts_format(&out, f, o->json);
	fputs(out.ptr, stdout);
	buf_release(&out);
	facts_free(f);
	return EXIT_OK;
}
