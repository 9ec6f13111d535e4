/*
 * containerd.c: the containerd backend, driven through `ctr` (the client
 * containerd ships; its gRPC API has no C binding). By default it starts a
 * private containerd with its own root, state and socket under the work
 * dir and stops it at the end; --containerd-socket uses a running one.
 * Everything lives in the "crharness" namespace.
 *
 * CRIU's path and environment reach runc through a wrapper script given as
 * --runc-binary: it works for a containerd we did not start, and the
 * checkpoint keeps the binary name, so restore uses it too.
 *
 * The counter is read through /proc/PID/root while the task runs. After a
 * checkpoint that stops the container, the frozen value comes from the rw
 * layer stored in the checkpoint (taken while the task was paused).
 *
 * The private daemon gets TMPDIR inside its dir: containerd 1.6 makes a
 * ctrd-checkpoint* temp dir per checkpoint there and never removes it.
 * The run record (runrec.h) names the private daemon's dir and socket, or,
 * on a containerd we did not start, each container and checkpoint image
 * we create in it, so `crharness cleanup` finds them after a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/mount.h>
#include <jansson.h>

#include "backend.h"
#include "counter.h"
#include "criu_path.h"
#include "error.h"
#include "extract.h"
#include "fsutil.h"
#include "image.h"
#include "interrupt.h"
#include "leftovers.h"
#include "log.h"
#include "runrec.h"
#include "spawn.h"
#include "banned.h"

#define NS "crharness"
#define IMAGE "docker.io/library/crharness-counter:latest"
#define MT_CRIU "application/vnd.containerd.container.criu.checkpoint.criu.tar"
#define MT_RW "application/vnd.oci.image.layer.v1.tar+gzip"

struct backend {
	const struct harness_opts *o;
	char dir[512];      /* WORK/containerd */
	char sock[600];
	char wrapper[600];  /* "" when runc is used as is */
	char ctr[600];      /* ctr beside --containerd-bin, else the one in PATH */
	char path_env[4200]; /* PATH=<dir of --containerd-bin>:...: its shim is found first */
	bool own;           /* we started the daemon */
	/* ctr 2.x exports through the daemon's transfer service by default; a
	 * checkpoint exported that way now and then lacked its index.json
	 * (seen under load with 2.2.9), so the client writes it itself */
	bool export_local;
	bool criu_bad;      /* --criu cannot be run: said with every ctr failure */
	struct spawn daemon;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int ctrd__ctr(const char *ctr, const char *sock, const char *const *args, int timeout_ms,
		     struct buf *out)
{
	const char *argv[32];
	size_t n = 0;
	struct buf desc = BUF_INIT;
	argv[n++] = ctr;
	argv[n++] = "--address";
	argv[n++] = sock;
	argv[n++] = "--namespace";
	argv[n++] = NS;
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	/* stderr apart: containerd 2.2 warns there on every command (cgroup v1
	 * deprecation), which must not read as output, e.g. of 'image ls -q' */
	sp.timeout_ms = timeout_ms;
	int r = spawn_run(&sp);
	spawn_describe(&desc, argv);
	log_debug("ctr: %s -> %d", desc.ptr, r ? -1 : sp.status);
	buf_rtrim(&sp.out);
	buf_rtrim(&sp.err);
	if (!r && sp.status) {
		const char *why = sp.err.len ? sp.err.ptr : sp.out.ptr;
		r = np_error_setc(strstr(why, "not found") ? NP_ENOTFOUND : NP_ERROR,
				  "'%s' failed (status %d): %s", desc.ptr, sp.status, why);
	}
	if (r == NP_ETIMEOUT)
		np_error_prefix("ctr hung (if this is a VM without debug registers, set CRIU_FAULT=130)");
	if (out)
		buf_add(out, sp.out.ptr, sp.out.len);
	spawn_release(&sp);
	buf_release(&desc);
	return r;
}

static int ctrd__run(struct backend *b, const char *const *args, int timeout_ms, struct buf *out)
{
	int r = ctrd__ctr(b->ctr, b->sock, args, timeout_ms, out);
	if (r && b->criu_bad)
		np_error_prefix("criu '%s' is missing or not executable", b->o->criu);
	return r;
}

