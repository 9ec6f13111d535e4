/*
 * main.c: crharness entry point. `run` loads scenarios, runs each on the
 * chosen backend, and writes the reports asked for; the table goes to
 * stdout unless a report claims it.
 *
 * To add a command: one row in `commands` and a function below.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "checkpoint_image.h"
#include "error.h"
#include "fsutil.h"
#include "history.h"
#include "hostinfo.h"
#include "image.h"
#include "inspect.h"
#include "inspect_out.h"
#include "kubeconfig.h"
#include "log.h"
#include "report.h"
#include "run.h"
#include "scenario.h"
#include "banned.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static const char run_usage[] =
	"usage: crharness run [options] SCENARIO...\n\n"
	"Runs counter checkpoint/restore scenarios (files, or names found in the\n"
	"scenario directory) against a container runtime, checks that each restored\n"
	"counter went on from where it stopped, and reports.\n\n"
	"options:\n"
	"  --backend NAME[,NAME]  runtimes to drive: runc (default), containerd, kubelet,\n"
	"                       apiserver, crd;\n"
	"                       several: every scenario runs on each, one report\n"
	"  --containerd-socket PATH\n"
	"                       use the containerd listening on PATH (namespace\n"
	"                       crharness); default: start a private containerd\n"
	"                       with its own root and state under the work dir\n"
	"  --start-containerd   start a private containerd (the default)\n"
	"  --kubeconfig FILE    kubelet backend: the API server and credentials\n"
	"  --context NAME       kubeconfig context (default: current-context)\n"
	"  --kubelet-url URL    default https://<pod's node IP>:10250\n"
	"  --kubelet-cert FILE  kubelet client certificate (default\n"
	"                       /etc/kubernetes/pki/apiserver-kubelet-client.crt)\n"
	"  --kubelet-key FILE   its key (default .../apiserver-kubelet-client.key)\n"
	"  --kubelet-ca FILE    CA that signed the kubelet's serving cert\n"
	"                       (default /etc/kubernetes/pki/ca.crt)\n"
	"  --encrypt-secret NAME  apiserver backend: encrypt the checkpoint with this\n"
	"                       TLS secret (encrypt: true, encryptionSecret: NAME)\n"
	"  --crd GROUP/VERSION  crd backend: the checkpoint object's API\n"
	"                       (default checkpointing.criu.org/v1)\n"
	"  --crd-kind KIND      default ContainerCheckpoint\n"
	"  --crd-plural NAME    default containercheckpoints\n"
	"  --restore-via image|env\n"
	"                       how the Kubernetes backends restore: a pod whose image\n"
	"                       is built from the checkpoint archive (`crharness image\n"
	"                       from-checkpoint`; CRI-O, containerd >= 2.1), or the\n"
	"                       counter pod with RESTORE_FROM=ARCHIVE in its env (a\n"
	"                       runtime whose shim restores); default image\n"
	"  --load-image CMD     shell command that loads the checkpoint image into the\n"
	"                       node's runtime; {archive} and {name} are replaced, e.g.\n"
	"                       'kind load image-archive {archive} --name cr' or\n"
	"                       'ssh node sudo ctr -n k8s.io image import - < {archive}'\n"
	"  --runtime-class NAME restored pods run under this RuntimeClass\n"
	"  --image NAME         the counter image pods run (default\n"
	"                       docker.io/library/counter:latest, see `crharness image`)\n"
	"  --report FMT:PATH    write a report; FMT is table, json, junit, tap or html,\n"
	"                       PATH '-' is stdout (repeatable; default table:-)\n"
	"  --criu PATH          criu binary the runtime should use (default: criu in PATH)\n"
	"  --criu-env NAME=VAL  environment for the runtime and CRIU, e.g.\n"
	"                       CRIU_FAULT=130 on VMs without debug registers (repeatable)\n"
	"  --work-dir DIR       bundles, images and logs (default: a new dir under /tmp)\n"
	"  --scenario-dir DIR   where scenario names are looked up\n"
	"                       (default harness/scenarios, then PREFIX/share/crharness/scenarios)\n"
	"  --history DIR        keep this run's JSON in DIR (date-stamped) and show the\n"
	"                       last 30 runs' trend and regressions in the html report\n"
	"  --keep               keep the work dir afterwards\n"
	"  -v, --verbose        log every runtime command\n\n"
	"exit status: 0 all scenarios passed, 1 a scenario failed, 2 bad usage or input.\n";

struct run_cli {
	const char *backend;
	const char *reports[16];
	size_t nreports;
	const char *env[16];
	size_t nenv;
	const char *scenario_dir;
	const char *history_dir;
	const char **names;
	size_t nnames;
	struct harness_opts ho;
};

static int need_value(int i, int argc, const char *opt)
{
	if (i + 1 >= argc) {
		log_error("option '%s' needs a value", opt);
		return -1;
	}
	return 0;
}

static int run__parse(struct run_cli *c, int argc, char **argv)
{
	c->backend = "runc";
	c->ho.kubelet_cert = "/etc/kubernetes/pki/apiserver-kubelet-client.crt";
	c->ho.kubelet_key = "/etc/kubernetes/pki/apiserver-kubelet-client.key";
	c->ho.kubelet_ca = "/etc/kubernetes/pki/ca.crt";
	c->ho.kubelet_timeout_s = 120;
	c->ho.crd_group_version = "checkpointing.criu.org/v1";
	c->ho.crd_kind = "ContainerCheckpoint";
	c->ho.crd_plural = "containercheckpoints";
	c->names = calloc((size_t)argc + 1, sizeof(*c->names));
	if (!c->names)
		abort();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(run_usage, stdout);
			return 1;
		} else if (!strcmp(a, "--start-containerd")) {
			c->ho.containerd_socket = NULL;
		} else if (!strcmp(a, "--keep")) {
			c->ho.keep = true;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			log_setup(LOG_DEBUG, stderr);
		} else if (!strcmp(a, "--backend") || !strcmp(a, "--report") || !strcmp(a, "--criu") ||
			   !strcmp(a, "--criu-env") || !strcmp(a, "--work-dir") ||
			   !strcmp(a, "--scenario-dir") || !strcmp(a, "--containerd-socket") ||
			   !strcmp(a, "--history") || !strcmp(a, "--kubeconfig") || !strcmp(a, "--context") ||
			   !strcmp(a, "--kubelet-url") || !strcmp(a, "--kubelet-cert") ||
			   !strcmp(a, "--kubelet-key") || !strcmp(a, "--kubelet-ca") || !strcmp(a, "--image") ||
			   !strcmp(a, "--encrypt-secret") || !strcmp(a, "--crd") || !strcmp(a, "--crd-kind") ||
			   !strcmp(a, "--crd-plural") || !strcmp(a, "--restore-via") ||
			   !strcmp(a, "--load-image") || !strcmp(a, "--runtime-class")) {
			if (need_value(i, argc, a))
				return -1;
			const char *v = argv[++i];
			if (!strcmp(a, "--backend"))
				c->backend = v;
			else if (!strcmp(a, "--report") && c->nreports < 16)
				c->reports[c->nreports++] = v;
			else if (!strcmp(a, "--criu"))
				c->ho.criu = v;
			else if (!strcmp(a, "--criu-env") && c->nenv < 15)
				c->env[c->nenv++] = v;
			else if (!strcmp(a, "--work-dir"))
				c->ho.work_dir = v;
			else if (!strcmp(a, "--containerd-socket"))
				c->ho.containerd_socket = v;
			else if (!strcmp(a, "--history"))
				c->history_dir = v;
			else if (!strcmp(a, "--kubeconfig"))
				c->ho.kubeconfig = v;
			else if (!strcmp(a, "--context"))
				c->ho.kube_context = v;
			else if (!strcmp(a, "--kubelet-url"))
				c->ho.kubelet_url = v;
			else if (!strcmp(a, "--kubelet-cert"))
				c->ho.kubelet_cert = v;
			else if (!strcmp(a, "--kubelet-key"))
				c->ho.kubelet_key = v;
			else if (!strcmp(a, "--kubelet-ca"))
				c->ho.kubelet_ca = v;
			else if (!strcmp(a, "--image"))
				c->ho.image = v;
			else if (!strcmp(a, "--encrypt-secret"))
				c->ho.encrypt_secret = v;
			else if (!strcmp(a, "--crd"))
				c->ho.crd_group_version = v;
			else if (!strcmp(a, "--crd-kind"))
				c->ho.crd_kind = v;
			else if (!strcmp(a, "--crd-plural"))
				c->ho.crd_plural = v;
			else if (!strcmp(a, "--restore-via") && strcmp(v, "image") && strcmp(v, "env")) {
				log_error("--restore-via expects image or env, got '%s'", v);
				return -1;
			} else if (!strcmp(a, "--restore-via"))
				c->ho.restore_via = v;
			else if (!strcmp(a, "--load-image"))
				c->ho.load_image = v;
			else if (!strcmp(a, "--runtime-class"))
				c->ho.runtime_class = v;
			else
				c->scenario_dir = v;
		} else if (a[0] == '-') {
			log_error("unknown option '%s'", a);
			return -1;
		} else {
			c->names[c->nnames++] = a;
		}
	}
	if (!c->nnames) {
		log_error("no scenario given");
		return -1;
	}
	if (!c->nreports)
		c->reports[c->nreports++] = "table:-";
	for (size_t i = 0; i < c->nreports; i++)
		if (!strchr(c->reports[i], ':')) {
			log_error("--report expects FORMAT:PATH, got '%s'", c->reports[i]);
			return -1;
		}
	c->ho.env = c->env;
	return 0;
}

static void scenario__path(struct buf *out, const struct run_cli *c, const char *name)
{
	const char *dirs[] = { c->scenario_dir, "harness/scenarios", "/usr/local/share/crharness/scenarios" };
	if (strchr(name, '/') || strstr(name, ".yaml")) {
		buf_adds(out, name);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		if (!dirs[i])
			continue;
		buf_reset(out);
		buf_addf(out, "%s/%s.yaml", dirs[i], name);
		if (fs_exists(out->ptr))
			return;
	}
}

static int write__reports(const struct run_cli *c, const struct report_set *rs)
{
	int bad = 0;
	for (size_t i = 0; i < c->nreports; i++) {
		const char *colon = strchr(c->reports[i], ':');
		char fmt[32];
		snprintf(fmt, sizeof(fmt), "%.*s", (int)(colon - c->reports[i]), c->reports[i]);
		const char *path = colon + 1;
		FILE *f = strcmp(path, "-") ? fopen(path, "we") : stdout;
		if (!f) {
			log_error("cannot write report '%s': %s", path, strerror(errno));
			bad = 1;
			continue;
		}
		if (report_write(fmt, f, rs) < 0) {
			log_error("%s", np_error_last());
			bad = 1;
		}
		if (f != stdout && fclose(f)) {
			log_error("cannot write report '%s': %s", path, strerror(errno));
			bad = 1;
		}
	}
	return bad;
}

/* "runc,containerd" -> backend tables; an unknown name is bad usage. */
static int run__backends(const struct backend_ops **ops, size_t *n, const char *list)
{
	char name[64];
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		if (*n >= 8 || !(ops[*n] = backend_find(name))) {
			struct buf known = BUF_INIT;
			backend_list(&known);
			log_error("unknown backend '%s' (known: %s)", name, known.ptr);
			buf_release(&known);
			return -1;
		}
		(*n)++;
		p += len + (p[len] == ',');
	}
	return *n ? 0 : (log_error("--backend needs a name"), -1);
}

