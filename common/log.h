/*
 * log.h: the logger, the one piece of global mutable state (set once by
 * main). Diagnostics go to stderr; results never go through here.
 */
#ifndef NP_LOG_H
#define NP_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/** Configure once at start-up; colour only when the stream is a TTY and NO_COLOR is unset. */
void log_setup(enum log_level level, FILE *stream);
enum log_level log_get_level(void);
/** True when colour escapes may be written to stream. */
bool log_use_colour(FILE *stream);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* ANSI colours, used only when log_use_colour() says so */
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BOLD "\033[1m"
#define C_RESET "\033[0m"

#endif
