/*
 * kubelet.c: the kubelet backend. The counter runs as a pod created
 * through the API server (kubeconfig), its value is read from the pod log,
 * and the checkpoint is the kubelet's own API:
 *   POST https://NODE:10250/checkpoint/{ns}/{pod}/{container}?timeout=S
 * with the kubelet client certificate. The answer names the archive the
 * kubelet wrote; when it is reachable from here (crharness on the node)
 * its contents are checked (spec.dump, config.dump, checkpoint/inventory.img)
 * and its CRIU images unpacked for sizes and statistics.
 *
 * The kubelet always leaves the container running. Restore through
 * Kubernetes (checkpoint image, RESTORE_FROM, RuntimeClass) is not built
 * yet: restore steps fail with a message saying so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "backend.h"
#include "counter.h"
#include "error.h"
#include "extract.h"
#include "fsutil.h"
#include "inspect.h"
#include "k8s_http.h"
#include "kubeconfig.h"
#include "log.h"
#include "banned.h"

#define CTR "counter"

struct backend {
	const struct harness_opts *o;
	struct kubeconfig kc;
	struct buf kcert, kkey, kca; /* the kubelet client credentials */
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int kube__api(struct backend *b, const char *method, const char *path, const char *body,
		     long *status, struct buf *resp)
{
	struct buf url = BUF_INIT;
	struct k8s_tls t = { &b->kc.ca, &b->kc.cert, &b->kc.key, b->kc.token };
	buf_addf(&url, "%s%s", b->kc.server, path);
	int r = k8s_request(&t, method, url.ptr, body, 30, status, resp);
	buf_release(&url);
	return r;
}

static void kubelet_close(struct backend *b)
{
	kubeconfig_release(&b->kc);
	buf_release(&b->kcert);
	buf_release(&b->kkey);
	buf_release(&b->kca);
	free(b);
}

static int kubelet_open(struct backend **out, const struct harness_opts *o)
{
	struct backend *b = calloc(1, sizeof(*b));
	int r;
	if (!b)
		abort();
	b->o = o;
	if (!o->kubeconfig) {
		free(b);
		return np_error_setc(NP_EINVALID, "the kubelet backend needs --kubeconfig");
	}
	if ((r = kubeconfig_load(&b->kc, o->kubeconfig, o->kube_context)) ||
	    (r = fs_read_file(&b->kcert, o->kubelet_cert)) || (r = fs_read_file(&b->kkey, o->kubelet_key)) ||
	    (o->kubelet_ca && (r = fs_read_file(&b->kca, o->kubelet_ca)))) {
		kubelet_close(b);
		return r;
	}
	*out = b;
	return 0;
}

static void pod_path(struct buf *out, struct backend *b, const struct container *c, const char *sub)
{
	buf_addf(out, "/api/v1/namespaces/%s/pods%s%s%s", b->kc.ns, c ? "/" : "", c ? c->id : "", sub);
}

/* phase and host IP of the pod */
static int kube__pod(struct backend *b, struct container *c, char phase[32], char host[64])
{
	struct buf p = BUF_INIT, resp = BUF_INIT;
	long st;
	pod_path(&p, b, c, "");
	int r = kube__api(b, "GET", p.ptr, NULL, &st, &resp);
	if (!r && st == 404)
		r = np_error_setc(NP_ENOTFOUND, "pod '%s' does not exist", c->id);
	else if (!r && st != 200)
		r = np_error_set("GET pod '%s': HTTP %ld: %.200s", c->id, st, resp.ptr);
	if (!r) {
		json_t *j = json_loads(resp.ptr, 0, NULL), *s = json_object_get(j, "status");
		snprintf(phase, 32, "%s", json_string_value(json_object_get(s, "phase")) ?: "Unknown");
		snprintf(host, 64, "%s", json_string_value(json_object_get(s, "hostIP")) ?: "");
		json_decref(j);
	}
	buf_release(&p);
	buf_release(&resp);
	return r;
}