/* This run's JSON into the history dir, named by its date so names sort by time. */
static int write__history(const struct run_cli *c, const struct report_set *rs)
{
	struct buf path = BUF_INIT;
	int bad = 0;
	if (!c->history_dir)
		return 0;
	if (fs_mkdir_p(c->history_dir, 0755)) {
		log_error("%s", np_error_last());
		return 1;
	}
	buf_addf(&path, "%s/%s.json", c->history_dir, rs->date);
	FILE *f = fopen(path.ptr, "we");
	int w = f ? report_json(f, rs) : -1;
	if (!f || (fclose(f) | w)) {
		log_error("cannot write history '%s': %s", path.ptr, strerror(errno));
		bad = 1;
	}
	buf_release(&path);
	return bad;
}

static int cmd_run(int argc, char **argv)
{
	struct run_cli c = { 0 };
	struct scenario **sc = NULL;
	struct scenario_result *res = NULL;
	struct buf work = BUF_INIT, path = BUF_INIT;
	char host[256] = "";
	int code = EXIT_USAGE, p = run__parse(&c, argc, argv);
	size_t loaded = 0, passed = 0;
	if (p)
		goto out;
	const struct backend_ops *ops[8];
	size_t nops = 0, nres = 0;
	if (run__backends(ops, &nops, c.backend))
		goto out;
	for (size_t b = 0; b < nops && c.ho.kubeconfig; b++) {
		/* a broken kubeconfig is bad input, not a failed scenario */
		struct kubeconfig kc;
		bool k8s = !strcmp(ops[b]->name, "kubelet") || !strcmp(ops[b]->name, "apiserver") ||
			   !strcmp(ops[b]->name, "crd");
		if (k8s && kubeconfig_load(&kc, c.ho.kubeconfig, c.ho.kube_context)) {
			fprintf(stderr, "%s\n", np_error_last());
			goto out;
		}
		if (k8s)
			kubeconfig_release(&kc);
	}
	sc = calloc(c.nnames, sizeof(*sc));
	res = calloc(c.nnames * nops, sizeof(*res));
	if (!sc || !res)
		abort();
	for (; loaded < c.nnames; loaded++) {
		buf_reset(&path);
		scenario__path(&path, &c, c.names[loaded]);
		if (scenario_load(&sc[loaded], path.ptr)) {
			const char *e = np_error_last();
			if (strstr(e, "cannot open"))
				log_error("no scenario '%s' (%s)", c.names[loaded], e);
			else
				fprintf(stderr, "%s\n", e);
			goto out;
		}
	}
	if (!c.ho.work_dir) {
		if (fs_mkdtemp(&work, "crharness")) {
			log_error("%s", np_error_last());
			code = EXIT_FAILED;
			goto out;
		}
		c.ho.work_dir = work.ptr;
	}
	double wall = 0;
	for (size_t b = 0; b < nops; b++)
		for (size_t i = 0; i < loaded; i++, nres++) {
			log_info("running %s on %s", sc[i]->name, ops[b]->name);
			run_scenario(&res[nres], sc[i], ops[b], &c.ho);
			passed += res[nres].passed;
			wall += res[nres].wall_ms;
		}
	gethostname(host, sizeof(host) - 1);
	struct history hist = { 0 };
	struct buf date = BUF_INIT, kernel = BUF_INIT, versions = BUF_INIT;
	hostinfo_date(&date);
	hostinfo_collect(&kernel, &versions, c.ho.criu);
	if (c.history_dir)
		history_load(&hist, c.history_dir, 30);
	struct report_set rs = { res, nres, host, wall, date.ptr, kernel.ptr, versions.ptr,
				 c.history_dir ? &hist : NULL };
	code = write__reports(&c, &rs) || write__history(&c, &rs) || passed < nres ? EXIT_FAILED
										    : EXIT_OK;
	history_free(&hist);
	buf_release(&date);
	buf_release(&kernel);
	buf_release(&versions);
	if (!c.ho.keep && work.len)
		fs_remove_tree(work.ptr);
out:
	for (size_t i = 0; sc && i < loaded; i++)
		scenario_free(sc[i]);
	free(sc);
	free(res);
	free(c.names);
	buf_release(&work);
	buf_release(&path);
	return p > 0 ? EXIT_OK : code;
}

