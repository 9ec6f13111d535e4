/*
 * json.c: the machine report (jansson). Field names are the contract CI
 * scripts and the HTML history read; add fields, never rename them.
 * A run stopped by a signal says so: "interrupted": "SIGTERM" at the top,
 * "interrupted": N in the summary (counted in "failed" too), and status
 * "interrupted" on the scenario it stopped.
 */
#include <jansson.h>

#include "report.h"
#include "banned.h"


int report_json(FILE *f, const struct report_set *rs)
{
	json_t *arr = json_array();
	size_t passed = 0, interrupted = 0;
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		passed += r->passed;
		interrupted += r->interrupted;
		json_t *o = json_pack(
			"{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:I, s:I, s:s, s:i, s:I, s:f, s:f, s:f, s:o}",
			"name", r->name, "backend", r->backend, "runtime", r->runtime, "status",
			r->passed ? "passed" : r->interrupted ? "interrupted" : "failed",
			"checkpoint_ms", r->checkpoint_ms, "restore_ms", r->restore_ms,
			"downtime_ms", r->downtime_ms, "archive_bytes", (json_int_t)r->archive_bytes,
			"counter_before", (json_int_t)r->counter_before,
			"reason", r->reason,
			"cycles", r->cycles, "containers", (json_int_t)r->containers,
			"wall_ms", r->wall_ms, "cycle_p50_ms", r->cycle_p50_ms,
			"cycle_p99_ms", r->cycle_p99_ms, "criu_stats", criu_stats_json(&r->stats));
		/* null: the scenario restored nothing (or failed before it could) */
		json_object_set_new(o, "counter_after",
				    r->counter_after >= 0 ? json_integer(r->counter_after) : json_null());
		/* the counter as the checkpoint's memory holds it, beside the logged counter_before */
		json_object_set_new(o, "counter_memory",
				    r->counter_memory >= 0 ? json_integer(r->counter_memory) : json_null());
		const struct run_phases *ph = &r->phases;
		json_object_set_new(o, "phases", json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
							    "start_ms", ph->start_ms, "checkpoint_ms",
							    ph->checkpoint_ms, "criu_dump_ms", ph->criu_dump_ms,
							    "restore_ms", ph->restore_ms, "criu_restore_ms",
							    ph->criu_restore_ms, "resume_wait_ms", ph->resume_wait_ms,
							    "cpu_ms", ph->cpu_ms, "cpu_per_cycle_ms",
							    ph->cpu_per_cycle_ms));
		json_array_append_new(arr, o);
	}
	json_t *doc = json_pack("{s:o, s:{s:I, s:I}, s:s, s:s, s:s, s:s}", "scenarios", arr, "summary",
				"passed", (json_int_t)passed, "failed", (json_int_t)(rs->n - passed),
				"host", rs->host ? rs->host : "", "date", rs->date ? rs->date : "",
				"kernel", rs->kernel ? rs->kernel : "",
				"versions", rs->versions ? rs->versions : "");
	if (rs->interrupted) {
		json_object_set_new(doc, "interrupted", json_string(rs->interrupted));
		json_object_set_new(json_object_get(doc, "summary"), "interrupted",
				    json_integer((json_int_t)interrupted));
	}
	int r = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(doc);
	return r;
}
