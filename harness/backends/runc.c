/*
 * runc.c: the runc backend. Each run uses its own runc state root
 * (--root WORK/runc), so nothing it creates is mixed with the host's
 * containers and cleanup can find everything. The bundle's config.json is
 * written here (jansson) rather than by `runc spec`, to pin down what C/R
 * depends on: no terminal, stdio /dev/null, writable rootfs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "backend.h"
#include "counter.h"
#include "criu_path.h"
#include "error.h"
#include "fsutil.h"
#include "leftovers.h"
#include "log.h"
#include "runrec.h"
#include "spawn.h"
#include "banned.h"

struct backend {
	const struct harness_opts *o;
	char state[512];
	/* the runtime's environment: the run's (CRIU_FAULT=130) plus a PATH
	 * in which the only criu is --criu. runc 1.2 ignores its --criu flag
	 * (with a warning) and runs the criu in PATH; 1.1 looks there too */
	char path_env[4200];
	const char *env[20];
	bool criu_bad;   /* --criu cannot be run: said with every runc failure */
	char runtime[1024]; /* --runtime or runc, found in our PATH (the runtime's may lack its dir) */
};

/*
 * Run runc. Detached commands (run -d, restore -d) hand their stdio to the
 * container, so they get /dev/null (a pipe would never close, and CRIU
 * cannot dump a host file on fd 1); their errors come from runc's --log.
 */
static int runc__run(struct backend *b, const char *const *args, int timeout_ms, struct buf *out)
{
	const char *argv[32];
	size_t n = 0;
	struct buf desc = BUF_INIT, logp = BUF_INIT;
	bool detached = args[1] && !strcmp(args[1], "-d");
	argv[n++] = b->runtime;
	argv[n++] = "--root";
	argv[n++] = b->state;
	if (detached) {
		/* one log per container: concurrent lanes sharing one would unlink
		 * and overwrite each other's, and a failure would show another's error */
		const char *id = args[0];
		for (size_t i = 0; args[i]; i++)
			id = args[i];
		buf_addf(&logp, "%s/runc-%s-%s.log", b->o->work_dir, args[0], id);
		unlink(logp.ptr);
		argv[n++] = "--log";
		argv[n++] = logp.ptr;
	}
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.env = b->env;
	sp.merge_err = true;
	sp.timeout_ms = timeout_ms;
	if (detached)
		sp.out_mode = sp.err_mode = SPAWN_IO_NULL;
	int r = spawn_run(&sp);
	if (detached && !r && sp.status)
		fs_read_file(&sp.out, logp.ptr);
	spawn_describe(&desc, argv);
	log_debug("runc: %s -> %d", desc.ptr, r ? -1 : sp.status);
	if (!r && sp.status) {
		buf_rtrim(&sp.out);
		r = np_error_set("'%s' failed (status %d): %s", desc.ptr, sp.status, sp.out.ptr);
		if (b->criu_bad)
			np_error_prefix("criu '%s' is missing or not executable", b->o->criu);
	} else if (r == NP_ETIMEOUT) {
		np_error_prefix("runc hung (if this is a VM without debug registers, set CRIU_FAULT=130)");
	}
	if (out)
		buf_add(out, sp.out.ptr, sp.out.len);
	spawn_release(&sp);
	buf_release(&desc);
	buf_release(&logp);
	return r;
}

static int runc_open(struct backend **out, const struct harness_opts *o)
{
	struct backend *b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	b->o = o;
	snprintf(b->state, sizeof(b->state), "%s/runc-state", o->work_dir);
	struct buf rt = BUF_INIT;
	criu_path_which(&rt, o->runtime ? o->runtime : "runc");
	snprintf(b->runtime, sizeof(b->runtime), "%s", rt.ptr);
	buf_release(&rt);
	size_t ne = 0;
	for (size_t i = 0; o->env && o->env[i] && ne < 18; i++)
		b->env[ne++] = o->env[i];
	struct buf pe = BUF_INIT;
	int r = o->criu ? criu_path_env(&pe, &b->criu_bad, o->work_dir, o->criu) : 0;
	snprintf(b->path_env, sizeof(b->path_env), "%s", pe.ptr);
	buf_release(&pe);
	if (!r && o->criu)
		b->env[ne++] = b->path_env;
	/* every container of the run lives under this root: recording it covers them all */
	if (!r)
		r = runrec_add(o->rec, "runc", "root", b->state, "runtime", b->runtime,
			       RUNREC_END);
	if (!r)
		r = fs_mkdir_p(b->state, 0700);
	if (r) {
		free(b);
		return r;
	}
	*out = b;
	return 0;
}