static int ctrd__write_wrapper(struct backend *b)
{
	const struct harness_opts *o = b->o;
	struct buf s = BUF_INIT;
	if (!o->criu && !(o->env && o->env[0]) && !o->runtime)
		return 0;
	struct buf pe = BUF_INIT;
	int r = o->criu ? criu_path_env(&pe, &b->criu_bad, b->dir, o->criu) : 0;
	if (r)
		goto out;
	buf_adds(&s, "#!/bin/sh\n# written by crharness: runc with the CRIU and environment of this run\n"
		     /* runc >= 1.2 refuses to restore into a cgroup that holds
		      * processes; a copy restored beside its running original
		      * (leave-running) would get the checkpoint's cgroupsPath, so it
		      * is given one named after its own id */
		     "case \" $* \" in *\" restore \"*)\n"
		     "  bundle=; id=; prev=\n"
		     "  for a; do [ \"$prev\" = --bundle ] && bundle=$a; prev=$a; id=$a; done\n"
		     "  [ -f \"$bundle/config.json\" ] && sed -i "
		     "\"s|\\\"cgroupsPath\\\":\\\"\\([^\\\"]*/\\)[^\\\"/]*\\\"|\\\"cgroupsPath\\\":\\\"\\1$id\\\"|\" "
		     "\"$bundle/config.json\";;\nesac\nexec env");
	for (size_t i = 0; o->env && o->env[i]; i++) {
		buf_addch(&s, ' ');
		buf_add_shquoted(&s, o->env[i]);
	}
	if (pe.len) {
		buf_addch(&s, ' ');
		buf_add_shquoted(&s, pe.ptr);
	}
	buf_addch(&s, ' ');
	/* absolute: the PATH above may have lost runc's dir with criu's */
	struct buf rt = BUF_INIT;
	criu_path_which(&rt, o->runtime ? o->runtime : "runc");
	buf_add_shquoted(&s, rt.ptr);
	buf_release(&rt);
	buf_adds(&s, " \"$@\"\n");
	snprintf(b->wrapper, sizeof(b->wrapper), "%s/runc-wrapper", b->dir);
	r = fs_write_atomic(b->wrapper, s.ptr, s.len, 0755, -1, -1);
out:
	buf_release(&s);
	buf_release(&pe);
	return r;
}

static int ctrd__start_daemon(struct backend *b)
{
	struct buf cfg = BUF_INIT, path = BUF_INIT;
	int r;
	buf_addf(&cfg,
		 "# private containerd of one crharness run\nversion = 2\nroot = \"%s/root\"\n"
		 "state = \"%s/state\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
		 "[grpc]\n  address = \"%s\"\n[ttrpc]\n  address = \"%s.ttrpc\"\n",
		 b->dir, b->dir, b->sock, b->sock);
	buf_addf(&path, "%s/config.toml", b->dir);
	if ((r = fs_write_atomic(path.ptr, cfg.ptr, cfg.len, 0600, -1, -1)))
		goto out;
	buf_reset(&cfg);
	buf_addf(&cfg, "%s/containerd.log", b->dir);
	const char *argv[] = { b->o->containerd_bin ? b->o->containerd_bin : "containerd", "--config",
			       path.ptr, NULL };
	const char *env[24];
	size_t ne = 0;
	struct buf tmp = BUF_INIT, xdg = BUF_INIT;
	for (size_t i = 0; b->o->env && b->o->env[i] && ne < 18; i++)
		env[ne++] = b->o->env[i];
	if (b->path_env[0])
		env[ne++] = b->path_env;
	/* where containerd makes its checkpoint temp dirs (XDG_RUNTIME_DIR first, if set) */
	buf_addf(&tmp, "TMPDIR=%s/tmp", b->dir);
	env[ne++] = tmp.ptr;
	if (getenv("XDG_RUNTIME_DIR")) {
		buf_addf(&xdg, "XDG_RUNTIME_DIR=%s/tmp", b->dir);
		env[ne++] = xdg.ptr;
	}
	env[ne] = NULL;
	if ((r = fs_mkdir_p(strchr(tmp.ptr, '=') + 1, 0700)) ||
	    (r = runrec_add(b->o->rec, "containerd", "dir", b->dir, "socket", b->sock, "runtime",
			    b->o->runtime ? b->o->runtime : "runc", RUNREC_END))) {
		buf_release(&tmp);
		buf_release(&xdg);
		goto out;
	}
	b->daemon = (struct spawn)SPAWN_INIT;
	b->daemon.argv = argv;
	b->daemon.env = env;
	r = spawn_start_logged(&b->daemon, cfg.ptr);
	b->daemon.argv = NULL; /* argv and env live on this stack */
	b->daemon.env = NULL;
	buf_release(&tmp);
	buf_release(&xdg);
	if (r)
		goto out;
	b->own = true;
	const char *ver[] = { "version", NULL };
	for (int i = 0; i < 100 && !interrupt_requested(); i++) {
		if (fs_exists(b->sock) && !ctrd__run(b, ver, 5000, NULL))
			goto out;
		sleep_ms(100);
	}
	if (interrupt_requested()) {
		r = np_error_setc(NP_EINTR, "interrupted while containerd was starting");
		goto out;
	}
	r = np_error_set("containerd did not come up within 10 s (see %s)", cfg.ptr);
out:
	buf_release(&cfg);
	buf_release(&path);
	return r;
}

