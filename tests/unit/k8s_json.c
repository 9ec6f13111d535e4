/* Unit tests for harness/k8s_json.c: what the controller reads from lists and watch events. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "k8s_json.h"
#include "suites.h"

START_TEST(test_k8s_json__cc_list)
{
	const char body[] =
		"{\"kind\":\"ContainerCheckpointList\",\"metadata\":{\"resourceVersion\":\"42\"},\"items\":["
		"{\"metadata\":{\"namespace\":\"ns\",\"name\":\"a\",\"resourceVersion\":\"40\"},"
		"\"spec\":{\"podName\":\"p\",\"containerName\":\"c\"},\"status\":{\"phase\":\"Completed\"}},"
		"{\"metadata\":{\"namespace\":\"ns\",\"name\":\"b\"},\"spec\":{\"podName\":7}}]}";
	struct cc_object *items = NULL;
	size_t n = 0;
	char rv[32];
	ck_assert_int_eq(k8s_json_cc_list(body, &items, &n, rv, sizeof(rv)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rv, "42");
	ck_assert_str_eq(items[0].ns, "ns");
	ck_assert_str_eq(items[0].rv, "40");
	ck_assert_str_eq(items[0].phase, "Completed");
	ck_assert_str_eq(items[0].pod, "p");
	ck_assert_str_eq(items[0].container, "c");
	/* wrong types and missing fields read as empty: the controller then fails the object */
	ck_assert_str_eq(items[1].pod, "");
	ck_assert_str_eq(items[1].phase, "");
	free(items);
	ck_assert_int_eq(k8s_json_cc_list("{\"items\": {}}", &items, &n, rv, sizeof(rv)), NP_ERROR);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "not a list"));
	ck_assert_int_eq(k8s_json_cc_list("{\"items\": []}", &items, &n, rv, sizeof(rv)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(items);
}
END_TEST

START_TEST(test_k8s_json__watch_event)
{
	struct cc_object o;
	char type[16];
	long code;
	ck_assert_int_eq(k8s_json_watch_event("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"namespace\":\"n\","
					      "\"name\":\"x\",\"resourceVersion\":\"9\"},\"spec\":{\"podName\":\"p\"}}}",
					      type, sizeof(type), &o, &code), 0);
	ck_assert_str_eq(type, "ADDED");
	ck_assert_str_eq(o.name, "x");
	ck_assert_str_eq(o.rv, "9");
	ck_assert_int_eq(code, 0);
	ck_assert_int_eq(k8s_json_watch_event("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}",
					      type, sizeof(type), &o, &code), 0);
	ck_assert_str_eq(type, "ERROR");
	ck_assert_int_eq(code, 410);
	ck_assert_int_eq(k8s_json_watch_event("{\"type\":\"ADDED\"}", type, sizeof(type), &o, &code), NP_ERROR);
	ck_assert_int_eq(k8s_json_watch_event("not json", type, sizeof(type), &o, &code), NP_ERROR);
}
END_TEST

Suite *suite_k8s_json(void)
{
	Suite *s = suite_create("k8s_json");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_k8s_json__cc_list);
	tcase_add_test(tc, test_k8s_json__watch_event);
	suite_add_tcase(s, tc);
	return s;
}
