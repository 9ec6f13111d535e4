/*
 * host_mux.c: a remote host reached through an ssh-master (mux.h). Every
 * host op is one message to the master and one reply; the master runs it
 * on its SSH host, so what happens on the node (atomic writes, become,
 * the remote root, batches) is host_ssh.c's, unchanged. What stays here:
 * the run's cache (host.c fills and empties it as for any host; a
 * prefetch's answers are copied in from the master's), the remote root's
 * link list, and the run's -v counts (the master reports the round trips
 * this run caused).
 *
 * Starting: under a lock file beside the socket (two runs never start two
 * masters for one host), connect; no socket, or one nobody listens on (a
 * master killed with -9), means start one: fork+exec of this program as
 * `nodeprep ssh-master serve`, which connects and reports "ok" or the
 * error on a pipe before it binds its socket, so a refused key or host
 * key comes back with the message a direct run prints and leaves nothing
 * behind. The master's stderr is ours until then (a new host key's
 * warning shows), /dev/null after.
 *
 * A master that goes away (its connection died, it was killed) fails the
 * call in flight with a message naming the host; every later call says
 * the same, as host_ssh.c does for a lost connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "error.h"
#include "fsutil.h"
#include "host.h"
#include "host_cache.h"
#include "log.h"
#include "mux.h"
#include "spawn.h"
#include "banned.h"

struct host_mux {
	struct host h;
	int sock;
	long pid;          /* the master's */
	bool started;      /* this run started it */
	char *lost;        /* why the master is gone; NULL while it works */
	unsigned calls;
	char label[300];
};

static struct host_mux *M(struct host *h)
{
	return (struct host_mux *)h;
}

/* The state letter of process pid (R, S, T, Z, ...), or 0 when there is none. */
static char mux__proc_state(pid_t pid)
{
	char path[64], text[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	const char *end = strrchr(text, ')'); /* the command name may hold anything */
	return end && end[1] == ' ' ? end[2] : 0;
}

/*
 * Wait until the master's answer can be read. A master that is merely busy
 * (it serves one run at a time) is waited for as long as it takes; one that
 * is stopped (SIGSTOP, a debugger) or gone is not: the reason, for "the
 * ssh-master (pid N) ...", goes into why.
 */
static int mux__await(int sock, char *why, size_t size)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return 0; /* then the read says what is wrong */
	for (;;) {
		struct pollfd p = { sock, POLLIN, 0 };
		int n = poll(&p, 1, 1000);
		if (n > 0 || (n < 0 && errno != EINTR))
			return 0;
		if (n < 0)
			continue;
		char st = mux__proc_state(cr.pid);
		if (st == 'T' || st == 't')
			snprintf(why, size, "is stopped (SIGSTOP or a debugger): `kill -CONT %d` resumes it, "
				 "`nodeprep ssh-master exit` ends it", (int)cr.pid);
		else if (!st || st == 'Z' || st == 'X')
			snprintf(why, size, "is gone");
		else
			continue;
		return NP_ERROR;
	}
}

/*
 * Send req (consumed) with blobs and fds, wait for the reply into *rep.
 * The reply's own error ("r" and "error") is returned as the op's result.
 */
static int mux__call(struct host_mux *m, json_t *req, const struct mux_blob *blobs, size_t nb,
		     const int *fds, size_t nfds, struct mux_msg *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (m->lost) {
		json_decref(req);
		return np_error_set("%s", m->lost);
	}
	m->calls++;
	char state[200] = "";
	int r = mux_send(m->sock, req, blobs, nb, fds, nfds);
	json_decref(req);
	if (!r && !(r = mux__await(m->sock, state, sizeof(state))))
		r = mux_recv(m->sock, rep);
	if (r) {
		struct buf why = BUF_INIT;
		if (state[0])
			buf_addf(&why, "%s: the ssh-master (pid %ld) %s", m->label, m->pid, state);
		else
			buf_addf(&why, "%s: the ssh-master (pid %ld) went away: %s", m->label, m->pid,
				 r == NP_ENOTFOUND ? "its connection to the host was lost, or it was stopped"
						   : np_error_last());
		m->lost = buf_detach(&why, NULL);
		return np_error_set("%s", m->lost);
	}
	json_int_t code = json_integer_value(json_object_get(rep->hdr, "r"));
	if (code) {
		const char *msg = json_string_value(json_object_get(rep->hdr, "error"));
		return np_error_setc((int)code, "%s", msg ? msg : "ssh-master: unknown error");
	}
	return 0;
}

