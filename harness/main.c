/*
 * main.c: crharness entry point: find the command in the table, run it,
 * check stdout flushed, and return its exit code. Each command parses its
 * own options and prints its own --help.
 *
 * To add a command: write harness/cmd_<name>.c with `int cmd_<name>(int
 * argc, char **argv)` (argv[0] is the command name), declare it in cmd.h,
 * and add one row to `commands` (its desc feeds `crharness --help`).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "banned.h"

int cmd_need_value(int i, int argc, const char *opt)
{
	if (i + 1 >= argc) {
		log_error("option '%s' needs a value", opt);
		return -1;
	}
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *desc;
} commands[] = {
	{ "run", cmd_run, "run counter checkpoint/restore scenarios and report" },
	{ "inspect", cmd_inspect, "describe a checkpoint archive or image directory" },
	{ "list", cmd_list, "list the checkpoints in the usual places or given directories" },
	{ "diff", cmd_diff, "what changed between two checkpoints of one container" },
	{ "memsearch", cmd_memsearch, "find a string or regex in a checkpoint's memory pages" },
	{ "image", cmd_image, "write the counter image, or a checkpoint as a restorable image" },
	{ "controller", cmd_controller, "checkpoint pods for ContainerCheckpoint objects (a CRD controller)" },
	{ "cleanup", cmd_cleanup, "remove what killed runs left behind (containers, daemons, mounts)" },
};

static void usage(FILE *f)
{
	fputs("usage: crharness COMMAND [options]\n\n"
	      "Proves that container checkpoint/restore works on this node: runs a counter\n"
	      "container, checkpoints and restores it, and checks the counter went on.\n\n"
	      "commands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].desc);
	fputs("\nRun `crharness COMMAND --help` for its options.\n"
	      "exit status: 0 ok, 1 a scenario failed, 2 bad usage or input,\n"
	      "130/143/129 a run stopped by SIGINT/SIGTERM/SIGHUP.\n", f);
}

int main(int argc, char **argv)
{
	log_setup(LOG_INFO, stderr);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[1])) {
			int code = commands[i].fn(argc - 1, argv + 1);
			/* a full disk or closed pipe on stdout must not look like success */
			if (fflush(stdout) || ferror(stdout)) {
				fprintf(stderr, "error: cannot write output: %s\n", strerror(errno));
				return code ? code : EXIT_FAILED;
			}
			return code;
		}
	log_error("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
