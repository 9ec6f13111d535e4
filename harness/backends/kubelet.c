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
 * The same file drives two more ways to ask for a checkpoint, sharing the
 * pod handling: `apiserver` (POST .../pods/POD/checkpoint on a patched API
 * server, JSON body leaveRunning/encrypt/encryptionSecret/timeout/container,
 * directly or through kubectl proxy) and `crd` (a ContainerCheckpoint object
 * whose status is polled until Completed or Failed).
 *
 * Restore is a new pod, the way Kubernetes users do it today: either its
 * image is a checkpoint image built here from the archive
 * (checkpoint_image.c) and put on the node by the user's --load-image
 * command (CRI-O and containerd >= 2.1 restore a container whose image is
 * a checkpoint), or (--restore-via env) it runs the counter image with
 * RESTORE_FROM=ARCHIVE for a restoring runtime selected by --runtime-class.
 * "kill" goes through an ephemeral container (see kubelet_kill).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "backend.h"
#include "checkpoint_image.h"
#include "counter.h"
#include "error.h"
#include "extract.h"
#include "fsutil.h"
#include "inspect.h"
#include "k8s_http.h"
#include "k8s_json.h"
#include "kubeconfig.h"
#include "kubelet_api.h"
#include "leftovers.h"
#include "log.h"
#include "runrec.h"
#include "spawn.h"
#include "banned.h"

#define CTR "counter"

enum ckpt_via { VIA_KUBELET, VIA_APISERVER, VIA_CRD };

struct backend {
	enum ckpt_via via;
	const struct harness_opts *o;
	struct kubeconfig kc;
	struct buf kcert, kkey, kca; /* the kubelet client credentials */
};

