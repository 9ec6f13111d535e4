/*
 * docker.c: the Docker backend, through the Engine API on its UNIX socket
 * (docker_api.c: libcurl + jansson), not the docker CLI. By default it
 * starts a private dockerd in experimental mode under the work dir
 * (dockerd.c) and stops it at the end; --docker-host (or DOCKER_HOST) uses
 * a running engine, which must already be experimental.
 *
 * Checkpoints always go to a directory of ours (CheckpointDir under the
 * container's work dir, or the scenario's image_dir): that is the export.
 * dockerd 20.10 refuses `start?checkpoint-dir=` ("custom checkpointdir is
 * not supported"), so a restore copies the exported CRIU files into the
 * target container's own checkpoints directory under the engine's root
 * (GET /info DockerRootDir) and starts it with ?checkpoint=NAME: the same
 * container, a new one, or one on a second private daemon (restore
 * new_node). crharness must therefore run on the engine's machine, as root.
 *
 * Everything created carries the label crharness.run=crh-PID (containers)
 * or that tag (the counter image), and close() removes whatever still
 * carries it, so a run leaves nothing behind even after a lane failed
 * half-way. The run record (runrec.h) names the private daemon's dir, or
 * the running engine's socket with this run's label and image, so that
 * `crharness cleanup` does the same for a run that was killed.
 * The counter is read with GET /containers/ID/archive, which
 * works on a running container and on one a checkpoint stopped (the value
 * it was frozen at is in its rw layer).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "backend.h"
#include "counter.h"
#include "docker_api.h"
#include "dockerd.h"
#include "error.h"
#include "extract.h"
#include "fsutil.h"
#include "image.h"
#include "leftovers.h"
#include "log.h"
#include "runrec.h"
#include "banned.h"

#define LABEL "crharness.run"

struct node {
	char sock[600];
	char root[512];        /* the engine's DockerRootDir */
	struct dockerd d;      /* when it is ours */
	bool own, loaded;
};

