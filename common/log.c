/*
 * log.c: leveled messages to stderr. Errors are prefixed "error: " and
 * warnings "warning: " like git, so they read the same in a log file.
 */
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "banned.h"

static enum log_level cur_level = LOG_INFO;
static FILE *cur_stream;

void log_setup(enum log_level level, FILE *stream)
{
	cur_level = level;
	cur_stream = stream;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

bool log_use_colour(FILE *stream)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return false;
	return isatty(fileno(stream));
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	static const char *const colour[] = { C_RED, C_YELLOW, "", "" };
	FILE *out = cur_stream ? cur_stream : stderr;
	if (level > cur_level)
		return;
	bool c = log_use_colour(out) && colour[level][0];
	va_list ap;
	va_start(ap, fmt);
	fprintf(out, "%s%s%s", c ? colour[level] : "", prefix[level], c ? C_RESET : "");
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	va_end(ap);
}