/*
 * --containerd-bin: ctr and containerd-shim-runc-v2 are taken from beside
 * it (a prefix a recipe installed into), so a built containerd 2.x never
 * mixes with the distribution's 1.6 shim or ctr.
 */
static void ctrd__binaries(struct backend *b)
{
	const char *bin = b->o->containerd_bin, *slash = bin ? strrchr(bin, '/') : NULL;
	const char *path = getenv("PATH");
	snprintf(b->ctr, sizeof(b->ctr), "ctr");
	if (!slash)
		return;
	snprintf(b->ctr, sizeof(b->ctr), "%.*s/ctr", (int)(slash - bin), bin);
	if (access(b->ctr, X_OK))
		snprintf(b->ctr, sizeof(b->ctr), "ctr");
	snprintf(b->path_env, sizeof(b->path_env), "PATH=%.*s:%s", (int)(slash - bin), bin,
		 path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

/* Does this ctr know `image export --local` (2.x)? */
static bool ctrd__has_local_export(const struct backend *b)
{
	const char *argv[] = { b->ctr, "image", "export", "--help", NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.merge_err = true;
	sp.timeout_ms = 10000;
	bool has = !spawn_run(&sp) && strstr(sp.out.ptr, "--local");
	spawn_release(&sp);
	return has;
}

static void ctrd_close(struct backend *b);

static int ctrd_open(struct backend **out, const struct harness_opts *o)
{
	struct backend *b = calloc(1, sizeof(*b));
	struct buf tar = BUF_INIT;
	int r;
	if (!b)
		abort();
	b->o = o;
	b->daemon = (struct spawn)SPAWN_INIT;
	ctrd__binaries(b);
	b->export_local = ctrd__has_local_export(b);
	snprintf(b->dir, sizeof(b->dir), "%s/containerd", o->work_dir);
	if (o->containerd_socket)
		snprintf(b->sock, sizeof(b->sock), "%s", o->containerd_socket);
	else
		snprintf(b->sock, sizeof(b->sock), "%s/c.sock", b->dir);
	buf_addf(&tar, "%s/counter.tar", b->dir);
	const char *imp[] = { "image", "import", tar.ptr, NULL };
	if ((r = fs_mkdir_p(b->dir, 0700)) || (r = ctrd__write_wrapper(b)) ||
	    (!o->containerd_socket && (r = ctrd__start_daemon(b))) ||
	    (r = image_write_counter(tar.ptr, IMAGE, o->interval_ms)) ||
	    (r = ctrd__run(b, imp, 60000, NULL))) {
		ctrd_close(b);
		goto out;
	}
	*out = b;
out:
	buf_release(&tar);
	return r;
}

/* The task's pid and status (RUNNING, STOPPED, CREATED, ...) from `ctr task ls`. */
static int ctrd__task(struct backend *b, struct container *c, long *pid, char status[16])
{
	struct buf out = BUF_INIT;
	const char *args[] = { "task", "ls", NULL };
	int r = ctrd__run(b, args, 10000, &out);
	size_t idlen = strlen(c->id);
	status[0] = 0;
	for (char *line = out.ptr; !r && line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, c->id, idlen) && (line[idlen] == ' ' || line[idlen] == '\t')) {
			if (sscanf(line + idlen, "%ld %15s", pid, status) != 2)
				r = np_error_set("cannot parse 'ctr task ls' line '%.80s'", line);
			break;
		}
	if (!r && !status[0])
		r = np_error_setc(NP_ENOTFOUND, "no task '%s'", c->id);
	buf_release(&out);
	return r;
}

static int ctrd_read_counter(struct backend *b, struct container *c, long *out)
{
	struct buf path = BUF_INIT;
	(void)b;
	if (c->running)
		buf_addf(&path, "/proc/%ld/root" COUNTER_FILE, c->pid);
	else
		buf_addf(&path, "%s/frozen-count-%d", c->dir, c->generation);
	int r = counter_read_file(out, path.ptr);
	buf_release(&path);
	return r;
}

static int ctrd__now_running(struct backend *b, struct container *c)
{
	char st[16];
	int r = ctrd__task(b, c, &c->pid, st);
	if (!r && strcmp(st, "RUNNING"))
		r = np_error_set("task '%s' is %s, not RUNNING", c->id, st);
	c->running = !r;
	return r;
}

static int ctrd__wait_counter(struct backend *b, struct container *c, int timeout_ms)
{
	long v = -1;
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (ctrd_read_counter(b, c, &v) == 0 && v >= 1)
			return 0;
		sleep_ms(20);
	}
	return np_error_set("counter of '%s' did not start within %d ms", c->id, timeout_ms);
}

/* On a containerd we did not start, each container and image is ours to record. */
static int ctrd__note_container(struct backend *b, const char *id)
{
	return b->own ? 0 : runrec_add(b->o->rec, "containerd", "socket", b->sock, "namespace", NS,
				       "container", id, "ctr", b->ctr, RUNREC_END);
}

static int ctrd__note_image(struct backend *b, const char *ref)
{
	return b->own ? 0 : runrec_add(b->o->rec, "containerd", "socket", b->sock, "namespace", NS,
				       "image", ref, "ctr", b->ctr, RUNREC_END);
}

static int ctrd_start(struct backend *b, struct container *c)
{
	struct buf log = BUF_INIT;
	buf_addf(&log, "file://%s/stdout.log", c->dir);
	char root[600];
	snprintf(root, sizeof(root), "%s/runc", b->dir);
	/* runc's state under the work dir too: nothing mixes with the host's */
	const char *args[12] = { "run", "--detach", "--log-uri", log.ptr, "--runc-root", root };
	size_t n = 6;
	if (b->wrapper[0]) {
		args[n++] = "--runc-binary";
		args[n++] = b->wrapper;
	}
	args[n++] = IMAGE;
	args[n++] = c->id;
	args[n] = NULL;
	c->exists = true; /* a run that fails half-way may still leave a container */
	int r = ctrd__note_container(b, c->id);
	if (!r)
		r = ctrd__run(b, args, 30000, NULL);
	if (!r && !(r = ctrd__now_running(b, c)))
		r = ctrd__wait_counter(b, c, 5000);
	buf_release(&log);
	return r;
}

/* Kill the task and wait until containerd reports it stopped. */
static int ctrd__kill_task(struct backend *b, struct container *c)
{
	const char *args[] = { "task", "kill", "--signal", "SIGKILL", c->id, NULL };
	int r = ctrd__run(b, args, 10000, NULL);
	for (int i = 0; !r && i < 100; i++) {
		char st[16];
		long pid;
		if (ctrd__task(b, c, &pid, st) || strcmp(st, "RUNNING"))
			break;
		sleep_ms(20);
	}
	c->running = false;
	return r;
}

static int ctrd__remove(struct backend *b, struct container *c)
{
	/* not --force: on a task whose restore failed (CREATED, pid 0) it waits forever */
	const char *task_rm[] = { "task", "delete", c->id, NULL };
	const char *c_rm[] = { "container", "delete", c->id, NULL };
	int r = ctrd__run(b, task_rm, 30000, NULL);
	if (r && r != NP_ENOTFOUND)
		return r;
	r = ctrd__run(b, c_rm, 30000, NULL);
	if (r && r != NP_ENOTFOUND)
		return r;
	c->exists = c->running = false;
	return 0;
}

static int ctrd_checkpoint(struct backend *b, struct container *c, const struct ckpt_opts *o)
{
	int r;
	c->generation++;
	if (o->tcp_established || o->file_locks)
		return np_error_set("ctr has no tcp_established/file_locks checkpoint options");
	if (o->image_dir) {
		/* task-level checkpoint into a directory: the runtime's image path option */
		char work[600];
		snprintf(c->image, sizeof(c->image), "%s", o->image_dir);
		snprintf(work, sizeof(work), "%s/dump-work-%d", c->dir, c->generation);
		c->ref[0] = 0;
		const char *args[9] = { "task", "checkpoint", "--image-path", c->image, "--work-path",
					work };
		size_t n = 6;
		if (!o->leave_running)
			args[n++] = "--exit";
		args[n++] = c->id;
		return ctrd__run(b, args, 120000, NULL);
	}
	if (c->ref[0]) {
		/*
		 * containerd 1.6 bug: when the previous checkpoint's content is
		 * still in the store, the task part of the next checkpoint of the
		 * same container hits "already exists", which the client ignores:
		 * the new checkpoint silently lacks its CRIU images. It was
		 * exported in collect, so drop it (and let GC run) first.
		 */
		const char *rm[] = { "image", "remove", "--sync", c->ref, NULL };
		if ((r = ctrd__run(b, rm, 30000, NULL)) && r != NP_ENOTFOUND)
			return r;
	}
	snprintf(c->ref, sizeof(c->ref), NS "/checkpoint/%s:%d", c->base, c->generation);
	snprintf(c->image, sizeof(c->image), "%s/image-%d", c->dir, c->generation);
	const char *args[] = { "container", "checkpoint", "--task", "--rw", c->id, c->ref, NULL };
	if ((r = ctrd__note_image(b, c->ref)) || (r = ctrd__run(b, args, 120000, NULL)))
		return r;
	/* ctr pauses, dumps and resumes: stopping is a separate, timed, step */
	if (!o->leave_running && !(r = ctrd__kill_task(b, c)))
		r = ctrd__remove(b, c);
	return r;
}

/* The checkpoint index's descriptor digest for media type mt, from an exported archive. */
static int ctrd__find_blob(const char *tar, const char *mt, char hex[72])
{
	struct buf index = BUF_INIT, ck = BUF_INIT, name = BUF_INIT;
	json_t *ji = NULL, *jc = NULL;
	int r = extract_member(tar, NULL, 0, "index.json", &index);
	if (r)
		goto out;
	ji = json_loads(index.ptr, 0, NULL);
	const char *d = json_string_value(json_object_get(json_array_get(json_object_get(ji, "manifests"), 0), "digest"));
	if (!d || strncmp(d, "sha256:", 7)) {
		r = np_error_set("exported checkpoint '%s' has no index", tar);
		goto out;
	}
	buf_addf(&name, "blobs/sha256/%s", d + 7);
	if ((r = extract_member(tar, NULL, 0, name.ptr, &ck)))
		goto out;
	jc = json_loads(ck.ptr, 0, NULL);
	size_t i;
	json_t *m;
	r = np_error_setc(NP_ENOTFOUND, "the checkpoint has no %s", mt);
	json_array_foreach(json_object_get(jc, "manifests"), i, m) {
		const char *t = json_string_value(json_object_get(m, "mediaType"));
		const char *dg = json_string_value(json_object_get(m, "digest"));
		if (t && dg && !strcmp(t, mt) && !strncmp(dg, "sha256:", 7)) {
			snprintf(hex, 72, "%s", dg + 7);
			r = 0;
			break;
		}
	}
out:
	json_decref(ji);
	json_decref(jc);
	buf_release(&index);
	buf_release(&ck);
	buf_release(&name);
	return r;
}

static int ctrd__unpack_blob(const char *tar, const char *hex, const char *member,
			     const char *dest)
{
	struct buf name = BUF_INIT, blob = BUF_INIT, val = BUF_INIT;
	buf_addf(&name, "blobs/sha256/%s", hex);
	int r = extract_member(tar, NULL, 0, name.ptr, &blob);
	if (!r && member) {
		if (!(r = extract_member(NULL, blob.ptr, blob.len, member, &val)))
			r = fs_write_atomic(dest, val.ptr, val.len, 0600, -1, -1);
	} else if (!r) {
		r = extract_mem(blob.ptr, blob.len, dest, NULL);
	}
	buf_release(&name);
	buf_release(&blob);
	buf_release(&val);
	return r;
}

static int ctrd_collect(struct backend *b, struct container *c)
{
	char tar[600], hex[72], frozen[600], note[600];
	if (!c->ref[0])
		return 0;
	snprintf(tar, sizeof(tar), "%s/checkpoint-%d.tar", c->dir, c->generation);
	const char *args[] = { "image", "export", "--skip-manifest-json", tar, c->ref, NULL };
	const char *args_local[] = { "image", "export", "--local", "--skip-manifest-json", tar, c->ref, NULL };
	int r = ctrd__run(b, b->export_local ? args_local : args, 120000, NULL);
	if (r || (r = ctrd__find_blob(tar, MT_CRIU, hex)))
		return r;
	snprintf(note, sizeof(note), "%s/criu-blob-%d", c->dir, c->generation);
	if ((r = ctrd__unpack_blob(tar, hex, NULL, c->image)) ||
	    (r = fs_write_atomic(note, hex, strlen(hex), 0600, -1, -1)) ||
	    (r = ctrd__find_blob(tar, MT_RW, hex)))
		return r;
	snprintf(frozen, sizeof(frozen), "%s/frozen-count-%d", c->dir, c->generation);
	return ctrd__unpack_blob(tar, hex, &COUNTER_FILE[1], frozen);
}

static int ctrd_corrupt(struct backend *b, struct container *c, const char *file)
{
	static const char junk[] = "this is not a CRIU image, this is not a CRIU image";
	struct buf hex = BUF_INIT, blob = BUF_INIT;
	long long off, size;
	int r, fd = -1;
	if (!b->own)
		return np_error_set("corrupt needs the private containerd (its content store is ours to damage)");
	buf_addf(&blob, "%s/criu-blob-%d", c->dir, c->generation);
	if ((r = fs_read_file(&hex, blob.ptr)))
		goto out;
	buf_reset(&blob);
	buf_addf(&blob, "%s/root/io.containerd.content.v1.content/blobs/sha256/%s", b->dir, hex.ptr);
	if ((r = extract_member_offset(blob.ptr, file, &off, &size)))
		goto out;
	/* overwrite in place: same size, so containerd still serves the blob */
	if ((fd = open(blob.ptr, O_WRONLY | O_CLOEXEC)) < 0 ||
	    pwrite(fd, junk, (size_t)size < sizeof(junk) - 1 ? (size_t)size : sizeof(junk) - 1,
		   (off_t)off) < 0)
		r = np_error_set("cannot damage '%s' in '%s'", file, blob.ptr);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&hex);
	buf_release(&blob);
	return r;
}

