/*
 * cmd_run.c: `crharness run`: load scenarios, run each on the chosen
 * backends, and write the reports asked for; the table goes to stdout
 * unless a report claims it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "history.h"
#include "hostinfo.h"
#include "interrupt.h"
#include "kubeconfig.h"
#include "log.h"
#include "report.h"
#include "run.h"
#include "runrec.h"
#include "scenario.h"
#include "banned.h"

static const char run_usage[] =
	"usage: crharness run [options] SCENARIO...\n\n"
	"Runs counter checkpoint/restore scenarios (files, or names found in the\n"
	"scenario directory) against a container runtime, checks that each restored\n"
	"counter went on from where it stopped, and reports.\n\n"
	"options:\n"
	"  --backend NAME[,NAME]  runtimes to drive: runc (default), containerd, docker,\n"
	"                       kubelet, apiserver, crd;\n"
	"                       several: every scenario runs on each, one report\n"
	"  --containerd-socket PATH\n"
	"                       use the containerd listening on PATH (namespace\n"
	"                       crharness); default: start a private containerd\n"
	"                       with its own root and state under the work dir\n"
	"  --start-containerd   start a private containerd (the default)\n"
	"  --docker-host unix://PATH\n"
	"                       docker backend: use the engine on this socket (default\n"
	"                       $DOCKER_HOST); it must run in experimental mode, and\n"
	"                       crharness runs on its machine (checkpoints are copied\n"
	"                       into its data root)\n"
	"  --start-docker       docker backend: start a private experimental dockerd\n"
	"                       (own data root, exec root and socket under the work\n"
	"                       dir, no bridge) and stop it afterwards; the default\n"
	"                       when DOCKER_HOST is not set\n"
	"  --containerd-bin PATH\n"
	"                       the containerd binary the private containerd runs\n"
	"                       (e.g. a built 2.x); ctr and containerd-shim-runc-v2\n"
	"                       are taken from beside it (default: containerd in PATH)\n"
	"  --runtime PATH       the runc binary: the runc backend runs it, the\n"
	"                       containerd backend's shim is given it (default: runc\n"
	"                       in PATH); reports name its version per result\n"
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
	"                       (default lpm.my.domain/v1, harness/k8s/containercheckpoint-crd.yaml)\n"
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
	"  --unload-image CMD   shell command that removes a loaded checkpoint image from\n"
	"                       the node at the end ({name}, {archive} as above), e.g.\n"
	"                       'ctr -n k8s.io images rm {name}' or 'crictl rmi {name}';\n"
	"                       recorded, so that `crharness cleanup` runs it for a\n"
	"                       killed run\n"
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
	"  --run-dir DIR        where runs record what they create, so that what a killed\n"
	"                       run left is removed by the next run or `crharness cleanup`\n"
	"                       (default " RUNREC_DIR ")\n"
	"  -v, --verbose        log every runtime command\n\n"
	"SIGINT, SIGTERM or SIGHUP stop the run: no new step starts, the runtime\n"
	"command in flight gets up to 10 s to finish, every container, daemon, mount\n"
	"and temp dir of the run is removed, and the reports are written with the\n"
	"scenario it stopped marked interrupted. A second SIGINT quits at once and\n"
	"says what is left (`crharness cleanup` removes it).\n\n"
	"exit status: 0 all scenarios passed, 1 a scenario failed, 2 bad usage or input,\n"
	"130 / 143 / 129 stopped by SIGINT / SIGTERM / SIGHUP.\n";

struct run_cli {
	const char *backend;
	const char *reports[16];
	size_t nreports;
	const char *env[16];
	size_t nenv;
	const char *scenario_dir;
	const char *history_dir;
	const char *run_dir;
	const char **names;
	size_t nnames;
	struct harness_opts ho;
};

static int run__parse(struct run_cli *c, int argc, char **argv)
{
	c->backend = "runc";
	c->ho.kubelet_cert = "/etc/kubernetes/pki/apiserver-kubelet-client.crt";
	c->ho.kubelet_key = "/etc/kubernetes/pki/apiserver-kubelet-client.key";
	c->ho.kubelet_ca = "/etc/kubernetes/pki/ca.crt";
	c->ho.kubelet_timeout_s = 120;
	c->ho.crd_group_version = "lpm.my.domain/v1";
	c->ho.crd_kind = "ContainerCheckpoint";
	c->ho.crd_plural = "containercheckpoints";
	const char *docker_host = getenv("DOCKER_HOST");
	bool start_docker = false;
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
		} else if (!strcmp(a, "--start-docker")) {
			start_docker = true;
		} else if (!strcmp(a, "--keep")) {
			c->ho.keep = true;
		} else if (!strcmp(a, "--run-dir")) {
			if (cmd_need_value(i, argc, a))
				return -1;
			c->run_dir = argv[++i];
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			log_setup(LOG_DEBUG, stderr);
		} else if (!strcmp(a, "--backend") || !strcmp(a, "--report") || !strcmp(a, "--criu") ||
			   !strcmp(a, "--criu-env") || !strcmp(a, "--work-dir") ||
			   !strcmp(a, "--scenario-dir") || !strcmp(a, "--containerd-socket") ||
			   !strcmp(a, "--docker-host") ||
			   !strcmp(a, "--history") || !strcmp(a, "--kubeconfig") || !strcmp(a, "--context") ||
			   !strcmp(a, "--kubelet-url") || !strcmp(a, "--kubelet-cert") ||
			   !strcmp(a, "--kubelet-key") || !strcmp(a, "--kubelet-ca") || !strcmp(a, "--image") ||
			   !strcmp(a, "--encrypt-secret") || !strcmp(a, "--crd") || !strcmp(a, "--crd-kind") ||
			   !strcmp(a, "--crd-plural") || !strcmp(a, "--restore-via") ||
			   !strcmp(a, "--load-image") || !strcmp(a, "--unload-image") ||
			   !strcmp(a, "--runtime-class") ||
			   !strcmp(a, "--runtime") || !strcmp(a, "--containerd-bin")) {
			if (cmd_need_value(i, argc, a))
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
			else if (!strcmp(a, "--docker-host"))
				docker_host = v;
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
			else if (!strcmp(a, "--unload-image"))
				c->ho.unload_image = v;
			else if (!strcmp(a, "--runtime-class"))
				c->ho.runtime_class = v;
			else if (!strcmp(a, "--runtime"))
				c->ho.runtime = v;
			else if (!strcmp(a, "--containerd-bin"))
				c->ho.containerd_bin = v;
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
	c->ho.docker_host = start_docker || (docker_host && !*docker_host) ? NULL : docker_host;
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

/* What dead runs left (runrec.h) goes before this run adds its own. */
static void run__sweep(const char *run_dir)
{
	struct buf report = BUF_INIT;
	size_t runs = 0;
	char *save = NULL;
	if (runrec_sweep(run_dir, false, &report, &runs))
		log_warn("%s", np_error_last());
	for (char *l = strtok_r(report.ptr, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		log_warn("earlier run: %s", l);
	buf_release(&report);
}

/*
 * The end of the record: when nothing of the run is left, it goes; when
 * something is (a cleanup step failed, or a second SIGINT cut cleanup
 * short), it stays for `crharness cleanup`, and we say what is left.
 */
static void run__close_record(struct runrec *rec, const char *run_dir)
{
	struct buf left = BUF_INIT;
	char *save = NULL;
	if (!rec)
		return;
	runrec_survey(rec, &left);
	if (left.len) {
		log_warn("%scould not remove everything this run created:",
			 interrupt_now() ? "interrupted twice: " : "");
		for (char *l = strtok_r(left.ptr, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			log_warn("  %s", l);
		log_warn("remove it with: crharness cleanup --run-dir %s", run_dir);
	}
	runrec_close(rec, !left.len);
	buf_release(&left);
}

int cmd_run(int argc, char **argv)
{
	struct run_cli c = { 0 };
	struct scenario **sc = NULL;
	struct scenario_result *res = NULL;
	struct buf work = BUF_INIT, path = BUF_INIT;
	char host[256] = "";
	int code = EXIT_USAGE, p = run__parse(&c, argc, argv);
	size_t loaded = 0, passed = 0;
	struct runrec *rec = NULL;
	if (p)
		goto out;
	if (!c.run_dir)
		c.run_dir = RUNREC_DIR;
	if (interrupt_install())
		log_warn("%s", np_error_last());
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
	run__sweep(c.run_dir);
	if (!c.ho.work_dir) {
		if (fs_mkdtemp(&work, "crharness")) {
			log_error("%s", np_error_last());
			code = EXIT_FAILED;
			goto out;
		}
		c.ho.work_dir = work.ptr;
	}
	/* a kept or given work dir is the user's: a cleanup after a crash leaves it */
	if (runrec_open(&rec, c.run_dir, c.ho.work_dir, work.len && !c.ho.keep))
		log_warn("%s: if this run is killed, what it leaves must be removed by hand",
			 np_error_last());
	c.ho.rec = rec;
	double wall = 0;
	for (size_t b = 0; b < nops && !interrupt_requested(); b++)
		for (size_t i = 0; i < loaded && !interrupt_requested(); i++, nres++) {
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
				 c.history_dir ? &hist : NULL,
				 interrupt_requested() ? interrupt_name(interrupt_signal()) : NULL };
	if (rs.interrupted)
		log_warn("stopped by %s after %zu scenario%s", rs.interrupted, nres, nres == 1 ? "" : "s");
	/* a partial run would read as a regression in the history: it stays out */
	code = write__reports(&c, &rs) || (!rs.interrupted && write__history(&c, &rs)) || passed < nres
		       ? EXIT_FAILED
		       : EXIT_OK;
	if (rs.interrupted)
		code = interrupt_exit_code();
	history_free(&hist);
	buf_release(&date);
	buf_release(&kernel);
	buf_release(&versions);
	/* after a second SIGINT the work dir may still hold mounts: cleanup takes it */
	if (!c.ho.keep && work.len && !interrupt_now())
		fs_remove_tree(work.ptr);
	run__close_record(rec, c.run_dir);
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