static int kubelet_stop(struct backend *b, struct container *c);

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
	/* the kubelet credentials matter only when we talk to the kubelet */
	if ((r = kubeconfig_load(&b->kc, o->kubeconfig, o->kube_context)) ||
	    (fs_exists(o->kubelet_cert) && (r = fs_read_file(&b->kcert, o->kubelet_cert))) ||
	    (fs_exists(o->kubelet_key) && (r = fs_read_file(&b->kkey, o->kubelet_key))) ||
	    (o->kubelet_ca && fs_exists(o->kubelet_ca) && (r = fs_read_file(&b->kca, o->kubelet_ca)))) {
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

static int kube__pod(struct backend *b, struct container *c, struct pod_state *ps)
{
	struct buf p = BUF_INIT, resp = BUF_INIT;
	long st;
	memset(ps, 0, sizeof(*ps));
	pod_path(&p, b, c, "");
	int r = kube__api(b, "GET", p.ptr, NULL, &st, &resp);
	if (!r && st == 404)
		r = np_error_setc(NP_ENOTFOUND, "pod '%s' does not exist", c->id);
	else if (!r && st != 200)
		r = np_error_set("GET pod '%s': HTTP %ld: %.200s", c->id, st, resp.ptr);
	if (!r)
		k8s_json_pod_state(ps, resp.ptr);
	buf_release(&p);
	buf_release(&resp);
	return r;
}

/* Waiting reasons that do not go away by themselves: fail now, not in 120 s. */
static bool pod__stuck(const char *reason)
{
	static const char *const stuck[] = { "ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff",
					     "InvalidImageName", "CreateContainerError",
					     "CreateContainerConfigError", "RunContainerError",
					     "CrashLoopBackOff", NULL };
	for (size_t i = 0; stuck[i]; i++)
		if (!strcmp(reason, stuck[i]))
			return true;
	return false;
}

static int kube__wait_running(struct backend *b, struct container *c)
{
	struct pod_state ps = { 0 };
	int r = 0;
	for (int i = 0; i < 240; i++) {
		if ((r = kube__pod(b, c, &ps)) || !strcmp(ps.phase, "Running"))
			break;
		if (pod__stuck(ps.reason))
			return np_error_set("pod '%s' cannot start: %s: %s", c->id, ps.reason, ps.message);
		if (!strcmp(ps.phase, "Failed") || !strcmp(ps.phase, "Succeeded"))
			return np_error_set("pod '%s' is %s before it ran", c->id, ps.phase);
		sleep_ms(500);
	}
	if (!r && strcmp(ps.phase, "Running"))
		r = np_error_set("pod '%s' is %s after 120 s, not Running%s%s", c->id, ps.phase,
				 ps.reason[0] ? ": " : "", ps.reason);
	return r;
}

/* The run record's line for pod c->id: all a later `cleanup` needs to delete it. */
static int kube__record(struct backend *b, const struct container *c)
{
	char *kc = realpath(b->o->kubeconfig, NULL);
	int r = runrec_add(b->o->rec, "kubelet", "kubeconfig", kc ? kc : b->o->kubeconfig, "context",
			   b->o->kube_context, "namespace", b->kc.ns, "pod", c->id, RUNREC_END);
	free(kc);
	return r;
}

/* POST the pod. A namespace's default service account appears a moment
 * after the namespace (or a new cluster) does, and until then admission
 * refuses every pod with 403 "serviceaccount ... not found": that one
 * answer is waited out, for 60 s at most. */
static int kube__post_pod(struct backend *b, const char *path, const char *body, long *st,
			  struct buf *resp)
{
	int r = 0;
	for (int i = 0; i < 120; i++) {
		buf_reset(resp);
		r = kube__api(b, "POST", path, body, st, resp);
		if (r || *st != 403 || !resp->ptr || !strstr(resp->ptr, "serviceaccount") ||
		    !strstr(resp->ptr, "not found"))
			break;
		if (i == 0)
			log_info("waiting for namespace '%s' to get its default service account", b->kc.ns);
		sleep_ms(500);
	}
	return r;
}

/* Create pod c->id holding the one container ctr (consumed), under the
 * RuntimeClass asked for, and wait until it runs. */
static int kube__create_pod(struct backend *b, struct container *c, json_t *ctr)
{
	struct buf p = BUF_INIT, resp = BUF_INIT;
	long st;
	json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s, s:[o]}}", "apiVersion", "v1", "kind",
				"Pod", "metadata", "name", c->id, "labels", "app", "crharness", "spec",
				"restartPolicy", "Always", "containers", ctr);
	if (b->o->runtime_class)
		json_object_set_new(json_object_get(pod, "spec"), "runtimeClassName",
				    json_string(b->o->runtime_class));
	char *body = json_dumps(pod, JSON_COMPACT);
	pod_path(&p, b, NULL, "");
	c->exists = true;
	/* recorded before it exists: a run killed from here on leaves a pod `cleanup` finds */
	int r = kube__record(b, c);
	if (!r)
		r = kube__post_pod(b, p.ptr, body, &st, &resp);
	if (!r && st != 201 && st != 200)
		r = np_error_set("creating pod '%s': HTTP %ld: %.300s", c->id, st, resp.ptr);
	if (!r)
		r = kube__wait_running(b, c);
	c->running = !r;
	free(body);
	json_decref(pod);
	buf_release(&p);
	buf_release(&resp);
	return r;
}

static int kubelet_start(struct backend *b, struct container *c)
{
	struct buf script = BUF_INIT;
	counter_script(&script, b->o->interval_ms);
	json_t *ctr = json_pack("{s:s, s:s, s:s, s:[s,s,s]}", "name", CTR, "image",
				b->o->image ? b->o->image : "docker.io/library/counter:latest",
				"imagePullPolicy", "IfNotPresent", "command", "/bin/sh", "-c", script.ptr);
	int r = kube__create_pod(b, c, ctr);
	buf_release(&script);
	return r;
}

