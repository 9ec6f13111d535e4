/*
 * Unit tests for the file-editing step kinds (yaml_set, toml_set, json_set, line)
 * through the executor, on files in a temporary root: exact output text,
 * so comment and order preservation are pinned down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "fsutil.h"
#include "suites.h"

/* Write `before` to ROOT/f, apply a one-step recipe, return the file text. */
static char *edit(const char *before, const char *step, int *rc)
{
	struct buf dir = BUF_INIT, p = BUF_INIT, recipe = BUF_INIT, state = BUF_INIT, out = BUF_INIT;
	struct recipe_set set = RECIPE_SET_INIT;
	struct exec_result res;
	ck_assert_int_eq(fs_mkdtemp(&dir, "np-unit"), 0);
	buf_addf(&p, "%s/f", dir.ptr);
	if (before)
		ck_assert_int_eq(fs_write_atomic(p.ptr, before, strlen(before), 0644, -1, -1), 0);
	buf_addf(&recipe, "%s/r.yaml", dir.ptr);
	buf_addf(&state, "%s/state", dir.ptr);
	struct buf text = BUF_INIT;
	buf_addf(&text, "recipe: t\nsteps:\n  - %s\n", step);
	ck_assert_int_eq(fs_write_atomic(recipe.ptr, text.ptr, text.len, 0644, -1, -1), 0);
	const char *names[] = { recipe.ptr, NULL };
	ck_assert_int_eq(recipe_set_load(&set, names, NULL), 0);
	struct exec_opts o = { EXEC_APPLY, dir.ptr, state.ptr, NULL, NULL, false, NULL };
	*rc = exec_run(&set, &o, &res);
	fs_read_file(&out, p.ptr);
	exec_result_release(&res);
	recipe_set_release(&set);
	fs_remove_tree(dir.ptr);
	buf_release(&dir);
	buf_release(&p);
	buf_release(&recipe);
	buf_release(&state);
	buf_release(&text);
	return buf_detach(&out, NULL);
}

#define EDIT_EQ(before, step, want)                         \
	do {                                                \
		int rc_;                                    \
		char *got_ = edit(before, step, &rc_);      \
		ck_assert_int_eq(rc_, 0);                   \
		ck_assert_str_eq(got_, want);               \
		free(got_);                                 \
	} while (0)

START_TEST(test_edit__yaml_set_replaces_in_place)
{
	EDIT_EQ("# c\na:\n  b: false  # keep\nz: 1\n",
		"yaml_set: { path: /f, set: { a.b: true } }",
		"# c\na:\n  b: true  # keep\nz: 1\n");
}
END_TEST

START_TEST(test_edit__yaml_set_adds_nested)
{
	EDIT_EQ("a:\n  x: 1\nz: 2\n", "yaml_set: { path: /f, set: { a.y.q: on } }",
		"a:\n  x: 1\n  y:\n    q: on\nz: 2\n");
}
END_TEST

START_TEST(test_edit__yaml_set_creates_file)
{
	EDIT_EQ(NULL, "yaml_set: { path: /f, set: { featureGates.ContainerCheckpoint: true } }",
		"featureGates:\n  ContainerCheckpoint: true\n");
}
END_TEST

START_TEST(test_edit__yaml_set_quotes_strings)
{
	EDIT_EQ("a: 1\n", "yaml_set: { path: /f, set: { a: \"x: y\" } }", "a: \"x: y\"\n");
}
END_TEST