static int ctrd_restore(struct backend *b, struct container *c, const struct restore_opts *o)
{
	char tar[600];
	int r;
	if (!c->ref[0])
		return np_error_set("no checkpoint image to restore from");
	if (o->new_bundle) {
		/* migrate: the checkpoint travels as the exported archive */
		snprintf(tar, sizeof(tar), "%s/checkpoint-%d.tar", c->dir, c->generation);
		const char *rm[] = { "image", "remove", c->ref, NULL };
		/* a checkpoint index has no layers to unpack: store it as is */
		const char *imp[] = { "image", "import", "--no-unpack", tar, NULL };
		if ((r = ctrd__run(b, rm, 30000, NULL)) || (r = ctrd__run(b, imp, 60000, NULL)))
			return r;
	}
	if (o->new_id)
		snprintf(c->id, sizeof(c->id), "%s-r%d", c->base, c->generation);
	const char *args[] = { "container", "restore", "--live", "--rw", c->id, c->ref, NULL };
	c->exists = true;
	if ((o->new_id && (r = ctrd__note_container(b, c->id))) || (r = ctrd__run(b, args, 120000, NULL)))
		return r;
	return ctrd__now_running(b, c);
}

static int ctrd_exec(struct backend *b, struct container *c, const char *shell)
{
	char id[64];
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(id, sizeof(id), "crh-exec-%ld%09ld", (long)ts.tv_sec, ts.tv_nsec);
	const char *args[] = { "task", "exec", "--exec-id", id, c->id, "/bin/sh", "-c", shell, NULL };
	return ctrd__run(b, args, 30000, NULL);
}

