/*
 * cmd_inspect.c: `crharness inspect`: describe checkpoint archives and
 * CRIU image directories, as text or one JSON document.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "error.h"
#include "inspect.h"
#include "inspect_out.h"
#include "log.h"
#include "banned.h"

static const char inspect_usage[] =
	"usage: crharness inspect [--json] [--ps-tree-cmd] [--ps-tree-env] [--files]\n"
	"                         [--sockets] [--mounts] [--network] [--stats] [--all]\n"
	"                         CHECKPOINT...\n\n"
	"Describes container checkpoints, as checkpointctl show/inspect do: engine,\n"
	"container, image, runtime, times, checkpoint and memory size, root fs diff,\n"
	"CRIU dump statistics, the process tree from CRIU's images, and which of\n"
	"config.dump, spec.dump, status.dump, network.status, rootfs-diff.tar,\n"
	"deleted.files and checkpoint/inventory.img are present.\n\n"
	"CHECKPOINT is a kubelet, CRI-O, Podman or containerd-CRI archive (tar, any\n"
	"compression), a containerd checkpoint exported with `ctr image export`, or a\n"
	"runc/CRIU image directory.\n\n"
	"options:\n"
	"  --json          one JSON document: {\"checkpoints\": [...]}\n"
	"  --ps-tree       the process tree (always shown; accepted as checkpointctl's)\n"
	"  --ps-tree-cmd   each process's command line, read from its dumped memory\n"
	"  --ps-tree-env   each process's environment, read from its dumped memory\n"
	"  --files         open files per process (fd, type, path / pipe / socket)\n"
	"  --sockets       the sockets (TCP/UDP addresses and state, unix names) and\n"
	"                  which pid:fd hold them\n"
	"  --mounts        the mounts of the container's mount namespace\n"
	"  --network       IP addresses from network.status\n"
	"  --stats         CRIU's dump and restore statistics in full\n"
	"  --all           all of the above\n\n"
	"exit status: 0 described, 1 unreadable, 2 bad usage or not a checkpoint.\n";

static int inspect__flag(struct inspect_view *v, const char *a)
{
	const struct { const char *name; bool *on; } f[] = {
		{ "--ps-tree-cmd", &v->cmd }, { "--ps-tree-env", &v->env }, { "--files", &v->files },
		{ "--sockets", &v->sockets }, { "--mounts", &v->mounts }, { "--network", &v->network },
		{ "--stats", &v->stats },
	};
	if (!strcmp(a, "--all") || !strcmp(a, "--ps-tree")) {
		if (a[2] == 'a')
			*v = (struct inspect_view){ true, true, true, true, true, true, true };
		return 0;
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!strcmp(a, f[i].name))
			return (*f[i].on = true), 0;
	return -1;
}

int cmd_inspect(int argc, char **argv)
{
	bool as_json = false;
	struct inspect_view view = { 0 };
	int code = EXIT_OK, n = 0;
	json_t *all = json_array();
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(inspect_usage, stdout);
			json_decref(all);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--json"))
			as_json = true;
		else if (argv[i][0] == '-' && inspect__flag(&view, argv[i])) {
			log_error("unknown option '%s'", argv[i]);
			json_decref(all);
			return EXIT_USAGE;
		}
	}
	unsigned flags = view.cmd || view.env ? INSPECT_MEMORY : 0;
	for (int i = 1; i < argc; i++) {
		struct checkpoint_info ci;
		if (argv[i][0] == '-')
			continue;
		n++;
		int r = inspect_checkpoint_ex(&ci, argv[i], flags);
		if (r) {
			log_error("%s", np_error_last());
			code = r == NP_EINVALID && code != EXIT_FAILED ? EXIT_USAGE : EXIT_FAILED;
		} else if (as_json) {
			json_array_append_new(all, inspect_to_json(argv[i], &ci, &view));
		} else {
			inspect_print_text(stdout, argv[i], &ci, &view);
		}
		inspect_free(&ci);
	}
	if (as_json) {
		json_t *doc = json_pack("{s:o}", "checkpoints", all);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		json_decref(all);
	}
	if (!n) {
		fputs(inspect_usage, stderr);
		return EXIT_USAGE;
	}
	return code;
}
