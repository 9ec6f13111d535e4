/*
 * cmd_cleanup.c: `crharness cleanup`: remove what crharness runs that died
 * without cleaning up (SIGKILL, the OOM killer, a crash, a reboot-less
 * power cut of the CI job) left on this host. Everything is found through
 * their run records (runrec.h), so what they did not create is never
 * touched; `run` does the same before it starts.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "error.h"
#include "log.h"
#include "runrec.h"
#include "banned.h"

static const char cleanup_usage[] =
	"usage: crharness cleanup [--run-dir DIR] [--dry-run]\n\n"
	"Removes what crharness runs that were killed (SIGKILL, OOM, a crash) left\n"
	"behind: their runc containers and runtime commands still in flight, their\n"
	"private containerd and dockerd daemons and shims, containers and checkpoint\n"
	"images they made in a containerd they did not start (namespace crharness),\n"
	"containers and the counter image they made in a running Docker engine (by\n"
	"their crharness.run and crharness.workdir labels), mounts, and work dirs\n"
	"they created. It finds them through the runs' records in the run\n"
	"dir, so nothing another tool or person created is touched. Runs still alive\n"
	"are left alone. `crharness run` does the same before it starts.\n\n"
	"options:\n"
	"  --run-dir DIR   where runs keep their records (default " RUNREC_DIR ")\n"
	"  --dry-run       only list what would be removed\n\n"
	"exit status: 0 nothing left, 1 something could not be removed, 2 bad usage.\n";

int cmd_cleanup(int argc, char **argv)
{
	const char *dir = RUNREC_DIR;
	bool dry_run = false;
	struct buf report = BUF_INIT;
	size_t runs = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(cleanup_usage, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--dry-run")) {
			dry_run = true;
		} else if (!strcmp(argv[i], "--run-dir")) {
			if (cmd_need_value(i, argc, argv[i]))
				return EXIT_USAGE;
			dir = argv[++i];
		} else {
			log_error("unexpected argument '%s'", argv[i]);
			fputs(cleanup_usage, stderr);
			return EXIT_USAGE;
		}
	}
	int r = runrec_sweep(dir, dry_run, &report, &runs);
	fputs(report.ptr, stdout);
	printf("%zu dead run%s%s\n", runs, runs == 1 ? "" : "s",
	       !runs ? "" : r ? ": not everything could be removed (see above)"
		      : dry_run ? "" : ", all cleaned up");
	buf_release(&report);
	return r ? EXIT_FAILED : EXIT_OK;
}
