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
#include "error.h"
#include "extract.h"
#include "fsutil.h"
#include "image.h"
#include "log.h"
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
	bool own;           /* we started the daemon */
	struct spawn daemon;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int ctrd__run(struct backend *b, const char *const *args, int timeout_ms, struct buf *out)
{
	const char *argv[32];
	size_t n = 0;
	struct buf desc = BUF_INIT;
	argv[n++] = "ctr";
	argv[n++] = "--address";
	argv[n++] = b->sock;
	argv[n++] = "--namespace";
	argv[n++] = NS;
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.merge_err = true;
	sp.timeout_ms = timeout_ms;
	int r = spawn_run(&sp);
	spawn_describe(&desc, argv);
	log_debug("ctr: %s -> %d", desc.ptr, r ? -1 : sp.status);
	buf_rtrim(&sp.out);
	if (!r && sp.status)
		r = np_error_setc(strstr(sp.out.ptr, "not found") ? NP_ENOTFOUND : NP_ERROR,
				  "'%s' failed (status %d): %s", desc.ptr, sp.status, sp.out.ptr);
	else if (r == NP_ETIMEOUT)
		np_error_prefix("ctr hung (if this is a VM without debug registers, set CRIU_FAULT=130)");
	if (out)
		buf_add(out, sp.out.ptr, sp.out.len);
	spawn_release(&sp);
	buf_release(&desc);
	return r;
}

static int ctrd__write_wrapper(struct backend *b)
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

static int ctrd__start_daemon(struct backend *b)
{
	struct buf cfg = BUF_INIT, path = BUF_INIT;
	int r, fd = -1;
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
	if ((fd = open(cfg.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		r = np_error_set("cannot create '%s'", cfg.ptr);
		goto out;
	}
	const char *argv[] = { "containerd", "--config", path.ptr, NULL };
	b->daemon = (struct spawn)SPAWN_INIT;
	b->daemon.argv = argv;
	b->daemon.env = b->o->env;
	b->daemon.out_mode = b->daemon.err_mode = SPAWN_IO_FD;
	b->daemon.out_fd = b->daemon.err_fd = fd;
	r = spawn_start(&b->daemon);
	b->daemon.argv = NULL; /* argv lives on this stack */
	if (r)
		goto out;
	b->own = true;
	const char *ver[] = { "version", NULL };
	for (int i = 0; i < 100; i++) {
		if (fs_exists(b->sock) && !ctrd__run(b, ver, 5000, NULL))
			goto out;
		sleep_ms(100);
	}
	r = np_error_set("containerd did not come up within 10 s (see %s)", cfg.ptr);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&cfg);
	buf_release(&path);
	return r;
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
	int r = ctrd__run(b, args, 30000, NULL);
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
	if ((r = ctrd__run(b, args, 120000, NULL)))
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
	int r = ctrd__run(b, args, 120000, NULL);
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
	if ((r = ctrd__run(b, args, 120000, NULL)))
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
 * After our private containerd is gone (stopped, or killed mid-scenario),
 * nothing it started may outlive the run: shims still serving its socket
 * are killed, runc containers under our runc root are deleted, and mounts
 * under the work dir are detached.
 */
static void ctrd__reap(struct backend *b)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char path[64];
		struct buf cmd = BUF_INIT;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		if (!fs_read_file(&cmd, path)) {
			for (size_t i = 0; i < cmd.len; i++)
				cmd.ptr[i] = cmd.ptr[i] ? cmd.ptr[i] : ' ';
			if (strstr(cmd.ptr, "containerd-shim") && strstr(cmd.ptr, b->sock))
				kill((pid_t)strtol(de->d_name, NULL, 10), SIGKILL);
		}
		buf_release(&cmd);
	}
	if (d)
		closedir(d);
	char root[600];
	snprintf(root, sizeof(root), "%s/runc/" NS, b->dir);
	struct buf list = BUF_INIT;
	const char *ls[] = { "runc", "--root", root, "list", "-q", NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = ls;
	sp.timeout_ms = 10000;
	if (fs_is_dir(root) && !spawn_run(&sp) && !sp.status)
		buf_add(&list, sp.out.ptr, sp.out.len);
	spawn_release(&sp);
	char *save = NULL;
	for (char *id = strtok_r(list.ptr, "\n", &save); id; id = strtok_r(NULL, "\n", &save)) {
		const char *del[] = { "runc", "--root", root, "delete", "--force", id, NULL };
		struct spawn ds = SPAWN_INIT;
		ds.argv = del;
		ds.timeout_ms = 10000;
		spawn_run(&ds);
		spawn_release(&ds);
		log_warn("containerd backend: removed leftover container '%s'", id);
	}
	buf_release(&list);
	/* mounts last: a shim or container held them */
	struct buf mi = BUF_INIT;
	if (!fs_read_file(&mi, "/proc/self/mountinfo"))
		for (char *line = strtok_r(mi.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char mnt[1024];
			if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1 && !strncmp(mnt, b->dir, strlen(b->dir)) &&
			    umount2(mnt, MNT_DETACH) == 0)
				log_warn("containerd backend: detached leftover mount %s", mnt);
		}
	buf_release(&mi);
}

static void ctrd_close(struct backend *b)
{
	if (b->own) {
		spawn_stop(&b->daemon, SIGTERM, 5000);
		ctrd__reap(b);
	}
	spawn_release(&b->daemon);
	free(b);
}

const struct backend_ops backend_containerd = {
	"containerd", ctrd_open, ctrd_start, ctrd_read_counter, ctrd_checkpoint, ctrd_collect,
	ctrd_corrupt, ctrd_restore, ctrd_exec, ctrd_kill, ctrd_is_running, ctrd_stop, ctrd_close,
};