static int ctrd_is_running(struct backend *b, struct container *c, bool *out)
{
	char st[16];
	long pid;
	int r = ctrd__task(b, c, &pid, st);
	*out = !r && !strcmp(st, "RUNNING");
	return r == NP_ENOTFOUND ? 0 : r;
}

static int ctrd_kill(struct backend *b, struct container *c)
{
	return ctrd__kill_task(b, c);
}

static int ctrd_stop(struct backend *b, struct container *c)
{
	int r = 0;
	if (c->exists) {
		ctrd__kill_task(b, c);
		r = ctrd__remove(b, c);
	}
	/* checkpoint images are ours too */
	for (int g = 1; g <= c->generation; g++) {
		char ref[200];
		snprintf(ref, sizeof(ref), NS "/checkpoint/%s:%d", c->base, g);
		const char *rm[] = { "image", "remove", ref, NULL };
		ctrd__run(b, rm, 30000, NULL);
	}
	return r;
}

/*
 * What a private containerd of ours may leave behind, found by its dir and
 * socket: client commands in flight, the daemon, shims still serving its
 * socket, runc commands and containers under our runc root, mounts under
 * its dir.
 * After a clean stop (close) nothing should be found; after a killed
 * daemon or a dead run this is what removes it all.
 */
static int ctrd__reap(const char *dir, const char *sock, const char *runtime, bool dry_run,
		      struct buf *report)
{
	struct buf cfg = BUF_INIT, root = BUF_INIT;
	int bad = 0;
	buf_addf(&cfg, "%s/config.toml", dir);
	buf_addf(&root, "%s/runc/" NS, dir);
	bad |= leftovers_kill("--address", sock, NULL, "ctr command", dry_run, report) != 0;
	bad |= leftovers_kill("--config", cfg.ptr, NULL, "containerd daemon", dry_run, report) != 0;
	bad |= leftovers_kill("-address", sock, NULL, "containerd shim", dry_run, report) != 0;
	bad |= leftovers_kill("--root", root.ptr, NULL, "runc command", dry_run, report) != 0;
	bad |= leftovers_runc_root(root.ptr, runtime, dry_run, report) != 0;
	/* mounts last: a shim or container held them */
	bad |= leftovers_umount_under(dir, dry_run, report) != 0;
	buf_release(&cfg);
	buf_release(&root);
	return bad ? NP_ERROR : 0;
}