static int runc__write_config(const char *bundle, int interval_ms)
{
	struct buf script = BUF_INIT, path = BUF_INIT;
	counter_script(&script, interval_ms);
	json_t *cfg = json_pack(
		"{s:s, s:{s:b, s:{s:i, s:i}, s:[s,s,s], s:[s], s:s, s:{s:[s,s,s], s:[s,s,s], s:[s,s,s]},"
		" s:[{s:s, s:i, s:i}], s:b},"
		" s:{s:s, s:b}, s:s,"
		" s:[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:[s,s,s]}, {s:s, s:s, s:s, s:[s,s,s,s]},"
		" {s:s, s:s, s:s, s:[s,s,s,s]}],"
		" s:{s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}], s:[s,s], s:[s]}}",
		"ociVersion", "1.0.2",
		"process", "terminal", 0, "user", "uid", 0, "gid", 0,
		"args", "/bin/sh", "-c", script.ptr,
		"env", "PATH=/bin", "cwd", "/",
		"capabilities", "bounding", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE",
		"effective", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE",
		"permitted", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE",
		"rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
		"noNewPrivileges", 1,
		"root", "path", "rootfs", "readonly", 0, "hostname", "counter",
		"mounts", "destination", "/proc", "type", "proc", "source", "proc",
		"destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options", "nosuid",
		"strictatime", "mode=755",
		"destination", "/dev/pts", "type", "devpts", "source", "devpts", "options", "nosuid",
		"noexec", "newinstance", "ptmxmode=0666",
		"destination", "/sys", "type", "sysfs", "source", "sysfs", "options", "nosuid",
		"noexec", "nodev", "ro",
		"linux", "namespaces", "type", "pid", "type", "network", "type", "ipc", "type", "uts",
		"type", "mount", "maskedPaths", "/proc/kcore", "/proc/keys", "readonlyPaths",
		"/proc/sys");
	buf_addf(&path, "%s/config.json", bundle);
	char *s = json_dumps(cfg, JSON_INDENT(1));
	int r = s ? fs_write_atomic(path.ptr, s, strlen(s), 0644, -1, -1)
		  : np_error_set("cannot encode config.json");
	free(s);
	json_decref(cfg);
	buf_release(&script);
	buf_release(&path);
	return r;
}

static int runc__wait_counter(struct backend *b, struct container *c, long min, int timeout_ms);

static int runc_read_counter(struct backend *b, struct container *c, long *out)
{
	struct buf path = BUF_INIT;
	(void)b;
	buf_addf(&path, "%s/rootfs" COUNTER_FILE, c->bundle);
	int r = counter_read_file(out, path.ptr);
	buf_release(&path);
	return r;
}

static int runc__wait_counter(struct backend *b, struct container *c, long min, int timeout_ms)
{
	long v = -1;
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (runc_read_counter(b, c, &v) == 0 && v >= min)
			return 0;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return np_error_set("counter of '%s' did not reach %ld within %d ms (last %ld)", c->id, min,
			    timeout_ms, v);
}

static int runc_start(struct backend *b, struct container *c)
{
	struct buf rootfs = BUF_INIT;
	int r;
	snprintf(c->bundle, sizeof(c->bundle), "%s/bundle-0", c->dir);
	buf_addf(&rootfs, "%s/rootfs", c->bundle);
	if ((r = counter_make_rootfs(rootfs.ptr)) || (r = runc__write_config(c->bundle, b->o->interval_ms)))
		goto out;
	const char *args[] = { "run", "-d", "--bundle", c->bundle, c->id, NULL };
	/* known before it runs: a run that times out may still leave a container */
	c->exists = true;
	if ((r = runc__run(b, args, 30000, NULL)))
		goto out;
	c->running = true;
	r = runc__wait_counter(b, c, 1, 5000);
out:
	buf_release(&rootfs);
	return r;
}

static int runc_checkpoint(struct backend *b, struct container *c, const struct ckpt_opts *o)
{
	char work[600];
	c->generation++;
	if (o->image_dir)
		snprintf(c->image, sizeof(c->image), "%s", o->image_dir);
	else
		snprintf(c->image, sizeof(c->image), "%s/image-%d", c->dir, c->generation);
	snprintf(work, sizeof(work), "%s/dump-work-%d", c->dir, c->generation);
	const char *args[16] = { "checkpoint", "--image-path", c->image, "--work-path", work };
	size_t n = 5;
	if (o->leave_running)
		args[n++] = "--leave-running";
	if (o->tcp_established)
		args[n++] = "--tcp-established";
	if (o->file_locks)
		args[n++] = "--file-locks";
	args[n++] = c->id;
	args[n] = NULL;
	int r = runc__run(b, args, 120000, NULL);
	if (!r && !o->leave_running)
		c->running = c->exists = false; /* runc deletes a dumped container */
	return r;
}

