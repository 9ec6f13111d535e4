/*
 * error.c: thread-local last error. A fixed-size buffer keeps it allocation
 * free so it works even when the failure was running out of memory.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

static _Thread_local char last[2048];

static void error__vset(const char *fmt, va_list ap)
{
	vsnprintf(last, sizeof(last), fmt, ap);
}

int np_error_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error__vset(fmt, ap);
	va_end(ap);
	return NP_ERROR;
}

int np_error_setc(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error__vset(fmt, ap);
	va_end(ap);
	return code;
}

void np_error_prefix(const char *fmt, ...)
{
	char pre[1024], old[sizeof(last)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, last, sizeof(old));
	/* truncation is acceptable: the most specific part comes first */
	size_t n = strlen(pre);
	if (n > sizeof(last) - 3)
		n = sizeof(last) - 3;
	memcpy(last, pre, n);
	memcpy(last + n, ": ", 2);
	size_t rest = sizeof(last) - n - 3;
	const char *o = old[0] ? old : "unknown error";
	size_t on = strlen(o) < rest ? strlen(o) : rest;
	memcpy(last + n + 2, o, on);
	last[n + 2 + on] = '\0';
}

const char *np_error_last(void)
{
	return last[0] ? last : "unknown error";
}

void np_error_clear(void)
{
	last[0] = '\0';
}
