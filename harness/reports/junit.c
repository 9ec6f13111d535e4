/*
 * junit.c: JUnit XML for CI systems: one testsuite, one testcase per
 * scenario (classname = backend), <failure message=...> with the reason;
 * a scenario a signal stopped is an <error type="Interrupted">: it did not
 * fail, it did not finish.
 */
#include "report.h"
#include "banned.h"

int report_junit(FILE *f, const struct report_set *rs)
{
	size_t failed = 0, errors = 0;
	for (size_t i = 0; i < rs->n; i++) {
		errors += rs->r[i].interrupted;
		failed += !rs->r[i].passed && !rs->r[i].interrupted;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n", rs->n, failed,
		rs->wall_ms / 1000.0);
	fprintf(f, "  <testsuite name=\"crharness\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.3f\">\n",
		rs->n, failed, errors, rs->wall_ms / 1000.0);
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		fputs("    <testcase classname=\"crharness.", f);
		report_xml_escape(f, r->backend);
		fputs("\" name=\"", f);
		report_xml_escape(f, r->name);
		if (r->runtime[0]) { /* the same scenario on two runtimes: two test cases */
			fputs(" [", f);
			report_xml_escape(f, r->runtime);
			fputc(']', f);
		}
		fprintf(f, "\" time=\"%.3f\"", r->wall_ms / 1000.0);
		if (r->passed) {
			fputs("/>\n", f);
			continue;
		}
		const char *el = r->interrupted ? "error" : "failure";
		fprintf(f, ">\n      <%s message=\"", el);
		report_xml_escape(f, r->reason);
		fprintf(f, "\" type=\"%s\">", r->interrupted ? "Interrupted" : "ScenarioFailed");
		report_xml_escape(f, r->reason);
		fprintf(f, "</%s>\n    </testcase>\n", el);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return 0;
}
