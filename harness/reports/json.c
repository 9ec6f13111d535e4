/*
 * json.c: the machine report (jansson). Field names are the contract CI
 * scripts and the HTML history read; add fields, never rename them.
 */
#include <jansson.h>

#include "report.h"
#include "banned.h"


int report_json(FILE *f, const struct report_set *rs)
{
	json_t *arr = json_array();
	size_t passed = 0;
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		passed += r->passed;
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:f, s:f, s:f, s:I, s:I, s:I, s:s, s:i, s:I, s:f, s:f, s:f, s:o}",
			"name", r->name, "backend", r->backend, "status", r->passed ? "passed" : "failed",
			"checkpoint_ms", r->checkpoint_ms, "restore_ms", r->restore_ms,
			"downtime_ms", r->downtime_ms, "archive_bytes", (json_int_t)r->archive_bytes,
			"counter_before", (json_int_t)r->counter_before,
			"counter_after", (json_int_t)r->counter_after, "reason", r->reason,
			"cycles", r->cycles, "containers", (json_int_t)r->containers,
			"wall_ms", r->wall_ms, "cycle_p50_ms", r->cycle_p50_ms,
			"cycle_p99_ms", r->cycle_p99_ms, "criu_stats", criu_stats_json(&r->stats)));
	}
	json_t *doc = json_pack("{s:o, s:{s:I, s:I}, s:s, s:s, s:s, s:s}", "scenarios", arr, "summary",
				"passed", (json_int_t)passed, "failed", (json_int_t)(rs->n - passed),
				"host", rs->host ? rs->host : "", "date", rs->date ? rs->date : "",
				"kernel", rs->kernel ? rs->kernel : "",
				"versions", rs->versions ? rs->versions : "");
	int r = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(doc);
	return r;
}