START_TEST(test_edit__yaml_set_refuses_scalar_parent)
{
	int rc;
	char *got = edit("a: 1\n", "yaml_set: { path: /f, set: { a.b: 2 } }", &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(got, "a: 1\n");
	free(got);
}
END_TEST

START_TEST(test_edit__toml_set_in_table_keeps_comment)
{
	EDIT_EQ("[a]\n# c\nk = \"old\"  # why\n\n[b]\nk = 1\n",
		"toml_set: { path: /f, table: a, set: { k: new, n: 3, f: false } }",
		"[a]\n# c\nk = \"new\"  # why\nn = 3\nf = false\n\n[b]\nk = 1\n");
}
END_TEST

START_TEST(test_edit__toml_set_appends_table)
{
	EDIT_EQ("x = 1\n", "toml_set: { path: /f, table: 'p.\"q.r\"', set: { l: [a, b] } }",
		"x = 1\n\n[p.\"q.r\"]\nl = [\"a\", \"b\"]\n");
}
END_TEST

START_TEST(test_edit__toml_set_refuses_multiline)
{
	int rc;
	char *got = edit("[a]\nk = [\n 1,\n]\n", "toml_set: { path: /f, table: a, set: { k: 2 } }", &rc);
	ck_assert_int_eq(rc, 1);
	free(got);
}
END_TEST

START_TEST(test_edit__json_set_keeps_other_keys)
{
	EDIT_EQ("{\"log-driver\": \"json-file\", \"log-opts\": {\"max-size\": \"10m\"}}",
		"json_set: { path: /f, set: { experimental: true, log-opts.max-file: \"3\", x.n: 2, x.l: [a, 1] } }",
		"{\n  \"log-driver\": \"json-file\",\n  \"log-opts\": {\n    \"max-size\": \"10m\",\n"
		"    \"max-file\": \"3\"\n  },\n  \"experimental\": true,\n  \"x\": {\n    \"n\": 2,\n"
		"    \"l\": [\n      \"a\",\n      1\n    ]\n  }\n}\n");
}
END_TEST

START_TEST(test_edit__json_set_converged_is_untouched)
{
	/* same values: not even re-indented */
	EDIT_EQ("{\"experimental\":true,  \"a\":{\"b\":null}}\n",
		"json_set: { path: /f, set: { experimental: true, a.b: null } }",
		"{\"experimental\":true,  \"a\":{\"b\":null}}\n");
}
END_TEST

START_TEST(test_edit__json_set_creates_file)
{
	EDIT_EQ(NULL, "json_set: { path: /f, set: { experimental: true } }",
		"{\n  \"experimental\": true\n}\n");
	EDIT_EQ("\n", "json_set: { path: /f, set: { s: \"true\" } }", "{\n  \"s\": \"true\"\n}\n");
}
END_TEST

START_TEST(test_edit__json_set_refuses_bad_input)
{
	int rc;
	char *got = edit("{\"a\": 1}", "json_set: { path: /f, set: { a.b: 2 } }", &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(got, "{\"a\": 1}");
	free(got);
	got = edit("{\"a\": 1,", "json_set: { path: /f, set: { b: 2 } }", &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(got, "{\"a\": 1,");
	free(got);
	got = edit("[1]", "json_set: { path: /f, set: { b: 2 } }", &rc);
	ck_assert_int_eq(rc, 1);
	free(got);
}
END_TEST

START_TEST(test_edit__line_replace_append_absent)
{
	EDIT_EQ("a=1\nb=2\n", "line: { path: /f, regexp: '^b=', line: b=3 }", "a=1\nb=3\n");
	EDIT_EQ("a=1\n", "line: { path: /f, regexp: '^b=', line: b=3 }", "a=1\nb=3\n");
	EDIT_EQ("a=1\nb=2\nb=4\n", "line: { path: /f, regexp: '^b=', state: absent }", "a=1\n");
}
END_TEST

Suite *suite_edit(void)
{
	Suite *s = suite_create("edit");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_edit__yaml_set_replaces_in_place);
	tcase_add_test(tc, test_edit__yaml_set_adds_nested);
	tcase_add_test(tc, test_edit__yaml_set_creates_file);
	tcase_add_test(tc, test_edit__yaml_set_quotes_strings);
	tcase_add_test(tc, test_edit__yaml_set_refuses_scalar_parent);
	tcase_add_test(tc, test_edit__toml_set_in_table_keeps_comment);
	tcase_add_test(tc, test_edit__toml_set_appends_table);
	tcase_add_test(tc, test_edit__toml_set_refuses_multiline);
	tcase_add_test(tc, test_edit__json_set_keeps_other_keys);
	tcase_add_test(tc, test_edit__json_set_converged_is_untouched);
	tcase_add_test(tc, test_edit__json_set_creates_file);
	tcase_add_test(tc, test_edit__json_set_refuses_bad_input);
	tcase_add_test(tc, test_edit__line_replace_append_absent);
	suite_add_tcase(s, tc);
	return s;
}
