/*
 * progress.c: see progress.h. A thread polls the log file (no pipe in the
 * build's output path: the log stays the single record) and redraws one
 * line with \r; stopping clears it. The last line shown is the last
 * complete or partial line of the file's final 4 KiB.
 */
#include "progress.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

struct progress_watch {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	char label[64];
	char *path;
	struct timespec t0;
};

static double since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The log's last non-empty line, printable bytes only, into out. */
static void last_line(char *out, size_t n, const char *path)
{
	char tail[4096];
	ssize_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	out[0] = 0;
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end > 0 && lseek(fd, end > (off_t)sizeof(tail) ? end - (off_t)sizeof(tail) : 0, SEEK_SET) >= 0)
		got = read(fd, tail, sizeof(tail));
	close(fd);
	while (got > 0 && (tail[got - 1] == '\n' || tail[got - 1] == '\r'))
		got--;
	ssize_t start = got;
	while (start > 0 && tail[start - 1] != '\n' && tail[start - 1] != '\r')
		start--;
	size_t k = 0;
	for (ssize_t i = start; i < got && k + 1 < n; i++)
		out[k++] = tail[i] >= 0x20 && tail[i] < 0x7f ? tail[i] : ' ';
	out[k] = 0;
}

static void *watch__main(void *arg)
{
	struct progress_watch *w = arg;
	char line[512];
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct winsize ws;
		int cols = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 100;
		last_line(line, sizeof(line), w->path);
		int room = cols - (int)strlen(w->label) - 12;
		/* \033[K: erase the rest of the previous, maybe longer, line */
		fprintf(stderr, "\r\033[K%s %4.0fs  %.*s", w->label, since(&w->t0), room > 0 ? room : 0, line);
		fflush(stderr);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 500000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&w->mu);
	fputs("\r\033[K", stderr);
	fflush(stderr);
	return NULL;
}

void progress_watch_start(struct progress_watch **out, const char *label, const char *log_path)
{
	*out = NULL;
	if (!isatty(2))
		return;
	struct progress_watch *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	snprintf(w->label, sizeof(w->label), "%s", label);
	w->path = strdup(log_path);
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	if (!w->path || pthread_create(&w->th, NULL, watch__main, w)) {
		/* no status line is no failure: the work goes on without it */
		free(w->path);
		free(w);
		return;
	}
	*out = w;
}

void progress_watch_stop(struct progress_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->path);
	free(w);
}
