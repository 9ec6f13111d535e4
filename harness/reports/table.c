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
	size_t passed = 0;
	fprintf(f, "%-20s %-10s %-6s %9s %9s %9s %10s %15s\n", "SCENARIO", "BACKEND", "STATUS",
		"CKPT ms", "RESTORE ms", "DOWN ms", "ARCHIVE", "COUNTER");
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		passed += r->passed;
		fprintf(f, "%-20s %-10s %s%-6s%s %9.1f %9.1f %9.1f %9.1fK %7ld->%-7ld\n", r->name,
			r->backend, c ? (r->passed ? C_GREEN : C_RED) : "", r->passed ? "pass" : "FAIL",
			c ? C_RESET : "", r->checkpoint_ms, r->restore_ms, r->downtime_ms,
			r->archive_bytes / 1024.0, r->counter_before, r->counter_after);
	}
	for (size_t i = 0; i < rs->n; i++)
		if (!rs->r[i].passed)
			fprintf(f, "\n%s (%s): %s\n", rs->r[i].name, rs->r[i].backend, rs->r[i].reason);
	fprintf(f, "\n%zu passed, %zu failed\n", passed, rs->n - passed);
	return 0;
}
