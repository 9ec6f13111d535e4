/*
 * host_ssh.c: a remote host over SSH with libssh2, no agent needed there.
 * One session per host, and in it one plain /bin/sh (started once, in one
 * exec channel) that runs every command: a command costs one round trip,
 * not a new channel, a login shell and its rc files. Each request is
 * framed by a random token on stdout and stderr, so output is binary-safe
 * and a request's end is known without closing anything. Files move over
 * SFTP, opened on first use. libssh2 1.10 has no posix-rename, and SFTPv3
 * rename refuses to overwrite, so an atomic replace is: SFTP write to a
 * temp file beside the target, then `mv -f` (rename(2)) in the shell. A
 * dropped connection therefore leaves at most a temp file, never a
 * half-written managed file. Commands that stream to a descriptor (long
 * builds) or send more than SHELL_INPUT_MAX bytes of input keep their own
 * exec channel.
 *
 * Batches (host_ops.prefetch, provision/batch.c): the stats of many paths
 * in one stat(1), their contents in one cat(1) checked piecewise against
 * one sha256sum(1), and many inspecting commands, each a few requests of
 * the same shell. Answers go to the host's cache.
 *
 * The server's key is checked against known_hosts before any
 * authentication: unknown is refused unless accept_new, changed always.
 * Auth: the key file given, else ssh-agent, else a password from the
 * environment variable NODEPREP_SSH_PASSWORD (never logged).
 * Without become, a written file gets its mode and owner over SFTP
 * (fsetstat on the temp file) and only the rename runs in the shell.
 * become: the session's shell is `sudo -n /bin/sh`, and file operations go
 * through it instead of SFTP (the login user cannot write root's files); a
 * small file is sent and renamed in one request, renamed only when the
 * sha256 of what arrived is the one sent.
 * A lost connection is remembered: every later call fails with its reason.
 *
 * A node that vanishes from the network (cable cut, `docker network
 * disconnect`) must fail that host, not hang it: connect gives up after
 * SSH_CONNECT_S, and TCP keepalives plus TCP_USER_TIMEOUT make the kernel
 * report a silent peer within about SSH_DEAD_S, even while we only wait
 * for a long command's output.
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
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <libssh2.h>
#include <libssh2_sftp.h>

#include "error.h"
#include "host_cache.h"
#include "known_hosts.h"
#include "log.h"
#include "sha256.h"
#include "banned.h"

/* input above this goes through its own channel's stdin, not the shell script */
#define SHELL_INPUT_MAX (1 << 20)
/* regular files up to this size come with their content in a batch */
#define BATCH_CONTENT_MAX (4 << 20)

struct host_ssh {
	struct host h;
	int sock;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sftp;       /* opened on first use */
	LIBSSH2_CHANNEL *shell;   /* the session's /bin/sh, opened on first use */
	char token[33];           /* frames the shell's replies */
	bool become;
	char *lost;               /* why the connection is gone; NULL while it works */
	unsigned channels, requests, sftp_ops; /* round-trip counters, shown with -v */
	char label[300];
};

static struct host_ssh *S(struct host *h)
{
	return (struct host_ssh *)h;
}

static int ssh__fail(struct host_ssh *x, const char *what)
{
	char *msg = NULL;
	int e = x->s ? libssh2_session_last_error(x->s, &msg, NULL, 0) : 0;
	int r = np_error_set("%s: %s: %s", x->label, what, msg && *msg ? msg : "connection lost");
	/* a socket error ends the session: later calls say so at once */
	if (!x->lost && (e == LIBSSH2_ERROR_SOCKET_SEND || e == LIBSSH2_ERROR_SOCKET_RECV ||
			 e == LIBSSH2_ERROR_SOCKET_DISCONNECT || e == LIBSSH2_ERROR_SOCKET_TIMEOUT ||
			 e == LIBSSH2_ERROR_TIMEOUT))
		x->lost = strdup(np_error_last());
	return r;
}

/* Nonzero (and the reason set) when the connection is already gone. */
static int ssh__gone(struct host_ssh *x)
{
	return x->lost ? np_error_set("%s", x->lost) : 0;
}

static void ssh__set_lost(struct host_ssh *x, const char *why)
{
	if (!x->lost)
		x->lost = strdup(why);
}