static int kubelet_start(struct backend *b, struct container *c)
{
	struct buf script = BUF_INIT, p = BUF_INIT, resp = BUF_INIT;
	char phase[32] = "", host[64];
	long st;
	counter_script(&script, b->o->interval_ms);
	json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s, s:[{s:s, s:s, s:s, s:[s,s,s]}]}}",
				"apiVersion", "v1", "kind", "Pod", "metadata", "name", c->id, "labels", "app",
				"crharness", "spec", "restartPolicy", "Always", "containers", "name", CTR,
				"image", b->o->image ? b->o->image : "docker.io/library/counter:latest",
				"imagePullPolicy", "IfNotPresent", "command", "/bin/sh", "-c", script.ptr);
	char *body = json_dumps(pod, JSON_COMPACT);
	pod_path(&p, b, NULL, "");
	c->exists = true;
	int r = kube__api(b, "POST", p.ptr, body, &st, &resp);
	if (!r && st != 201 && st != 200)
		r = np_error_set("creating pod '%s': HTTP %ld: %.300s", c->id, st, resp.ptr);
	for (int i = 0; !r && i < 240 && strcmp(phase, "Running"); i++) {
		if ((r = kube__pod(b, c, phase, host)))
			break;
		if (strcmp(phase, "Running"))
			sleep_ms(500);
	}
	if (!r && strcmp(phase, "Running"))
		r = np_error_set("pod '%s' is %s after 120 s, not Running", c->id, phase);
	c->running = !r;
	free(body);
	json_decref(pod);
	buf_release(&script);
	buf_release(&p);
	buf_release(&resp);
	return r;
}

static int kubelet_read_counter(struct backend *b, struct container *c, long *out)
{
	struct buf p = BUF_INIT, resp = BUF_INIT;
	long st;
	if (!c->running) {
		/* the pod is gone after "checkpoint and stop": the value logged just before */
		int r = fs_read_file(&resp, (buf_addf(&p, "%s/frozen-count-%d", c->dir, c->generation), p.ptr));
		if (!r)
			r = counter_parse(out, resp.ptr);
		buf_release(&p);
		buf_release(&resp);
		return r;
	}
	pod_path(&p, b, c, "/log?container=" CTR "&tailLines=2");
	int r = kube__api(b, "GET", p.ptr, NULL, &st, &resp);
	if (!r && st != 200)
		r = np_error_set("pod log: HTTP %ld: %.200s", st, resp.ptr);
	if (!r) {
		/* the last complete line */
		buf_rtrim(&resp);
		const char *nl = strrchr(resp.ptr, '\n');
		r = counter_parse(out, nl ? nl + 1 : resp.ptr);
	}
	buf_release(&p);
	buf_release(&resp);
	return r;
}

/* The kubelet's answer, in words a user can act on. */
static int kubelet__error(long st, const char *body, const struct container *c)
{
	if (st == 404 && strstr(body, "404 page not found"))
		return np_error_set("404: the kubelet has no /checkpoint route: the ContainerCheckpoint feature gate is off");
	if (st == 404 && strstr(body, "timeout"))
		return np_error_set("404: the kubelet could not parse the timeout parameter: %.200s", body);
	if (st == 404)
		return np_error_set("404: the kubelet does not know pod '%s' container '" CTR "': %.200s", c->id, body);
	if (st == 401 || st == 403)
		return np_error_set("%ld: the kubelet refused the client certificate (check --kubelet-cert/--kubelet-key): %.200s",
				    st, body);
	if (st == 500 && (strstr(body, "CheckpointContainer not implemented") ||
			  strstr(body, "unknown method CheckpointContainer")))
		return np_error_set("500: the container runtime does not implement CheckpointContainer "
				    "(containerd >= 2.0 or CRI-O with C/R support needed): %.300s", body);
	if (st == 500 && strstr(body, "checkpoint/restore support not available"))
		return np_error_set("500: the runtime has checkpoint/restore switched off "
				    "(CRI-O: enable_criu_support = true, see recipes/crio-criu.yaml): %.300s", body);
	if (st == 500 && strstr(body, "CRIU binary not found or too old"))
		return np_error_set("500: CRIU is missing or too old on the node (build 4.1.1: recipes/criu.yaml): %.300s",
				    body);
	return np_error_set("HTTP %ld from the kubelet: %.300s", st, body);
}

