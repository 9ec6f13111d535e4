/* Unit tests for harness/criu_stats.c on hand-encoded stats images. */
#include <string.h>

#include "criu_stats.h"
#include "error.h"
#include "suites.h"

/* IMG_SERVICE magic, STATS magic, len, StatsEntry{dump{1:150,2:300,7:4}} */
static const unsigned char dump_img[] = {
	0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0x09, 0x00, 0x00, 0x00,
	0x0a, 0x08, 0x08, 0x96, 0x01, 0x10, 0xac, 0x02, 0x38, 0x04,
};

START_TEST(test_criu_stats__dump)
{
	struct criu_stats st = { 0 };
	ck_assert_int_eq(criu_stats_parse(&st, dump_img, sizeof(dump_img) - 2), NP_EINVALID);
	memset(&st, 0, sizeof(st));
	unsigned char img[sizeof(dump_img)];
	memcpy(img, dump_img, sizeof(img));
	img[8] = 10; /* payload is 10 bytes */
	ck_assert_int_eq(criu_stats_parse(&st, img, sizeof(img)), 0);
	ck_assert(st.has_dump);
	ck_assert_int_eq(st.freezing_time, 150);
	ck_assert_int_eq(st.frozen_time, 300);
	ck_assert_int_eq(st.pages_written, 4);
}
END_TEST

START_TEST(test_criu_stats__rejects_other_images)
{
	struct criu_stats st = { 0 };
	unsigned char junk[16] = "not an image....";
	ck_assert_int_eq(criu_stats_parse(&st, junk, sizeof(junk)), NP_EINVALID);
	ck_assert_int_eq(criu_stats_parse(&st, junk, 3), NP_EINVALID);
}
END_TEST

Suite *suite_criu_stats(void)
{
	Suite *s = suite_create("criu_stats");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_criu_stats__dump);
	tcase_add_test(tc, test_criu_stats__rejects_other_images);
	suite_add_tcase(s, tc);
	return s;
}
