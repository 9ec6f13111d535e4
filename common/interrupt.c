/*
 * interrupt.c: see interrupt.h.
 *
 * This is the one place with process-wide mutable state besides the
 * logger, because a signal handler can reach nothing else: two
 * sig_atomic_t counters the handler bumps, and the self-pipe's fds, set
 * once before the handler is installed and only written by it. The pipe
 * is never drained, so every poller (each lane thread's spawn, a sleeping
 * wait step) sees it readable from the first signal on, whichever thread
 * the kernel delivered the signal to.
 */
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "banned.h"

static volatile sig_atomic_t first_sig; /* the first stop signal, 0 before */
static volatile sig_atomic_t n_int;     /* SIGINTs so far */
static int pipe_fds[2] = { -1, -1 };

static void interrupt__handler(int sig)
{
	int saved = errno;
	if (!first_sig)
		first_sig = sig;
	if (sig == SIGINT && n_int < 100)
		n_int++;
	/* nonblocking: a full pipe is already readable, which is all it says */
	ssize_t w = write(pipe_fds[1], "!", 1);
	(void)w;
	errno = saved;
}

int interrupt_install(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	if (pipe_fds[0] >= 0)
		return 0;
	if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return np_error_set("cannot create the signal pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = interrupt__handler;
	/* restart reads and waits: poll and sleeps wake through the pipe */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return np_error_set("cannot catch signal %d: %s", sigs[i], strerror(errno));
	return 0;
}

int interrupt_signal(void)
{
	return first_sig;
}

bool interrupt_requested(void)
{
	return first_sig != 0;
}

bool interrupt_now(void)
{
	return n_int >= 2;
}

int interrupt_fd(void)
{
	return pipe_fds[0];
}

int interrupt_exit_code(void)
{
	return first_sig ? 128 + first_sig : 0;
}

const char *interrupt_name(int sig)
{
	static _Thread_local char other[24];
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	}
	snprintf(other, sizeof(other), "signal %d", sig);
	return other;
}

static long long interrupt__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool interrupt_sleep_ms(long ms)
{
	long long end = interrupt__now_ms() + ms;
	for (;;) {
		long long left = end - interrupt__now_ms();
		if (interrupt_requested())
			return true;
		if (left <= 0)
			return false;
		struct pollfd p = { pipe_fds[0], POLLIN, 0 };
		/* fd -1 is ignored by poll: a plain sleep before install */
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return interrupt_requested();
	}
}
