/* Unit tests for harness/scenario.c (malformed input is located) and the
 * report writers (escaping of text that came from input). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "history.h"
#include "report.h"
#include "run.h"
#include "scenario.h"
#include "suites.h"

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/np-unit-scenario-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void expect_error(const char *text, const char *where, const char *what)
{
	struct scenario *s = NULL;
	char *path = write_tmp(text), want[256];
	ck_assert_int_eq(scenario_load(&s, path), NP_EINVALID);
	snprintf(want, sizeof(want), "%s:%s", path, where);
	ck_assert_msg(strstr(np_error_last(), want), "'%s' lacks '%s'", np_error_last(), want);
	ck_assert_msg(strstr(np_error_last(), what), "'%s' lacks '%s'", np_error_last(), what);
	unlink(path);
	free(path);
}

START_TEST(test_scenario__good)
{
	struct scenario *s = NULL;
	char *path = write_tmp("scenario: x\ncontainers: 2\ninterval_ms: 50\nsteps:\n  - start\n"
			       "  - wait: 100\n  - checkpoint: { leave_running: true }\n"
			       "  - restore: { new_id: true, new_node: true }\n  - check: resumed\n"
			       "  - repeat: { times: 2, steps: [checkpoint, restore] }\n  - check: memory\n");
	ck_assert_int_eq(scenario_load(&s, path), 0);
	ck_assert_str_eq(s->name, "x");
	ck_assert_int_eq(s->containers, 2);
	ck_assert_int_eq(s->nsteps, 7);
	ck_assert_int_eq(s->steps[6].check, CHECK_MEMORY);
	ck_assert(s->steps[2].ck.leave_running);
	ck_assert(s->steps[3].rs.new_id && s->steps[3].rs.new_node && !s->steps[3].rs.new_bundle);
	ck_assert_int_eq(s->steps[5].times, 2);
	scenario_free(s);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_scenario__malformed)
{
	expect_error("scenario: x\nsteps:\n  - checkpoint: { leave_runing: true }\n", "3:19", "leave_runing");
	expect_error("scenario: x\nsteps:\n  - dance\n", "3:5", "dance");
	expect_error("scenario: x\nsteps:\n  - check: memroy\n", "3:12", "memory, {exists");
	expect_error("scenario: x\nsteps:\n  - wait: soon\n", "3:11", "");
	expect_error("scenario: x\ncontainers: many\nsteps: [start]\n", "2:13", "");
	expect_error("scenario: x\nbogus: 1\nsteps: [start]\n", "2:1", "bogus");
	expect_error("scenario: [x\n", "", "");
	expect_error("steps: [start]\n", "1:1", "scenario");
}
END_TEST

START_TEST(test_report__escapes_input)
{
	struct scenario_result r = { 0 };
	snprintf(r.name, sizeof(r.name), "a<b>&\"c'");
	snprintf(r.backend, sizeof(r.backend), "runc");
	snprintf(r.reason, sizeof(r.reason), "</failure><script>&amp;");
	struct report_set rs = { &r, 1, "host<1>", 10 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_int_eq(report_write("junit", f, &rs), 0);
	fclose(f);
	ck_assert_ptr_null(strstr(text, "<script>"));
	ck_assert_ptr_nonnull(strstr(text, "a&lt;b&gt;&amp;&quot;c&apos;"));
	ck_assert_ptr_nonnull(strstr(text, "&lt;/failure&gt;&lt;script&gt;&amp;amp;"));
	free(text);
	f = open_memstream(&text, &len);
	ck_assert_int_lt(report_write("nope", f, &rs), 0);
	fclose(f);
	free(text);
}
END_TEST

START_TEST(test_report__html_escapes_and_marks)
{
	struct scenario_result r[2] = { 0 };
	snprintf(r[0].name, sizeof(r[0].name), "<svg onload=x>");
	snprintf(r[0].backend, sizeof(r[0].backend), "runc");
	snprintf(r[0].reason, sizeof(r[0].reason), "]]></text><script>x</script>");
	snprintf(r[1].name, sizeof(r[1].name), "fast");
	snprintf(r[1].backend, sizeof(r[1].backend), "runc");
	r[1].passed = true;
	r[1].checkpoint_ms = 100;
	struct hist_entry e[2] = { { "fast", "runc", true, 50, 1 }, { "<svg onload=x>", "runc", true, 1, 1 } };
	struct hist_run run = { "2026-01-01T00:00:00Z", e, 2 };
	struct history h = { &run, 1 };
	struct report_set rs = { r, 2, "h&<>", 10, "2026-01-02T00:00:00Z", "6.1", "criu 4.1.1", &h };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_int_eq(report_write("html", f, &rs), 0);
	fclose(f);
	ck_assert_ptr_null(strstr(text, "<script"));
	ck_assert_ptr_null(strstr(text, "<svg onload"));
	ck_assert_ptr_nonnull(strstr(text, "&lt;svg onload=x&gt;"));
	ck_assert_ptr_nonnull(strstr(text, "h&amp;&lt;&gt;"));
	ck_assert_ptr_nonnull(strstr(text, "checkpoint 100 ms is 100% above the median 50 ms"));
	ck_assert_ptr_nonnull(strstr(text, "newly failing (passed on 2026-01-01T00:00:00Z)"));
	free(text);
}
END_TEST

Suite *suite_scenario(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_scenario__good);
	tcase_add_test(tc, test_scenario__malformed);
	tcase_add_test(tc, test_report__escapes_input);
	tcase_add_test(tc, test_report__html_escapes_and_marks);
	suite_add_tcase(s, tc);
	return s;
}