struct backend {
	const struct harness_opts *o;
	char dir[512];         /* WORK/docker */
	char wrapper[600];     /* "" when runc is used as is */
	char run[64];          /* label value and image tag */
	char image[128];
	struct node node[2];   /* [1]: the second daemon of new_node restores */
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int dk__json(struct node *n, const char *method, json_t *body, json_t **out, int timeout_s,
		    const char *fmt, const char *id)
{
	char path[512];
	snprintf(path, sizeof(path), fmt, id);
	int r = docker_api_json(n->sock, method, path, body, timeout_s, out);
	json_decref(body);
	return r;
}

/* runc with the CRIU path and environment of this run (private daemon only). */
static int dk__write_wrapper(struct backend *b)
{
	const struct harness_opts *o = b->o;
	struct buf s = BUF_INIT;
	if (!o->criu && !(o->env && o->env[0]))
		return 0;
	buf_adds(&s, "#!/bin/sh\n# written by crharness: runc with the CRIU path and environment of this run\nexec env");
	for (size_t i = 0; o->env && o->env[i]; i++) {
		buf_addch(&s, ' ');
		buf_add_shquoted(&s, o->env[i]);
	}
	buf_adds(&s, " runc");
	if (o->criu) {
		buf_adds(&s, " --criu ");
		buf_add_shquoted(&s, o->criu);
	}
	buf_adds(&s, " \"$@\"\n");
	snprintf(b->wrapper, sizeof(b->wrapper), "%s/runc-wrapper", b->dir);
	int r = fs_write_atomic(b->wrapper, s.ptr, s.len, 0755, -1, -1);
	buf_release(&s);
	return r;
}

/* DockerRootDir, and refuse an engine that cannot checkpoint. */
static int dk__info(struct node *n)
{
	json_t *info = NULL;
	int r = docker_api_json(n->sock, "GET", "/info", NULL, 30, &info);
	if (r)
		return r;
	const char *root = json_string_value(json_object_get(info, "DockerRootDir"));
	if (!root)
		r = np_error_set("docker engine at '%s': no DockerRootDir in /info", n->sock);
	else if (!json_is_true(json_object_get(info, "ExperimentalBuild")))
		r = np_error_set("docker engine at '%s' is not in experimental mode: checkpoint needs "
				 "\"experimental\": true in its daemon.json (recipes/docker-cr.yaml), or "
				 "let crharness start a private daemon (--start-docker)", n->sock);
	else
		snprintf(n->root, sizeof(n->root), "%s", root);
	json_decref(info);
	return r;
}

/* The counter image, made by crharness (docker-save compatible), loaded once per engine. */
static int dk__load_image(struct backend *b, struct node *n)
{
	struct buf tar = BUF_INIT, data = BUF_INIT, resp = BUF_INIT;
	int r = 0;
	if (n->loaded)
		return 0;
	/* written for each engine: the tag and the scenario's interval are in it */
	buf_addf(&tar, "%s/counter.tar", b->dir);
	if ((r = image_write_counter(tar.ptr, b->image, b->o->interval_ms)))
		goto out;
	if ((r = fs_read_file(&data, tar.ptr)) ||
	    (r = docker_api_request(n->sock, "POST", "/images/load?quiet=1", "application/x-tar",
				    data.ptr, data.len, 120, NULL, &resp)))
		goto out;
	/* a load error comes as a 200 with {"errorDetail": ...} */
	if (strstr(resp.ptr, "\"error")) {
		r = np_error_set("docker engine at '%s' refused the counter image: %s", n->sock, resp.ptr);
		goto out;
	}
	n->loaded = true;
out:
	buf_release(&tar);
	buf_release(&data);
	buf_release(&resp);
	return r;
}

static int dk__open_node(struct backend *b, struct node *n, const char *name, const char *host)
{
	int r;
	if (host) {
		const char *sock = docker_api_socket(host);
		if (!sock)
			return np_error_setc(NP_EINVALID, "docker host '%s': only unix:// sockets are supported", host);
		snprintf(n->sock, sizeof(n->sock), "%s", sock);
		/* our containers carry both labels: a later run with the same pid has another work dir */
		if ((r = runrec_add(b->o->rec, "docker", "socket", n->sock, "label", b->run, "workdir",
				    b->o->work_dir, "image", b->image, RUNREC_END)))
			return r;
	} else {
		char dir[600];
		snprintf(dir, sizeof(dir), "%s/%s", b->dir, name);
		if ((r = runrec_add(b->o->rec, "docker", "dir", dir, RUNREC_END)) ||
		    (r = dockerd_start(&n->d, dir, b->wrapper[0] ? b->wrapper : NULL, b->o->env)))
			return r;
		n->own = true;
		snprintf(n->sock, sizeof(n->sock), "%s", n->d.sock);
	}
	if ((r = dk__info(n)) || (r = dk__load_image(b, n)))
		return r;
	return 0;
}

static void dk_close(struct backend *b);

static int dk_open(struct backend **out, const struct harness_opts *o)
{
	struct backend *b = calloc(1, sizeof(*b));
	int r;
	if (!b)
		abort();
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before lanes call libcurl from threads */
	b->o = o;
	snprintf(b->dir, sizeof(b->dir), "%s/docker", o->work_dir);
	snprintf(b->run, sizeof(b->run), "crh-%ld", (long)getpid());
	snprintf(b->image, sizeof(b->image), "crharness-counter:%s", b->run);
	if (o->docker_host && o->criu) {
		/* its runtimes are its own config; a run must not pretend otherwise */
		r = np_error_setc(NP_EINVALID, "a running docker engine uses the criu its runc finds; "
				  "--criu (or a scenario's criu:) needs a private daemon (--start-docker)");
		free(b);
		curl_global_cleanup();
		return r;
	}
	if ((r = fs_mkdir_p(b->dir, 0700)) || (!o->docker_host && (r = dk__write_wrapper(b))) ||
	    (r = dk__open_node(b, &b->node[0], "d0", o->docker_host))) {
		dk_close(b);
		return r;
	}
	*out = b;
	return 0;
}

static struct node *dk__node(struct backend *b, const struct container *c)
{
	return &b->node[c->node == 1];
}

static int dk__inspect(struct backend *b, struct container *c, json_t **out)
{
	return dk__json(dk__node(b, c), "GET", NULL, out, 30, "/containers/%s/json", c->id);
}

/* The last lines the container wrote (stdout+stderr), for error messages. */
static void dk__logs(struct backend *b, struct container *c, struct buf *out)
{
	struct buf raw = BUF_INIT;
	char path[300];
	snprintf(path, sizeof(path), "/containers/%s/logs?stdout=1&stderr=1&tail=3", c->id);
	if (!docker_api_request(dk__node(b, c)->sock, "GET", path, NULL, NULL, 0, 10, NULL, &raw))
		/* without a TTY each chunk has an 8-byte header: stream, 0, 0, 0, big-endian size */
		for (size_t i = 0; i + 8 <= raw.len;) {
			const unsigned char *h = (const unsigned char *)raw.ptr + i;
			size_t len = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) | ((size_t)h[6] << 8) | h[7];
			if (i + 8 + len > raw.len)
				break;
			buf_add(out, raw.ptr + i + 8, len);
			i += 8 + len;
		}
	buf_rtrim(out);
	for (size_t i = 0; i < out->len; i++)
		out->ptr[i] = out->ptr[i] == '\n' ? ' ' : out->ptr[i];
	buf_release(&raw);
}

