/*
 * daemon.h: long-lived processes on hosts without an init system that
 * manages services (these VMs: PID 1 is not systemd, and it does not reap
 * orphans either). The `service` step falls back to this when the host has
 * no systemd and the step says which command to run; rollback uses it to
 * stop what an apply started.
 *
 * A daemon is identified by its pid file and its argv[0]: it runs when the
 * pid in the file is alive, not a zombie, and runs that program (so a
 * recycled pid is not mistaken for it). Everything runs on the target host
 * through host_run as small POSIX sh scripts, so the same code works over
 * SSH. A started daemon is in its own session (setsid), its stdin is
 * /dev/null and its stdout/stderr are appended to its log file.
 */
#ifndef NP_DAEMON_H
#define NP_DAEMON_H

#include <stdbool.h>

#include "buf.h"

struct host;

struct daemon_spec {
	const char *const *argv;   /* argv[0] absolute, or found in PATH */
	const char *const *env;    /* "K=V" added to the daemon's environment */
	const char *cwd;           /* NULL: / */
	const char *pid_file;
	const char *log_file;
	const char *const *ready;  /* a command that succeeds once the daemon serves; NULL: none */
	const char *ready_url;     /* or a URL that answers 2xx/3xx (curl on the host); NULL: none */
	int ready_timeout_s;       /* 0: 60 */
};

/**
 * Is the daemon of pid_file running argv0? Sets *running and *pid (0 when
 * not running). Returns 0, or -1 when the check itself cannot run.
 */
int daemon_status(struct host *h, const char *pid_file, const char *argv0, bool *running,
		  long *pid);

/**
 * Start the daemon and wait until it is ready (the ready command or URL
 * succeeds), failing when it exits first or the timeout passes; the error
 * carries the last lines of its log. A daemon that failed to become ready
 * is stopped again.
 */
int daemon_start(struct host *h, const struct daemon_spec *d);

/**
 * Stop the daemon of pid_file (when it runs argv0): SIGTERM, up to
 * timeout_s seconds (0: 30), then SIGKILL. Removes the pid file. Stopping a
 * daemon that is not running is not an error. *was_running (may be NULL)
 * says whether there was one.
 */
int daemon_stop(struct host *h, const char *pid_file, const char *argv0, int timeout_s,
		bool *was_running);

/**
 * A started daemon is remembered on the host in PID_FILE.json (its argv,
 * env, cwd, log file and probe), so a later step that names only the
 * service (a handler's restart, a recipe that takes the node down) acts on
 * the same command, and a changed command is noticed.
 */
int daemon_spec_save(struct host *h, const struct daemon_spec *d);

/** A remembered daemon: the spec and the storage behind its strings. */
struct daemon_saved {
	struct daemon_spec d;
	void *json;    /* owns the strings */
	const char **argv, **env, **ready;
};

/**
 * Load what daemon_spec_save wrote for pid_file. NP_ENOTFOUND when nothing
 * is remembered. Release with daemon_saved_release.
 */
int daemon_spec_load(struct host *h, const char *pid_file, struct daemon_saved *out);
void daemon_saved_release(struct daemon_saved *s);

/** Do the command lines (argv, env, cwd) of a and b differ? */
bool daemon_spec_differs(const struct daemon_spec *a, const struct daemon_spec *b);

/** The last n lines of the daemon's log, appended to out ("" when unreadable). */
void daemon_log_tail(struct host *h, const char *log_file, int n, struct buf *out);

#endif
