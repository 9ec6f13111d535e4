/*
 * main.c: nodeprep's entry point: parse the subcommand, dispatch through
 * the command table, flush stdout and turn the result into an exit code.
 *
 * To add a command: write cmd_<name>.c with `int cmd_<name>(struct
 * cli_opts *)`, declare it in cmd.h, and add one row to `commands` with a
 * one-line description (it feeds --help) and its usage text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "error.h"
#include "log.h"
#include "banned.h"

struct command {
	const char *name;
	int (*fn)(struct cli_opts *o);
	const char *desc;
	const char *usage;
};

#define COMMON_OPTS \
	"  --root DIR          manage paths under DIR instead of / (image roots, tests)\n" \
	"  --state-dir DIR     journal, lock and cache (default ROOT/var/lib/nodeprep)\n" \
	"  -e NAME=VALUE       set a variable, overriding the recipes' vars\n" \
	"  --recipe-path DIR   also look for required recipes in DIR (after ./recipes)\n" \
	"  --source NAME=URL   fetch/git step NAME uses URL (or a local path) instead;\n" \
	"                      the recipe's sha256/commit checks still apply\n" \
	"  --sources FILE      a site file with `sources: {NAME: URL}` (mirrors)\n"

#define REMOTE_OPTS \
	"  -H, --host [USER@]HOST[:PORT]\n" \
	"                      apply to a remote node over SSH (no agent needed there)\n" \
	"  -i, --key FILE      private key (default: ssh-agent, then the password in\n" \
	"                      $NODEPREP_SSH_PASSWORD)\n" \
	"  --known-hosts FILE  host keys to trust (default ~/.ssh/known_hosts)\n" \
	"  --accept-new-host-key  add an unknown host's key (a changed key is always refused)\n" \
	"  --become            sudo -n on the node, for a non-root login\n" \
	"  --persist SECONDS   keep the connection in a background ssh-master for\n" \
	"                      SECONDS after the last run, and reuse it (no new TCP\n" \
	"                      connection, key exchange or session); default 0, or\n" \
	"                      $NODEPREP_SSH_PERSIST (see `nodeprep ssh-master --help`)\n" \
	"  --inventory FILE    every host of an inventory (hosts: name, address, port,\n" \
	"                      user, key, become, vars, roles), in parallel\n" \
	"  --limit NAME[,NAME] only these inventory hosts\n" \
	"  --forks N           hosts at once (default 5)\n"

static const struct command commands[] = {
	{ "validate", cmd_validate, "check recipes for errors without touching the host",
	  "usage: nodeprep validate [options] RECIPE...\n\n"
	  "Loads each recipe and everything it requires, checks every step's fields\n"
	  "and renders every template. Errors are printed as FILE:LINE:COL: error: MSG.\n\n"
	  COMMON_OPTS "  --json              machine-readable output\n" },
	{ "plan", cmd_plan, "show what apply would change (with diffs), change nothing",
	  "usage: nodeprep plan [options] RECIPE...\n\n"
	  "Runs every step's check and prints ok / change, with a unified diff for\n"
	  "file edits. Nothing on the host is modified.\n\n" COMMON_OPTS REMOTE_OPTS
	  "  --tags TAG          only steps tagged TAG (repeatable)\n"
	  "  --json              machine-readable output\n" },
	{ "apply", cmd_apply, "bring the host to the state the recipes describe",
	  "usage: nodeprep apply [options] RECIPE...\n\n"
	  "Checks each step and changes only what differs; files are replaced\n"
	  "atomically and their previous contents journaled for `rollback`.\n"
	  "The last line is `N ok, N changed, N failed`.\n\n" COMMON_OPTS REMOTE_OPTS
	  "  --tags TAG          only steps tagged TAG (repeatable)\n"
	  "  --json              machine-readable output\n" },
	{ "rollback", cmd_rollback, "undo the last apply, byte for byte",
	  "usage: nodeprep rollback [--state-dir DIR] [--root DIR] [--host ...]\n\n"
	  "Restores every file the last apply changed and removes the files and\n"
	  "directories it created, from the journal in the state dir.\n\n"
	  "  -H, --host, -i, --known-hosts, --accept-new-host-key, --become,\n"
	  "  --persist SECONDS   the remote node, as for apply\n" },
	{ "inventory", cmd_inventory, "write an inventory from `vagrant ssh-config`",
	  "usage: nodeprep inventory from-vagrant [FILE|-]\n\n"
	  "Reads `vagrant ssh-config` output from FILE, from stdin (-), or by running\n"
	  "`vagrant ssh-config` here, and prints an inventory for --inventory: one host\n"
	  "per Vagrant machine with its address, port, user and key; become: true for\n"
	  "non-root users.\n" },
	{ "doctor", cmd_doctor, "check this node is ready for checkpoint/restore",
	  "usage: nodeprep doctor [--root DIR]\n\n"
	  "One line per check, ok / warn / FAIL, with the fix: CRIU present and >= 4.1,\n"
	  "`criu check`, a trial dump of a sleeping process (retried with\n"
	  "CRIU_FAULT=130 when it hangs: VMs without hardware breakpoints),\n"
	  "iptables-restore, runc checkpoint support, cgroup version, kernel, and the\n"
	  "CRI-O / kubelet C/R settings when those are installed.\n"
	  "exit status: 0 no check failed, 1 a check failed.\n" },
	{ "ssh-master", cmd_ssh_master, "start, check or stop the connection --persist keeps",
	  "usage: nodeprep ssh-master [start|check|exit] --host [USER@]HOST[:PORT] [options]\n\n"
	  "With --persist SECONDS (or $NODEPREP_SSH_PERSIST), plan, apply, rollback and\n"
	  "facts on --host do not connect themselves: a background nodeprep process,\n"
	  "the ssh-master, holds the SSH connection (and its shell) and runs their host\n"
	  "operations; later runs with the same connection parameters (user, address,\n"
	  "port, key, known_hosts, --accept-new-host-key, --become, --root) reuse it.\n"
	  "It is OpenSSH's ControlPersist for nodeprep. The first run starts it, and\n"
	  "its connection errors (unknown host key, refused key) are that run's, word\n"
	  "for word, with no master left behind. It serves one run at a time (others\n"
	  "wait), and exits SECONDS after its last run (the latest run's --persist),\n"
	  "when its connection dies (the run in flight fails naming the host; the next\n"
	  "run starts a new one), or on SIGTERM. Ctrl-C in a run does not reach it: a\n"
	  "command it is running on the node finishes (as over ssh), and apply stops\n"
	  "after that step, as without --persist.\n\n"
	  "Its socket is in $XDG_RUNTIME_DIR/nodeprep-ssh, else /tmp/nodeprep-ssh-UID:\n"
	  "a directory that must be ours and 0700 (it is refused otherwise), a socket\n"
	  "0600, and only our uid is served.\n\n"
	  "  start               start one (or reuse it) and print its state (default)\n"
	  "  check               print its pid and state; exit 1 when none runs\n"
	  "  exit                stop it now; exit 1 when none runs\n"
	  "  serve               the master itself (what a run starts; not for users)\n\n"
	  "  -H, --host, -i, --known-hosts, --accept-new-host-key, --become, --root\n"
	  "                      the connection, as given to apply\n"
	  "  --persist SECONDS   idle time for start (default 60)\n" },
	{ "facts", cmd_facts, "print the host facts recipes can use",
	  "usage: nodeprep facts [--root DIR] [--json]\n\n"
	  "Prints arch, distro, init system, package manager, container runtime and\n"
	  "runtime versions, as recipes see them in {{ facts.NAME }}.\n" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: nodeprep COMMAND [options] [RECIPE...]\n\n"
	      "Prepares Linux nodes for container checkpoint/restore from declarative\n"
	      "YAML recipes.\n\ncommands:\n",
	      out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].desc);
	fputs("\nRun `nodeprep COMMAND --help` for a command's options.\n\n"
	      "exit status: 0 ok, 1 a step failed (or the state dir is locked),\n"
	      "2 bad usage or a bad recipe.\n",
	      out);
}

static int finish(int code)
{
	/* a full disk or closed pipe on stdout must not look like success */
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "error: cannot write output: %s\n", strerror(errno));
		return code ? code : EXIT_FAILED;
	}
	return code;
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	bool help;
	log_setup(LOG_INFO, stderr);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, argv[1]))
			cmd = &commands[i];
	if (!cmd) {
		log_error("unknown command '%s'", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	int r = cli_parse(&o, argc - 1, argv + 1, &help);
	if (help) {
		fputs(cmd->usage, stdout);
		cli_release(&o);
		return finish(EXIT_OK);
	}
	if (r) {
		log_error("%s", np_error_last());
		fputs(cmd->usage, stderr);
		cli_release(&o);
		return EXIT_USAGE;
	}
	if (o.verbose)
		log_setup(LOG_DEBUG, stderr);
	int code = cmd->fn(&o);
	cli_release(&o);
	return finish(code);
}