static int dk__state(struct backend *b, struct container *c, bool *running, char full_id[72])
{
	json_t *j = NULL;
	int r = dk__inspect(b, c, &j);
	if (!r) {
		*running = json_is_true(json_object_get(json_object_get(j, "State"), "Running"));
		if (full_id)
			snprintf(full_id, 72, "%s", json_string_value(json_object_get(j, "Id")) ? json_string_value(json_object_get(j, "Id")) : "");
		c->pid = (long)json_integer_value(json_object_get(json_object_get(j, "State"), "Pid"));
	}
	json_decref(j);
	return r;
}

static int dk__now_running(struct backend *b, struct container *c, const char *what)
{
	bool run = false;
	int r = dk__state(b, c, &run, NULL);
	if (!r && !run) {
		struct buf logs = BUF_INIT;
		dk__logs(b, c, &logs);
		r = np_error_set("container '%s' is not running after %s (its last output: '%s')", c->id,
				 what, logs.ptr);
		buf_release(&logs);
	}
	c->running = !r;
	return r;
}

static int dk_read_counter(struct backend *b, struct container *c, long *out)
{
	struct buf tar = BUF_INIT, val = BUF_INIT;
	char path[300];
	int r;
	snprintf(path, sizeof(path), "/containers/%s/archive?path=" COUNTER_FILE, c->id);
	/*
	 * A container restored from another's checkpoint has a fresh rw layer:
	 * the file appears at the restored loop's next tick. Missing for 3 s is
	 * an error (NP_ENOTFOUND from the engine's 404).
	 */
	for (int i = 0; (r = docker_api_request(dk__node(b, c)->sock, "GET", path, NULL, NULL, 0, 10, NULL,
						&tar)) == NP_ENOTFOUND && i < 60; i++)
		sleep_ms(50);
	if (!r && !(r = extract_member(NULL, tar.ptr, tar.len, strrchr(COUNTER_FILE, '/') + 1, &val)))
		r = counter_parse(out, val.ptr);
	buf_release(&tar);
	buf_release(&val);
	return r;
}

static int dk__wait_counter(struct backend *b, struct container *c, int timeout_ms)
{
	long v = -1;
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if (dk_read_counter(b, c, &v) == 0 && v >= 1)
			return 0;
		sleep_ms(50);
	}
	return np_error_set("counter of '%s' did not start within %d ms", c->id, timeout_ms);
}

static int dk__create(struct backend *b, struct container *c)
{
	struct node *n = dk__node(b, c);
	int r = dk__load_image(b, n);
	if (r)
		return r;
	/* no network: nothing to clash with; CRIU still dumps the (empty) net namespace */
	json_t *body = json_pack("{s:s, s:{s:s, s:s}, s:{s:s}}", "Image", b->image, "Labels", LABEL,
				 b->run, "crharness.workdir", b->o->work_dir, "HostConfig",
				 "NetworkMode", "none");
	c->exists = true; /* a create that fails half-way may still leave one */
	return dk__json(n, "POST", body, NULL, 60, "/containers/create?name=%s", c->id);
}

