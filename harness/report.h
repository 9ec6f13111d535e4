/*
 * report.h: writers for scenario results. Each format is one function in
 * reports/<format>.c behind one table, selected by --report FORMAT:PATH.
 */
#ifndef NP_REPORT_H
#define NP_REPORT_H

#include <stdio.h>

#include "run.h"

struct history;

struct report_set {
	const struct scenario_result *r;
	size_t n;
	const char *host;
	double wall_ms;
	const char *date;              /* UTC, ISO 8601 */
	const char *kernel;
	const char *versions;          /* "criu 4.1.1, runc 1.1.5, ..." */
	const struct history *history; /* earlier runs, or NULL */
	const char *interrupted;       /* "SIGTERM"... when a signal stopped the run, else NULL */
};

/** Write rs in format ("table", "json", "junit", "tap") to f. NP_EINVALID for an unknown format. */
int report_write(const char *format, FILE *f, const struct report_set *rs);
/**
 * The counter column: "12->15" (checkpoint value -> value after the
 * restore), or "12" when nothing was restored; arrow is "->" or an HTML
 * entity.
 */
void report_format_counter(char *out, size_t n, const struct scenario_result *r, const char *arrow);
/** XML-escape s into f (for junit). */
void report_xml_escape(FILE *f, const char *s);

int report_table(FILE *f, const struct report_set *rs);
int report_json(FILE *f, const struct report_set *rs);
int report_junit(FILE *f, const struct report_set *rs);
int report_tap(FILE *f, const struct report_set *rs);
int report_html(FILE *f, const struct report_set *rs);

#endif