static LIBSSH2_SFTP *ssh__sftp(struct host_ssh *x)
{
	if (ssh__gone(x))
		return NULL;
	if (!x->sftp) {
		x->channels++;
		if (!(x->sftp = libssh2_sftp_init(x->s)))
			ssh__fail(x, "cannot start SFTP");
	}
	x->sftp_ops++;
	return x->sftp;
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
	int r = ssh__gone(x);
	if (r)
		return r;
	x->channels++;
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
			ssh__set_lost(x, np_error_last());
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

/*
 * The session's shell. A request is a script; the shell prints a begin
 * marker on both streams, runs it, then an end marker on both, so the
 * reply is what lies between (anything a login rc file printed before the
 * shell started is skipped). Commands in a script read /dev/null or a
 * here-document, never the shell's own stdin, which carries the scripts.
 */
/* The random token that frames the shell's replies (no command prints it by chance). */
static int ssh__token(struct host_ssh *x)
{
	unsigned char rnd[16];
	FILE *f = fopen("/dev/urandom", "re");
	if (!f || fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd)) {
		if (f)
			fclose(f);
		return np_error_set("cannot read /dev/urandom");
	}
	fclose(f);
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(x->token + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

static int ssh__shell_open(struct host_ssh *x)
{
	int r = ssh__gone(x);
	if (r || x->shell)
		return r;
	x->channels++;
	libssh2_session_set_blocking(x->s, 1);
	if (!(x->shell = libssh2_channel_open_session(x->s)))
		return ssh__fail(x, "cannot open a channel");
	if (libssh2_channel_exec(x->shell, x->become ? "exec sudo -n /bin/sh" : "exec /bin/sh")) {
		r = ssh__fail(x, "cannot start a shell");
		libssh2_channel_free(x->shell);
		x->shell = NULL;
	}
	return r;
}

static void ssh__shell_close(struct host_ssh *x)
{
	if (!x->shell)
		return;
	libssh2_session_set_blocking(x->s, 1);
	if (!x->lost) {
		libssh2_channel_send_eof(x->shell);
		libssh2_channel_close(x->shell);
	}
	libssh2_channel_free(x->shell);
	x->shell = NULL;
}

/* The bytes between "\nTOKEN B\n" and "\nTOKEN E\n" in raw; false until both arrived. */
static bool ssh__framed(const struct buf *raw, const char *tok, const char **start, size_t *len)
{
	char b[48], e[48];
	int bl = snprintf(b, sizeof(b), "\n%s B\n", tok), el = snprintf(e, sizeof(e), "\n%s E\n", tok);
	const char *p = memmem(raw->ptr, raw->len, b, (size_t)bl);
	if (!p)
		return false;
	p += bl;
	const char *q = memmem(p, raw->len - (size_t)(p - raw->ptr), e, (size_t)el);
	if (!q)
		return false;
	*start = p;
	*len = (size_t)(q - p);
	return true;
}

/* True once "\nTOKEN E\n" arrived; looks only at what came since the last call (*seen). */
static bool ssh__ended(const struct buf *raw, const char *tok, size_t *seen)
{
	char e[48];
	size_t el = (size_t)snprintf(e, sizeof(e), "\n%s E\n", tok);
	size_t from = *seen > el ? *seen - el : 0;
	*seen = raw->len;
	return raw->len > from && memmem(raw->ptr + from, raw->len - from, e, el);
}

static int ssh__shell_request(struct host_ssh *x, const char *body, int timeout_ms, struct buf *out,
			      struct buf *err)
{
	struct buf req = BUF_INIT, ro = BUF_INIT, re = BUF_INIT;
	char chunk[16384];
	double deadline = timeout_ms ? now_ms() + timeout_ms : 0;
	const char *po = NULL, *pe = NULL;
	size_t lo = 0, le = 0, seen_o = 0, seen_e = 0;
	bool end_o = false, end_e = false;
	int r = ssh__shell_open(x);
	if (r)
		return r;
	x->requests++;
	buf_addf(&req, "printf '\\n%s B\\n'; printf '\\n%s B\\n' >&2\n%s\nprintf '\\n%s E\\n'; printf '\\n%s E\\n' >&2\n",
		 x->token, x->token, body, x->token, x->token);
	libssh2_session_set_blocking(x->s, 1);
	for (size_t off = 0; off < req.len;) {
		ssize_t n = libssh2_channel_write(x->shell, req.ptr + off, req.len - off);
		if (n < 0) {
			/* the shell is gone: its stderr says why (sudo refused...), else the link */
			if (!libssh2_channel_eof(x->shell)) {
				r = ssh__fail(x, "cannot send a command");
				goto out;
			}
			break;
		}
		off += (size_t)n;
	}
	libssh2_session_set_blocking(x->s, 0);
	for (;;) {
		ssize_t n1 = libssh2_channel_read(x->shell, chunk, sizeof(chunk));
		if (n1 > 0)
			buf_add(&ro, chunk, (size_t)n1);
		ssize_t n2 = libssh2_channel_read_stderr(x->shell, chunk, sizeof(chunk));
		if (n2 > 0)
			buf_add(&re, chunk, (size_t)n2);
		if ((n1 < 0 && n1 != LIBSSH2_ERROR_EAGAIN) || (n2 < 0 && n2 != LIBSSH2_ERROR_EAGAIN)) {
			r = ssh__fail(x, "connection lost while a command ran");
			ssh__set_lost(x, np_error_last());
			goto out;
		}
		end_o = end_o || (n1 > 0 && ssh__ended(&ro, x->token, &seen_o));
		end_e = end_e || (n2 > 0 && ssh__ended(&re, x->token, &seen_e));
		if (end_o && end_e && ssh__framed(&ro, x->token, &po, &lo) && ssh__framed(&re, x->token, &pe, &le))
			break;
		if (libssh2_channel_eof(x->shell) && n1 <= 0 && n2 <= 0) {
			buf_rtrim(&re);
			r = np_error_set("%s: the remote shell ended%s%.300s", x->label, re.len ? ": " : "",
					 re.ptr);
			goto out;
		}
		if (n1 == LIBSSH2_ERROR_EAGAIN && n2 == LIBSSH2_ERROR_EAGAIN) {
			if (deadline && now_ms() > deadline) {
				r = np_error_setc(NP_ETIMEOUT, "%s: command ran past %d ms", x->label, timeout_ms);
				goto out;
			}
			ssh__wait(x, 1000);
		}
	}
	buf_add(out, po, lo);
	buf_add(err, pe, le);
out:
	libssh2_session_set_blocking(x->s, 1);
	if (r)
		ssh__shell_close(x); /* a request left half-read cannot be resynchronised */
	buf_release(&req);
	buf_release(&ro);
	buf_release(&re);
	return r;
}

/* One record of a reply: "\nTOKEN TAG ARGS\n" then data up to the next record. */
struct rec {
	char tag;
	char args[160];
	const char *data;
	size_t len;
};

/* The next record in [*p, end); false at the end. */
static bool ssh__record(const char **p, const char *end, const char *tok, struct rec *out)
{
	char hdr[48];
	int hl = snprintf(hdr, sizeof(hdr), "\n%s ", tok);
	const char *h = memmem(*p, (size_t)(end - *p), hdr, (size_t)hl);
	if (!h)
		return false;
	const char *a = h + hl, *nl = memchr(a, '\n', (size_t)(end - a));
	if (!nl || nl == a)
		return false;
	out->tag = *a;
	out->args[0] = '\0';
	if (nl - a >= 2) /* "TAG ARGS" */
		snprintf(out->args, sizeof(out->args), "%.*s", (int)(nl - a - 2), a + 2);
	out->data = nl + 1;
	const char *next = memmem(out->data, (size_t)(end - out->data), hdr, (size_t)hl);
	out->len = (size_t)((next ? next : end) - out->data);
	*p = next ? next : end;
	return true;
}

/* The command of sp, to run in a subshell of the session's shell (cwd and env as in ssh__cmdline). */
static void ssh__subshell(struct buf *out, struct host_ssh *x, const struct spawn *sp)
{
	if (sp->cwd) {
		struct buf cwd = BUF_INIT;
		host_map_path(&cwd, &x->h, sp->cwd);
		buf_adds(out, "cd ");
		buf_add_shquoted(out, cwd.ptr);
		buf_adds(out, " && ");
		buf_release(&cwd);
	}
	/* export, not env(1): one exec less per command */
	buf_adds(out, "export NODEPREP_ROOT=");
	buf_add_shquoted(out, x->h.root);
	bool plain = true;
	for (const char *const *e = sp->env; e && *e; e++) {
		size_t k = strspn(*e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
		plain = plain && k && (*e)[k] == '=' && !(**e >= '0' && **e <= '9');
	}
	for (const char *const *e = sp->env; plain && e && *e; e++) {
		size_t k = strcspn(*e, "=");
		buf_addf(out, "; export %.*s=", (int)k, *e);
		buf_add_shquoted(out, *e + k + 1);
	}
	buf_adds(out, "; exec");
	if (!plain)
		buf_adds(out, " env");
	for (const char *const *e = sp->env; !plain && e && *e; e++) {
		buf_addch(out, ' ');
		buf_add_shquoted(out, *e);
	}
	for (const char *const *a = sp->argv; *a; a++) {
		buf_addch(out, ' ');
		buf_add_shquoted(out, *a);
	}
}

/* Item i of a script: sp's stdout, stderr and status as records O, X and S. */
static void ssh__item_run(struct buf *body, struct host_ssh *x, size_t i, const struct spawn *sp,
			  const char *raw)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	buf_addf(body, "printf '\\n%s O %zu\\n'; printf '\\n%s X %zu\\n' >&2; ", x->token, i, x->token, i);
	/*
	 * The input is a here-document the shell reads with the script (base64,
	 * 76 a line). Its body starts after the line holding "<<", so that line
	 * ends right after the subshell opens and the command follows the body.
	 */
	if (sp->input) {
		const unsigned char *d = (const unsigned char *)sp->input;
		buf_addf(body, "base64 -d <<'NPIN_%s' | (\n", x->token);
		for (size_t k = 0, col = 0; k < sp->input_len; k += 3) {
			unsigned v = (unsigned)d[k] << 16 | (k + 1 < sp->input_len ? (unsigned)d[k + 1] << 8 : 0) |
				     (k + 2 < sp->input_len ? d[k + 2] : 0);
			char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63],
				      k + 1 < sp->input_len ? b64[v >> 6 & 63] : '=',
				      k + 2 < sp->input_len ? b64[v & 63] : '=' };
			buf_add(body, q, 4);
			if ((col += 4) >= 76) {
				buf_addch(body, '\n');
				col = 0;
			}
		}
		buf_addf(body, "\nNPIN_%s\n", x->token);
	} else {
		buf_adds(body, "(");
	}
	if (raw)
		buf_adds(body, raw); /* our own script: a subshell, no exec */
	else
		ssh__subshell(body, x, sp);
	buf_addf(body, "\n)%s; printf '\\n%s S %zu %%d\\n' $?\n", sp->input ? "" : " </dev/null", x->token, i);
}