static int runc__copy_bundle(struct container *c)
{
	char dst[600];
	snprintf(dst, sizeof(dst), "%s/bundle-%d", c->dir, c->generation);
	const char *argv[] = { "cp", "-a", c->bundle, dst, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	int r = spawn_run(&sp);
	if (!r && sp.status)
		r = np_error_set("cannot copy bundle: %s", sp.err.ptr);
	spawn_release(&sp);
	if (!r)
		snprintf(c->bundle, sizeof(c->bundle), "%s", dst);
	return r;
}

static int runc_restore(struct backend *b, struct container *c, const struct restore_opts *o)
{
	char work[600];
	int r;
	if (o->new_bundle && (r = runc__copy_bundle(c)))
		return r;
	if (o->new_id)
		snprintf(c->id, sizeof(c->id), "%s-r%d", c->base, c->generation);
	snprintf(work, sizeof(work), "%s/restore-work-%d", c->dir, c->generation);
	const char *args[] = { "restore", "-d", "--image-path", c->image, "--work-path", work,
			       "--bundle", c->bundle, c->id, NULL };
	if ((r = runc__run(b, args, 120000, NULL)))
		return r;
	c->exists = c->running = true;
	return 0;
}

static int runc_exec(struct backend *b, struct container *c, const char *shell)
{
	const char *args[] = { "exec", c->id, "/bin/sh", "-c", shell, NULL };
	return runc__run(b, args, 30000, NULL);
}

static int runc_state(struct backend *b, struct container *c, struct buf *status)
{
	struct buf out = BUF_INIT;
	const char *args[] = { "state", c->id, NULL };
	int r = runc__run(b, args, 10000, &out);
	if (!r) {
		json_t *j = json_loads(out.ptr, 0, NULL);
		buf_adds(status, j ? json_string_value(json_object_get(j, "status")) : "unknown");
		json_decref(j);
	}
	buf_release(&out);
	return r;
}

static int runc_is_running(struct backend *b, struct container *c, bool *out)
{
	struct buf st = BUF_INIT;
	int r = runc_state(b, c, &st);
	*out = !r && !strcmp(st.ptr, "running");
	buf_release(&st);
	return r == NP_ENOTFOUND ? 0 : r;
}

static int runc_kill(struct backend *b, struct container *c)
{
	const char *args[] = { "kill", c->id, "KILL", NULL };
	int r = runc__run(b, args, 10000, NULL);
	for (int i = 0; !r && i < 100; i++) {
		bool run;
		if (runc_is_running(b, c, &run) || !run)
			break;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	c->running = false;
	return r;
}

static int runc_stop(struct backend *b, struct container *c)
{
	if (!c->exists)
		return 0;
	const char *args[] = { "delete", "--force", c->id, NULL };
	int r = runc__run(b, args, 30000, NULL);
	if (!r)
		c->exists = c->running = false;
	return r;
}

static void runc_close(struct backend *b)
{
	free(b);
}

/* "runc version 1.2.5" (first line of --version) -> "runc 1.2.5" */
static int runc_version(struct backend *b, struct buf *out)
{
	const char *argv[] = { b->runtime, "--version", NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.timeout_ms = 10000;
	int r = spawn_run(&sp);
	const char *v = !r && !sp.status ? strstr(sp.out.ptr, "version ") : NULL;
	if (v)
		buf_addf(out, "runc %.*s", (int)strcspn(v + 8, "\n"), v + 8);
	else if (!r)
		r = np_error_set("'%s --version' said nothing usable", argv[0]);
	spawn_release(&sp);
	return r;
}

/* A dead run's runc root: its runc commands still in flight, then its containers. */
static int runc_cleanup(const struct runrec_entry *e, bool dry_run, struct buf *report)
{
	const char *root = runrec_get(e, "root");
	int bad = 0;
	if (!root || root[0] != '/')
		return 0;
	bad |= leftovers_kill("--root", root, NULL, "runc command", dry_run, report) != 0;
	bad |= leftovers_runc_root(root, runrec_get(e, "runtime"), dry_run, report) != 0;
	return bad ? NP_ERROR : 0;
}

const struct backend_ops backend_runc = {
	"runc", runc_open, runc_start, runc_read_counter, runc_checkpoint, NULL, NULL, runc_restore,
	runc_exec, runc_kill, runc_is_running, runc_stop, runc_close, false, runc_version,
	runc_cleanup,
};