static int kubelet_checkpoint(struct backend *b, struct container *c, const struct ckpt_opts *o)
{
	struct buf url = BUF_INIT, resp = BUF_INIT;
	char phase[32], host[64];
	long st;
	int r = 0;
	c->generation++;
	if (b->o->kubelet_url)
		buf_adds(&url, b->o->kubelet_url);
	else if (!(r = kube__pod(b, c, phase, host)))
		buf_addf(&url, "https://%s:10250", host);
	if (r)
		goto out;
	buf_addf(&url, "/checkpoint/%s/%s/" CTR "?timeout=%d", b->kc.ns, c->id, b->o->kubelet_timeout_s);
	long before;
	char frozen[600], num[32];
	if (!o->leave_running && !(r = kubelet_read_counter(b, c, &before))) {
		/* the log is all that is left of the value once the pod is deleted */
		snprintf(frozen, sizeof(frozen), "%s/frozen-count-%d", c->dir, c->generation);
		snprintf(num, sizeof(num), "%ld\n", before);
		r = fs_write_atomic(frozen, num, strlen(num), 0600, -1, -1);
	}
	if (r)
		goto out;
	struct k8s_tls t = { &b->kca, &b->kcert, &b->kkey, NULL };
	if ((r = k8s_request(&t, "POST", url.ptr, NULL, b->o->kubelet_timeout_s + 30, &st, &resp)))
		goto out;
	if (st != 200) {
		r = kubelet__error(st, resp.ptr, c);
		goto out;
	}
	json_t *j = json_loads(resp.ptr, 0, NULL);
	const char *path = json_string_value(json_array_get(json_object_get(j, "items"), 0));
	if (!path)
		r = np_error_set("the kubelet's answer names no archive: %.200s", resp.ptr);
	else
		snprintf(c->image, sizeof(c->image), "%s", path);
	json_decref(j);
	if (!r && !o->leave_running) {
		/* "checkpoint and stop": the pod goes, as runc's checkpoint removes the container */
		struct buf p = BUF_INIT;
		pod_path(&p, b, c, "?gracePeriodSeconds=0");
		kube__api(b, "DELETE", p.ptr, NULL, &st, &resp);
		c->running = c->exists = false;
		buf_release(&p);
	}
out:
	buf_release(&url);
	buf_release(&resp);
	return r;
}

/* The archive: named as the kubelet names it, holding what restore needs. */
static int kubelet_collect(struct backend *b, struct container *c)
{
	struct checkpoint_info ci;
	char want[256], dir[600];
	(void)b;
	const char *base = strrchr(c->image, '/');
	snprintf(want, sizeof(want), "/checkpoint-%s_%s-" CTR "-", c->id, b->kc.ns);
	if (!base || strncmp(base, want, strlen(want)) || strlen(base) < 6 ||
	    strcmp(base + strlen(base) - 4, ".tar"))
		return np_error_set("unexpected archive name '%s' (want checkpoint-POD_NS-CONTAINER-TIME.tar)", c->image);
	if (!fs_exists(c->image))
		return np_error_set("the archive '%s' is on the node, not here: run crharness on the node to check it",
				    c->image);
	int r = inspect_checkpoint(&ci, c->image);
	if (!r && !(ci.has[0] && ci.has[1] && ci.has[6]))
		r = np_error_set("archive '%s' lacks %s%s%s", c->image, ci.has[0] ? "" : "config.dump ",
				 ci.has[1] ? "" : "spec.dump ", ci.has[6] ? "" : "checkpoint/inventory.img");
	inspect_free(&ci);
	if (r)
		return r;
	/* run.c sizes c->image as a directory: unpack the CRIU images there */
	snprintf(dir, sizeof(dir), "%s/archive-%d", c->dir, c->generation);
	struct extract_opts eo = { 0, 0, true };
	if ((r = extract_file(c->image, dir, &eo)))
		return r;
	snprintf(c->image, sizeof(c->image), "%s/checkpoint", dir);
	return 0;
}

static int kubelet_restore(struct backend *b, struct container *c, const struct restore_opts *o)
{
	(void)b, (void)c, (void)o;
	return np_error_set("restore through Kubernetes (checkpoint image, RESTORE_FROM, RuntimeClass) "
			    "is not built yet in the kubelet backend");
}

static int kubelet_exec(struct backend *b, struct container *c, const char *shell)
{
	(void)b, (void)c, (void)shell;
	return np_error_set("exec is not supported by the kubelet backend");
}

static int kubelet_is_running(struct backend *b, struct container *c, bool *out)
{
	char phase[32], host[64];
	int r = kube__pod(b, c, phase, host);
	*out = !r && !strcmp(phase, "Running");
	return r == NP_ENOTFOUND ? 0 : r;
}

static int kubelet_stop(struct backend *b, struct container *c)
{
	struct buf p = BUF_INIT, resp = BUF_INIT;
	long st;
	if (!c->exists)
		return 0;
	pod_path(&p, b, c, "?gracePeriodSeconds=0");
	int r = kube__api(b, "DELETE", p.ptr, NULL, &st, &resp);
	if (!r && st != 200 && st != 202 && st != 404)
		r = np_error_set("deleting pod '%s': HTTP %ld: %.200s", c->id, st, resp.ptr);
	if (!r)
		c->exists = c->running = false;
	buf_release(&p);
	buf_release(&resp);
	return r;
}

static int kubelet_kill(struct backend *b, struct container *c)
{
	return kubelet_stop(b, c);
}

const struct backend_ops backend_kubelet = {
	"kubelet", kubelet_open, kubelet_start, kubelet_read_counter, kubelet_checkpoint,
	kubelet_collect, NULL, kubelet_restore, kubelet_exec, kubelet_kill, kubelet_is_running,
	kubelet_stop, kubelet_close,
};
