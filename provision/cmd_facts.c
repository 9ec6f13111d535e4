/*
 * cmd_facts.c: `nodeprep facts`: print what recipes see as {{ facts.* }}.
 */
#include <stdio.h>

#include "cmd.h"
#include "error.h"
#include "facts.h"
#include "host.h"
#include "log.h"
#include "banned.h"

int cmd_facts(struct cli_opts *o)
{
	struct host *h;
	if (cli_host_open(&h, o)) {
		log_error("%s", np_error_last());
		return EXIT_FAILED;
	}
	struct facts *f = facts_new(h);
	struct buf out = BUF_INIT;
	facts_format(&out, f, o->json);
	fputs(out.ptr, stdout);
	buf_release(&out);
	facts_free(f);
	host_free(h);
	return EXIT_OK;
}
