/*
 * spawn.h: the one place that starts processes (after git's run-command).
 * No system(), popen() or bare fork() elsewhere. A struct set up with
 * SPAWN_INIT describes argv, environment additions, cwd, stdio and a
 * deadline; spawn_run() runs it to completion.
 */
#ifndef NP_SPAWN_H
#define NP_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"

enum spawn_io {
	SPAWN_IO_NULL,    /* /dev/null */
	SPAWN_IO_CAPTURE, /* pipe into out/err */
	SPAWN_IO_INHERIT, /* the caller's fd */
	SPAWN_IO_FD,      /* the fd given in out_fd/err_fd */
};

struct spawn {
	const char *const *argv;    /* argv[0] is looked up in PATH */
	const char *const *env;     /* "NAME=VALUE" added to (or replacing in) our environment */
	const char *cwd;            /* NULL: ours */
	const char *input;          /* written to stdin when non-NULL, else /dev/null */
	size_t input_len;
	enum spawn_io out_mode, err_mode;
	int out_fd, err_fd;         /* for SPAWN_IO_FD */
	bool merge_err;             /* stderr goes where stdout goes */
	bool new_session;           /* setsid() instead of a new process group: CRIU
				     * refuses a tree whose session leader it cannot see */
	int timeout_ms;             /* 0: no deadline */
	/* results */
	struct buf out, err;
	int status;                 /* exit code, or 128+signal */
	pid_t pid;
};

#define SPAWN_INIT { NULL, NULL, NULL, NULL, 0, SPAWN_IO_CAPTURE, SPAWN_IO_CAPTURE, \
		     -1, -1, false, false, 0, BUF_INIT, BUF_INIT, -1, 0 }

/**
 * Run to completion. Returns 0 when the program ran (look at status),
 * NP_ENOTFOUND when argv[0] cannot be executed, NP_ETIMEOUT when it ran past
 * timeout_ms (its process group was killed), NP_EINTR when the program was
 * interrupted (interrupt.h) and the child did not finish within
 * INTERRUPT_GRACE_MS, or a second SIGINT came (killed, or not started),
 * NP_ERROR otherwise. The error message names the program.
 */
int spawn_run(struct spawn *sp);

/**
 * Start without waiting (stdout/stderr must not be CAPTURE). The child gets
 * its own process group. Finish with spawn_wait() or spawn_stop().
 */
int spawn_start(struct spawn *sp);
/**
 * spawn_start() a daemon whose stdout and stderr go to log_path (created
 * or truncated, 0600). The error names the log when it cannot be made.
 */
int spawn_start_logged(struct spawn *sp, const char *log_path);
/** Wait for a started child; fills status. */
int spawn_wait(struct spawn *sp);
/** Send sig to the child's process group, wait up to grace_ms, then SIGKILL. */
int spawn_stop(struct spawn *sp, int sig, int grace_ms);
/** Free captured output. */
void spawn_release(struct spawn *sp);

/** Join argv as a shell-like display string (for logs and errors). */
void spawn_describe(struct buf *out, const char *const *argv);

#endif
