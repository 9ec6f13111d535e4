/*
 * cmd_rollback.c: `nodeprep rollback`: undo the last apply from its journal.
 */
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "host.h"
#include "journal.h"
#include "log.h"
#include "banned.h"

int cmd_rollback(struct cli_opts *o)
{
	struct buf report = BUF_INIT;
	int lock = -1, code = EXIT_OK;
	if (cli_lock(&lock, o->state_dir)) {
		log_error("%s", np_error_last());
		return EXIT_FAILED;
	}
	struct host *h = NULL;
	int r = o->host ? cli_host_open(&h, o) : 0;
	if (!r)
		r = journal_rollback(o->state_dir, o->root[0] ? o->root : NULL, h, &report);
	host_free(h);
	fputs(report.ptr, stdout);
	if (r) {
		log_error("%s", np_error_last());
		code = r == NP_ENOTFOUND ? EXIT_USAGE : EXIT_FAILED;
	} else {
		printf("rolled back the last apply\n");
	}
	close(lock);
	buf_release(&report);
	return code;
}
