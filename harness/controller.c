/*
 * controller.c: see controller.h.
 *
 * List, then watch (?watch=true from the list's resourceVersion), as
 * client-go's informers do, rather than polling with lists: a watch
 * hears of a new object within milliseconds and costs nothing while the
 * cluster is idle, where a poll loop re-reads every object each period
 * and answers a period late. The list is still needed: it gives what was
 * pending before we started (and all that --once settles) and the
 * resourceVersion from which the watch misses nothing. A watch ends when
 * its timeoutSeconds run out (then it goes on from the last version seen),
 * on "410 Gone" (that version left the API server's window: list again)
 * and on errors (list again after a pause).
 *
 * The stream stops at the first object that needs work, the object is
 * settled, and the watch resumes from that object's version: so a
 * checkpoint, which can take minutes, never sits inside a callback of the
 * stream, and events that came after it are simply delivered again.
 *
 * Claiming: the phase goes to Running by a merge patch carrying the
 * resourceVersion we read, so the API server refuses it (409) if the
 * object changed meanwhile; the final status is written unconditionally.
 */
#include "controller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "error.h"
#include "fsutil.h"
#include "k8s_http.h"
#include "k8s_json.h"
#include "kubeconfig.h"
#include "kubelet_api.h"
#include "log.h"
#include "banned.h"

#define MERGE_PATCH "application/merge-patch+json"

struct ctl {
	const struct controller_opts *o;
	const volatile sig_atomic_t *stop;
	struct kubeconfig kc;
	struct buf kcert, kkey, kca;
	char rv[32];             /* the last resourceVersion seen */
	/* what the watch callback found */
	struct cc_object next;
	bool have_next, relist;
};

/* Sleep up to ms, waking early when asked to stop. */
static void ctl__pause(const struct ctl *c, int ms)
{
	struct timespec ts = { 0, 100 * 1000000L };
	for (int i = 0; i < ms / 100 && !*c->stop; i++)
		nanosleep(&ts, NULL);
}

static int ctl__api(struct ctl *c, const char *method, const char *path, const char *body,
		    const char *type, long *st, struct buf *resp)
{
	struct buf url = BUF_INIT;
	struct k8s_tls t = { &c->kc.ca, &c->kc.cert, &c->kc.key, c->kc.token };
	buf_addf(&url, "%s%s", c->kc.server, path);
	int r = k8s_request_type(&t, method, url.ptr, body, type ? type : "application/json", 30, st, resp);
	buf_release(&url);
	return r;
}

/* /apis/G/V[/namespaces/NS]/PLURAL */
static void ctl__collection(struct buf *out, const struct ctl *c)
{
	buf_addf(out, "/apis/%s", c->o->group_version);
	if (c->o->ns)
		buf_addf(out, "/namespaces/%s", c->o->ns);
	buf_addf(out, "/%s", c->o->plural);
}

/*
 * Merge-patch the object's status. With rv, only if the object is still at
 * that version. Returns 0, NP_ENOTFOUND (deleted), NP_ECHANGED (409).
 */
static int ctl__patch_status(struct ctl *c, const struct cc_object *obj, const char *rv, json_t *status)
{
	struct buf path = BUF_INIT, resp = BUF_INIT;
	long st;
	json_t *patch = json_pack("{s:o}", "status", status);
	if (rv)
		json_object_set_new(patch, "metadata", json_pack("{s:s}", "resourceVersion", rv));
	char *body = json_dumps(patch, JSON_COMPACT);
	buf_addf(&path, "/apis/%s/namespaces/%s/%s/%s/status", c->o->group_version, obj->ns, c->o->plural,
		 obj->name);
	int r = ctl__api(c, "PATCH", path.ptr, body, MERGE_PATCH, &st, &resp);
	if (!r && st == 404)
		r = np_error_setc(NP_ENOTFOUND, "'%s/%s' was deleted", obj->ns, obj->name);
	else if (!r && st == 409)
		r = np_error_setc(NP_ECHANGED, "'%s/%s' changed meanwhile", obj->ns, obj->name);
	else if (!r && st != 200)
		r = np_error_set("status of '%s/%s': HTTP %ld: %.300s", obj->ns, obj->name, st, resp.ptr);
	free(body);
	json_decref(patch);
	buf_release(&path);
	buf_release(&resp);
	return r;
}