/* sp's results from the records of item i in a reply (out, err: the framed streams). */
static bool ssh__item_result(struct host_ssh *x, size_t i, const char *o, size_t ol, const char *e,
			     size_t el, struct buf *out, struct buf *err, int *status)
{
	struct rec rc;
	char want[32];
	bool got = false;
	snprintf(want, sizeof(want), "%zu", i);
	for (const char *p = o; ssh__record(&p, o + ol, x->token, &rc);) {
		if (rc.tag == 'O' && !strcmp(rc.args, want))
			buf_add(out, rc.data, rc.len);
		else if (rc.tag == 'S' && !strncmp(rc.args, want, strlen(want)) && rc.args[strlen(want)] == ' ')
			got = sscanf(rc.args + strlen(want), "%d", status) == 1;
	}
	for (const char *p = e; ssh__record(&p, e + el, x->token, &rc);)
		if (rc.tag == 'X' && !strcmp(rc.args, want))
			buf_add(err, rc.data, rc.len);
	return got;
}

/*
 * Run sp (or, when raw is given, that script of ours in a subshell) as one
 * request of the session's shell; its output goes where sp says.
 */
static int ssh__shell_run(struct host_ssh *x, struct spawn *sp, const char *raw)
{
	struct buf body = BUF_INIT, o = BUF_INIT, e = BUF_INIT, so = BUF_INIT, se = BUF_INIT;
	ssh__item_run(&body, x, 0, sp, raw);
	int r = ssh__shell_request(x, body.ptr, sp->timeout_ms, &o, &e);
	if (!r && !ssh__item_result(x, 0, o.ptr, o.len, e.ptr, e.len, &so, &se, &sp->status))
		r = np_error_set("%s: no exit status from the remote shell", x->label);
	if (!r) {
		ssh__sink(sp, false, so.ptr, so.len);
		ssh__sink(sp, true, se.ptr, se.len);
	}
	buf_release(&body);
	buf_release(&o);
	buf_release(&e);
	buf_release(&so);
	buf_release(&se);
	return r;
}

