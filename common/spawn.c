/*
 * spawn.c: fork/exec with pipes, a deadline and exec-failure reporting.
 *
 * The child reports exec failure through a close-on-exec pipe (a successful
 * exec closes it, so the parent reads 0 bytes); this distinguishes "not
 * found" from "ran and exited 127". Each child leads its own process group
 * so a timeout kills what it started too (criu, shells), and a terminal's
 * Ctrl-C reaches only us: what happens to a child then is our decision
 * (a bounded wait, see interrupt.h), not the terminal's.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "interrupt.h"
#include "banned.h"

extern char **environ;

static long long spawn__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool env__overridden(const char *entry, const char *const *add)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
	for (; add && *add; add++)
		if (!strncmp(*add, entry, n) && (*add)[n] == '=')
			return true;
	return false;
}

/* Builds the child's environment; the array (not the strings) is malloc'd. */
static char **spawn__envp(const char *const *add)
{
	size_t n = 0, k = 0;
	for (char **e = environ; *e; e++)
		n++;
	for (const char *const *a = add; a && *a; a++)
		n++;
	char **envp = calloc(n + 1, sizeof(*envp));
	if (!envp)
		return NULL;
	for (char **e = environ; *e; e++)
		if (!env__overridden(*e, add))
			envp[k++] = *e;
	for (const char *const *a = add; a && *a; a++)
		envp[k++] = (char *)*a;
	return envp;
}

static void child__dup(int fd, int target)
{
	if (fd >= 0 && fd != target)
		dup2(fd, target);
}

