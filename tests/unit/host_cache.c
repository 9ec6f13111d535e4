/* Unit tests for provision/host_cache.c: what a batch answered, and when it is not used. */
#include <string.h>

#include "error.h"
#include "host.h"
#include "host_cache.h"
#include "spawn.h"
#include "suites.h"

START_TEST(test_host_cache__path_answers)
{
	struct host_cache *c = host_cache_new();
	struct host_stat st = { 0 }, got;
	struct buf b = BUF_INIT;
	st.exists = true;
	st.mode = 0644;
	host_cache_put_path(c, "/etc/a.conf", &st, "abc\0d", 5, true);
	ck_assert_int_eq(host_cache_stat(c, "/etc/a.conf", &got), 0);
	ck_assert_int_eq(got.mode, 0644);
	ck_assert_int_eq(host_cache_read(c, "/etc/a.conf", &b), 0);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_int_eq(memcmp(b.ptr, "abc\0d", 5), 0);
	/* not asked: not known */
	ck_assert_int_eq(host_cache_stat(c, "/etc/b.conf", &got), NP_EAGAIN);
	/* known to be missing: a read says so, as the host would */
	struct host_stat none = { 0 };
	host_cache_put_path(c, "/etc/none", &none, NULL, 0, false);
	ck_assert_int_eq(host_cache_read(c, "/etc/none", &b), NP_ENOTFOUND);
	/* a stat without content (too big, or changed between stat and cat): read live */
	host_cache_put_path(c, "/big", &st, NULL, 0, false);
	ck_assert_int_eq(host_cache_read(c, "/big", &b), NP_EAGAIN);
	host_cache_note_content(c, "/big", "xy", 2);
	buf_reset(&b);
	ck_assert_int_eq(host_cache_read(c, "/big", &b), 0);
	ck_assert_str_eq(b.ptr, "xy");
	/* after a change nothing is known */
	host_cache_clear(c);
	ck_assert_int_eq(host_cache_count(c), 0);
	ck_assert_int_eq(host_cache_stat(c, "/etc/a.conf", &got), NP_EAGAIN);
	buf_release(&b);
	host_cache_free(c);
}
END_TEST

START_TEST(test_host_cache__run_replayed)
{
	struct host_cache *c = host_cache_new();
	const char *argv[] = { "test", "-d", "/x", NULL }, *env[] = { "A=1", NULL };
	struct spawn sp = SPAWN_INIT;
	struct buf key = BUF_INIT;
	sp.argv = argv;
	sp.env = env;
	ck_assert(host_cache_run_key(&key, &sp));
	host_cache_put_run(c, key.ptr, 3, "out\n", 4, "err\n", 4);
	ck_assert_int_eq(host_cache_run(c, &sp), 0);
	ck_assert_int_eq(sp.status, 3);
	ck_assert_str_eq(sp.out.ptr, "out\n");
	ck_assert_str_eq(sp.err.ptr, "err\n");
	spawn_release(&sp);
	/* merged streams: stderr after stdout */
	struct spawn m = SPAWN_INIT;
	m.argv = argv;
	m.env = env;
	m.merge_err = true;
	ck_assert_int_eq(host_cache_run(c, &m), 0);
	ck_assert_str_eq(m.out.ptr, "out\nerr\n");
	spawn_release(&m);
	/* another env, cwd or argv is another command */
	struct spawn o = SPAWN_INIT;
	o.argv = argv;
	o.cwd = "/tmp";
	o.env = env;
	ck_assert_int_eq(host_cache_run(c, &o), NP_EAGAIN);
	spawn_release(&o);
	buf_release(&key);
	host_cache_free(c);
}
END_TEST

static void each__count(void *arg, const struct host_cache_item *it)
{
	struct buf *seen = arg;
	buf_addf(seen, "%s %s %d %zu|", it->is_run ? "run" : "path", it->key, it->is_run ? it->status : it->st->mode,
		 it->data->len);
}

/* what the ssh-master hands to its client: every answer, in order, as held */
START_TEST(test_host_cache__each)
{
	struct host_cache *c = host_cache_new();
	struct host_stat st = { 0 };
	struct buf seen = BUF_INIT;
	st.exists = true;
	st.mode = 0600;
	host_cache_each(NULL, each__count, &seen);
	ck_assert_uint_eq(seen.len, 0);
	host_cache_put_path(c, "/a", &st, "abc", 3, true);
	host_cache_put_run(c, "k", 2, "o", 1, "ee", 2);
	host_cache_put_path(c, "/a", &st, "abcd", 4, true); /* a later answer replaces, in place */
	host_cache_each(c, each__count, &seen);
	ck_assert_str_eq(seen.ptr, "path /a 384 4|run k 2 1|");
	buf_release(&seen);
	host_cache_free(c);
}
END_TEST

START_TEST(test_host_cache__unbatchable_commands)
{
	const char *argv[] = { "cat", NULL };
	struct buf key = BUF_INIT;
	struct spawn in = SPAWN_INIT, fd = SPAWN_INIT;
	in.argv = fd.argv = argv;
	in.input = "x";
	in.input_len = 1;
	fd.out_mode = SPAWN_IO_FD;
	fd.out_fd = 1;
	/* input, or output streamed to a descriptor: never answered from a batch */
	ck_assert(!host_cache_run_key(&key, &in));
	ck_assert(!host_cache_run_key(&key, &fd));
	buf_release(&key);
}
END_TEST

Suite *suite_host_cache(void)
{
	Suite *s = suite_create("host_cache");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_host_cache__path_answers);
	tcase_add_test(tc, test_host_cache__run_replayed);
	tcase_add_test(tc, test_host_cache__unbatchable_commands);
	tcase_add_test(tc, test_host_cache__each);
	suite_add_tcase(s, tc);
	return s;
}
