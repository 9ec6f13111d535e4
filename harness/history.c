/*
 * history.c: see history.h.
 */
#include "history.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "error.h"
#include "banned.h"

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void history__add(struct history *h, const char *path, const char *date)
{
	json_t *doc = json_load_file(path, 0, NULL), *s;
	size_t i;
	if (!doc)
		return; /* a damaged file is skipped, not fatal to the report */
	struct hist_run *g = realloc(h->runs, (h->n + 1) * sizeof(*g));
	if (!g)
		abort();
	h->runs = g;
	struct hist_run *run = &h->runs[h->n++];
	memset(run, 0, sizeof(*run));
	snprintf(run->date, sizeof(run->date), "%s", date);
	json_t *arr = json_object_get(doc, "scenarios");
	run->e = calloc(json_array_size(arr) + 1, sizeof(*run->e));
	if (!run->e)
		abort();
	json_array_foreach(arr, i, s) {
		struct hist_entry *e = &run->e[run->n++];
		snprintf(e->name, sizeof(e->name), "%s", json_string_value(json_object_get(s, "name")) ?: "");
		history_key(e->backend, sizeof(e->backend),
			    json_string_value(json_object_get(s, "backend")) ?: "",
			    json_string_value(json_object_get(s, "runtime")) ?: "");
		const char *st = json_string_value(json_object_get(s, "status"));
		e->passed = st && !strcmp(st, "passed");
		e->checkpoint_ms = json_number_value(json_object_get(s, "checkpoint_ms"));
		e->restore_ms = json_number_value(json_object_get(s, "restore_ms"));
	}
	json_decref(doc);
}

int history_load(struct history *h, const char *dir, size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	memset(h, 0, sizeof(*h));
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") || de->d_name[0] == '.')
			continue;
		char **g = realloc(names, (n + 1) * sizeof(*g));
		if (!g || !(g[n] = strdup(de->d_name)))
			abort();
		names = g;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = n > max ? n - max : 0; i < n; i++) {
		char path[4096], date[40];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(date, sizeof(date), "%.*s", (int)(strlen(names[i]) - 5), names[i]);
		history__add(h, path, date);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}

void history_free(struct history *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->runs[i].e);
	free(h->runs);
	memset(h, 0, sizeof(*h));
}

void history_key(char *out, size_t n, const char *backend, const char *runtime)
{
	snprintf(out, n, "%s%s%s", backend, runtime && runtime[0] ? " " : "", runtime ? runtime : "");
}

const struct hist_entry *history_find(const struct hist_run *run, const char *name, const char *backend)
{
	/* runs recorded before results named their runtime match on the backend alone */
	for (size_t i = 0; i < run->n; i++) {
		const char *k = run->e[i].backend;
		size_t n = strlen(k);
		if (!strcmp(run->e[i].name, name) &&
		    (!strcmp(k, backend) || (!strchr(k, ' ') && !strncmp(k, backend, n) && backend[n] == ' ')))
			return &run->e[i];
	}
	return NULL;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of the field over passed runs; 0 when there are none. */
static double history__median(const struct history *h, const char *name, const char *backend,
			      bool restore)
{
	double *v = calloc(h->n + 1, sizeof(*v)), m = 0;
	size_t k = 0;
	if (!v)
		abort();
	for (size_t i = 0; i < h->n; i++) {
		const struct hist_entry *e = history_find(&h->runs[i], name, backend);
		if (e && e->passed)
			v[k++] = restore ? e->restore_ms : e->checkpoint_ms;
	}
	if (k) {
		qsort(v, k, sizeof(*v), dbl_cmp);
		m = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	}
	free(v);
	return m;
}

bool history_regression(const struct history *h, const char *name, const char *backend, bool passed,
			double checkpoint_ms, double restore_ms, struct buf *why)
{
	if (!h || !h->n)
		return false;
	const struct hist_entry *last = history_find(&h->runs[h->n - 1], name, backend);
	if (!passed) {
		if (last && last->passed) {
			buf_addf(why, "newly failing (passed on %s)", h->runs[h->n - 1].date);
			return true;
		}
		return false;
	}
	bool reg = false;
	double mc = history__median(h, name, backend, false), mr = history__median(h, name, backend, true);
	if (mc > 0 && checkpoint_ms > 1.25 * mc) {
		buf_addf(why, "checkpoint %.0f ms is %.0f%% above the median %.0f ms", checkpoint_ms,
			 100 * (checkpoint_ms / mc - 1), mc);
		reg = true;
	}
	if (mr > 0 && restore_ms > 1.25 * mr) {
		buf_addf(why, "%srestore %.0f ms is %.0f%% above the median %.0f ms", reg ? "; " : "",
			 restore_ms, 100 * (restore_ms / mr - 1), mr);
		reg = true;
	}
	return reg;
}