static int dk_start(struct backend *b, struct container *c)
{
	int r = dk__create(b, c);
	if (!r)
		r = dk__json(dk__node(b, c), "POST", NULL, NULL, 60, "/containers/%s/start", c->id);
	if (!r && !(r = dk__now_running(b, c, "start")))
		r = dk__wait_counter(b, c, 5000);
	return r;
}

static int dk_checkpoint(struct backend *b, struct container *c, const struct ckpt_opts *o)
{
	char dir[600], name[32];
	int r;
	if (o->tcp_established || o->file_locks)
		return np_error_set("the docker API has no tcp_established/file_locks checkpoint options");
	c->generation++;
	snprintf(name, sizeof(name), "ck%d", c->generation);
	if (o->image_dir)
		snprintf(dir, sizeof(dir), "%s", o->image_dir);
	else if (snprintf(dir, sizeof(dir), "%s/checkpoints", c->dir), (r = fs_mkdir_p(dir, 0700)))
		return r;
	snprintf(c->image, sizeof(c->image), "%s/%s", dir, name);
	/* ours: a scenario run twice in one run finds its earlier export there */
	if (!o->image_dir && fs_exists(c->image) && (r = fs_remove_tree(c->image)))
		return r;
	json_t *body = json_pack("{s:s, s:s, s:b}", "CheckpointID", name, "CheckpointDir", dir, "Exit",
				 !o->leave_running);
	r = dk__json(dk__node(b, c), "POST", body, NULL, 120, "/containers/%s/checkpoints", c->id);
	if (r == NP_ETIMEOUT)
		np_error_prefix("checkpoint hung (if this is a VM without debug registers, CRIU needs CRIU_FAULT=130)");
	if (!r && !o->leave_running)
		c->running = false;
	return r;
}

/* Copy a flat CRIU image dir into the engine's checkpoints dir of container full_id. */
static int dk__place_checkpoint(struct node *n, const char *src, const char *full_id, const char *name)
{
	struct buf dst = BUF_INIT, from = BUF_INIT, to = BUF_INIT;
	DIR *d = opendir(src);
	struct dirent *de;
	int r = 0;
	buf_addf(&dst, "%s/containers/%s/checkpoints/%s", n->root, full_id, name);
	if (!d) {
		r = np_error_set("cannot open checkpoint '%s'", src);
		goto out;
	}
	if ((r = fs_mkdir_p(dst.ptr, 0700)))
		goto out;
	while (!r && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		buf_reset(&from);
		buf_reset(&to);
		buf_addf(&from, "%s/%s", src, de->d_name);
		buf_addf(&to, "%s/%s", dst.ptr, de->d_name);
		r = fs_copy_atomic(from.ptr, to.ptr, 0600);
	}
out:
	if (d)
		closedir(d);
	buf_release(&dst);
	buf_release(&from);
	buf_release(&to);
	return r;
}

static int dk_restore(struct backend *b, struct container *c, const struct restore_opts *o)
{
	char name[32], full[72], path[300];
	bool run = false;
	int r;
	if (!c->generation || !c->image[0])
		return np_error_set("no checkpoint to restore from");
	snprintf(name, sizeof(name), "ck%d", c->generation);
	if (o->new_node) {
		/* the seed's save-migrate-resume: another engine, from the exported dir */
		if (b->o->docker_host)
			return np_error_set("restore on another node needs private daemons (--start-docker)");
		if (!b->node[1].own && (r = dk__open_node(b, &b->node[1], "d1", NULL)))
			return r;
		c->node = 1;
	}
	if (o->new_id || o->new_node) {
		snprintf(c->id, sizeof(c->id), "%s-r%d", c->base, c->generation);
		if ((r = dk__create(b, c)))
			return r;
	}
	if ((r = dk__state(b, c, &run, full)))
		return r;
	if (run)
		return np_error_set("container '%s' is running; restore needs a stopped one", c->id);
	if ((r = dk__place_checkpoint(dk__node(b, c), c->image, full, name)))
		return r;
	snprintf(path, sizeof(path), "/containers/%%s/start?checkpoint=%s", name);
	if ((r = dk__json(dk__node(b, c), "POST", NULL, NULL, 120, path, c->id))) {
		np_error_prefix("restore failed");
		return r;
	}
	return dk__now_running(b, c, "restore");
}

