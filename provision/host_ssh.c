/*
 * host_ssh.c: a remote host over SSH with libssh2, no agent needed there.
 * Commands run in exec channels (argv shell-quoted; env and cwd prefixed);
 * files move over SFTP. libssh2 1.10 has no posix-rename, and SFTPv3
 * rename refuses to overwrite, so an atomic replace is: SFTP write to a
 * temp file beside the target, then `mv -f` (rename(2)) in an exec
 * channel. A dropped connection therefore leaves at most a temp file,
 * never a half-written managed file.
 *
 * The server's key is checked against known_hosts before any
 * authentication: unknown is refused unless accept_new, changed always.
 * Auth: the key file given, else ssh-agent, else a password from the
 * environment variable NODEPREP_SSH_PASSWORD (never logged).
 * become: commands run under `sudo -n`, and file operations go through
 * sudo'd commands instead of SFTP (the login user cannot write root's files).
 */
#include "host.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <libssh2.h>
#include <libssh2_sftp.h>

#include "error.h"
#include "known_hosts.h"
#include "log.h"
#include "banned.h"

struct host_ssh {
	struct host h;
	int sock;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sftp;
	bool become;
	char label[300];
};

static struct host_ssh *S(struct host *h)
{
	return (struct host_ssh *)h;
}

static int ssh__fail(struct host_ssh *x, const char *what)
{
	char *msg = NULL;
	libssh2_session_last_error(x->s, &msg, NULL, 0);
	return np_error_set("%s: %s: %s", x->label, what, msg && *msg ? msg : "connection lost");
}

