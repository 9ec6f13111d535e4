/*
 * junit.c: JUnit XML for CI systems: one testsuite, one testcase per
 * scenario (classname = backend), <failure message=...> with the reason.
 */
#include "report.h"
#include "banned.h"

int report_junit(FILE *f, const struct report_set *rs)
{
	size_t failed = 0;
	for (size_t i = 0; i < rs->n; i++)
		failed += !rs->r[i].passed;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n", rs->n, failed,
		rs->wall_ms / 1000.0);
	fprintf(f, "  <testsuite name=\"crharness\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
		rs->n, failed, rs->wall_ms / 1000.0);
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		fputs("    <testcase classname=\"crharness.", f);
		report_xml_escape(f, r->backend);
		fputs("\" name=\"", f);
		report_xml_escape(f, r->name);
		fprintf(f, "\" time=\"%.3f\"", r->wall_ms / 1000.0);
		if (r->passed) {
			fputs("/>\n", f);
			continue;
		}
		fputs(">\n      <failure message=\"", f);
		report_xml_escape(f, r->reason);
		fputs("\" type=\"ScenarioFailed\">", f);
		report_xml_escape(f, r->reason);
		fputs("</failure>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return 0;
}