static int dk_exec(struct backend *b, struct container *c, const char *shell)
{
	struct node *n = dk__node(b, c);
	json_t *made = NULL, *res = NULL;
	struct buf out = BUF_INIT;
	char path[200];
	json_t *body = json_pack("{s:[s,s,s], s:b, s:b}", "Cmd", "/bin/sh", "-c", shell,
				 "AttachStdout", 1, "AttachStderr", 1);
	int r = dk__json(n, "POST", body, &made, 30, "/containers/%s/exec", c->id);
	const char *id = json_string_value(json_object_get(made, "Id"));
	if (!r && !id)
		r = np_error_set("docker: exec on '%s' returned no id", c->id);
	if (r)
		goto out;
	snprintf(path, sizeof(path), "/exec/%s/start", id);
	static const char start[] = "{\"Detach\":false,\"Tty\":false}";
	if ((r = docker_api_request(n->sock, "POST", path, "application/json", start, strlen(start), 30,
				    NULL, &out)) ||
	    (r = dk__json(n, "GET", NULL, &res, 30, "/exec/%s/json", id)))
		goto out;
	json_int_t code = json_integer_value(json_object_get(res, "ExitCode"));
	if (code)
		r = np_error_set("'%s' in '%s' exited with %d", shell, c->id, (int)code);
out:
	json_decref(made);
	json_decref(res);
	buf_release(&out);
	return r;
}

static int dk_is_running(struct backend *b, struct container *c, bool *out)
{
	int r = dk__state(b, c, out, NULL);
	if (r == NP_ENOTFOUND) {
		*out = false;
		return 0;
	}
	return r;
}

static int dk_kill(struct backend *b, struct container *c)
{
	bool run = true;
	int r = dk__json(dk__node(b, c), "POST", NULL, NULL, 30, "/containers/%s/kill?signal=KILL", c->id);
	for (int i = 0; !r && run && i < 100; i++)
		if (!(r = dk__state(b, c, &run, NULL)) && run)
			sleep_ms(20);
	c->running = false;
	return r;
}

static int dk_stop(struct backend *b, struct container *c)
{
	if (!c->exists)
		return 0;
	int r = dk__json(dk__node(b, c), "DELETE", NULL, NULL, 60, "/containers/%s?force=1&v=1", c->id);
	if (r && r != NP_ENOTFOUND)
		return r;
	c->exists = c->running = false;
	return 0;
}

/* Whatever still carries this run's label, and its image tag. */
static void dk__sweep(struct backend *b, struct node *n)
{
	json_t *list = NULL, *it;
	size_t i;
	struct buf q = BUF_INIT;
	char *enc;
	buf_addf(&q, "{\"label\":[\"" LABEL "=%s\"]}", b->run);
	enc = curl_easy_escape(NULL, q.ptr, (int)q.len);
	buf_reset(&q);
	buf_addf(&q, "/containers/json?all=1&filters=%s", enc ? enc : "");
	curl_free(enc);
	if (!docker_api_json(n->sock, "GET", q.ptr, NULL, 30, &list))
		json_array_foreach(list, i, it) {
			const char *id = json_string_value(json_object_get(it, "Id"));
			if (id && !dk__json(n, "DELETE", NULL, NULL, 60, "/containers/%s?force=1&v=1", id))
				log_warn("docker backend: removed leftover container %.12s", id);
		}
	json_decref(list);
	if (n->loaded && dk__json(n, "DELETE", NULL, NULL, 60, "/images/%s", b->image))
		log_warn("docker backend: cannot remove image %s: %s", b->image, np_error_last());
	buf_release(&q);
}

static void dk_close(struct backend *b)
{
	for (int i = 0; i < 2; i++) {
		if (b->node[i].sock[0])
			dk__sweep(b, &b->node[i]);
		dockerd_stop(&b->node[i].d);
	}
	free(b);
	curl_global_cleanup();
}