static int ssh__wait(struct host_ssh *x, int timeout_ms)
{
	/* always wait for input: with no blocked direction recorded, events 0 would sleep the whole timeout */
	struct pollfd p = { x->sock, POLLIN, 0 };
	if (libssh2_session_block_directions(x->s) & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p.events |= POLLOUT;
	return poll(&p, 1, timeout_ms);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Where a stream of the command goes: a buffer, an fd, or nowhere. */
static void ssh__sink(const struct spawn *sp, bool err, const char *data, size_t n)
{
	enum spawn_io mode = err && !sp->merge_err ? sp->err_mode : sp->out_mode;
	int fd = err && !sp->merge_err ? sp->err_fd : sp->out_fd;
	struct buf *b = err && !sp->merge_err ? (struct buf *)&sp->err : (struct buf *)&sp->out;
	if (mode == SPAWN_IO_CAPTURE)
		buf_add(b, data, n);
	else if (mode == SPAWN_IO_FD || mode == SPAWN_IO_INHERIT) {
		int to = mode == SPAWN_IO_FD ? fd : (err ? 2 : 1);
		while (n > 0) {
			ssize_t w = write(to, data, n);
			if (w <= 0)
				break;
			data += w;
			n -= (size_t)w;
		}
	}
}

/* Run a shell command line in an exec channel; stdin from input. */
static int ssh__exec(struct host_ssh *x, const char *cmd, struct spawn *sp)
{
	LIBSSH2_CHANNEL *ch;
	char chunk[16384];
	double deadline = sp->timeout_ms ? now_ms() + sp->timeout_ms : 0;
	int r = 0;
	libssh2_session_set_blocking(x->s, 1);
	if (!(ch = libssh2_channel_open_session(x->s)))
		return ssh__fail(x, "cannot open a channel");
	if (libssh2_channel_exec(ch, cmd)) {
		r = ssh__fail(x, "cannot start a command");
		goto out;
	}
	/* a blocking write still sends at most a window's worth: loop */
	for (size_t off = 0; sp->input && off < sp->input_len;) {
		ssize_t n = libssh2_channel_write(ch, sp->input + off, sp->input_len - off);
		if (n < 0) {
			r = ssh__fail(x, "cannot send input");
			goto out;
		}
		off += (size_t)n;
	}
	libssh2_channel_send_eof(ch);
	libssh2_session_set_blocking(x->s, 0);
	for (;;) {
		ssize_t n1 = libssh2_channel_read(ch, chunk, sizeof(chunk));
		if (n1 > 0)
			ssh__sink(sp, false, chunk, (size_t)n1);
		ssize_t n2 = libssh2_channel_read_stderr(ch, chunk, sizeof(chunk));
		if (n2 > 0)
			ssh__sink(sp, true, chunk, (size_t)n2);
		if ((n1 < 0 && n1 != LIBSSH2_ERROR_EAGAIN) || (n2 < 0 && n2 != LIBSSH2_ERROR_EAGAIN)) {
			r = ssh__fail(x, "connection lost while a command ran");
			goto out;
		}
		if (libssh2_channel_eof(ch) && n1 <= 0 && n2 <= 0)
			break;
		if (n1 == LIBSSH2_ERROR_EAGAIN && n2 == LIBSSH2_ERROR_EAGAIN) {
			if (deadline && now_ms() > deadline) {
				r = np_error_setc(NP_ETIMEOUT, "%s: command ran past %d ms", x->label, sp->timeout_ms);
				goto out;
			}
			ssh__wait(x, 1000);
		}
	}
	libssh2_session_set_blocking(x->s, 1);
	libssh2_channel_close(ch);
	libssh2_channel_wait_closed(ch);
	char *sig = NULL;
	libssh2_channel_get_exit_signal(ch, &sig, NULL, NULL, NULL, NULL, NULL);
	sp->status = sig ? 128 + 9 : libssh2_channel_get_exit_status(ch);
	libssh2_free(x->s, sig);
out:
	libssh2_session_set_blocking(x->s, 1);
	libssh2_channel_free(ch);
	return r;
}

/* argv, env, cwd and root as one remote shell command line. */
static void ssh__cmdline(struct buf *out, struct host_ssh *x, const struct spawn *sp)
{
	if (x->become)
		buf_adds(out, "sudo -n ");
	buf_adds(out, "env NODEPREP_ROOT=");
	buf_add_shquoted(out, x->h.root);
	for (const char *const *e = sp->env; e && *e; e++) {
		buf_addch(out, ' ');
		buf_add_shquoted(out, *e);
	}
	buf_adds(out, " sh -c ");
	struct buf inner = BUF_INIT;
	if (sp->cwd) {
		struct buf cwd = BUF_INIT;
		host_map_path(&cwd, &x->h, sp->cwd);
		buf_adds(&inner, "cd ");
		buf_add_shquoted(&inner, cwd.ptr);
		buf_adds(&inner, " && ");
		buf_release(&cwd);
	}
	buf_adds(&inner, "exec");
	for (const char *const *a = sp->argv; *a; a++) {
		buf_addch(&inner, ' ');
		buf_add_shquoted(&inner, *a);
	}
	buf_add_shquoted(out, inner.ptr);
	buf_release(&inner);
}

static int ssh__run(struct host *h, struct spawn *sp)
{
	struct buf cmd = BUF_INIT;
	ssh__cmdline(&cmd, S(h), sp);
	int r = ssh__exec(S(h), cmd.ptr, sp);
	if (!r && sp->status == 127 && !sp->out.len)
		r = np_error_setc(NP_ENOTFOUND, "%s: cannot run '%s'", S(h)->label, sp->argv[0]);
	buf_release(&cmd);
	return r;
}

/* A plain command on the remote side for the file operations. */
static int ssh__sh(struct host_ssh *x, const char *script, const char *input, size_t len,
		   struct buf *out, int *status, struct buf *err)
{
	struct spawn sp = SPAWN_INIT;
	struct buf cmd = BUF_INIT;
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	sp.argv = argv;
	sp.input = input;
	sp.input_len = len;
	sp.timeout_ms = 300000;
	ssh__cmdline(&cmd, x, &sp);
	int r = ssh__exec(x, cmd.ptr, &sp);
	if (!r && out)
		buf_add(out, sp.out.ptr, sp.out.len);
	if (!r)
		*status = sp.status;
	if (!r && sp.status && sp.err.len) {
		buf_rtrim(&sp.err);
		buf_add(err, sp.err.ptr, sp.err.len);
	}
	buf_release(&cmd);
	spawn_release(&sp);
	return r;
}

static int ssh__sh_path(struct host_ssh *x, const char *fmt, const char *path, const char *path2,
			const char *input, size_t len, struct buf *out)
{
	struct buf script = BUF_INIT, q1 = BUF_INIT, q2 = BUF_INIT;
	int status = 0;
	buf_add_shquoted(&q1, path);
	buf_add_shquoted(&q2, path2 ? path2 : "");
	buf_addf(&script, fmt, q1.ptr, q2.ptr);
	struct buf err = BUF_INIT;
	int r = ssh__sh(x, script.ptr, input, len, out, &status, &err);
	if (!r && status)
		r = np_error_setc(status == 44 ? NP_ENOTFOUND : NP_ERROR, "%s: '%s' failed on %s (status %d)%s%.300s",
				  x->label, script.ptr, path, status, err.len ? ": " : "", err.ptr);
	buf_release(&err);
	buf_release(&script);
	buf_release(&q1);
	buf_release(&q2);
	return r;
}

static int ssh__read(struct host *h, const char *path, struct buf *out)
{
	struct host_ssh *x = S(h);
	struct buf p = BUF_INIT;
	char chunk[32768];
	int r = 0;
	host_map_path(&p, h, path);
	if (x->become) {
		r = ssh__sh_path(x, "[ -e %1$s ] || exit 44; exec cat -- %1$s", p.ptr, NULL, NULL, 0, out);
		if (r == NP_ENOTFOUND)
			np_error_setc(r, "cannot open '%s': no such file", p.ptr);
		goto out;
	}
	LIBSSH2_SFTP_HANDLE *f = libssh2_sftp_open(x->sftp, p.ptr, LIBSSH2_FXF_READ, 0);
	if (!f) {
		unsigned long e = libssh2_sftp_last_error(x->sftp);
		r = e == LIBSSH2_FX_NO_SUCH_FILE ? np_error_setc(NP_ENOTFOUND, "cannot open '%s' on %s: no such file",
								p.ptr, x->label)
						 : ssh__fail(x, p.ptr);
		goto out;
	}
	ssize_t n;
	while ((n = libssh2_sftp_read(f, chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)n);
	if (n < 0)
		r = ssh__fail(x, p.ptr);
	libssh2_sftp_close(f);
out:
	buf_release(&p);
	return r;
}

static int ssh__stat(struct host *h, const char *path, struct host_stat *st);

static int ssh__write(struct host *h, const char *path, const void *data, size_t len, int mode,
		      int uid, int gid)
{
	struct host_ssh *x = S(h);
	struct buf p = BUF_INIT, tmp = BUF_INIT, fin = BUF_INIT;
	struct host_stat old = { 0 };
	int r = ssh__stat(h, path, &old);
	if (r)
		return r;
	mode = mode >= 0 ? mode : old.exists ? old.mode : 0644;
	uid = uid >= 0 ? uid : old.exists ? old.uid : -1;
	gid = gid >= 0 ? gid : old.exists ? old.gid : -1;
	host_map_path(&p, h, path);
	const char *slash = strrchr(p.ptr, '/');
	buf_addf(&tmp, "%.*s/.%s.np-%ld", (int)(slash - p.ptr), p.ptr, slash + 1, (long)getpid());
	if (x->become) {
		/* the bytes go through stdin of a sudo'd cat into the temp file */
		r = ssh__sh_path(x, "cat > %1$s", tmp.ptr, NULL, data, len, NULL);
	} else {
		LIBSSH2_SFTP_HANDLE *f = libssh2_sftp_open(x->sftp, tmp.ptr, LIBSSH2_FXF_WRITE |
							   LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0600);
		if (!f) {
			r = ssh__fail(x, tmp.ptr);
			goto out;
		}
		for (size_t off = 0; off < len && !r;) {
			ssize_t n = libssh2_sftp_write(f, (const char *)data + off, len - off);
			if (n < 0)
				r = ssh__fail(x, tmp.ptr);
			else
				off += (size_t)n;
		}
		libssh2_sftp_fsync(f); /* best effort: not every server has fsync@openssh.com */
		libssh2_sftp_close(f);
	}
	if (r)
		goto out;
	/* mode and owner on the temp file, then rename(2) over the target */
	buf_addf(&fin, "chmod %o %%1$s", mode);
	if (uid >= 0 && gid >= 0)
		buf_addf(&fin, " && chown %d:%d %%1$s", uid, gid);
	buf_adds(&fin, " && mv -f -- %1$s %2$s");
	r = ssh__sh_path(x, fin.ptr, tmp.ptr, p.ptr, NULL, 0, NULL);
out:
	if (r)
		ssh__sh_path(x, "rm -f -- %1$s", tmp.ptr, NULL, NULL, 0, NULL);
	buf_release(&p);
	buf_release(&tmp);
	buf_release(&fin);
	return r;
}

/* SFTP attributes into a host_stat (times have second resolution over SFTP). */
static void ssh__attrs(struct host_stat *st, const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	st->exists = true;
	st->is_dir = LIBSSH2_SFTP_S_ISDIR(a->permissions);
	st->mode = (int)(a->permissions & 07777);
	st->uid = (int)a->uid;
	st->gid = (int)a->gid;
	st->size = (long long)a->filesize;
	st->mtime_ns = (long long)a->mtime * 1000000000LL;
}

static int ssh__sftp_stat(struct host_ssh *x, const char *p, struct host_stat *st)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	if (libssh2_sftp_stat_ex(x->sftp, p, (unsigned)strlen(p), LIBSSH2_SFTP_LSTAT, &a)) {
		unsigned long e = libssh2_sftp_last_error(x->sftp);
		return e == LIBSSH2_FX_NO_SUCH_FILE || e == LIBSSH2_FX_NO_SUCH_PATH ? 0 : ssh__fail(x, p);
	}
	st->is_link = LIBSSH2_SFTP_S_ISLNK(a.permissions);
	/* like the local host: a link reports its target, a dangling one only exists */
	if (st->is_link && libssh2_sftp_stat_ex(x->sftp, p, (unsigned)strlen(p), LIBSSH2_SFTP_STAT, &a)) {
		st->exists = true;
		return 0;
	}
	ssh__attrs(st, &a);
	return 0;
}

static int ssh__stat(struct host *h, const char *path, struct host_stat *st)
{
	struct host_ssh *x = S(h);
	struct buf p = BUF_INIT, out = BUF_INIT;
	int r = 0;
	memset(st, 0, sizeof(*st));
	host_map_path(&p, h, path);
	if (!x->become) {
		r = ssh__sftp_stat(x, p.ptr, st);
		goto out;
	}
	/* stat(1) the same way in both modes: one round trip, follows links like local lstat+stat */
	r = ssh__sh_path(x, "[ -e %1$s ] || [ -L %1$s ] || exit 44; "
			    "stat -L -c '%%f %%u %%g %%s %%Y' -- %1$s 2>/dev/null || echo dangling; "
			    "[ -L %1$s ] && echo link; true", p.ptr, NULL, NULL, 0, &out);
	if (r == NP_ENOTFOUND) {
		r = 0;
		goto out;
	}
	if (r)
		goto out;
	st->exists = true;
	st->is_link = strstr(out.ptr, "link") != NULL;
	unsigned mode;
	long long mtime;
	if (sscanf(out.ptr, "%x %d %d %lld %lld", &mode, &st->uid, &st->gid, &st->size, &mtime) == 5) {
		st->is_dir = (mode & 0170000) == 0040000;
		st->mode = (int)(mode & 07777);
		st->mtime_ns = mtime * 1000000000LL;
	}
out:
	buf_release(&p);
	buf_release(&out);
	return r;
}

static int ssh__mkdir(struct host *h, const char *path, int mode)
{
	struct buf p = BUF_INIT, fmt = BUF_INIT;
	host_map_path(&p, h, path);
	if (!S(h)->become) {
		struct host_stat st = { 0 };
		int r = ssh__sftp_stat(S(h), p.ptr, &st);
		if (!r && !st.exists && libssh2_sftp_mkdir(S(h)->sftp, p.ptr, mode >= 0 ? mode : 0755))
			r = ssh__fail(S(h), p.ptr);
		buf_release(&p);
		return r;
	}
	buf_addf(&fmt, "[ -d %%1$s ] || mkdir -m %o -- %%1$s", mode >= 0 ? mode : 0755);
	int r = ssh__sh_path(S(h), fmt.ptr, p.ptr, NULL, NULL, 0, NULL);
	buf_release(&p);
	buf_release(&fmt);
	return r;
}

static int ssh__remove(struct host *h, const char *path)
{
	struct buf p = BUF_INIT;
	host_map_path(&p, h, path);
	if (!S(h)->become) {
		struct host_stat st = { 0 };
		int r = ssh__sftp_stat(S(h), p.ptr, &st);
		if (!r && st.exists &&
		    (st.is_dir && !st.is_link ? libssh2_sftp_rmdir(S(h)->sftp, p.ptr)
					      : libssh2_sftp_unlink(S(h)->sftp, p.ptr)))
			r = ssh__fail(S(h), p.ptr);
		buf_release(&p);
		return r;
	}
	int r = ssh__sh_path(S(h), "if [ -d %1$s ] && [ ! -L %1$s ]; then rmdir -- %1$s; else rm -f -- %1$s; fi",
			     p.ptr, NULL, NULL, 0, NULL);
	buf_release(&p);
	return r;
}

static int ssh__remove_tree(struct host *h, const char *path)
{
	struct buf p = BUF_INIT;
	host_map_path(&p, h, path);
	int r = ssh__sh_path(S(h), "rm -rf -- %1$s", p.ptr, NULL, NULL, 0, NULL);
	buf_release(&p);
	return r;
}

static int ssh__chmod_chown(struct host *h, const char *path, int mode, int uid, int gid)
{
	struct buf p = BUF_INIT, fmt = BUF_INIT;
	host_map_path(&p, h, path);
	buf_adds(&fmt, "true");
	if (mode >= 0)
		buf_addf(&fmt, " && chmod %o %%1$s", mode);
	if (uid >= 0 || gid >= 0) {
		buf_adds(&fmt, " && chown -h ");
		if (uid >= 0)
			buf_addf(&fmt, "%d", uid);
		if (gid >= 0)
			buf_addf(&fmt, ":%d", gid);
		buf_adds(&fmt, " %1$s");
	}
	int r = ssh__sh_path(S(h), fmt.ptr, p.ptr, NULL, NULL, 0, NULL);
	buf_release(&p);
	buf_release(&fmt);
	return r;
}

static void ssh__free(struct host *h)
{
	struct host_ssh *x = S(h);
	if (x->sftp)
		libssh2_sftp_shutdown(x->sftp);
	if (x->s) {
		libssh2_session_disconnect(x->s, "nodeprep done");
		libssh2_session_free(x->s);
	}
	if (x->sock >= 0)
		close(x->sock);
	free(x->h.root);
	free(x);
	libssh2_exit();
}

static const struct host_ops ssh_ops = {
	ssh__read, ssh__write, ssh__stat, ssh__mkdir, ssh__remove, ssh__remove_tree,
	ssh__chmod_chown, ssh__run, ssh__free,
};

static int ssh__connect(struct host_ssh *x, const struct ssh_opts *o)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char port[16];
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", o->port ? o->port : 22);
	int e = getaddrinfo(o->address, port, &hints, &ai);
	if (e)
		return np_error_set("%s: cannot resolve: %s", x->label, gai_strerror(e));
	int r = np_error_set("%s: cannot connect", x->label);
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		x->sock = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (x->sock >= 0 && connect(x->sock, a->ai_addr, a->ai_addrlen) == 0) {
			r = 0;
			break;
		}
		r = np_error_set("%s: cannot connect: %s", x->label, strerror(errno));
		if (x->sock >= 0)
			close(x->sock);
		x->sock = -1;
	}
	freeaddrinfo(ai);
	return r;
}

