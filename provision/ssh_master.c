/*
 * ssh_master.c: the master behind --persist (mux.h). One SSH host
 * (host_ssh.c), kept open, and a unix socket on which it answers the host
 * ops of one client at a time: libssh2 sessions are not thread-safe, and
 * one client's steps are a sequence anyway. Others wait in the listen
 * queue until the one served says bye.
 *
 * The ops run through host.c's host_* calls on the master's host, so the
 * master's own cache behaves as a direct run's would (a prefetch fills it,
 * a change empties it; a write finds the old file's stat there); the
 * client keeps a copy, filled from the prefetch's reply, and the same
 * calls empty both. The master's cache is emptied between clients: one
 * run's answers are never another's.
 *
 * It ends when persist seconds pass with no client, its connection dies
 * (seen while idle by polling the SSH socket, or by a failing op: that
 * client gets the error, naming the host, and the socket is removed so
 * the next run starts afresh), on `ssh-master exit`, or on
 * SIGTERM/SIGINT/SIGHUP. A client killed mid-command (Ctrl-C twice, -9)
 * does not stop the command on the node, as a dropped ssh would not
 * either: the master lets it finish, drops the reply, and serves the next.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "error.h"
#include "host.h"
#include "host_cache.h"
#include "interrupt.h"
#include "mux.h"
#include "spawn.h"
#include "banned.h"

struct master {
	struct host *h;
	int persist_s;
	unsigned clients;
	time_t born;
	bool exit_asked;
	int exit_fd;      /* the connection that asked: closed last, so `exit` returns when all is gone */
	struct host_ssh_counts base; /* at the session's hello */
};

static json_t *master__reply(int r)
{
	json_t *j = json_pack("{s:i}", "r", r);
	if (r)
		json_object_set_new(j, "error", json_string(np_error_last()));
	return j;
}

static int master__mode(const struct mux_msg *m, const char *mode_key, const char *fd_key, int *fd)
{
	json_int_t idx = json_integer_value(json_object_get(m->hdr, fd_key));
	if (json_is_integer(json_object_get(m->hdr, fd_key)) && idx >= 0 && (size_t)idx < m->nfds) {
		*fd = m->fd[idx];
		return SPAWN_IO_FD;
	}
	int mode = (int)json_integer_value(json_object_get(m->hdr, mode_key));
	/* a descriptor that did not come with the message: nowhere */
	return mode == SPAWN_IO_CAPTURE ? SPAWN_IO_CAPTURE : SPAWN_IO_NULL;
}

static int master__run(struct master *ms, int sock, struct mux_msg *m)
{
	struct spawn sp = SPAWN_INIT;
	char **argv = mux_json_strv(json_object_get(m->hdr, "argv"));
	char **env = mux_json_strv(json_object_get(m->hdr, "env"));
	const char *cwd = json_string_value(json_object_get(m->hdr, "cwd"));
	int r;
	sp.argv = (const char *const *)argv;
	sp.env = (const char *const *)env;
	sp.cwd = cwd;
	if (json_is_true(json_object_get(m->hdr, "input")) && m->nblobs) {
		sp.input = m->blob[0].ptr;
		sp.input_len = m->blob[0].len;
	}
	sp.out_mode = (enum spawn_io)master__mode(m, "out", "out_fd", &sp.out_fd);
	sp.err_mode = (enum spawn_io)master__mode(m, "err", "err_fd", &sp.err_fd);
	sp.merge_err = json_is_true(json_object_get(m->hdr, "merge_err"));
	sp.timeout_ms = (int)json_integer_value(json_object_get(m->hdr, "timeout_ms"));
	if (!argv || !argv[0])
		r = np_error_setc(NP_EINVALID, "ssh-master: a run without argv");
	else
		r = host_run(ms->h, &sp);
	json_t *rep = master__reply(r);
	json_object_set_new(rep, "status", json_integer(sp.status));
	struct mux_blob b[2] = { { sp.out.ptr, sp.out.len }, { sp.err.ptr, sp.err.len } };
	int s = mux_send(sock, rep, b, 2, NULL, 0);
	json_decref(rep);
	spawn_release(&sp);
	mux_strv_free(argv);
	mux_strv_free(env);
	return s;
}

struct pack {
	json_t *items;
	struct buf data;
};

static void master__pack(void *arg, const struct host_cache_item *it)
{
	struct pack *p = arg;
	json_t *o = json_pack("{s:b,s:s,s:I,s:I,s:I}", "run", it->is_run, "key", it->key, "off",
			      (json_int_t)p->data.len, "len", (json_int_t)it->data->len, "elen",
			      (json_int_t)(it->is_run ? it->err->len : 0));
	buf_add(&p->data, it->data->ptr, it->data->len);
	if (it->is_run) {
		buf_add(&p->data, it->err->ptr, it->err->len);
		json_object_set_new(o, "status", json_integer(it->status));
	} else {
		json_object_set_new(o, "st", mux_stat_json(it->st));
		json_object_set_new(o, "content", json_boolean(it->has_content));
	}
	json_array_append_new(p->items, o);
}