/* The kubelet of the pod's node; its hostIP, bracketed when IPv6. */
static int ctl__kubelet_url(struct ctl *c, const struct cc_object *obj, struct buf *url, struct buf *node)
{
	struct buf path = BUF_INIT, resp = BUF_INIT;
	struct pod_state ps;
	long st;
	buf_addf(&path, "/api/v1/namespaces/%s/pods/%s", obj->ns, obj->pod);
	int r = ctl__api(c, "GET", path.ptr, NULL, NULL, &st, &resp);
	if (!r && st == 404)
		r = np_error_set("pod '%s' not found in namespace '%s'", obj->pod, obj->ns);
	else if (!r && st != 200)
		r = np_error_set("GET pod '%s/%s': HTTP %ld: %.200s", obj->ns, obj->pod, st, resp.ptr);
	if (!r) {
		k8s_json_pod_state(&ps, resp.ptr);
		buf_adds(node, ps.node);
		if (c->o->kubelet_url)
			buf_adds(url, c->o->kubelet_url);
		else if (!ps.host[0])
			r = np_error_set("pod '%s/%s' is %s and has no node address yet", obj->ns, obj->pod, ps.phase);
		else
			buf_addf(url, strchr(ps.host, ':') ? "https://[%s]:10250" : "https://%s:10250", ps.host);
	}
	buf_release(&path);
	buf_release(&resp);
	return r;
}