static int ssh__hostkey(struct host_ssh *x, const struct ssh_opts *o)
{
	size_t len;
	int type;
	const char *key = libssh2_session_hostkey(x->s, &len, &type);
	static const enum kh_keytype map[] = { KH_UNKNOWN, KH_RSA, KH_DSS, KH_ECDSA256, KH_ECDSA384,
					       KH_ECDSA521, KH_ED25519 };
	if (!key)
		return ssh__fail(x, "no host key");
	enum kh_keytype kt = type >= 0 && type <= 6 ? map[type] : KH_UNKNOWN;
	int port = o->port ? o->port : 22;
	int r = known_hosts_check(o->known_hosts, o->address, port, key, len, kt);
	if (r == NP_ENOTFOUND && o->accept_new) {
		log_warn("%s: adding its host key to known_hosts (--accept-new-host-key)", x->label);
		return known_hosts_add(o->known_hosts, o->address, port, key, len, kt);
	}
	if (r == NP_ENOTFOUND)
		np_error_prefix("%s: refusing an unknown host (check its key, then use --accept-new-host-key)",
				x->label);
	return r;
}

static int ssh__agent(struct host_ssh *x, const char *user)
{
	LIBSSH2_AGENT *ag = libssh2_agent_init(x->s);
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int r = -1;
	if (!ag || libssh2_agent_connect(ag) || libssh2_agent_list_identities(ag))
		goto out;
	while (libssh2_agent_get_identity(ag, &id, prev) == 0) {
		if (libssh2_agent_userauth(ag, user, id) == 0) {
			r = 0;
			break;
		}
		prev = id;
	}
out:
	if (ag) {
		libssh2_agent_disconnect(ag);
		libssh2_agent_free(ag);
	}
	return r;
}