/* Run the batch on the master's host, and send back every answer its cache holds. */
static int master__prefetch(struct master *ms, int sock, struct mux_msg *m)
{
	json_t *a = json_object_get(m->hdr, "reqs");
	size_t n = json_array_size(a);
	struct host_req *reqs = calloc(n + 1, sizeof(*reqs));
	struct pack p = { json_array(), BUF_INIT };
	if (!reqs)
		abort();
	for (size_t i = 0; i < n; i++) {
		json_t *q = json_array_get(a, i);
		const char *path = json_string_value(json_object_get(q, "path"));
		const char *cwd = json_string_value(json_object_get(q, "cwd"));
		reqs[i].is_run = json_is_true(json_object_get(q, "run"));
		reqs[i].path = path ? strdup(path) : NULL;
		reqs[i].cwd = cwd ? strdup(cwd) : NULL;
		reqs[i].argv = mux_json_strv(json_object_get(q, "argv"));
		reqs[i].env = mux_json_strv(json_object_get(q, "env"));
		reqs[i].timeout_ms = (int)json_integer_value(json_object_get(q, "timeout_ms"));
		if ((reqs[i].is_run && (!reqs[i].argv || !reqs[i].argv[0])) || (!reqs[i].is_run && !path))
			n = i; /* malformed: ask nothing from here on (the client asks live) */
	}
	int r = host_prefetch(ms->h, reqs, n);
	json_t *rep = master__reply(r);
	host_cache_each(ms->h->cache, master__pack, &p);
	json_object_set_new(rep, "items", p.items);
	struct mux_blob b = { p.data.ptr, p.data.len };
	int s = mux_send(sock, rep, &b, 1, NULL, 0);
	json_decref(rep);
	buf_release(&p.data);
	for (size_t i = 0; i < json_array_size(a); i++) {
		free(reqs[i].path);
		free(reqs[i].cwd);
		mux_strv_free(reqs[i].argv);
		mux_strv_free(reqs[i].env);
	}
	free(reqs);
	return s;
}

static int master__op(struct master *ms, int sock, struct mux_msg *m, bool *end)
{
	const char *op = json_string_value(json_object_get(m->hdr, "op"));
	const char *path = json_string_value(json_object_get(m->hdr, "path"));
	int mode = (int)json_integer_value(json_object_get(m->hdr, "mode"));
	int uid = (int)json_integer_value(json_object_get(m->hdr, "uid"));
	int gid = (int)json_integer_value(json_object_get(m->hdr, "gid"));
	struct mux_blob b[1] = { { NULL, 0 } };
	size_t nb = 0;
	struct buf out = BUF_INIT;
	json_t *rep = NULL;
	int r = 0;
	op = op ? op : "";
	if (!strcmp(op, "run"))
		return master__run(ms, sock, m);
	if (!strcmp(op, "prefetch"))
		return master__prefetch(ms, sock, m);
	if (!strcmp(op, "hello")) {
		json_int_t p = json_integer_value(json_object_get(m->hdr, "persist"));
		if (p >= 0)
			ms->persist_s = (int)p; /* the latest client's --persist */
		host_ssh_counts(ms->h, &ms->base);
		rep = json_pack("{s:i,s:i,s:I,s:i,s:i,s:I}", "r", 0, "version", MUX_VERSION, "pid",
				(json_int_t)getpid(), "persist", ms->persist_s, "clients", (int)ms->clients, "age",
				(json_int_t)(time(NULL) - ms->born));
	} else if (!strcmp(op, "bye")) {
		struct host_ssh_counts c;
		host_ssh_counts(ms->h, &c);
		rep = json_pack("{s:i,s:i,s:i,s:i}", "r", 0, "channels", (int)(c.channels - ms->base.channels),
				"requests", (int)(c.requests - ms->base.requests), "sftp_ops",
				(int)(c.sftp_ops - ms->base.sftp_ops));
		*end = true;
	} else if (!strcmp(op, "exit")) {
		rep = master__reply(0);
		ms->exit_asked = *end = true;
	} else if (!path) {
		r = np_error_setc(NP_EINVALID, "ssh-master: unknown request '%s'", op);
	} else if (!strcmp(op, "read")) {
		if (!(r = host_read_file(ms->h, path, &out))) {
			b[0] = (struct mux_blob){ out.ptr, out.len };
			nb = 1;
		}
	} else if (!strcmp(op, "write")) {
		r = m->nblobs ? host_write_file(ms->h, path, m->blob[0].ptr, m->blob[0].len, mode, uid, gid)
			      : np_error_setc(NP_EINVALID, "ssh-master: a write without data");
	} else if (!strcmp(op, "stat")) {
		struct host_stat st;
		if (!(r = host_stat(ms->h, path, &st))) {
			rep = master__reply(0);
			json_object_set_new(rep, "st", mux_stat_json(&st));
		}
	} else if (!strcmp(op, "mkdir")) {
		r = host_mkdir(ms->h, path, mode);
	} else if (!strcmp(op, "remove")) {
		r = host_remove(ms->h, path);
	} else if (!strcmp(op, "remove_tree")) {
		r = host_remove_tree(ms->h, path);
	} else if (!strcmp(op, "chmod_chown")) {
		r = host_chmod_chown(ms->h, path, mode, uid, gid);
	} else {
		r = np_error_setc(NP_EINVALID, "ssh-master: unknown request '%s'", op);
	}
	if (!rep)
		rep = master__reply(r);
	int s = mux_send(sock, rep, b, nb, NULL, 0);
	json_decref(rep);
	buf_release(&out);
	return s;
}