static const char image_usage[] =
	"usage: crharness image counter -o FILE [--name NAME] [--interval MS]\n"
	"       crharness image from-checkpoint ARCHIVE -o FILE --name NAME [--container NAME]\n\n"
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
	"options:\n"
	"  -o, --output FILE   archive to write (replaced atomically)\n"
	"  --name NAME         image name (counter: default counter:latest, stored as\n"
	"                      docker.io/library/counter:latest; required for\n"
	"                      from-checkpoint)\n"
	"  --interval MS       counter period in milliseconds (default 100)\n"
	"  --container NAME    the container the checkpoint restores as (default: the\n"
	"                      name in the archive's config.dump)\n\n"
	"exit status: 0 written, 1 could not write, 2 bad usage or not a checkpoint.\n";

struct image_cli {
	const char *kind, *archive, *out, *name, *container;
	long interval;
};

static int image__parse(struct image_cli *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (i == 1 && (!strcmp(a, "counter") || !strcmp(a, "from-checkpoint"))) {
			c->kind = a;
		} else if (i == 2 && c->kind && c->kind[0] == 'f' && a[0] != '-') {
			c->archive = a;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--name") ||
			   !strcmp(a, "--interval") || !strcmp(a, "--container")) {
			if (need_value(i, argc, a))
				return -1;
			const char *v = argv[++i];
			if (a[1] == 'o' || !strcmp(a, "--output"))
				c->out = v;
			else if (!strcmp(a, "--name"))
				c->name = v;
			else if (!strcmp(a, "--container"))
				c->container = v;
			else if ((c->interval = strtol(v, &end, 10)) < 1 || c->interval > 600000 || *end) {
				log_error("--interval expects milliseconds (1..600000), got '%s'", v);
				return -1;
			}
		} else {
			log_error(i == 1 ? "unknown image '%s' (known: counter, from-checkpoint)"
					 : "unexpected argument '%s'", a);
			return -1;
		}
	}
	if (!c->kind || !c->out || (c->kind[0] == 'f' && (!c->archive || !c->name))) {
		fputs(image_usage, stderr);
		return -1;
	}
	return 0;
}

