/*
 * progress.h: a live status line for long, otherwise silent work (a
 * 40 s CRIU build): while it runs, stderr shows the elapsed time and the
 * last line of the log the work writes, redrawn twice a second. Only on a
 * terminal; elsewhere (CI logs, pipes) it prints nothing, so logs stay
 * clean.
 */
#ifndef NP_PROGRESS_H
#define NP_PROGRESS_H

struct progress_watch;

/**
 * Start showing "LABEL  Ns  <last line of log_path>" on stderr when it is
 * a TTY. *out is NULL when nothing is shown; progress_watch_stop accepts
 * that.
 */
void progress_watch_start(struct progress_watch **out, const char *label, const char *log_path);
/** Stop, clear the line, free. Accepts NULL. */
void progress_watch_stop(struct progress_watch *w);

#endif
