/* Unit tests for common/spawn.c with real processes. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "spawn.h"
#include "suites.h"

START_TEST(test_spawn__captures_and_status)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 7", NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	ck_assert_int_eq(spawn_run(&sp), 0);
	ck_assert_int_eq(sp.status, 7);
	ck_assert_str_eq(sp.out.ptr, "out\n");
	ck_assert_str_eq(sp.err.ptr, "err\n");
	spawn_release(&sp);
}
END_TEST

START_TEST(test_spawn__not_found)
{
	const char *argv[] = { "/nonexistent/prog", NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	ck_assert_int_eq(spawn_run(&sp), NP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "/nonexistent/prog"));
	spawn_release(&sp);
}
END_TEST

START_TEST(test_spawn__timeout_kills_group)
{
	const char *argv[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.timeout_ms = 200;
	ck_assert_int_eq(spawn_run(&sp), NP_ETIMEOUT);
	spawn_release(&sp);
}
END_TEST

START_TEST(test_spawn__stdin_env_cwd)
{
	const char *argv[] = { "sh", "-c", "cat; echo \"$NP_X\"; pwd", NULL };
	const char *env[] = { "NP_X=42", NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.env = env;
	sp.cwd = "/";
	sp.input = "in\n";
	sp.input_len = 3;
	ck_assert_int_eq(spawn_run(&sp), 0);
	ck_assert_str_eq(sp.out.ptr, "in\n42\n/\n");
	spawn_release(&sp);
}
END_TEST

START_TEST(test_spawn__stdio_only)
{
	/* an fd we inherited without close-on-exec never reaches the child */
	int fd = open("/dev/null", O_RDONLY);
	char path[64];
	ck_assert_int_ge(fd, 3);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	const char *argv[] = { "readlink", path, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	ck_assert_int_eq(spawn_run(&sp), 0);
	ck_assert_int_ne(sp.status, 0);
	ck_assert_str_eq(sp.out.ptr, "");
	spawn_release(&sp);
	close(fd);
}
END_TEST

Suite *suite_spawn(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_spawn__captures_and_status);
	tcase_add_test(tc, test_spawn__not_found);
	tcase_add_test(tc, test_spawn__timeout_kills_group);
	tcase_add_test(tc, test_spawn__stdin_env_cwd);
	tcase_add_test(tc, test_spawn__stdio_only);
	suite_add_tcase(s, tc);
	return s;
}
