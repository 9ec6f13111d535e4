/*
 * Unit tests for harness/runrec.c: a live record (locked) is left alone,
 * a dead one (a file nobody holds, as a SIGKILLed run leaves it) is undone
 * and removed, a dry run changes nothing, a torn last line is skipped,
 * and a line written twice is kept once.
 */
#include <stdio.h>
#include <string.h>

#include "fsutil.h"
#include "runrec.h"
#include "suites.h"

static struct buf dir;

static void setup(void)
{
	buf_init(&dir);
	ck_assert_int_eq(fs_mkdtemp(&dir, "runrec-test"), 0);
}

static void teardown(void)
{
	fs_remove_tree(dir.ptr);
	buf_release(&dir);
}

static size_t lines_of(const char *path)
{
	struct buf text = BUF_INIT;
	size_t n = 0;
	ck_assert_int_eq(fs_read_file(&text, path), 0);
	for (size_t i = 0; i < text.len; i++)
		n += text.ptr[i] == '\n';
	buf_release(&text);
	return n;
}

/* A dead run's record as a killed run leaves it: its work dir, an empty
 * runc root, and a torn last line (the kill came mid-write). */
static void write_dead(struct buf *rec, struct buf *wd)
{
	struct buf text = BUF_INIT, f = BUF_INIT;
	buf_addf(wd, "%s/work", dir.ptr);
	buf_addf(&f, "%s/runc-state", wd->ptr);
	ck_assert_int_eq(fs_mkdir_p(f.ptr, 0700), 0);
	buf_addf(rec, "%s/run-4242-abcdef.jsonl", dir.ptr);
	buf_addf(&text,
		 "{\"crharness\":1,\"pid\":4242,\"started\":\"2026-11-30T00:00:00Z\",\"work_dir\":\"%s\",\"own_work_dir\":true}\n"
		 "{\"backend\":\"runc\",\"root\":\"%s\"}\n{\"backend\":\"runc\",\"ro",
		 wd->ptr, f.ptr);
	ck_assert_int_eq(fs_write_atomic(rec->ptr, text.ptr, text.len, 0600, -1, -1), 0);
	buf_release(&text);
	buf_release(&f);
}

START_TEST(test_runrec__live_left_alone)
{
	struct runrec *r = NULL;
	struct buf report = BUF_INIT, wd = BUF_INIT;
	size_t runs = 9;
	buf_addf(&wd, "%s/work", dir.ptr);
	ck_assert_int_eq(fs_mkdir_p(wd.ptr, 0700), 0);
	ck_assert_int_eq(runrec_open(&r, dir.ptr, wd.ptr, true), 0);
	/* a second open of the file cannot take the lock this one holds */
	ck_assert_int_eq(runrec_sweep(dir.ptr, false, &report, &runs), 0);
	ck_assert_uint_eq(runs, 0);
	ck_assert(fs_exists(runrec_path(r)));
	ck_assert(fs_exists(wd.ptr));
	runrec_close(r, true);
	buf_release(&report);
	buf_release(&wd);
}
END_TEST

START_TEST(test_runrec__dead_swept)
{
	struct buf rec = BUF_INIT, wd = BUF_INIT, report = BUF_INIT;
	size_t runs = 0;
	write_dead(&rec, &wd);
	ck_assert_int_eq(runrec_sweep(dir.ptr, true, &report, &runs), 0);
	ck_assert_uint_eq(runs, 1);
	ck_assert_ptr_nonnull(strstr(report.ptr, "run 4242 "));
	ck_assert_ptr_nonnull(strstr(report.ptr, "left      work dir "));
	ck_assert(fs_exists(wd.ptr) && fs_exists(rec.ptr)); /* dry run: nothing changed */
	buf_reset(&report);
	ck_assert_int_eq(runrec_sweep(dir.ptr, false, &report, &runs), 0);
	ck_assert_uint_eq(runs, 1);
	ck_assert_ptr_nonnull(strstr(report.ptr, "removed   work dir "));
	ck_assert(!fs_exists(wd.ptr));
	ck_assert(!fs_exists(rec.ptr));
	buf_reset(&report);
	ck_assert_int_eq(runrec_sweep(dir.ptr, false, &report, &runs), 0);
	ck_assert_uint_eq(runs, 0);
	buf_release(&rec);
	buf_release(&wd);
	buf_release(&report);
}
END_TEST

START_TEST(test_runrec__unknown_backend_kept)
{
	struct buf rec = BUF_INIT, report = BUF_INIT;
	size_t runs = 0;
	buf_addf(&rec, "%s/run-7-xyz.jsonl", dir.ptr);
	static const char text[] = "{\"crharness\":1,\"pid\":7,\"work_dir\":\"/nonexistent\",\"own_work_dir\":false}\n"
				   "{\"backend\":\"no-such-backend\",\"thing\":\"x\"}\n";
	ck_assert_int_eq(fs_write_atomic(rec.ptr, text, sizeof(text) - 1, 0600, -1, -1), 0);
	/* what cannot be undone keeps its record, for a later cleanup to retry */
	ck_assert_int_ne(runrec_sweep(dir.ptr, false, &report, &runs), 0);
	ck_assert_ptr_nonnull(strstr(report.ptr, "backend 'no-such-backend'"));
	ck_assert(fs_exists(rec.ptr));
	buf_release(&rec);
	buf_release(&report);
}
END_TEST

START_TEST(test_runrec__lines_once)
{
	struct runrec *r = NULL;
	struct buf left = BUF_INIT;
	ck_assert_int_eq(runrec_open(&r, dir.ptr, "/nonexistent-work", false), 0);
	ck_assert_int_eq(runrec_add(r, "runc", "root", "/nonexistent-root", RUNREC_END), 0);
	ck_assert_int_eq(runrec_add(r, "runc", "root", "/nonexistent-root", RUNREC_END), 0);
	ck_assert_int_eq(runrec_add(r, "runc", "root", "/nonexistent-root-2", RUNREC_END), 0);
	ck_assert_uint_eq(lines_of(runrec_path(r)), 3);
	ck_assert_int_eq(runrec_add(NULL, "runc", "root", "/x", RUNREC_END), 0);
	/* nothing of it exists: the survey says nothing */
	runrec_survey(r, &left);
	ck_assert_str_eq(left.ptr, "");
	runrec_close(r, true);
	buf_release(&left);
}
END_TEST

Suite *suite_runrec(void)
{
	Suite *s = suite_create("runrec");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_runrec__live_left_alone);
	tcase_add_test(tc, test_runrec__dead_swept);
	tcase_add_test(tc, test_runrec__unknown_backend_kept);
	tcase_add_test(tc, test_runrec__lines_once);
	suite_add_tcase(s, tc);
	return s;
}
