/*
 * history.h: past nightly results, for trends and regression marks in the
 * HTML report. Each run's JSON report is kept as DIR/<UTC time>.json (the
 * names sort by time); loading reads the newest N back with jansson.
 */
#ifndef NP_HISTORY_H
#define NP_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct hist_entry {
	char name[128];
	char backend[160]; /* the series key: history_key() of backend and runtime */
	bool passed;
	double checkpoint_ms, restore_ms;
};

struct hist_run {
	char date[40];
	struct hist_entry *e;
	size_t n;
};

struct history {
	struct hist_run *runs; /* oldest first */
	size_t n;
};

/** Load the newest max runs from dir (missing dir: empty history). */
int history_load(struct history *h, const char *dir, size_t max);
void history_free(struct history *h);
/**
 * The key a result's series is kept under: the backend, plus the runtime
 * when known ("runc runc 1.2.5"), so two runtimes behind one backend are
 * two series and never compared with each other.
 */
void history_key(char *out, size_t n, const char *backend, const char *runtime);
/** The entry of run for name/backend (a history_key), or NULL. */
const struct hist_entry *history_find(const struct hist_run *run, const char *name, const char *backend);
/**
 * Is this result a regression against h: newly failing (passed in the
 * latest run), or a checkpoint/restore time more than 25% above the
 * median of the earlier runs. The reason is appended to why.
 */
bool history_regression(const struct history *h, const char *name, const char *backend, bool passed,
			double checkpoint_ms, double restore_ms, struct buf *why);

#endif