static int ssh__run(struct host *h, struct spawn *sp)
{
	struct host_ssh *x = S(h);
	struct buf cmd = BUF_INIT;
	int r;
	/* a stream to a descriptor (a build's log) or a large input keeps its own channel */
	bool own = sp->out_mode == SPAWN_IO_FD || sp->out_mode == SPAWN_IO_INHERIT ||
		   (!sp->merge_err && (sp->err_mode == SPAWN_IO_FD || sp->err_mode == SPAWN_IO_INHERIT)) ||
		   (sp->input && sp->input_len > SHELL_INPUT_MAX);
	if (own) {
		ssh__cmdline(&cmd, x, sp);
		r = ssh__exec(x, cmd.ptr, sp);
	} else {
		r = ssh__shell_run(x, sp, NULL);
	}
	if (!r && sp->status == 127 && !sp->out.len)
		r = np_error_setc(NP_ENOTFOUND, "%s: cannot run '%s'", x->label, sp->argv[0]);
	buf_release(&cmd);
	return r;
}

/* A plain command on the remote side for the file operations. */
static int ssh__sh(struct host_ssh *x, const char *script, const char *input, size_t len,
		   struct buf *out, int *status, struct buf *err)
{
	struct spawn sp = SPAWN_INIT;
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	sp.argv = argv;
	sp.input = input;
	sp.input_len = len;
	sp.timeout_ms = 300000;
	int r = len > SHELL_INPUT_MAX ? ssh__run(&x->h, &sp) : ssh__shell_run(x, &sp, script);
	if (r == NP_ENOTFOUND)
		r = np_error_set("%s: cannot run /bin/sh", x->label);
	if (!r && out)
		buf_add(out, sp.out.ptr, sp.out.len);
	if (!r)
		*status = sp.status;
	if (!r && sp.status && sp.err.len) {
		buf_rtrim(&sp.err);
		buf_add(err, sp.err.ptr, sp.err.len);
	}
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
	LIBSSH2_SFTP *sftp = ssh__sftp(x);
	LIBSSH2_SFTP_HANDLE *f = sftp ? libssh2_sftp_open(sftp, p.ptr, LIBSSH2_FXF_READ, 0) : NULL;
	if (!sftp) {
		r = NP_ERROR;
		goto out;
	}
	if (!f) {
		unsigned long e = libssh2_sftp_last_error(sftp);
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

/*
 * A small file in one request of the session's shell: the bytes arrive as
 * a here-document on the script's own stdin, so a connection that drops
 * mid-transfer could leave the shell with a truncated document; the temp
 * file is therefore renamed over the target only when its sha256 is the
 * one sent. Mode and owner: as given, else the old file's, else 0644.
 */
static int ssh__write_small(struct host_ssh *x, const char *p, const char *tmp, const void *data,
			    size_t len, int mode, int uid, int gid)
{
	struct buf script = BUF_INIT, qp = BUF_INIT, qt = BUF_INIT, err = BUF_INIT;
	char hex[SHA256_HEX_LEN + 1];
	int status = 0;
	sha256_hex_mem(hex, data, len);
	buf_add_shquoted(&qp, p);
	buf_add_shquoted(&qt, tmp);
	buf_addf(&script, "t=%s; p=%s; umask 077; cat > \"$t\" && [ \"$(sha256sum < \"$t\")\" = '%s  -' ] || "
		 "{ rm -f -- \"$t\"; echo 'the bytes sent were not the bytes received' >&2; exit 1; }\n"
		 "sync -- \"$t\" 2>/dev/null\n"
		 "if [ -e \"$p\" ]; then set -- $(stat -L -c '%%a %%u %%g' -- \"$p\"); else set -- 644; fi\n",
		 qt.ptr, qp.ptr, hex);
	if (mode >= 0)
		buf_addf(&script, "chmod %o \"$t\"", mode);
	else
		buf_adds(&script, "chmod \"$1\" \"$t\"");
	/* ids as given, else the old file's ($2 $3), else none: chown only with both */
	char u[16] = "\"$2\"", g[16] = "\"$3\"";
	if (uid >= 0)
		snprintf(u, sizeof(u), "%d", uid);
	if (gid >= 0)
		snprintf(g, sizeof(g), "%d", gid);
	buf_addf(&script, " && u=%s && g=%s && { [ -z \"$u\" ] || [ -z \"$g\" ] || chown \"$u:$g\" \"$t\"; } "
		 "&& mv -f -- \"$t\" \"$p\" || { rm -f -- \"$t\"; exit 1; }\n", u, g);
	int r = ssh__sh(x, script.ptr, data, len, NULL, &status, &err);
	if (!r && status)
		r = np_error_set("%s: cannot write '%s' (status %d)%s%.300s", x->label, p, status,
				 err.len ? ": " : "", err.ptr);
	buf_release(&script);
	buf_release(&qp);
	buf_release(&qt);
	buf_release(&err);
	return r;
}

static int ssh__write(struct host *h, const char *path, const void *data, size_t len, int mode,
		      int uid, int gid)
{
	struct host_ssh *x = S(h);
	struct buf p = BUF_INIT, tmp = BUF_INIT, fin = BUF_INIT;
	struct host_stat old = { 0 };
	int r;
	host_map_path(&p, h, path);
	const char *slash = strrchr(p.ptr, '/');
	buf_addf(&tmp, "%.*s/.%s.np-%ld", (int)(slash - p.ptr), p.ptr, slash + 1, (long)getpid());
	if (x->become && len <= SHELL_INPUT_MAX) {
		r = ssh__write_small(x, p.ptr, tmp.ptr, data, len, mode, uid, gid);
		goto done;
	}
	/* the old file's stat, as the step's check just saw it when the host holds it */
	if ((!h->cache || host_cache_stat(h->cache, path, &old)) && (r = ssh__stat(h, path, &old)))
		goto done;
	mode = mode >= 0 ? mode : old.exists ? old.mode : 0644;
	uid = uid >= 0 ? uid : old.exists ? old.uid : -1;
	gid = gid >= 0 ? gid : old.exists ? old.gid : -1;
	if (x->become) {
		/* the bytes go through stdin of a sudo'd cat into the temp file */
		r = ssh__sh_path(x, "cat > %1$s", tmp.ptr, NULL, data, len, NULL);
	} else {
		LIBSSH2_SFTP *sftp = ssh__sftp(x);
		LIBSSH2_SFTP_HANDLE *f = sftp ? libssh2_sftp_open(sftp, tmp.ptr, LIBSSH2_FXF_WRITE |
								  LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0600) : NULL;
		if (!sftp) {
			r = NP_ERROR;
			goto out;
		}
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
		/* mode and owner on the temp file, in sftp-server's own process */
		LIBSSH2_SFTP_ATTRIBUTES at = { 0 };
		at.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS | (uid >= 0 && gid >= 0 ? LIBSSH2_SFTP_ATTR_UIDGID : 0);
		at.permissions = (unsigned long)mode;
		at.uid = uid >= 0 ? (unsigned long)uid : 0;
		at.gid = gid >= 0 ? (unsigned long)gid : 0;
		if (!r && libssh2_sftp_fsetstat(f, &at))
			r = ssh__fail(x, tmp.ptr);
		libssh2_sftp_fsync(f); /* best effort: not every server has fsync@openssh.com */
		libssh2_sftp_close(f);
	}
	if (r)
		goto out;
	/* (with become: mode and owner now) then rename(2) over the target */
	if (x->become) {
		buf_addf(&fin, "chmod %o %%1$s && ", mode);
		if (uid >= 0 && gid >= 0)
			buf_addf(&fin, "chown %d:%d %%1$s && ", uid, gid);
	}
	buf_adds(&fin, "mv -f -- %1$s %2$s");
	r = ssh__sh_path(x, fin.ptr, tmp.ptr, p.ptr, NULL, 0, NULL);
out:
	if (r)
		ssh__sh_path(x, "rm -f -- %1$s", tmp.ptr, NULL, NULL, 0, NULL);
done:
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
	LIBSSH2_SFTP *sftp = ssh__sftp(x);
	if (!sftp)
		return NP_ERROR;
	if (libssh2_sftp_stat_ex(sftp, p, (unsigned)strlen(p), LIBSSH2_SFTP_LSTAT, &a)) {
		unsigned long e = libssh2_sftp_last_error(sftp);
		return e == LIBSSH2_FX_NO_SUCH_FILE || e == LIBSSH2_FX_NO_SUCH_PATH ? 0 : ssh__fail(x, p);
	}
	st->is_link = LIBSSH2_SFTP_S_ISLNK(a.permissions);
	/* like the local host: a link reports its target, a dangling one only exists */
	if (st->is_link && libssh2_sftp_stat_ex(sftp, p, (unsigned)strlen(p), LIBSSH2_SFTP_STAT, &a)) {
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
	if (!S(h)->become && uid < 0 && gid < 0 && mode >= 0) {
		/* a chmod alone (it follows links, as chmod(1) does) in sftp-server's process */
		LIBSSH2_SFTP_ATTRIBUTES at = { 0 };
		LIBSSH2_SFTP *sftp = ssh__sftp(S(h));
		int r = sftp ? 0 : NP_ERROR;
		at.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
		at.permissions = (unsigned long)mode;
		if (!r && libssh2_sftp_setstat(sftp, p.ptr, &at))
			r = ssh__fail(S(h), p.ptr);
		buf_release(&p);
		return r;
	}
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

/* "e"/"f" (+"l"): exists (f: a regular file), "d"/"dl": a dangling link, "n": missing */
static void ssh__batch_paths(struct buf *body, struct host_ssh *x, const struct host_req *reqs, size_t n)
{
	buf_adds(body, "set --");
	for (size_t i = 0; i < n; i++) {
		struct buf p = BUF_INIT;
		if (reqs[i].is_run)
			continue;
		host_map_path(&p, &x->h, reqs[i].path);
		buf_addch(body, ' ');
		buf_add_shquoted(body, p.ptr);
		buf_release(&p);
	}
	buf_addf(body, "\nprintf '\\n%s T\\n'; for p; do if [ -e \"$p\" ]; then if [ -f \"$p\" ]; then t=f; "
		 "else t=e; fi; elif [ -L \"$p\" ]; then t=d; else t=n; fi; [ -L \"$p\" ] && t=${t}l; "
		 "echo $t; done\n", x->token);
	/* one stat(1) for every path that exists, in order */
	buf_addf(body, "n=$#; for p; do [ -e \"$p\" ] && set -- \"$@\" \"$p\"; done; shift $n\n"
		 "printf '\\n%s A\\n'; [ $# -eq 0 ] || stat -L -c '%%f %%u %%g %%s %%Y' -- \"$@\" 2>/dev/null\n",
		 x->token);
}

/* The next line of [*p, end) into line (NUL-terminated, cut to size); false at the end. */
static bool ssh__line(const char **p, const char *end, char *line, size_t size)
{
	if (*p >= end)
		return false;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl ? nl : end) - *p);
	snprintf(line, size, "%.*s", (int)(n < size ? n : size - 1), *p);
	*p = nl ? nl + 1 : end;
	return true;
}

/*
 * The contents of the regular files (want[i]) in one cat(1), cut by the
 * sizes stat(1) gave and each piece checked against sha256sum(1) of the same
 * file: a file that changed in between, or could not be read, gets no
 * content (a step reads it live), and a wrong cut can never pass the check.
 */
static int ssh__batch_contents(struct host_ssh *x, const struct host_req *reqs, size_t n,
			       const struct host_stat *st, const bool *want)
{
	struct buf body = BUF_INIT, o = BUF_INIT, e = BUF_INIT;
	struct rec rc;
	const char *rd = NULL, *cat = NULL, *hs = NULL;
	size_t rdl = 0, catl = 0, hsl = 0;
	int r;
	buf_adds(&body, "set --");
	for (size_t i = 0; i < n; i++) {
		struct buf p = BUF_INIT;
		if (!want[i])
			continue;
		host_map_path(&p, &x->h, reqs[i].path);
		buf_addch(&body, ' ');
		buf_add_shquoted(&body, p.ptr);
		buf_release(&p);
	}
	buf_addf(&body, "\nprintf '\\n%s R\\n'; for p; do if [ -r \"$p\" ]; then echo 1; else echo 0; fi; done\n"
		 "n=$#; for p; do [ -r \"$p\" ] && set -- \"$@\" \"$p\"; done; shift $n\n"
		 "printf '\\n%s C\\n'; [ $# -eq 0 ] || cat -- \"$@\" 2>/dev/null\n"
		 "printf '\\n%s H\\n'; [ $# -eq 0 ] || sha256sum -- \"$@\" 2>/dev/null\n",
		 x->token, x->token, x->token);
	if ((r = ssh__shell_request(x, body.ptr, 120000, &o, &e)))
		goto out;
	for (const char *p = o.ptr; ssh__record(&p, o.ptr + o.len, x->token, &rc);) {
		if (rc.tag == 'R')
			rd = rc.data, rdl = rc.len;
		else if (rc.tag == 'C')
			cat = rc.data, catl = rc.len;
		else if (rc.tag == 'H')
			hs = rc.data, hsl = rc.len;
	}
	if (!rd || !cat || !hs)
		goto out;
	size_t off = 0;
	const char *pr = rd, *ph = hs;
	char line[256];
	for (size_t i = 0; i < n; i++) {
		if (!want[i])
			continue;
		if (!ssh__line(&pr, rd + rdl, line, sizeof(line)))
			break;
		if (line[0] != '1')
			continue; /* not readable: cat and sha256sum skipped it */
		if (!ssh__line(&ph, hs + hsl, line, sizeof(line)))
			break;
		const char *hex = line[0] == '\\' ? line + 1 : line;
		size_t sz = (size_t)st[i].size;
		if (off + sz > catl)
			break;
		char got[SHA256_HEX_LEN + 1];
		sha256_hex_mem(got, cat + off, sz);
		if (!strncmp(got, hex, SHA256_HEX_LEN))
			host_cache_put_path(x->h.cache, reqs[i].path, &st[i], cat + off, sz, true);
		off += sz;
	}
out:
	buf_release(&body);
	buf_release(&o);
	buf_release(&e);
	return r;
}

static int ssh__prefetch(struct host *h, const struct host_req *reqs, size_t n)
{
	struct host_ssh *x = S(h);
	struct buf body = BUF_INIT, o = BUF_INIT, e = BUF_INIT;
	struct host_stat *st = calloc(n + 1, sizeof(*st));
	bool *known = calloc(n + 1, sizeof(*known)), *want = calloc(n + 1, sizeof(*want));
	size_t npaths = 0, nwant = 0, total = 0;
	long long timeout = 60000;
	bool deadline = true;
	struct rec rc;
	int r = 0;
	if (!st || !known || !want)
		abort();
	for (size_t i = 0; i < n; i++)
		npaths += !reqs[i].is_run;
	if (npaths)
		ssh__batch_paths(&body, x, reqs, n);
	for (size_t i = 0; i < n; i++) {
		struct spawn sp = SPAWN_INIT;
		if (!reqs[i].is_run)
			continue;
		sp.argv = (const char *const *)reqs[i].argv;
		sp.env = (const char *const *)reqs[i].env;
		sp.cwd = reqs[i].cwd;
		ssh__item_run(&body, x, i, &sp, NULL);
		deadline = deadline && reqs[i].timeout_ms > 0;
		timeout += reqs[i].timeout_ms;
	}
	if ((r = ssh__shell_request(x, body.ptr, deadline && timeout < 0x7fffffff ? (int)timeout : 0, &o, &e)))
		goto out;
	/* the paths: types (T), then one stat line per existing path (A) */
	const char *types = NULL, *stats = NULL;
	size_t tl = 0, sl = 0;
	for (const char *p = o.ptr; ssh__record(&p, o.ptr + o.len, x->token, &rc);) {
		if (rc.tag == 'T')
			types = rc.data, tl = rc.len;
		else if (rc.tag == 'A')
			stats = rc.data, sl = rc.len;
	}
	const char *pt = types, *ps = stats;
	char line[256];
	for (size_t i = 0; npaths && types && stats && i < n; i++) {
		if (reqs[i].is_run)
			continue;
		if (!ssh__line(&pt, types + tl, line, sizeof(line)))
			break;
		if (line[0] == 'n') {
			known[i] = true;
		} else if (line[0] == 'd') {
			st[i].exists = st[i].is_link = known[i] = true; /* a dangling link only exists */
		} else {
			unsigned mode;
			long long mtime;
			st[i].is_link = line[1] == 'l';
			bool reg = line[0] == 'f';
			if (!ssh__line(&ps, stats + sl, line, sizeof(line)) ||
			    sscanf(line, "%x %d %d %lld %lld", &mode, &st[i].uid, &st[i].gid, &st[i].size, &mtime) != 5)
				break; /* stat(1) skipped one: the rest cannot be matched */
			st[i].exists = known[i] = true;
			st[i].is_dir = (mode & 0170000) == 0040000;
			st[i].mode = (int)(mode & 07777);
			st[i].mtime_ns = mtime * 1000000000LL;
			if (reg && st[i].size <= BATCH_CONTENT_MAX && total + (size_t)st[i].size <= 8 * BATCH_CONTENT_MAX) {
				want[i] = true;
				nwant++;
				total += (size_t)st[i].size;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (known[i]) /* the content, when it comes, replaces this */
			host_cache_put_path(h->cache, reqs[i].path, &st[i], NULL, 0, false);
		if (!reqs[i].is_run)
			continue;
		struct buf so = BUF_INIT, se = BUF_INIT;
		int status = -1;
		/* not found, timed out or killed: left to the live run, which reports it */
		if (ssh__item_result(x, i, o.ptr, o.len, e.ptr, e.len, &so, &se, &status) && status >= 0 &&
		    status < 124) {
			struct spawn sp = SPAWN_INIT;
			struct buf key = BUF_INIT;
			sp.argv = (const char *const *)reqs[i].argv;
			sp.env = (const char *const *)reqs[i].env;
			sp.cwd = reqs[i].cwd;
			host_cache_run_key(&key, &sp);
			host_cache_put_run(h->cache, key.ptr, status, so.ptr, so.len, se.ptr, se.len);
			buf_release(&key);
		}
		buf_release(&so);
		buf_release(&se);
	}
	if (nwant)
		r = ssh__batch_contents(x, reqs, n, st, want);
out:
	if (r && x->lost) {
		/* the host is gone: nothing it said is used, and every step says when it went */
		struct buf why = BUF_INIT;
		buf_addf(&why, "%s (during the batched checks)", x->lost);
		free(x->lost);
		x->lost = buf_detach(&why, NULL);
		host_cache_clear(h->cache);
	}
	buf_release(&body);
	buf_release(&o);
	buf_release(&e);
	free(st);
	free(known);
	free(want);
	return r;
}

static void ssh__free(struct host *h)
{
	struct host_ssh *x = S(h);
	if (x->s)
		log_debug("%s: %u SSH channel%s, %u shell round trip%s, %u SFTP request%s", x->label,
			  x->channels, x->channels == 1 ? "" : "s", x->requests, x->requests == 1 ? "" : "s",
			  x->sftp_ops, x->sftp_ops == 1 ? "" : "s");
	ssh__shell_close(x);
	if (x->sftp && !x->lost)
		libssh2_sftp_shutdown(x->sftp);
	if (x->s) {
		libssh2_session_disconnect(x->s, "nodeprep done");
		libssh2_session_free(x->s);
	}
	if (x->sock >= 0)
		close(x->sock);
	free(x->h.root);
	free(x->lost);
	free(x);
	libssh2_exit();
}

static const struct host_ops ssh_ops = {
	ssh__read, ssh__write, ssh__stat, ssh__mkdir, ssh__remove, ssh__remove_tree,
	ssh__chmod_chown, ssh__run, ssh__free, ssh__prefetch,
};

void host_ssh_counts(const struct host *h, struct host_ssh_counts *out)
{
	const struct host_ssh *x = (const struct host_ssh *)h;
	out->channels = x->channels;
	out->requests = x->requests;
	out->sftp_ops = x->sftp_ops;
}

const char *host_ssh_lost(const struct host *h)
{
	return ((const struct host_ssh *)h)->lost;
}

int host_ssh_fd(const struct host *h)
{
	return ((const struct host_ssh *)h)->sock;
}

int host_ssh_idle(struct host *h)
{
	struct host_ssh *x = S(h);
	char c, chunk[4096];
	int r = ssh__gone(x);
	if (r)
		return r;
	ssize_t n = recv(x->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		r = np_error_set("%s: connection lost: %s", x->label, n == 0 ? "closed by the host" : strerror(errno));
		ssh__set_lost(x, np_error_last());
		return r;
	}
	if (n < 0)
		return 0;
	/* packets for no request: reading a channel makes libssh2 take them in */
	if ((r = ssh__shell_open(x)))
		return r;
	libssh2_session_set_blocking(x->s, 0);
	ssize_t got;
	do
		got = libssh2_channel_read(x->shell, chunk, sizeof(chunk));
	while (got > 0); /* an idle shell prints nothing: dropped */
	bool eof = libssh2_channel_eof(x->shell);
	libssh2_session_set_blocking(x->s, 1);
	if (got < 0 && got != LIBSSH2_ERROR_EAGAIN) {
		r = ssh__fail(x, "connection lost");
		ssh__set_lost(x, np_error_last());
	} else if (eof) {
		ssh__shell_close(x); /* the next request starts another */
	}
	return r;
}

#define SSH_CONNECT_S 15
#define SSH_DEAD_S 30

/* connect(2) with a deadline; 0 or -1 with errno */
static int ssh__connect_one(int fd, const struct sockaddr *sa, socklen_t len)
{
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t elen = sizeof(err);
	struct pollfd p = { fd, POLLOUT, 0 };
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS)
			return -1;
		int n = poll(&p, 1, SSH_CONNECT_S * 1000);
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			return -1;
		if (err) {
			errno = err;
			return -1;
		}
	}
	/* a peer that stops answering: probes after 10 s idle, every 5 s; unacked data for SSH_DEAD_S */
	int on = 1, idle = 10, intvl = 5, cnt = 3;
	unsigned int user_timeout = SSH_DEAD_S * 1000;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
	return fcntl(fd, F_SETFL, fl);
}

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
		/*
		 * No Nagle: SSH sends a small packet and waits for the answer (key
		 * exchange, auth, each request), and a second small write behind an
		 * unacknowledged one waited for the peer's delayed ACK (40 ms, several
		 * times per connection: it halved a loopback handshake to disable it).
		 */
		if (x->sock >= 0)
			setsockopt(x->sock, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		if (x->sock >= 0 && ssh__connect_one(x->sock, a->ai_addr, a->ai_addrlen) == 0) {
			r = 0;
			break;
		}
		if (errno == ETIMEDOUT)
			r = np_error_setc(NP_ETIMEOUT, "%s: cannot connect: no answer within %d s", x->label,
					  SSH_CONNECT_S);
		else
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
	if ((r = ssh__token(x)))
		goto fail;
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
	*out = &x->h;
	return 0;
fail:
	ssh__free(&x->h);
	return r;
}
