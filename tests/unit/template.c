/* Unit tests for provision/template.c: lookup order, errors, cycles, truthiness. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "suites.h"
#include "template.h"

static int render(struct buf *out, const struct var_table *ov, const struct var_table *bi, const char *text)
{
	struct scope sc = { ov, NULL, bi, NULL };
	return template_render(out, &sc, "r.yaml", NULL, text);
}

START_TEST(test_template__substitutes_and_overrides)
{
	struct var_table ov = { 0 }, bi = { 0 };
	struct buf out = BUF_INIT;
	var_table_set(&bi, "cache", "/var/cache", "(built-in)");
	var_table_set(&bi, "name", "builtin", "(built-in)");
	var_table_set(&ov, "name", "override", "-e");
	ck_assert_int_eq(render(&out, &ov, &bi, "{{cache}}/{{ name }}!"), 0);
	ck_assert_str_eq(out.ptr, "/var/cache/override!");
	buf_release(&out);
	var_table_release(&ov);
	var_table_release(&bi);
}
END_TEST

START_TEST(test_template__undefined_is_located)
{
	struct buf out = BUF_INIT;
	ck_assert_int_eq(render(&out, NULL, NULL, "abc {{ nope }}"), NP_EINVALID);
	ck_assert_str_eq(np_error_last(), "r.yaml:1:5: undefined variable 'nope'");
	buf_release(&out);
}
END_TEST

START_TEST(test_template__cycle_detected)
{
	struct var_table ov = { 0 };
	struct buf out = BUF_INIT;
	var_table_set(&ov, "a", "{{ b }}", "-e");
	var_table_set(&ov, "b", "{{ a }}", "-e");
	ck_assert_int_eq(render(&out, &ov, NULL, "{{ a }}"), NP_EINVALID);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "refers to itself"));
	buf_release(&out);
	var_table_release(&ov);
}
END_TEST

START_TEST(test_template__env_and_bad_refs)
{
	struct buf out = BUF_INIT;
	setenv("NP_TEST_VAR", "v1", 1);
	ck_assert_int_eq(render(&out, NULL, NULL, "{{ env.NP_TEST_VAR }}"), 0);
	ck_assert_str_eq(out.ptr, "v1");
	buf_reset(&out);
	ck_assert_int_eq(render(&out, NULL, NULL, "{{ env.NP_TEST_UNSET_X }}"), NP_EINVALID);
	ck_assert_int_eq(render(&out, NULL, NULL, "{{ a b }}"), NP_EINVALID);
	ck_assert_int_eq(render(&out, NULL, NULL, "{{ open"), NP_EINVALID);
	buf_release(&out);
}
END_TEST

START_TEST(test_template__truthy)
{
	ck_assert(template_truthy("amd64 == amd64"));
	ck_assert(!template_truthy("amd64 == arm64"));
	ck_assert(template_truthy("a != b"));
	ck_assert(!template_truthy("false"));
	ck_assert(template_truthy("1.26.8 >= 1.22"));
	ck_assert(template_truthy("1.22 >= 1.22"));
	ck_assert(!template_truthy("1.9 >= 1.22"));
	ck_assert(!template_truthy("1.22 >= 1.22.1"));
	ck_assert(template_truthy(" < 1.22"));
	ck_assert(template_truthy("v1.2.5 >= 1.2"));
	ck_assert(!template_truthy("1.26.8 < 1.22"));
	ck_assert(template_truthy("amd64 == amd64 and  < 1.22"));
	ck_assert(!template_truthy("amd64 == arm64 and  < 1.22"));
	ck_assert(!template_truthy("amd64 == amd64 and 1.26 < 1.22"));
	ck_assert(!template_truthy(" "));
	ck_assert(template_truthy("yes please"));
}
END_TEST

Suite *suite_template(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_template__substitutes_and_overrides);
	tcase_add_test(tc, test_template__undefined_is_located);
	tcase_add_test(tc, test_template__cycle_detected);
	tcase_add_test(tc, test_template__env_and_bad_refs);
	tcase_add_test(tc, test_template__truthy);
	suite_add_tcase(s, tc);
	return s;
}