static int cmd_image(int argc, char **argv)
{
	struct image_cli c = { .interval = 100 };
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(image_usage, stdout);
			return EXIT_OK;
		}
	if (image__parse(&c, argc, argv))
		return EXIT_USAGE;
	int r = c.archive ? checkpoint_image_write(c.out, c.archive, c.name, c.container)
			  : image_write_counter(c.out, c.name, (int)c.interval);
	if (r) {
		log_error("%s", np_error_last());
		return r == NP_EINVALID ? EXIT_USAGE : EXIT_FAILED;
	}
	log_info("wrote %s", c.out);
	return EXIT_OK;
}

static const char inspect_usage[] =
	"usage: crharness inspect [--json] CHECKPOINT...\n\n"
	"Describes container checkpoints, as checkpointctl show/inspect do: engine,\n"
	"container, image, runtime, times, checkpoint and memory size, root fs diff,\n"
	"CRIU dump statistics, the process tree from CRIU's images, and which of\n"
	"config.dump, spec.dump, status.dump, network.status, rootfs-diff.tar,\n"
	"deleted.files and checkpoint/inventory.img are present.\n\n"
	"CHECKPOINT is a kubelet, CRI-O, Podman or containerd-CRI archive (tar, any\n"
	"compression), a containerd checkpoint exported with `ctr image export`, or a\n"
	"runc/CRIU image directory.\n\n"
	"options:\n"
	"  --json    one JSON document: {\"checkpoints\": [...]}\n\n"
	"exit status: 0 described, 1 unreadable, 2 bad usage or not a checkpoint.\n";