static int kubelet_read_counter(struct backend *b, struct container *c, long *out)
{
	struct buf p = BUF_INIT, resp = BUF_INIT;
	long st;
	if (!c->running) {
		/* the pod is gone after "checkpoint and stop": the value logged just before */
		buf_addf(&p, "%s/frozen-count-%d", c->dir, c->generation);
		int r = counter_read_file(out, p.ptr);
		buf_release(&p);
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

static int via_kubelet(struct backend *b, struct container *c, struct buf *path)
{
	struct buf url = BUF_INIT;
	struct pod_state ps;
	int r = 0;
	if (b->o->kubelet_url)
		buf_adds(&url, b->o->kubelet_url);
	else if (!(r = kube__pod(b, c, &ps)))
		buf_addf(&url, "https://%s:10250", ps.host);
	struct k8s_tls t = { &b->kca, &b->kcert, &b->kkey, NULL };
	if (!r && (!b->kcert.len || !b->kkey.len))
		r = np_error_set("no kubelet client certificate/key at '%s' / '%s' (--kubelet-cert, --kubelet-key)",
				 b->o->kubelet_cert, b->o->kubelet_key);
	if (!r)
		r = kubelet_api_checkpoint(path, &t, url.ptr, b->kc.ns, c->id, CTR, b->o->kubelet_timeout_s);
	buf_release(&url);
	return r;
}

static int via_apiserver(struct backend *b, struct container *c, const struct ckpt_opts *o,
			 struct buf *path)
{
	struct buf p = BUF_INIT, resp = BUF_INIT;
	long st;
	const char *secret = b->o->encrypt_secret;
	json_t *body = json_pack("{s:b, s:b, s:i, s:s}", "leaveRunning", o->leave_running, "encrypt",
				 secret != NULL, "timeout", b->o->kubelet_timeout_s, "container", CTR);
	if (secret)
		json_object_set_new(body, "encryptionSecret", json_string(secret));
	char *text = json_dumps(body, JSON_COMPACT);
	pod_path(&p, b, c, "/checkpoint");
	int r = kube__api(b, "POST", p.ptr, text, &st, &resp);
	if (!r && (st == 200 || st == 201))
		r = k8s_json_items_path(path, resp.ptr);
	else if (!r && st == 404 && strstr(resp.ptr, "404 page not found"))
		r = np_error_set("404: this API server has no pod checkpoint endpoint (an unpatched API server?)");
	else if (!r)
		r = np_error_set("pod checkpoint: HTTP %ld: %.300s", st, resp.ptr);
	free(text);
	json_decref(body);
	buf_release(&p);
	buf_release(&resp);
	return r;
}

static int via_crd(struct backend *b, struct container *c, struct buf *path)
{
	struct buf p = BUF_INIT, resp = BUF_INIT, name = BUF_INIT, msg = BUF_INIT;
	long st;
	const char *gv = b->o->crd_group_version, *kind = b->o->crd_kind, *plural = b->o->crd_plural;
	buf_addf(&name, "%s-%d", c->id, c->generation);
	json_t *obj = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s}}", "apiVersion", gv, "kind", kind,
				"metadata", "name", name.ptr, "spec", "podName", c->id, "containerName", CTR);
	char *text = json_dumps(obj, JSON_COMPACT);
	buf_addf(&p, "/apis/%s/namespaces/%s/%s", gv, b->kc.ns, plural);
	int r = kube__api(b, "POST", p.ptr, text, &st, &resp);
	if (!r && st != 201 && st != 200)
		r = np_error_set("creating %s '%s': HTTP %ld: %.300s", kind, name.ptr, st, resp.ptr);
	buf_addf(&p, "/%s", name.ptr);
	for (int i = 0; !r && i < 2 * b->o->kubelet_timeout_s; i++) {
		buf_reset(&resp);
		if ((r = kube__api(b, "GET", p.ptr, NULL, &st, &resp)))
			break;
		buf_reset(&msg);
		int done = k8s_json_crd_status(resp.ptr, path, &msg);
		if (done == 1 && !path->len)
			r = np_error_set("%s completed without a status.location", kind);
		else if (done == -1)
			r = np_error_set("%s '%s' failed: %s", kind, name.ptr, msg.ptr);
		if (done || r)
			break;
		sleep_ms(500);
	}
	if (!r && !path->len)
		r = np_error_set("%s '%s' did not complete within %d s", kind, name.ptr, b->o->kubelet_timeout_s);
	free(text);
	json_decref(obj);
	buf_release(&p);
	buf_release(&resp);
	buf_release(&name);
	buf_release(&msg);
	return r;
}

