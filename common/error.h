/*
 * error.h: return codes and the thread-local last-error message (after
 * libgit2's git_error_set). Functions return 0 or a negative NP_E* code and
 * leave a one-line, lowercase message here; callers add context once, where
 * they know it (np_error_prefix).
 */
#ifndef NP_ERROR_H
#define NP_ERROR_H

enum {
	NP_OK = 0,
	NP_ERROR = -1,     /* generic failure */
	NP_EINVALID = -2,  /* bad input: recipe, scenario, flags */
	NP_ENOTFOUND = -3, /* a named thing does not exist */
	NP_ELOCKED = -4,   /* another process holds the lock */
	NP_ETIMEOUT = -5,  /* a child process ran past its deadline */
	NP_EVERIFY = -6,   /* a checksum or verification did not match */
	NP_ECHANGED = -7,  /* changed by someone else meanwhile (a conflict) */
	NP_EAGAIN = -8,    /* not known yet: a batched check asked for something not fetched */
	NP_EINTR = -9,     /* stopped because the program was interrupted (interrupt.h) */
};

/** Set the message (printf-style); returns NP_ERROR for `return np_error_set(...)`. */
int np_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Set the message and return code. */
int np_error_setc(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Prepend "context: " to the current message. */
void np_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** The current message, or "unknown error"; valid until the next set. */
const char *np_error_last(void);
void np_error_clear(void);

#endif
