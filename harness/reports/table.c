/*
 * table.c: the human report: one row per scenario, colour only on a TTY,
 * reasons for failures below the table.
 */
#include <unistd.h>

#include "log.h"
#include "report.h"
#include "banned.h"

int report_table(FILE *f, const struct report_set *rs)
{
	bool c = log_use_colour(f);
	size_t passed = 0, interrupted = 0;
	fprintf(f, "%-20s %-10s %-18s %-6s %9s %9s %9s %10s %15s\n", "SCENARIO", "BACKEND", "RUNTIME", "STATUS",
		"CKPT ms", "RESTORE ms", "DOWN ms", "ARCHIVE", "COUNTER");
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		passed += r->passed;
		interrupted += r->interrupted;
		char counter[48];
		report_format_counter(counter, sizeof(counter), r, "->");
		fprintf(f, "%-20s %-10s %-18s %s%-6s%s %9.1f %9.1f %9.1f %9.1fK %15s\n", r->name,
			r->backend, r->runtime[0] ? r->runtime : "-", c ? (r->passed ? C_GREEN : C_RED) : "", r->passed ? "pass" : r->interrupted ? "INTR" : "FAIL",
			c ? C_RESET : "", r->checkpoint_ms, r->restore_ms, r->downtime_ms,
			r->archive_bytes / 1024.0, counter);
	}
	for (size_t i = 0; i < rs->n; i++)
		if (!rs->r[i].passed)
			fprintf(f, "\n%s (%s%s%s): %s\n", rs->r[i].name, rs->r[i].backend,
				rs->r[i].runtime[0] ? ", " : "", rs->r[i].runtime, rs->r[i].reason);
	fprintf(f, "\n%zu passed, %zu failed", passed, rs->n - passed);
	if (rs->interrupted)
		fprintf(f, " (%zu interrupted: the run was stopped by %s)", interrupted, rs->interrupted);
	fputc('\n', f);
	return 0;
}