/* A dead run's private dockerd (dockerd.c's layout under dir) and all it ran. */
static int dk__cleanup_daemon(const char *dir, bool dry_run, struct buf *report)
{
	struct buf p = BUF_INIT;
	int bad = 0;
	buf_addf(&p, "%s/docker.pid", dir);
	bad |= leftovers_kill("--pidfile", p.ptr, NULL, "dockerd", dry_run, report) != 0;
	buf_reset(&p);
	buf_addf(&p, "%s/exec/containerd/containerd.toml", dir);
	bad |= leftovers_kill("--config", p.ptr, NULL, "dockerd's containerd", dry_run, report) != 0;
	buf_reset(&p);
	buf_addf(&p, "%s/exec/containerd/containerd.sock", dir);
	bad |= leftovers_kill("-address", p.ptr, NULL, "containerd shim", dry_run, report) != 0;
	buf_reset(&p);
	buf_addf(&p, "%s/exec/runtime-runc/moby", dir);
	bad |= leftovers_kill("--root", p.ptr, NULL, "runc command", dry_run, report) != 0;
	bad |= leftovers_runc_root(p.ptr, NULL, dry_run, report) != 0;
	bad |= leftovers_umount_under(dir, dry_run, report) != 0;
	buf_release(&p);
	return bad ? NP_ERROR : 0;
}

/* A dead run's containers and image in an engine it did not start, by its labels. */
static int dk__cleanup_engine(const char *sock, const char *label, const char *workdir,
			      const char *image, bool dry_run, struct buf *report)
{
	json_t *list = NULL, *it;
	size_t i;
	struct buf q = BUF_INIT;
	int bad = 0;
	json_t *f = json_pack("{s:[s+, s+]}", "label", LABEL "=", label, "crharness.workdir=", workdir);
	char *fs = json_dumps(f, JSON_COMPACT);
	char *enc = fs ? curl_easy_escape(NULL, fs, 0) : NULL;
	buf_addf(&q, "/containers/json?all=1&filters=%s", enc ? enc : "");
	int r = docker_api_json(sock, "GET", q.ptr, NULL, 30, &list);
	if (r)
		bad |= leftovers_say(report, dry_run, r, "containers labelled " LABEL "=%s at %s (cannot list)",
				     label, sock) != 0;
	json_array_foreach(list, i, it) {
		const char *id = json_string_value(json_object_get(it, "Id"));
		char path[200];
		if (!id)
			continue;
		snprintf(path, sizeof(path), "/containers/%.80s?force=1&v=1", id);
		r = dry_run ? 0 : docker_api_json(sock, "DELETE", path, NULL, 60, NULL);
		bad |= leftovers_say(report, dry_run, r, "docker container %.12s (" LABEL "=%s) at %s", id,
				     label, sock) != 0;
	}
	if (image && image[0]) {
		char path[300];
		snprintf(path, sizeof(path), "/images/%s/json", image);
		if (!docker_api_json(sock, "GET", path, NULL, 30, NULL)) {
			snprintf(path, sizeof(path), "/images/%s", image);
			r = dry_run ? 0 : docker_api_json(sock, "DELETE", path, NULL, 60, NULL);
			bad |= leftovers_say(report, dry_run, r, "docker image %s at %s", image, sock) != 0;
		}
	}
	json_decref(list);
	json_decref(f);
	free(fs);
	curl_free(enc);
	buf_release(&q);
	return bad ? NP_ERROR : 0;
}

static int dk_cleanup(const struct runrec_entry *e, bool dry_run, struct buf *report)
{
	const char *dir = runrec_get(e, "dir"), *sock = runrec_get(e, "socket");
	const char *label = runrec_get(e, "label"), *wd = runrec_get(e, "workdir");
	if (dir && dir[0] == '/')
		return dk__cleanup_daemon(dir, dry_run, report);
	if (sock && label && label[0] && wd)
		return dk__cleanup_engine(sock, label, wd, runrec_get(e, "image"), dry_run, report);
	return 0;
}

const struct backend_ops backend_docker = {
	"docker", dk_open, dk_start, dk_read_counter, dk_checkpoint, NULL, NULL, dk_restore, dk_exec,
	dk_kill, dk_is_running, dk_stop, dk_close, true, NULL, dk_cleanup,
};