static int kubelet_checkpoint(struct backend *b, struct container *c, const struct ckpt_opts *o)
{
	struct buf path = BUF_INIT, p = BUF_INIT, resp = BUF_INIT;
	char frozen[600], num[32];
	long before, st;
	int r = 0;
	c->generation++;
	if (!o->leave_running && !(r = kubelet_read_counter(b, c, &before))) {
		/* the log is all that is left of the value once the pod is deleted */
		snprintf(frozen, sizeof(frozen), "%s/frozen-count-%d", c->dir, c->generation);
		snprintf(num, sizeof(num), "%ld\n", before);
		r = fs_write_atomic(frozen, num, strlen(num), 0600, -1, -1);
	}
	if (!r)
		r = b->via == VIA_KUBELET ? via_kubelet(b, c, &path)
		    : b->via == VIA_APISERVER ? via_apiserver(b, c, o, &path) : via_crd(b, c, &path);
	if (!r) {
		snprintf(c->image, sizeof(c->image), "%s", path.ptr);
		snprintf(c->archive, sizeof(c->archive), "%s", path.ptr);
	}
	if (!r && !o->leave_running) {
		/* "checkpoint and stop": the pod goes, as runc's checkpoint removes the container */
		pod_path(&p, b, c, "?gracePeriodSeconds=0");
		kube__api(b, "DELETE", p.ptr, NULL, &st, &resp);
		c->running = c->exists = false;
	}
	buf_release(&path);
	buf_release(&p);
	buf_release(&resp);
	return r;
}