/* One client, until it says bye or goes away. */
static void master__session(struct master *ms, int sock)
{
	bool end = false;
	while (!end) {
		struct mux_msg m;
		if (mux_recv(sock, &m))
			break;
		int s = master__op(ms, sock, &m, &end);
		mux_msg_release(&m);
		/* a lost connection ends the master: this client has its error, the next starts afresh */
		if (s || host_ssh_lost(ms->h))
			break;
	}
	host_cache_clear(ms->h->cache);
	ms->clients++;
}

static bool master__peer_ok(int sock)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	return getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == getuid();
}

static long long master__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int master__listen(int *out, const char *path, struct stat *st)
{
	struct sockaddr_un sa = { 0 };
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return np_error_set("the ssh-master socket path '%s' is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177); /* 0600 from the start: no moment where others could connect */
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 64) == 0 &&
		 stat(path, st) == 0;
	umask(old);
	if (!ok) {
		int r = np_error_set("cannot listen on '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

/*
 * Remove the socket, unless a newer master's already replaced it (a client
 * saw this one die), and the lock file: under the lock, so no client is
 * between finding no master and starting one (mux_lock retakes a lock
 * whose file went away).
 */
static void master__unlink(const char *sock, const char *lock, const struct stat *mine)
{
	int lfd = -1;
	bool locked = !mux_lock(lock, &lfd); /* unlocked (cannot open it): the socket goes all the same */
	if (mux_path_is(sock, mine))
		unlink(sock);
	if (locked) {
		unlink(lock);
		close(lfd);
	}
}

int ssh_master_serve(const struct ssh_opts *o, int persist_s, int status_fd)
{
	struct buf sock = BUF_INIT, lock = BUF_INIT;
	struct master ms = { 0 };
	struct stat mine;
	int lfd = -1, r;
	ms.persist_s = persist_s;
	ms.exit_fd = -1;
	ms.born = time(NULL);
	signal(SIGPIPE, SIG_IGN); /* a client's log pipe closing must not kill the connection */
	if (!(r = mux_paths(&sock, &lock, o)) && !(r = host_ssh_new(&ms.h, o)))
		r = master__listen(&lfd, sock.ptr, &mine);
	if (r) {
		/* the client prints this as its own error: the message a direct run gives */
		dprintf(status_fd, "error %d %s\n", r, np_error_last());
		host_free(ms.h);
		buf_release(&sock);
		buf_release(&lock);
		return 1;
	}
	dprintf(status_fd, "ok\n");
	/* nothing of the starting run's stdio stays open here: its pipes must reach EOF */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	if (status_fd > 2)
		close(status_fd);
	unsetenv("NODEPREP_SSH_PASSWORD"); /* it logged in; the secret need not linger */
	if (chdir("/") < 0) {
		/* only keeps a directory busy: harmless */
	}
	interrupt_install();
	long long last = master__now_ms();
	while (!ms.exit_asked && !host_ssh_lost(ms.h)) {
		long long left = ms.persist_s * 1000LL - (master__now_ms() - last);
		if (left <= 0)
			break;
		struct pollfd p[3] = { { lfd, POLLIN, 0 }, { host_ssh_fd(ms.h), POLLIN, 0 }, { interrupt_fd(), POLLIN, 0 } };
		int n = poll(p, interrupt_fd() >= 0 ? 3 : 2, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno != EINTR)
			break;
		if (interrupt_requested())
			break;
		if (n > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) && host_ssh_idle(ms.h))
			break;
		if (n > 0 && (p[0].revents & POLLIN)) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			if (master__peer_ok(c))
				master__session(&ms, c);
			if (ms.exit_asked)
				ms.exit_fd = c;
			else
				close(c);
			last = master__now_ms();
		}
	}
	/* waiting clients see the socket close and start a new master */
	close(lfd);
	master__unlink(sock.ptr, lock.ptr, &mine);
	host_free(ms.h);
	if (ms.exit_fd >= 0)
		close(ms.exit_fd);
	buf_release(&sock);
	buf_release(&lock);
	return 0;
}
