/*
 * cmd_list.c: `crharness list [DIR...]`: the checkpoints under the given
 * dirs, or where the tools leave them (the kubelet's checkpoints dir,
 * Docker's per-container checkpoints), as a table or JSON; the finding is
 * ckpt_list.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>

#include "ckpt_list.h"
#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "banned.h"

static const char list_usage[] =
	"usage: crharness list [--json] [DIR...]\n\n"
	"Lists the container checkpoints under each DIR (searched 4 levels deep):\n"
	"archives (.tar, .tar.gz, .tgz, .tar.zst, .tar.xz: kubelet, CRI-O, Podman,\n"
	"containerd CRI, `ctr image export`) and CRIU image directories (runc, Docker\n"
	"checkpoints), with engine, container, checkpoint time and size. Files that\n"
	"are not checkpoints are skipped.\n\n"
	"Without DIR: /var/lib/kubelet/checkpoints, /var/lib/kubelet/pod-checkpoints\n"
	"and /var/lib/docker/containers (the places that exist).\n\n"
	"options:\n"
	"  --json    {\"checkpoints\": [{\"path\", \"engine\", \"container\", \"pod\",\n"
	"            \"namespace\", \"time\", \"bytes\"}]}\n\n"
	"exit status: 0 listed (even none), 1 a DIR was unreadable, 2 bad usage.\n";

static void list__print(const json_t *all)
{
	size_t i;
	json_t *v;
	printf("%-30s %-20s %-26s %10s  %s\n", "ENGINE", "CONTAINER", "TIME", "SIZE", "PATH");
	json_array_foreach(all, i, v) {
		const char *c = json_string_value(json_object_get(v, "container"));
		printf("%-30s %-20s %-26s %10lld  %s\n", json_string_value(json_object_get(v, "engine")),
		       c && *c ? c : "-", json_string_value(json_object_get(v, "time")),
		       (long long)json_integer_value(json_object_get(v, "bytes")),
		       json_string_value(json_object_get(v, "path")));
	}
}

int cmd_list(int argc, char **argv)
{
	static const char *const defaults[] = { "/var/lib/kubelet/checkpoints",
						"/var/lib/kubelet/pod-checkpoints",
						"/var/lib/docker/containers" };
	struct ckpt_found fo = { json_array(), 0 };
	bool as_json = false;
	int code = EXIT_OK, ndirs = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(list_usage, stdout);
			json_decref(fo.all);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--json")) {
			as_json = true;
		} else if (argv[i][0] == '-') {
			log_error("unknown option '%s'", argv[i]);
			json_decref(fo.all);
			return EXIT_USAGE;
		} else {
			ndirs++;
		}
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		const char *a = argv[i];
		if (a[0] == '-')
			continue;
		if (stat(a, &st)) {
			log_error("cannot read '%s': %s", a, strerror(errno));
			code = EXIT_FAILED;
		} else if (S_ISREG(st.st_mode)) {
			ckpt_list_one(&fo, a, &st); /* a checkpoint named directly */
		} else if (ckpt_list_dir(&fo, a)) {
			log_error("%s", np_error_last());
			code = EXIT_FAILED;
		}
	}
	for (size_t i = 0; !ndirs && i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (fs_is_dir(defaults[i]))
			ckpt_list_dir(&fo, defaults[i]);
	if (as_json) {
		json_t *doc = json_pack("{s:O}", "checkpoints", fo.all);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		list__print(fo.all);
	}
	if (fo.skipped)
		log_info("skipped %zu archives or image dirs that are not readable checkpoints", fo.skipped);
	json_decref(fo.all);
	return code;
}