static json_t *mux__req(const char *op, const char *path)
{
	json_t *j = json_pack("{s:s}", "op", op);
	if (path)
		json_object_set_new(j, "path", json_string(path));
	return j;
}

/* An op whose reply says only whether it worked. */
static int mux__simple(struct host *h, json_t *req)
{
	struct mux_msg rep;
	int r = mux__call(M(h), req, NULL, 0, NULL, 0, &rep);
	mux_msg_release(&rep);
	return r;
}

static int mux__read(struct host *h, const char *path, struct buf *out)
{
	struct mux_msg rep;
	int r = mux__call(M(h), mux__req("read", path), NULL, 0, NULL, 0, &rep);
	if (!r && rep.nblobs)
		buf_add(out, rep.blob[0].ptr, rep.blob[0].len);
	mux_msg_release(&rep);
	return r;
}

static int mux__write(struct host *h, const char *path, const void *data, size_t len, int mode, int uid,
		      int gid)
{
	json_t *req = mux__req("write", path);
	struct mux_blob b = { data, len };
	struct mux_msg rep;
	json_object_set_new(req, "mode", json_integer(mode));
	json_object_set_new(req, "uid", json_integer(uid));
	json_object_set_new(req, "gid", json_integer(gid));
	int r = mux__call(M(h), req, &b, 1, NULL, 0, &rep);
	mux_msg_release(&rep);
	return r;
}

static int mux__stat(struct host *h, const char *path, struct host_stat *st)
{
	struct mux_msg rep;
	int r = mux__call(M(h), mux__req("stat", path), NULL, 0, NULL, 0, &rep);
	if (!r)
		mux_json_stat(st, json_object_get(rep.hdr, "st"));
	mux_msg_release(&rep);
	return r;
}

static int mux__mkdir(struct host *h, const char *path, int mode)
{
	json_t *req = mux__req("mkdir", path);
	json_object_set_new(req, "mode", json_integer(mode));
	return mux__simple(h, req);
}

static int mux__remove(struct host *h, const char *path)
{
	return mux__simple(h, mux__req("remove", path));
}

static int mux__remove_tree(struct host *h, const char *path)
{
	return mux__simple(h, mux__req("remove_tree", path));
}

static int mux__chmod_chown(struct host *h, const char *path, int mode, int uid, int gid)
{
	json_t *req = mux__req("chmod_chown", path);
	json_object_set_new(req, "mode", json_integer(mode));
	json_object_set_new(req, "uid", json_integer(uid));
	json_object_set_new(req, "gid", json_integer(gid));
	return mux__simple(h, req);
}

/*
 * A stream to a descriptor (a build's log, or our own stdout/stderr) is
 * passed to the master, which writes into it as the command runs: the
 * output streams as it would without the master.
 */
static int mux__stream(enum spawn_io mode, int fd, int std, int *fds, size_t *nfds)
{
	if (mode != SPAWN_IO_FD && mode != SPAWN_IO_INHERIT)
		return -1;
	fds[*nfds] = mode == SPAWN_IO_FD ? fd : std;
	return (int)(*nfds)++;
}

