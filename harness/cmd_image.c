/*
 * cmd_image.c: `crharness image`: the counter workload as an OCI image
 * archive, or a checkpoint archive turned into a restorable image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_image.h"
#include "cmd.h"
#include "error.h"
#include "image.h"
#include "log.h"
#include "banned.h"

static const char image_usage[] =
	"usage: crharness image counter -o FILE [--name NAME] [--interval MS]\n"
	"       crharness image from-checkpoint ARCHIVE -o FILE --name NAME [--container NAME]\n"
	"       crharness image pause --binary PATH -o FILE --name NAME\n\n"
	"counter: writes the counter workload as an OCI image-layout tar: one layer\n"
	"holding the host's static busybox, and a command that counts every MS\n"
	"milliseconds (default 100) into /tmp/count and stdout. No Docker or registry\n"
	"needed; the archive loads with `ctr image import`, `kind load image-archive`,\n"
	"podman load.\n\n"
	"from-checkpoint: writes the image Kubernetes restores a container from: one\n"
	"layer with the checkpoint ARCHIVE's contents at / (a kubelet, CRI-O or\n"
	"containerd CRI archive; any compression), annotated with\n"
	"io.kubernetes.cri-o.annotations.checkpoint.name (CRI-O with\n"
	"enable_criu_support) and org.criu.checkpoint.container.name on the index\n"
	"(containerd >= 2.1). Load it on the node (`ctr -n k8s.io image import`,\n"
	"`kind load image-archive`) and use NAME as the pod's image.\n\n"
	"pause: writes a pod sandbox image: one layer with the static program PATH\n"
	"(Kubernetes' build/pause/linux/pause.c built with gcc -static) at /pause,\n"
	"entrypoint /pause; a node without a registry imports it and names it as its\n"
	"CRI sandbox image.\n\n"
	"options:\n"
	"  -o, --output FILE   archive to write (replaced atomically)\n"
	"  --name NAME         image name (counter: default counter:latest, stored as\n"
	"                      docker.io/library/counter:latest; required for\n"
	"                      from-checkpoint)\n"
	"  --interval MS       counter period in milliseconds (default 100)\n"
	"  --container NAME    the container the checkpoint restores as (default: the\n"
	"                      name in the archive's config.dump)\n"
	"  --binary PATH       pause: the static program to put at /pause\n\n"
	"exit status: 0 written, 1 could not write, 2 bad usage or not a checkpoint.\n";

struct image_cli {
	const char *kind, *archive, *out, *name, *container, *binary;
	long interval;
};

static int image__parse(struct image_cli *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (i == 1 && (!strcmp(a, "counter") || !strcmp(a, "from-checkpoint") ||
			       !strcmp(a, "pause"))) {
			c->kind = a;
		} else if (i == 2 && c->kind && c->kind[0] == 'f' && a[0] != '-') {
			c->archive = a;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--name") ||
			   !strcmp(a, "--interval") || !strcmp(a, "--container") ||
			   !strcmp(a, "--binary")) {
			if (cmd_need_value(i, argc, a))
				return -1;
			const char *v = argv[++i];
			if (a[1] == 'o' || !strcmp(a, "--output"))
				c->out = v;
			else if (!strcmp(a, "--name"))
				c->name = v;
			else if (!strcmp(a, "--container"))
				c->container = v;
			else if (!strcmp(a, "--binary"))
				c->binary = v;
			else if ((c->interval = strtol(v, &end, 10)) < 1 || c->interval > 600000 || *end) {
				log_error("--interval expects milliseconds (1..600000), got '%s'", v);
				return -1;
			}
		} else {
			log_error(i == 1 ? "unknown image '%s' (known: counter, from-checkpoint, pause)"
					 : "unexpected argument '%s'", a);
			return -1;
		}
	}
	if (!c->kind || !c->out || (c->kind[0] == 'f' && (!c->archive || !c->name)) ||
	    (c->kind[0] == 'p' && (!c->binary || !c->name))) {
		fputs(image_usage, stderr);
		return -1;
	}
	return 0;
}

int cmd_image(int argc, char **argv)
{
	struct image_cli c = { .interval = 100 };
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(image_usage, stdout);
			return EXIT_OK;
		}
	if (image__parse(&c, argc, argv))
		return EXIT_USAGE;
	int r = c.archive	   ? checkpoint_image_write(c.out, c.archive, c.name, c.container)
		: c.kind[0] == 'p' ? image_write_pause(c.out, c.name, c.binary)
				   : image_write_counter(c.out, c.name, (int)c.interval);
	if (r) {
		log_error("%s", np_error_last());
		return r == NP_EINVALID ? EXIT_USAGE : EXIT_FAILED;
	}
	log_info("wrote %s", c.out);
	return EXIT_OK;
}
