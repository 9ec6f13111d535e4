/*
 * tap.c: TAP version 13, one test point per scenario, measurements and the
 * failure reason as a YAML diagnostic block.
 */
#include <string.h>

#include "report.h"
#include "banned.h"

int report_tap(FILE *f, const struct report_set *rs)
{
	fprintf(f, "TAP version 13\n1..%zu\n", rs->n);
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		fprintf(f, "%s %zu - %s (%s%s%s)%s\n", r->passed ? "ok" : "not ok", i + 1, r->name,
			r->backend, r->runtime[0] ? ", " : "", r->runtime, r->interrupted ? " interrupted" : "");
		char counter[48];
		report_format_counter(counter, sizeof(counter), r, " -> ");
		fprintf(f, "  ---\n  checkpoint_ms: %.1f\n  restore_ms: %.1f\n  counter: %s\n",
			r->checkpoint_ms, r->restore_ms, counter);
		if (r->interrupted)
			fputs("  status: interrupted\n", f);
		if (!r->passed) {
			fputs("  reason: \"", f);
			for (const char *p = r->reason; *p; p++) {
				if (*p == '"' || *p == '\\')
					fputc('\\', f);
				fputc(*p == '\n' ? ' ' : *p, f);
			}
			fputs("\"\n", f);
		}
		fputs("  ...\n", f);
	}
	return 0;
}