static int mux__run(struct host *h, struct spawn *sp)
{
	json_t *req = mux__req("run", NULL);
	int fds[MUX_MAX_FDS];
	size_t nfds = 0;
	struct mux_blob in = { sp->input, sp->input_len };
	struct mux_msg rep;
	int out_fd = mux__stream(sp->out_mode, sp->out_fd, 1, fds, &nfds);
	int err_fd = sp->merge_err ? -1 : mux__stream(sp->err_mode, sp->err_fd, 2, fds, &nfds);
	json_object_set_new(req, "argv", mux_strv_json(sp->argv));
	json_object_set_new(req, "env", mux_strv_json(sp->env));
	json_object_set_new(req, "cwd", sp->cwd ? json_string(sp->cwd) : json_null());
	json_object_set_new(req, "input", json_boolean(sp->input != NULL));
	json_object_set_new(req, "out", json_integer(sp->out_mode));
	json_object_set_new(req, "err", json_integer(sp->err_mode));
	json_object_set_new(req, "out_fd", json_integer(out_fd));
	json_object_set_new(req, "err_fd", json_integer(err_fd));
	json_object_set_new(req, "merge_err", json_boolean(sp->merge_err));
	json_object_set_new(req, "timeout_ms", json_integer(sp->timeout_ms));
	int r = mux__call(M(h), req, &in, sp->input ? 1 : 0, fds, nfds, &rep);
	json_t *st = rep.hdr ? json_object_get(rep.hdr, "status") : NULL;
	if (json_is_integer(st))
		sp->status = (int)json_integer_value(st);
	if (rep.nblobs == 2) {
		buf_add(&sp->out, rep.blob[0].ptr, rep.blob[0].len);
		buf_add(&sp->err, rep.blob[1].ptr, rep.blob[1].len);
	}
	mux_msg_release(&rep);
	return r;
}

static json_t *mux__reqs_json(const struct host_req *reqs, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct host_req *q = &reqs[i];
		json_t *o = q->is_run ? json_pack("{s:b,s:o,s:o,s:o,s:i}", "run", 1, "argv",
						  mux_strv_json((const char *const *)q->argv), "env",
						  mux_strv_json((const char *const *)q->env), "cwd",
						  q->cwd ? json_string(q->cwd) : json_null(), "timeout_ms", q->timeout_ms)
				      : json_pack("{s:b,s:s}", "run", 0, "path", q->path);
		json_array_append_new(a, o);
	}
	return a;
}

/* The master's cache, as it stands after its prefetch, into ours (ssh_master.c packs it). */
static int mux__prefetch(struct host *h, const struct host_req *reqs, size_t n)
{
	json_t *req = mux__req("prefetch", NULL);
	struct mux_msg rep;
	json_object_set_new(req, "reqs", mux__reqs_json(reqs, n));
	int r = mux__call(M(h), req, NULL, 0, NULL, 0, &rep);
	json_t *items = rep.hdr ? json_object_get(rep.hdr, "items") : NULL;
	const struct buf *data = rep.nblobs ? &rep.blob[0] : NULL;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		const char *key = json_string_value(json_object_get(it, "key"));
		size_t off = (size_t)json_integer_value(json_object_get(it, "off"));
		size_t len = (size_t)json_integer_value(json_object_get(it, "len"));
		size_t elen = (size_t)json_integer_value(json_object_get(it, "elen"));
		if (!key || !data || off + len + elen > data->len)
			continue;
		if (json_is_true(json_object_get(it, "run"))) {
			host_cache_put_run(h->cache, key, (int)json_integer_value(json_object_get(it, "status")),
					   data->ptr + off, len, data->ptr + off + len, elen);
		} else {
			struct host_stat st;
			mux_json_stat(&st, json_object_get(it, "st"));
			host_cache_put_path(h->cache, key, &st, data->ptr + off, len,
					    json_is_true(json_object_get(it, "content")));
		}
	}
	mux_msg_release(&rep);
	return r;
}

