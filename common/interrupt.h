/*
 * interrupt.h: SIGINT, SIGTERM and SIGHUP as a request to stop cleanly.
 * The programs install the handler; the handler only records the signal
 * and writes a byte to a self-pipe. Everything else (no new work, a bound
 * on the command in flight, cleanup, reports) happens at ordinary points
 * in ordinary code that asks interrupt_requested(), or polls
 * interrupt_fd() beside its own fds (spawn does). A second SIGINT means
 * "stop now": spawn kills what runs and starts nothing more.
 */
#ifndef NP_INTERRUPT_H
#define NP_INTERRUPT_H

#include <stdbool.h>

/* How long a command in flight (or one started afterwards) may still run
 * once a stop was requested: long enough for a runc/ctr checkpoint or a
 * short build command to finish, short enough for a CI timeout's grace. */
#define INTERRUPT_GRACE_MS 10000

/** Catch SIGINT, SIGTERM and SIGHUP (SA_RESTART). Idempotent. */
int interrupt_install(void);
/** The first stop signal received (SIGINT, ...), or 0. */
int interrupt_signal(void);
/** A stop signal was received. */
bool interrupt_requested(void);
/** A second SIGINT was received: stop at once, clean up nothing more. */
bool interrupt_now(void);
/** Readable once a stop signal came (never drained); -1 before install. */
int interrupt_fd(void);
/** 128 + the first signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP); 0 if none. */
int interrupt_exit_code(void);
/** "SIGINT", "SIGTERM", "SIGHUP", or "signal N". */
const char *interrupt_name(int sig);
/** Sleep ms, or less when a stop is requested; returns true if it was. */
bool interrupt_sleep_ms(long ms);

#endif
