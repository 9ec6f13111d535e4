/*
 * cmd_diff.c: `crharness diff A B`: what changed between two checkpoints
 * of the same container (processes, open files, memory pages, root fs).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "ckpt_diff.h"
#include "cmd.h"
#include "error.h"
#include "inspect.h"
#include "log.h"
#include "banned.h"

static const char diff_usage[] =
	"usage: crharness diff [--json] CHECKPOINT_A CHECKPOINT_B\n\n"
	"Compares two checkpoints of the same container, as checkpointctl diff does:\n"
	"processes started or gone (matched by pid), open files per process and fd,\n"
	"memory pages stored (count and bytes, per process), and the root fs diff\n"
	"(files added, removed or changed in rootfs-diff.tar or the rw layer, and\n"
	"deleted.files).\n\n"
	"Each CHECKPOINT is anything `crharness inspect` reads.\n\n"
	"options:\n"
	"  --json    one JSON document\n\n"
	"exit status: 0 compared, 1 unreadable, 2 bad usage or not a checkpoint.\n";

int cmd_diff(int argc, char **argv)
{
	const char *p[2] = { NULL, NULL };
	bool as_json = false;
	struct checkpoint_info ci[2];
	memset(ci, 0, sizeof(ci));
	int code = EXIT_OK, n = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(diff_usage, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--json")) {
			as_json = true;
		} else if (argv[i][0] == '-') {
			log_error("unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else if (n < 2) {
			p[n++] = argv[i];
		} else {
			log_error("diff compares two checkpoints, got a third: '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (n != 2) {
		fputs(diff_usage, stderr);
		return EXIT_USAGE;
	}
	for (int i = 0; i < 2; i++) {
		int r = inspect_checkpoint_ex(&ci[i], p[i], INSPECT_ROOTFS);
		if (r) {
			log_error("%s", np_error_last());
			code = r == NP_EINVALID ? EXIT_USAGE : EXIT_FAILED;
			goto out;
		}
	}
	json_t *d = ckpt_diff(p[0], &ci[0], p[1], &ci[1]);
	if (as_json) {
		json_dumpf(d, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		ckpt_diff_print(stdout, d);
	}
	json_decref(d);
out:
	inspect_free(&ci[0]);
	inspect_free(&ci[1]);
	return code;
}