static void mux__free(struct host *h)
{
	struct host_mux *m = M(h);
	struct mux_msg rep = { 0 };
	if (m->sock >= 0 && !m->lost &&
	    !mux__call(m, mux__req("bye", NULL), NULL, 0, NULL, 0, &rep)) {
		/* the same line as a direct run's, then how it got there */
		json_int_t ch = json_integer_value(json_object_get(rep.hdr, "channels"));
		json_int_t rt = json_integer_value(json_object_get(rep.hdr, "requests"));
		json_int_t sf = json_integer_value(json_object_get(rep.hdr, "sftp_ops"));
		log_debug("%s: %lld SSH channel%s, %lld shell round trip%s, %lld SFTP request%s", m->label,
			  (long long)ch, ch == 1 ? "" : "s", (long long)rt, rt == 1 ? "" : "s", (long long)sf,
			  sf == 1 ? "" : "s");
		log_debug("%s: through ssh-master pid %ld (%s): %u request%s on its socket", m->label, m->pid,
			  m->started ? "started by this run" : "connection reused", m->calls,
			  m->calls == 1 ? "" : "s");
	}
	mux_msg_release(&rep);
	if (m->sock >= 0)
		close(m->sock);
	free(m->lost);
	free(m->h.root);
	free(m);
}

static const struct host_ops mux_ops = {
	mux__read, mux__write, mux__stat, mux__mkdir, mux__remove, mux__remove_tree,
	mux__chmod_chown, mux__run, mux__free, mux__prefetch,
};