static int spawn__open_null(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* A child gets stdio only. An fd we inherited ourselves (a CI runner's, a
 * shell's) would otherwise reach, say, the process CRIU is asked to dump,
 * and CRIU refuses files opened in a mount namespace it cannot see.
 * Marked close-on-exec, not closed: the exec-failure report pipe must live
 * until execvp returns. */
static void child__cloexec_rest(void)
{
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	for (int fd = 3; fd < 4096; fd++) /* kernels before 5.11 */
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Runs in the child: set up stdio and exec; never returns. */
static void spawn__child(struct spawn *sp, int in_fd, int out_fd, int err_fd,
			 int report_fd, char **envp)
{
	if (sp->new_session)
		setsid();
	else
		setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	child__dup(in_fd, 0);
	child__dup(out_fd, 1);
	child__dup(sp->merge_err ? 1 : err_fd, 2);
	if (sp->merge_err && out_fd >= 0)
		dup2(1, 2);
	child__cloexec_rest();
	if (sp->cwd && chdir(sp->cwd) < 0) {
		int e = errno;
		if (write(report_fd, &e, sizeof(e)) < 0)
			_exit(126);
		_exit(126);
	}
	environ = envp;
	execvp(sp->argv[0], (char *const *)sp->argv);
	int e = errno;
	if (write(report_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

struct spawn_fds {
	int in_r, in_w, out_r, out_w, err_r, err_w;
};

static int spawn__pick(enum spawn_io mode, int given, int *rd, int *wr)
{
	int p[2];
	*rd = -1;
	*wr = -1;
	switch (mode) {
	case SPAWN_IO_NULL:
		*wr = spawn__open_null(O_WRONLY);
		return *wr < 0 ? -1 : 0;
	case SPAWN_IO_CAPTURE:
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		*rd = p[0];
		*wr = p[1];
		return 0;
	case SPAWN_IO_INHERIT:
		return 0;
	case SPAWN_IO_FD:
		*wr = given;
		return 0;
	}
	return -1;
}

static void fd__close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int spawn__fork(struct spawn *sp, struct spawn_fds *f)
{
	int report[2] = { -1, -1 }, r = NP_ERROR, e = 0;
	char **envp = NULL;
	struct buf desc = BUF_INIT;

	spawn_describe(&desc, sp->argv);
	if (interrupt_now()) {
		/* a second SIGINT: the caller is unwinding, start nothing more */
		r = np_error_setc(NP_EINTR, "not starting '%s': interrupted twice", desc.ptr);
		goto out;
	}
	if (sp->input) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			goto sys_err;
		f->in_r = p[0];
		f->in_w = p[1];
	} else if ((f->in_r = spawn__open_null(O_RDONLY)) < 0) {
		goto sys_err;
	}
	if (spawn__pick(sp->out_mode, sp->out_fd, &f->out_r, &f->out_w) < 0 ||
	    spawn__pick(sp->err_mode, sp->err_fd, &f->err_r, &f->err_w) < 0 ||
	    pipe2(report, O_CLOEXEC) < 0 || !(envp = spawn__envp(sp->env)))
		goto sys_err;

	sp->pid = fork();
	if (sp->pid < 0)
		goto sys_err;
	if (sp->pid == 0)
		spawn__child(sp, f->in_r, f->out_w, f->err_w, report[1], envp);

	/* Also in the parent: no race with kill. Not for a new session: setsid()
	 * fails in a child that is already a group leader. */
	if (!sp->new_session)
		setpgid(sp->pid, sp->pid);
	fd__close(&report[1]);
	fd__close(&f->in_r);
	if (sp->out_mode != SPAWN_IO_FD)
		fd__close(&f->out_w);
	if (sp->err_mode != SPAWN_IO_FD)
		fd__close(&f->err_w);
	if (read(report[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		waitpid(sp->pid, NULL, 0);
		sp->pid = -1;
		r = np_error_setc(e == ENOENT ? NP_ENOTFOUND : NP_ERROR, "cannot run '%s': %s",
				  sp->argv[0], strerror(e));
		goto out;
	}
	r = 0;
	goto out;
sys_err:
	r = np_error_set("cannot start '%s': %s", desc.ptr, strerror(errno));
out:
	fd__close(&report[0]);
	fd__close(&report[1]);
	free(envp);
	buf_release(&desc);
	return r;
}

static int status__decode(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

/*
 * One child's deadline. Once a stop is requested (interrupt.h) a child
 * still gets INTERRUPT_GRACE_MS to finish (a checkpoint half done is worse
 * than one waited for), unless its own deadline comes first; a second
 * SIGINT ends it at once.
 */
struct spawn_clock {
	long long deadline;  /* 0: none */
	bool interruptible;  /* false: spawn_stop's last wait after SIGKILL */
	bool noticed;        /* a stop request was seen */
	bool grace;          /* the deadline is the stop request's grace */
};

static int clock__check(struct spawn_clock *c)
{
	long long now = spawn__now_ms();
	if (c->interruptible && interrupt_now())
		return NP_EINTR;
	if (c->interruptible && !c->noticed && interrupt_requested()) {
		c->noticed = true;
		if (!c->deadline || now + INTERRUPT_GRACE_MS < c->deadline) {
			c->deadline = now + INTERRUPT_GRACE_MS;
			c->grace = true;
		}
	}
	if (c->deadline && now >= c->deadline)
		return c->grace ? NP_EINTR : NP_ETIMEOUT;
	return 0;
}

/* How long poll may block: to the deadline, and in short slices once a
 * stop was requested, since the never-drained pipe cannot announce the
 * second SIGINT. */
static int clock__wait(const struct spawn_clock *c)
{
	long long left = c->deadline ? c->deadline - spawn__now_ms() : -1;
	if (c->noticed && (left < 0 || left > 100))
		left = 100;
	return left < 0 ? -1 : (int)left;
}

/* Pump stdin/stdout/stderr until both outputs close or the clock says stop. */
static int spawn__pump(struct spawn *sp, struct spawn_fds *f, struct spawn_clock *c)
{
	size_t in_off = 0;
	char chunk[16384];
	if (f->in_w >= 0 && !sp->input_len)
		fd__close(&f->in_w);
	while (f->out_r >= 0 || f->err_r >= 0 || f->in_w >= 0) {
		int r = clock__check(c);
		if (r)
			return r;
		/* the signal pipe wakes us for the first stop request only */
		struct pollfd p[4] = { { f->out_r, POLLIN, 0 }, { f->err_r, POLLIN, 0 },
				       { f->in_w, POLLOUT, 0 },
				       { c->noticed || !c->interruptible ? -1 : interrupt_fd(), POLLIN, 0 } };
		int n = poll(p, 4, clock__wait(c));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return NP_ERROR;
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &f->err_r : &f->out_r;
			if (*fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(*fd, chunk, sizeof(chunk));
			if (got > 0)
				buf_add(i ? &sp->err : &sp->out, chunk, (size_t)got);
			else if (got == 0 || errno != EINTR)
				fd__close(fd);
		}
		if (f->in_w >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(f->in_w, sp->input + in_off, sp->input_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			if (w < 0 || in_off >= sp->input_len)
				fd__close(&f->in_w);
		}
	}
	return 0;
}

static int spawn__reap(struct spawn *sp, struct spawn_clock *c)
{
	int st;
	/* without a deadline or a signal pipe to honour, simply block */
	bool polling = c->deadline || (c->interruptible && interrupt_fd() >= 0);
	for (int i = 0;; i++) {
		pid_t w = waitpid(sp->pid, &st, polling ? WNOHANG : 0);
		if (w == sp->pid)
			break;
		if (w < 0 && errno != EINTR)
			return np_error_set("waitpid: %s", strerror(errno));
		int r = clock__check(c);
		if (r)
			return r;
		if (polling) {
			/* a child that closed its output is usually exiting: look often at first */
			struct timespec ts = { 0, (i < 100 ? 2 : 20) * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	sp->status = status__decode(st);
	sp->pid = -1;
	return 0;
}

int spawn_run(struct spawn *sp)
{
	struct spawn_fds f = { -1, -1, -1, -1, -1, -1 };
	struct spawn_clock c = { sp->timeout_ms > 0 ? spawn__now_ms() + sp->timeout_ms : 0, true,
				 false, false };
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int r = spawn__fork(sp, &f);
	if (r < 0)
		goto out;
	r = spawn__pump(sp, &f, &c);
	if (r == 0)
		r = spawn__reap(sp, &c);
	if (r == NP_ETIMEOUT || r == NP_EINTR) {
		kill(-sp->pid, SIGKILL);
		waitpid(sp->pid, NULL, 0);
		sp->pid = -1;
		sp->status = 128 + SIGKILL;
		struct buf d = BUF_INIT;
		spawn_describe(&d, sp->argv);
		if (r == NP_ETIMEOUT)
			np_error_setc(NP_ETIMEOUT, "'%s' ran past its %d ms deadline and was killed",
				      d.ptr, sp->timeout_ms);
		else if (interrupt_now())
			np_error_setc(NP_EINTR, "'%s' killed: interrupted twice", d.ptr);
		else
			np_error_setc(NP_EINTR, "'%s' killed: still running %d s after %s", d.ptr,
				      INTERRUPT_GRACE_MS / 1000, interrupt_name(interrupt_signal()));
		buf_release(&d);
	} else if (r == NP_ERROR) {
		np_error_set("cannot collect '%s': %s", sp->argv[0], strerror(errno));
	}
out:
	fd__close(&f.in_r);
	fd__close(&f.in_w);
	fd__close(&f.out_r);
	fd__close(&f.err_r);
	if (sp->out_mode != SPAWN_IO_FD)
		fd__close(&f.out_w);
	if (sp->err_mode != SPAWN_IO_FD)
		fd__close(&f.err_w);
	signal(SIGPIPE, old);
	return r;
}

int spawn_start(struct spawn *sp)
{
	struct spawn_fds f = { -1, -1, -1, -1, -1, -1 };
	if (sp->out_mode == SPAWN_IO_CAPTURE || sp->err_mode == SPAWN_IO_CAPTURE || sp->input)
		return np_error_set("spawn_start: capture and input need spawn_run");
	int r = spawn__fork(sp, &f);
	fd__close(&f.in_r);
	if (sp->out_mode != SPAWN_IO_FD)
		fd__close(&f.out_w);
	if (sp->err_mode != SPAWN_IO_FD)
		fd__close(&f.err_w);
	return r;
}

int spawn_start_logged(struct spawn *sp, const char *log_path)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return np_error_set("cannot create '%s': %s", log_path, strerror(errno));
	sp->out_mode = sp->err_mode = SPAWN_IO_FD;
	sp->out_fd = sp->err_fd = fd;
	int r = spawn_start(sp);
	close(fd); /* the child has its own copy */
	sp->out_fd = sp->err_fd = -1;
	return r;
}

int spawn_wait(struct spawn *sp)
{
	struct spawn_clock c = { 0, false, false, false };
	if (sp->pid <= 0)
		return 0;
	return spawn__reap(sp, &c);
}

int spawn_stop(struct spawn *sp, int sig, int grace_ms)
{
	struct spawn_clock c = { spawn__now_ms() + grace_ms, true, false, false };
	struct spawn_clock last = { 0, false, false, false };
	if (sp->pid <= 0)
		return 0;
	kill(-sp->pid, sig);
	int r = spawn__reap(sp, &c);
	if (r == NP_ETIMEOUT || r == NP_EINTR) {
		kill(-sp->pid, SIGKILL);
		return spawn__reap(sp, &last);
	}
	return r;
}

void spawn_release(struct spawn *sp)
{
	buf_release(&sp->out);
	buf_release(&sp->err);
}

void spawn_describe(struct buf *out, const char *const *argv)
{
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			buf_addch(out, ' ');
		bool quote = !argv[i][0] || strpbrk(argv[i], " \t\"'$\\");
		buf_addf(out, quote ? "'%s'" : "%s", argv[i]);
	}
}