static void ctrd_close(struct backend *b)
{
	if (b->own) {
		struct buf report = BUF_INIT;
		spawn_stop(&b->daemon, SIGTERM, 5000);
		ctrd__reap(b->dir, b->sock, b->o->runtime, false, &report);
		char *save = NULL;
		for (char *l = strtok_r(report.ptr, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			log_warn("containerd backend: %s", l);
		buf_release(&report);
	}
	spawn_release(&b->daemon);
	free(b);
}

/* "containerd github.com/containerd/containerd/v2 v2.2.9 REV" -> "containerd v2.2.9" */
static int ctrd_version(struct backend *b, struct buf *out)
{
	const char *argv[] = { b->o->containerd_bin ? b->o->containerd_bin : "containerd", "--version", NULL };
	struct spawn sp = SPAWN_INIT;
	char pkg[256], ver[64];
	sp.argv = argv;
	sp.timeout_ms = 10000;
	int r = spawn_run(&sp);
	if (!r && !sp.status && sscanf(sp.out.ptr, "containerd %255s %63s", pkg, ver) == 2)
		buf_addf(out, "containerd %s", ver);
	else if (!r)
		r = np_error_set("'%s --version' said nothing usable", argv[0]);
	spawn_release(&sp);
	return r;
}

/* One container or checkpoint image a dead run made in a containerd it did not start. */
static int ctrd__cleanup_object(const char *ctr, const char *sock, const char *id, const char *img,
				bool dry_run, struct buf *report)
{
	struct buf filter = BUF_INIT, out = BUF_INIT;
	/* its ctr commands still in flight first, or they may create it again */
	int r = leftovers_kill("--address", sock, img ? img : id, "ctr command", dry_run, report);
	if (r)
		goto out;
	if (img) {
		buf_addf(&filter, "name==%s", img);
		const char *ls[] = { "image", "ls", "-q", filter.ptr, NULL };
		const char *rm[] = { "image", "remove", img, NULL };
		r = ctrd__ctr(ctr, sock, ls, 30000, &out);
		bool there = !r && out.len;
		if (there && !dry_run)
			r = ctrd__ctr(ctr, sock, rm, 30000, NULL);
		if (r || there)
			r = leftovers_say(report, dry_run, r, "checkpoint image '%s' in namespace " NS " at %s",
					  img, sock);
		goto out;
	}
	const char *info[] = { "container", "info", id, NULL };
	if ((r = ctrd__ctr(ctr, sock, info, 30000, NULL)) == NP_ENOTFOUND) {
		r = 0;
		goto out;
	}
	if (!r && !dry_run) {
		const char *kill_[] = { "task", "kill", "--signal", "SIGKILL", id, NULL };
		/* not --force: see ctrd__remove */
		const char *task_rm[] = { "task", "delete", id, NULL };
		const char *c_rm[] = { "container", "delete", id, NULL };
		ctrd__ctr(ctr, sock, kill_, 10000, NULL);
		/* the kill is asynchronous: a running task cannot be deleted yet */
		for (int i = 0; i < 50 && (r = ctrd__ctr(ctr, sock, task_rm, 30000, NULL)) &&
				r != NP_ENOTFOUND && strstr(np_error_last(), "must be stopped");
		     i++)
			sleep_ms(100);
		if (r == NP_ENOTFOUND)
			r = 0;
		if (!r && (r = ctrd__ctr(ctr, sock, c_rm, 30000, NULL)) == NP_ENOTFOUND)
			r = 0;
	}
	r = leftovers_say(report, dry_run, r, "container '%s' in namespace " NS " at %s", id, sock);
out:
	buf_release(&filter);
	buf_release(&out);
	return r;
}

static int ctrd_cleanup(const struct runrec_entry *e, bool dry_run, struct buf *report)
{
	const char *dir = runrec_get(e, "dir"), *sock = runrec_get(e, "socket");
	const char *id = runrec_get(e, "container"), *img = runrec_get(e, "image");
	if (!sock || !sock[0])
		return 0;
	const char *ctr = runrec_get(e, "ctr");
	if (dir && dir[0] == '/')
		return ctrd__reap(dir, sock, runrec_get(e, "runtime"), dry_run, report);
	if (id || img)
		return ctrd__cleanup_object(ctr && ctr[0] ? ctr : "ctr", sock, id, img, dry_run, report);
	return 0;
}

const struct backend_ops backend_containerd = {
	"containerd", ctrd_open, ctrd_start, ctrd_read_counter, ctrd_checkpoint, ctrd_collect,
	ctrd_corrupt, ctrd_restore, ctrd_exec, ctrd_kill, ctrd_is_running, ctrd_stop, ctrd_close,
	false, ctrd_version, ctrd_cleanup,
};