/* The archive: named as the kubelet names it, holding what restore needs. */
static int kubelet_collect(struct backend *b, struct container *c)
{
	struct checkpoint_info ci;
	char want[256], dir[600];
	const char *base = strrchr(c->image, '/');
	snprintf(want, sizeof(want), "/checkpoint-%s_%s-" CTR "-", c->id, b->kc.ns);
	if (b->via != VIA_KUBELET) {
		/* another component chose the name: only the contents are the contract */
	} else if (!base || strncmp(base, want, strlen(want)) || strlen(base) < 6 ||
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
	struct extract_opts eo = { 0, 0, true, NULL, NULL, NULL };
	if ((r = extract_file(c->image, dir, &eo)))
		return r;
	snprintf(c->image, sizeof(c->image), "%s/checkpoint", dir);
	return 0;
}

/* The user's --load-image/--unload-image command with {archive} and {name}
 * filled in (shell-quoted): kind load image-archive, ctr import, crictl rmi... */
static void kube__image_cmd(struct buf *cmd, const char *tmpl, const char *archive, const char *name)
{
	for (const char *t = tmpl; *t; t++) {
		if (!strncmp(t, "{archive}", 9))
			buf_add_shquoted(cmd, archive), t += 8;
		else if (!strncmp(t, "{name}", 6))
			buf_add_shquoted(cmd, name), t += 5;
		else
			buf_add(cmd, t, 1);
	}
}

/* Run cmd with sh; a failure names flag, the command, its status and output. */
static int kube__sh(const char *flag, const char *cmd)
{
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.merge_err = true;
	sp.timeout_ms = 600000;
	int r = spawn_run(&sp);
	if (!r && sp.status) {
		buf_rtrim(&sp.out);
		/* ctr, crictl, docker and podman say one of these of an image that is gone */
		bool gone = strstr(sp.out.ptr, "not found") || strstr(sp.out.ptr, "No such") ||
			    strstr(sp.out.ptr, "does not exist");
		r = np_error_setc(gone ? NP_ENOTFOUND : NP_ERROR, "%s '%s' exited %d: %.300s", flag, cmd,
				  sp.status, sp.out.ptr);
	}
	spawn_release(&sp);
	return r;
}

/* The checkpoint image of generation g, its archive and name. */
static void kube__image_names(const struct container *c, int g, char *tar, size_t tn, char *name, size_t nn)
{
	snprintf(tar, tn, "%s/restore-image-%d.tar", c->dir, g);
	snprintf(name, nn, "localhost/crharness/%s:%d", c->base, g);
}

/*
 * Put the checkpoint image on the node; with --unload-image, first record
 * how it comes off again, so that a run killed after this still has it
 * removed by `crharness cleanup`.
 */
static int kube__load_image(struct backend *b, struct container *c, const char *archive, const char *name)
{
	struct buf load = BUF_INIT, unload = BUF_INIT;
	int r = 0;
	kube__image_cmd(&load, b->o->load_image, archive, name);
	if (b->o->unload_image) {
		kube__image_cmd(&unload, b->o->unload_image, archive, name);
		r = runrec_add(b->o->rec, "kubelet", "image", name, "unload", unload.ptr, RUNREC_END);
	}
	if (!r && !(r = kube__sh("--load-image", load.ptr)) && c->generation <= 32)
		c->loaded |= 1u << (c->generation - 1);
	buf_release(&load);
	buf_release(&unload);
	return r;
}

/* Take the images this container loaded off the node again (--unload-image). */
static int kube__unload_images(struct backend *b, struct container *c)
{
	int bad = 0;
	for (int g = 1; g <= 32 && b->o->unload_image; g++) {
		char tar[600], name[200];
		struct buf cmd = BUF_INIT;
		if (!(c->loaded & (1u << (g - 1))))
			continue;
		kube__image_names(c, g, tar, sizeof(tar), name, sizeof(name));
		kube__image_cmd(&cmd, b->o->unload_image, tar, name);
		int r = kube__sh("--unload-image", cmd.ptr);
		if (!r || r == NP_ENOTFOUND)
			c->loaded &= ~(1u << (g - 1));
		else
			bad = r;
		buf_release(&cmd);
	}
	return bad;
}

/* The container of a pod restored from a checkpoint image: the image is
 * the checkpoint (CRI-O, containerd >= 2.1), so no command, and never pulled. */
static int kube__image_ctr(struct backend *b, struct container *c, json_t **out)
{
	char tar[600], name[200];
	if (!b->o->load_image)
		return np_error_setc(NP_EINVALID,
				     "restore via a checkpoint image needs --load-image CMD to put it on the node, e.g. "
				     "'kind load image-archive {archive}', 'ctr -n k8s.io images import {archive}' or "
				     "'podman load -i {archive}' (or --restore-via env)");
	if (!fs_exists(c->archive))
		return np_error_set("the archive '%s' is on the node, not here: run crharness on the node "
				    "to build the checkpoint image", c->archive);
	kube__image_names(c, c->generation, tar, sizeof(tar), name, sizeof(name));
	int r = checkpoint_image_write(tar, c->archive, name, CTR);
	if (!r)
		r = kube__load_image(b, c, tar, name);
	if (!r)
		*out = json_pack("{s:s, s:s, s:s}", "name", CTR, "image", name, "imagePullPolicy", "Never");
	return r;
}

/* A restoring runtime (RuntimeClass) that takes the archive from the env. */
static json_t *kube__env_ctr(struct backend *b, struct container *c)
{
	struct buf script = BUF_INIT;
	counter_script(&script, b->o->interval_ms);
	json_t *ctr = json_pack("{s:s, s:s, s:s, s:[s,s,s], s:[{s:s, s:s}]}", "name", CTR, "image",
				b->o->image ? b->o->image : "docker.io/library/counter:latest",
				"imagePullPolicy", "IfNotPresent", "command", "/bin/sh", "-c", script.ptr,
				"env", "name", "RESTORE_FROM", "value", c->archive);
	buf_release(&script);
	return ctr;
}

/* Restore is a new pod (Kubernetes has no "restore into this pod"); its
 * name is always new, so new_id and new_bundle change nothing here. */
static int kubelet_restore(struct backend *b, struct container *c, const struct restore_opts *o)
{
	json_t *ctr = NULL;
	int r = 0;
	(void)o;
	if (!c->archive[0])
		return np_error_set("restore: no checkpoint archive to restore from");
	if (c->exists && (r = kubelet_stop(b, c)))
		return r;
	if (!b->o->restore_via || !strcmp(b->o->restore_via, "image"))
		r = kube__image_ctr(b, c, &ctr);
	else
		ctr = kube__env_ctr(b, c);
	if (r)
		return r;
	snprintf(c->id, sizeof(c->id), "%s-r%d", c->base, c->generation);
	return kube__create_pod(b, c, ctr);
}

static int kubelet_exec(struct backend *b, struct container *c, const char *shell)
{
	(void)b, (void)c, (void)shell;
	return np_error_set("exec is not supported by the kubelet backend");
}

static int kubelet_is_running(struct backend *b, struct container *c, bool *out)
{
	struct pod_state ps;
	int r = kube__pod(b, c, &ps);
	*out = !r && !strcmp(ps.phase, "Running");
	return r == NP_ENOTFOUND ? 0 : r;
}

/* DELETE pod ns/pod at once (gracePeriodSeconds=0); NP_ENOTFOUND when it was gone already. */
static int kube__delete_pod(struct backend *b, const char *ns, const char *pod)
{
	struct buf p = BUF_INIT, resp = BUF_INIT;
	long st;
	buf_addf(&p, "/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0", ns, pod);
	int r = kube__api(b, "DELETE", p.ptr, NULL, &st, &resp);
	if (!r && st == 404)
		r = NP_ENOTFOUND;
	else if (!r && st != 200 && st != 202)
		r = np_error_set("deleting pod '%s': HTTP %ld: %.200s", pod, st, resp.ptr);
	buf_release(&p);
	buf_release(&resp);
	return r;
}

static int kubelet_stop(struct backend *b, struct container *c)
{
	int r = c->exists ? kube__delete_pod(b, b->kc.ns, c->id) : 0;
	if (r == NP_ENOTFOUND)
		r = 0;
	if (!r)
		c->exists = c->running = false;
	/* after the pod: its container may hold the image */
	int u = kube__unload_images(b, c);
	return r ? r : u;
}

/*
 * Kill through the API: an ephemeral container in the counter's pid
 * namespace sends its init the signal the counter traps (counter.c), and
 * the kubelet restarts the container (restartPolicy Always). Done when
 * restartCount went up and the pod runs again; a pod restored from a
 * checkpoint image comes back restored from it once more.
 */
static int kubelet_kill(struct backend *b, struct container *c)
{
	struct buf p = BUF_INIT, resp = BUF_INIT, name = BUF_INIT;
	struct pod_state ps;
	long st, before;
	int r = kube__pod(b, c, &ps);
	before = ps.restarts;
	/* ephemeral containers cannot be removed or rerun: a new name for every
	 * kill (a second kill under the same name patches nothing) */
	buf_addf(&name, "crh-kill-%d-%ld", c->generation, before);
	json_t *patch = json_pack("{s:{s:[{s:s, s:s, s:s, s:[s,s,s], s:s}]}}", "spec", "ephemeralContainers",
				  "name", name.ptr, "image",
				  b->o->image ? b->o->image : "docker.io/library/counter:latest",
				  "imagePullPolicy", "IfNotPresent", "command", "/bin/kill", "-USR1", "1",
				  "targetContainerName", CTR);
	char *body = json_dumps(patch, JSON_COMPACT);
	pod_path(&p, b, c, "/ephemeralcontainers");
	if (!r && !(r = kube__api(b, "PATCH", p.ptr, body, &st, &resp)) && st != 200)
		r = np_error_set("adding ephemeral container '%s' to pod '%s': HTTP %ld: %.300s", name.ptr, c->id,
				 st, resp.ptr);
	for (int i = 0; !r && i < 120; i++) {
		if ((r = kube__pod(b, c, &ps)) || (ps.restarts > before && !strcmp(ps.phase, "Running")))
			break;
		/* a second kill soon after a restart waits out the kubelet's back-off (10 s, 20 s...) */
		if (pod__stuck(ps.reason) && strcmp(ps.reason, "CrashLoopBackOff"))
			r = np_error_set("pod '%s' did not come back after the kill: %s: %s", c->id, ps.reason,
					 ps.message);
		else
			sleep_ms(500);
	}
	if (!r && ps.restarts <= before)
		r = np_error_set("pod '%s': the container was not restarted within 60 s of the kill", c->id);
	free(body);
	json_decref(patch);
	buf_release(&p);
	buf_release(&resp);
	buf_release(&name);
	return r;
}

static int apiserver_open(struct backend **out, const struct harness_opts *o)
{
	int r = kubelet_open(out, o);
	if (!r)
		(*out)->via = VIA_APISERVER;
	return r;
}

static int crd_open(struct backend **out, const struct harness_opts *o)
{
	int r = kubelet_open(out, o);
	if (!r)
		(*out)->via = VIA_CRD;
	return r;
}

/*
 * A checkpoint image a dead run loaded: its recorded --unload-image
 * command removes it (an image already gone is no error). A dry run
 * cannot look into the node's image store, and the record is written
 * before the load: it says the image may be there, and what would run.
 */
static int kube__cleanup_image(const char *name, const char *cmd, bool dry_run, struct buf *report)
{
	if (dry_run) {
		buf_addf(report, "may be left checkpoint image '%s' on the node (cleanup runs: %s)\n", name,
			 cmd);
		return 0;
	}
	int r = kube__sh("--unload-image", cmd);
	if (r == NP_ENOTFOUND)
		return 0;
	return leftovers_say(report, false, r, "checkpoint image '%s' on the node (%s)", name, cmd);
}

/*
 * What a dead run left: a loaded image (kube__cleanup_image), or a pod,
 * deleted through the API server of the kubeconfig it was made with
 * (gracePeriodSeconds=0, as kubelet_stop does); a pod the API server no
 * longer has is nothing left.
 */
static int kube_cleanup(const struct runrec_entry *e, bool dry_run, struct buf *report)
{
	const char *img = runrec_get(e, "image"), *unload = runrec_get(e, "unload");
	if (img && unload)
		return kube__cleanup_image(img, unload, dry_run, report);

	const char *kc = runrec_get(e, "kubeconfig"), *ctx = runrec_get(e, "context");
	const char *ns = runrec_get(e, "namespace"), *pod = runrec_get(e, "pod");
	struct backend b = { 0 };
	struct buf p = BUF_INIT, resp = BUF_INIT;
	long st = 0;
	if (!kc || !ns || !pod || !pod[0])
		return 0;
	int r = kubeconfig_load(&b.kc, kc, ctx && ctx[0] ? ctx : NULL);
	if (r)
		return leftovers_say(report, dry_run, r, "pod '%s' in namespace %s (%s)", pod, ns,
				     np_error_last());
	if (dry_run) {
		buf_addf(&p, "/api/v1/namespaces/%s/pods/%s", ns, pod);
		if (!(r = kube__api(&b, "GET", p.ptr, NULL, &st, &resp)) && st == 404)
			r = NP_ENOTFOUND;
		else if (!r && st != 200)
			r = np_error_set("HTTP %ld: %.200s", st, resp.ptr);
	} else {
		r = kube__delete_pod(&b, ns, pod);
	}
	if (r != NP_ENOTFOUND) /* a pod already gone is nothing left */
		r = leftovers_say(report, dry_run, r, "pod '%s' in namespace %s at %s", pod, ns, b.kc.server);
	else
		r = 0;
	kubeconfig_release(&b.kc);
	buf_release(&p);
	buf_release(&resp);
	return r;
}

#define K8S_OPS(name, open)                                                                      \
	{ name, open, kubelet_start, kubelet_read_counter, kubelet_checkpoint, kubelet_collect, NULL, \
	  kubelet_restore, kubelet_exec, kubelet_kill, kubelet_is_running, kubelet_stop, kubelet_close, \
	  false, NULL, kube_cleanup }

const struct backend_ops backend_kubelet = K8S_OPS("kubelet", kubelet_open);
const struct backend_ops backend_apiserver = K8S_OPS("apiserver", apiserver_open);
const struct backend_ops backend_crd = K8S_OPS("crd", crd_open);