/* Connect to the socket: the fd, or -1 with errno (ENOENT, ECONNREFUSED: no master there). */
static int mux__connect(const char *path)
{
	struct sockaddr_un sa = { 0 };
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* hello: the master's pid and state; persist_s >= 0 becomes its idle time. */
static int mux__hello(int sock, int persist_s, struct mux_status *st)
{
	struct mux_msg rep;
	json_t *req = json_pack("{s:s,s:i,s:i}", "op", "hello", "version", MUX_VERSION, "persist", persist_s);
	char state[200] = "";
	int r = mux_send(sock, req, NULL, 0, NULL, 0);
	json_decref(req);
	if (!r && mux__await(sock, state, sizeof(state)))
		return np_error_set("the ssh-master %s", state);
	if (!r && (r = mux_recv(sock, &rep)) == NP_ENOTFOUND)
		r = np_error_set("the ssh-master closed the connection");
	if (r)
		return r;
	if (json_integer_value(json_object_get(rep.hdr, "r")) ||
	    json_integer_value(json_object_get(rep.hdr, "version")) != MUX_VERSION) {
		const char *why = json_string_value(json_object_get(rep.hdr, "error"));
		r = np_error_set("the ssh-master refused: %s", why ? why : "another version");
	} else {
		st->pid = (long)json_integer_value(json_object_get(rep.hdr, "pid"));
		st->persist_s = (int)json_integer_value(json_object_get(rep.hdr, "persist"));
		st->clients = (unsigned)json_integer_value(json_object_get(rep.hdr, "clients"));
		st->age_s = (long)json_integer_value(json_object_get(rep.hdr, "age"));
	}
	mux_msg_release(&rep);
	return r;
}

/* Start `nodeprep ssh-master serve` for o and wait for its "ok" or its error. */
static int mux__start(const struct ssh_opts *o, int persist_s)
{
	const char *argv[20];
	size_t n = 0;
	char persist[16];
	int pfd[2] = { -1, -1 }, r;
	struct buf status = BUF_INIT;
	struct spawn sp = SPAWN_INIT;
	snprintf(persist, sizeof(persist), "%d", persist_s);
	argv[n++] = "/proc/self/exe";
	argv[n++] = "ssh-master";
	argv[n++] = "serve";
	argv[n++] = "--host";
	argv[n++] = o->name;
	if (o->key) {
		argv[n++] = "--key";
		argv[n++] = o->key;
	}
	if (o->known_hosts) {
		argv[n++] = "--known-hosts";
		argv[n++] = o->known_hosts;
	}
	if (o->accept_new)
		argv[n++] = "--accept-new-host-key";
	if (o->become)
		argv[n++] = "--become";
	argv[n++] = "--root";
	argv[n++] = o->root ? o->root : "";
	argv[n++] = "--persist";
	argv[n++] = persist;
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return np_error_set("cannot make a pipe: %s", strerror(errno));
	sp.argv = argv;
	sp.out_mode = SPAWN_IO_FD;
	sp.out_fd = pfd[1];
	sp.err_mode = SPAWN_IO_INHERIT;
	sp.new_session = true; /* no terminal: a Ctrl-C meant for this run never reaches it */
	r = spawn_start(&sp);
	close(pfd[1]);
	if (r)
		goto out;
	/* never waited for: it outlives this run (a zombie only until this run exits) */
	if ((r = fs_read_fd(&status, pfd[0], "the ssh-master's status")))
		goto out;
	buf_rtrim(&status);
	int code = NP_ERROR, off = 0;
	if (!strcmp(status.ptr, "ok"))
		r = 0;
	else if (sscanf(status.ptr, "error %d %n", &code, &off) == 1 && off)
		r = np_error_setc(code, "%s", status.ptr + off);
	else
		r = np_error_set("the ssh-master for %s exited before it was ready%s%s", o->name,
				 status.len ? ": " : "", status.ptr);
out:
	close(pfd[0]);
	buf_release(&status);
	spawn_release(&sp);
	return r;
}

int host_mux_open(struct host **out, const struct ssh_opts *o, int persist_s)
{
	struct buf sock = BUF_INIT, lock = BUF_INIT;
	struct mux_status st = { 0 };
	struct host_mux *m = NULL;
	int lfd = -1, fd = -1, r;
	bool started = false;
	*out = NULL;
	if ((r = mux_paths(&sock, &lock, o)))
		goto out;
	if ((r = mux_lock(lock.ptr, &lfd)))
		goto out;
	if ((fd = mux__connect(sock.ptr)) >= 0 && mux__hello(fd, persist_s, &st)) {
		/* a master on its way out (its connection just died) or stopped: start afresh */
		log_warn("%s@%s: %s; starting a new one", o->user ? o->user : "root", o->address,
			 np_error_last());
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		/* none, or a socket left by a master killed -9 (nobody listens): replace it */
		if (unlink(sock.ptr) < 0 && errno != ENOENT) {
			r = np_error_set("cannot remove the stale ssh-master socket '%s': %s", sock.ptr, strerror(errno));
			goto out;
		}
		if ((r = mux__start(o, persist_s)))
			goto out;
		started = true;
		if ((fd = mux__connect(sock.ptr)) < 0) {
			r = np_error_set("cannot reach the ssh-master at '%s': %s", sock.ptr, strerror(errno));
			goto out;
		}
		if ((r = mux__hello(fd, persist_s, &st)))
			goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	m->h.ops = &mux_ops;
	m->h.root = strdup(o->root ? o->root : "");
	m->h.name = o->name ? o->name : o->address;
	m->sock = fd;
	m->pid = st.pid;
	m->started = started;
	snprintf(m->label, sizeof(m->label), "%s@%s:%d", o->user ? o->user : "root", o->address,
		 o->port ? o->port : 22);
	fd = -1;
	*out = &m->h;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	buf_release(&sock);
	buf_release(&lock);
	return r;
}

int mux_control(struct mux_status *out, const struct ssh_opts *o, bool exit_it)
{
	struct buf sock = BUF_INIT, lock = BUF_INIT;
	struct mux_msg rep = { 0 };
	int fd = -1, r;
	char c;
	memset(out, 0, sizeof(*out));
	if ((r = mux_paths(&sock, &lock, o)))
		goto out;
	if ((fd = mux__connect(sock.ptr)) < 0 || mux__hello(fd, -1, out)) {
		r = np_error_setc(NP_ENOTFOUND, "no ssh-master runs for %s", o->name);
		goto out;
	}
	if (!exit_it)
		goto out;
	json_t *req = json_pack("{s:s}", "op", "exit");
	r = mux_send(fd, req, NULL, 0, NULL, 0);
	json_decref(req);
	if (!r)
		r = mux_recv(fd, &rep);
	/* it closes this connection last, once its socket is gone and its SSH connection closed */
	while (!r && recv(fd, &c, 1, 0) > 0)
		;
out:
	mux_msg_release(&rep);
	if (fd >= 0)
		close(fd);
	buf_release(&sock);
	buf_release(&lock);
	return r;
}