static int ssh__auth(struct host_ssh *x, const struct ssh_opts *o)
{
	const char *user = o->user ? o->user : "root";
	const char *pw = getenv("NODEPREP_SSH_PASSWORD");
	if (o->key && !libssh2_userauth_publickey_fromfile(x->s, user, NULL, o->key, NULL))
		return 0;
	if (o->key)
		return ssh__fail(x, "the key was refused");
	if (!ssh__agent(x, user))
		return 0;
	if (pw && !libssh2_userauth_password(x->s, user, pw))
		return 0;
	return np_error_set("%s: authentication failed (no key accepted%s)", x->label,
			    pw ? ", password refused" : "; set NODEPREP_SSH_PASSWORD for password auth");
}

int host_ssh_new(struct host **out, const struct ssh_opts *o)
{
	struct host_ssh *x = calloc(1, sizeof(*x));
	int r;
	if (!x || libssh2_init(0))
		abort();
	x->h.ops = &ssh_ops;
	x->h.root = strdup(o->root ? o->root : "");
	x->h.name = o->name ? o->name : o->address;
	x->sock = -1;
	x->become = o->become;
	snprintf(x->label, sizeof(x->label), "%s@%s:%d", o->user ? o->user : "root", o->address,
		 o->port ? o->port : 22);
	if ((r = ssh__connect(x, o)))
		goto fail;
	x->s = libssh2_session_init();
	if (!x->s)
		abort();
	libssh2_session_set_timeout(x->s, 60000);
	if (libssh2_session_handshake(x->s, x->sock)) {
		r = ssh__fail(x, "SSH handshake failed");
		goto fail;
	}
	if ((r = ssh__hostkey(x, o)) || (r = ssh__auth(x, o)))
		goto fail;
	if (!x->become && !(x->sftp = libssh2_sftp_init(x->s))) {
		r = ssh__fail(x, "cannot start SFTP");
		goto fail;
	}
	*out = &x->h;
	return 0;
fail:
	ssh__free(&x->h);
	return r;
}
