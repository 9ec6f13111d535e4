/* Unit tests for common/ytree.c: marks, refusals, scalar typing. */
#include <string.h>

#include "error.h"
#include "suites.h"
#include "ytree.h"

static struct ynode *parse_ok(const char *text)
{
	struct ynode *n = NULL;
	ck_assert_int_eq(ytree_parse(&n, "t.yaml", text, strlen(text)), 0);
	return n;
}

START_TEST(test_ytree__marks)
{
	struct ynode *n = parse_ok("a: 1\nb:\n  c: \"x\"\n");
	struct ynode *c = ynode_get(ynode_get(n, "b"), "c");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->value, "x");
	ck_assert_int_eq(c->start.line, 3);
	ck_assert_int_eq(c->start.col, 6);
	ck_assert(c->quoted);
	ynode_free(n);
}
END_TEST

START_TEST(test_ytree__refuses_alias)
{
	struct ynode *n = NULL;
	const char *t = "a: &x 1\nb: *x\n";
	ck_assert_int_eq(ytree_parse(&n, "t.yaml", t, strlen(t)), NP_EINVALID);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "t.yaml:2:4: aliases"));
}
END_TEST

START_TEST(test_ytree__refuses_duplicate_key)
{
	struct ynode *n = NULL;
	const char *t = "a: 1\na: 2\n";
	ck_assert_int_eq(ytree_parse(&n, "t.yaml", t, strlen(t)), NP_EINVALID);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "t.yaml:2:1: duplicate key 'a'"));
}
END_TEST

START_TEST(test_ytree__refuses_two_documents)
{
	struct ynode *n = NULL;
	const char *t = "a: 1\n---\nb: 2\n";
	ck_assert_int_eq(ytree_parse(&n, "t.yaml", t, strlen(t)), NP_EINVALID);
}
END_TEST

START_TEST(test_ytree__empty_is_map)
{
	struct ynode *n = parse_ok("");
	ck_assert_int_eq(n->type, YNODE_MAP);
	ck_assert_int_eq(n->n, 0);
	ynode_free(n);
}
END_TEST

START_TEST(test_ytree__bool_and_int)
{
	struct ynode *n = parse_ok("a: true\nb: \"true\"\nc: 42\nd: 4x\n");
	bool b;
	long l;
	ck_assert_int_eq(ynode_bool(&b, ynode_get(n, "a")), 0);
	ck_assert(b);
	ck_assert_int_eq(ynode_bool(&b, ynode_get(n, "b")), NP_EINVALID);
	ck_assert_int_eq(ynode_long(&l, ynode_get(n, "c")), 0);
	ck_assert_int_eq(l, 42);
	ck_assert_int_eq(ynode_long(&l, ynode_get(n, "d")), NP_EINVALID);
	ynode_free(n);
}
END_TEST

START_TEST(test_ytree__deep_nesting_refused)
{
	char t[400];
	size_t k = 0;
	for (int i = 0; i < 100; i++)
		t[k++] = '[';
	t[k] = '\0';
	struct ynode *n = NULL;
	ck_assert_int_eq(ytree_parse(&n, "t.yaml", t, k), NP_EINVALID);
}
END_TEST

Suite *suite_ytree(void)
{
	Suite *s = suite_create("ytree");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_ytree__marks);
	tcase_add_test(tc, test_ytree__refuses_alias);
	tcase_add_test(tc, test_ytree__refuses_duplicate_key);
	tcase_add_test(tc, test_ytree__refuses_two_documents);
	tcase_add_test(tc, test_ytree__empty_is_map);
	tcase_add_test(tc, test_ytree__bool_and_int);
	tcase_add_test(tc, test_ytree__deep_nesting_refused);
	suite_add_tcase(s, tc);
	return s;
}