static void ctl__now(char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Settle one object: claim it, checkpoint its container, write the
 * outcome. 0 also when the object went away or someone else changed it
 * first; an error only when its status could not be written.
 */
static int ctl__settle(struct ctl *c, const struct cc_object *obj)
{
	struct buf url = BUF_INIT, node = BUF_INIT, path = BUF_INIT;
	char now[32];
	int r = ctl__patch_status(c, obj, obj->rv,
				  json_pack("{s:s, s:s}", "phase", "Running", "message",
					    "checkpoint requested from the kubelet"));
	if (r == NP_ENOTFOUND || r == NP_ECHANGED) {
		log_debug("%s: skipped", np_error_last());
		r = 0;
		goto out;
	}
	if (r)
		goto out;
	log_info("%s/%s: checkpointing pod '%s' container '%s'", obj->ns, obj->name, obj->pod, obj->container);
	struct k8s_tls t = { &c->kca, &c->kcert, &c->kkey, NULL };
	int ck;
	if (!obj->pod[0] || !obj->container[0])
		ck = np_error_set("spec.podName and spec.containerName are required");
	else if (!(ck = ctl__kubelet_url(c, obj, &url, &node)))
		ck = kubelet_api_checkpoint(&path, &t, url.ptr, obj->ns, obj->pod, obj->container, c->o->timeout_s);
	json_t *status;
	if (ck) {
		status = json_pack("{s:s, s:s}", "phase", "Failed", "message", np_error_last());
		printf("%s/%s Failed: %s\n", obj->ns, obj->name, np_error_last());
	} else {
		ctl__now(now, sizeof(now));
		status = json_pack("{s:s, s:s, s:s, s:s}", "phase", "Completed", "location", path.ptr,
				   "completionTime", now, "message", "checkpointed by the kubelet");
		if (node.len)
			json_object_set_new(status, "nodeName", json_string(node.ptr));
		printf("%s/%s Completed %s\n", obj->ns, obj->name, path.ptr);
	}
	fflush(stdout);
	r = ctl__patch_status(c, obj, NULL, status);
	if (r == NP_ENOTFOUND)
		r = 0;
out:
	buf_release(&url);
	buf_release(&node);
	buf_release(&path);
	return r;
}

/* New objects, and Running ones a controller left behind (list only). */
static bool ctl__pending(const struct cc_object *obj, bool listed)
{
	return !obj->phase[0] || !strcmp(obj->phase, "Pending") || (listed && !strcmp(obj->phase, "Running"));
}

static int ctl__list(struct ctl *c)
{
	struct buf path = BUF_INIT, resp = BUF_INIT;
	struct cc_object *items = NULL;
	size_t n = 0;
	long st;
	ctl__collection(&path, c);
	int r = ctl__api(c, "GET", path.ptr, NULL, NULL, &st, &resp);
	if (!r && st == 404)
		r = np_error_set("GET %s: 404: is the ContainerCheckpoint CRD installed? "
				 "(kubectl apply -f harness/k8s/containercheckpoint-crd.yaml)", path.ptr);
	else if (!r && st != 200)
		r = np_error_set("GET %s: HTTP %ld: %.300s", path.ptr, st, resp.ptr);
	if (!r)
		r = k8s_json_cc_list(resp.ptr, &items, &n, c->rv, sizeof(c->rv));
	for (size_t i = 0; !r && i < n && !*c->stop; i++)
		if (ctl__pending(&items[i], true))
			r = ctl__settle(c, &items[i]);
	free(items);
	buf_release(&path);
	buf_release(&resp);
	return r;
}

static int ctl__on_event(void *arg, const char *line, size_t len)
{
	struct ctl *c = arg;
	struct cc_object obj;
	char type[16];
	long code;
	(void)len;
	if (k8s_json_watch_event(line, type, sizeof(type), &obj, &code)) {
		log_warn("%s", np_error_last());
		return 0;
	}
	if (!strcmp(type, "ERROR")) {
		/* 410 Gone: our version is older than the API server keeps */
		log_debug("watch: ERROR %ld: list again", code);
		c->relist = true;
		return 1;
	}
	if (obj.rv[0])
		snprintf(c->rv, sizeof(c->rv), "%s", obj.rv);
	if ((!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED")) && ctl__pending(&obj, false)) {
		c->next = obj;
		c->have_next = true;
		return 1;
	}
	return 0;
}

/* One watch from c->rv: settles what it brings until it ends. */
static int ctl__watch(struct ctl *c)
{
	struct buf url = BUF_INIT, err = BUF_INIT;
	struct k8s_tls t = { &c->kc.ca, &c->kc.cert, &c->kc.key, c->kc.token };
	long st;
	int r = 0;
	while (!r && !*c->stop && !c->relist) {
		buf_reset(&url);
		buf_reset(&err);
		buf_adds(&url, c->kc.server);
		ctl__collection(&url, c);
		buf_addf(&url, "?watch=true&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d", c->rv,
			 c->o->watch_s);
		c->have_next = false;
		r = k8s_stream(&t, url.ptr, c->o->watch_s + 30, ctl__on_event, c, c->stop, &st, &err);
		if (!r && st != 200 && !*c->stop)
			r = np_error_set("watch: HTTP %ld: %.300s", st, err.ptr);
		if (!r && c->have_next)
			r = ctl__settle(c, &c->next);
	}
	buf_release(&url);
	buf_release(&err);
	return r;
}

static int ctl__open(struct ctl *c)
{
	const struct controller_opts *o = c->o;
	int r = kubeconfig_load(&c->kc, o->kubeconfig, o->context);
	if (r)
		return r;
	/* without a CA the kubelet's serving certificate cannot be checked: refuse */
	const char *files[] = { o->kubelet_cert, o->kubelet_key, o->kubelet_ca };
	struct buf *bufs[] = { &c->kcert, &c->kkey, &c->kca };
	for (size_t i = 0; i < 3; i++)
		if (fs_read_file(bufs[i], files[i]))
			return np_error_setc(NP_EINVALID, "kubelet credentials: %s", np_error_last());
	return 0;
}

int controller_run(const struct controller_opts *o, const volatile sig_atomic_t *stop)
{
	struct ctl c = { .o = o, .stop = stop };
	buf_init(&c.kcert);
	buf_init(&c.kkey);
	buf_init(&c.kca);
	int r = ctl__open(&c);
	if (r)
		goto out;
	log_info("controller: %s/%s in %s, kubelet client '%s'", o->group_version, o->plural,
		 o->ns ? o->ns : "all namespaces", o->kubelet_cert);
	while (!*stop) {
		c.relist = false;
		r = ctl__list(&c);
		if (o->once)
			break;
		if (!r)
			r = ctl__watch(&c);
		if (r && !*stop) {
			/* the API server restarts, a CRD is not there yet: say so, try again */
			log_error("%s (retrying in 2 s)", np_error_last());
			ctl__pause(&c, 2000);
		}
		r = 0;
	}
out:
	kubeconfig_release(&c.kc);
	buf_release(&c.kcert);
	buf_release(&c.kkey);
	buf_release(&c.kca);
	return r;
}