static int cmd_inspect(int argc, char **argv)
{
	bool as_json = false;
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
		else if (argv[i][0] == '-') {
			log_error("unknown option '%s'", argv[i]);
			json_decref(all);
			return EXIT_USAGE;
		}
	}
	for (int i = 1; i < argc; i++) {
		struct checkpoint_info ci;
		if (argv[i][0] == '-')
			continue;
		n++;
		int r = inspect_checkpoint(&ci, argv[i]);
		if (r) {
			log_error("%s", np_error_last());
			code = r == NP_EINVALID && code != EXIT_FAILED ? EXIT_USAGE : EXIT_FAILED;
		} else if (as_json) {
			json_array_append_new(all, inspect_to_json(argv[i], &ci));
		} else {
			inspect_print_text(stdout, argv[i], &ci);
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

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *desc;
} commands[] = {
	{ "run", cmd_run, "run counter checkpoint/restore scenarios and report" },
	{ "inspect", cmd_inspect, "describe a checkpoint archive or image directory" },
	{ "image", cmd_image, "write the counter image, or a checkpoint as a restorable image" },
};

static void usage(FILE *f)
{
	fputs("usage: crharness COMMAND [options]\n\n"
	      "Proves that container checkpoint/restore works on this node: runs a counter\n"
	      "container, checkpoints and restores it, and checks the counter went on.\n\n"
	      "commands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].desc);
	fputs("\nRun `crharness COMMAND --help` for its options.\n"
	      "exit status: 0 ok, 1 a scenario failed, 2 bad usage or input.\n", f);
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
			if (fflush(stdout) || ferror(stdout))
				return code ? code : EXIT_FAILED;
			return code;
		}
	log_error("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
