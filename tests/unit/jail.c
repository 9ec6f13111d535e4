/*
 * Unit tests for common/jail.c on a real hostile tree: every case runs
 * twice, through openat2 (_i == 0) and through the component walk
 * (_i == 1), which must agree.
 *
 *   T/out/f            "host"     (the sentinel outside the root)
 *   T/root/out/f       "jailed"   (where links to "out" must land)
 *   T/root/sub/file    "inside"
 *   T/root/abs      -> T/out      (an absolute link: the root's T/out, absent)
 *   T/root/slash    -> /sub       (an absolute link into the root)
 *   T/root/rel      -> ../out     (a relative link one level above the root)
 *   T/root/sub/deep -> ../../../../../../out
 *   T/root/dangling -> /nowhere
 *   T/root/loop1 <-> T/root/loop2
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "jail.h"
#include "suites.h"

static struct buf top = BUF_INIT, root = BUF_INIT, out = BUF_INIT;

static void put(const char *dir, const char *rel, const char *text)
{
	struct buf p = BUF_INIT;
	buf_addf(&p, "%s/%s", dir, rel);
	ck_assert_int_eq(fs_write_atomic(p.ptr, text, strlen(text), 0644, -1, -1), 0);
	buf_release(&p);
}

static void link_at(const char *target, const char *rel)
{
	struct buf p = BUF_INIT;
	buf_addf(&p, "%s/%s", root.ptr, rel);
	ck_assert_int_eq(symlink(target, p.ptr), 0);
	buf_release(&p);
}

static void setup(void)
{
	struct buf p = BUF_INIT;
	ck_assert_int_eq(fs_mkdtemp(&top, "np-jail"), 0);
	buf_addf(&root, "%s/root", top.ptr);
	buf_addf(&out, "%s/out", top.ptr);
	buf_addf(&p, "%s/sub", root.ptr);
	ck_assert_int_eq(fs_mkdir_p(p.ptr, 0755), 0);
	buf_reset(&p);
	buf_addf(&p, "%s/out", root.ptr);
	ck_assert_int_eq(fs_mkdir_p(p.ptr, 0755), 0);
	ck_assert_int_eq(fs_mkdir_p(out.ptr, 0755), 0);
	put(out.ptr, "f", "host");
	put(root.ptr, "out/f", "jailed");
	put(root.ptr, "sub/file", "inside");
	link_at(out.ptr, "abs");
	link_at("/sub", "slash");
	link_at("../out", "rel");
	link_at("../../../../../../out", "sub/deep");
	link_at("/nowhere", "dangling");
	link_at("loop2", "loop1");
	link_at("/loop1", "loop2");
	buf_release(&p);
}

static void teardown(void)
{
	jail_force_walk(false);
	fs_remove_tree(top.ptr);
	buf_release(&top);
	buf_release(&root);
	buf_release(&out);
}

/* The content of path opened in the jail, or the -errno as text. */
static void read_in(struct buf *got, const struct jail *j, const char *path)
{
	int fd = jail_open(j, path, O_RDONLY, 0);
	buf_reset(got);
	if (fd < 0) {
		buf_addf(got, "errno %d", -fd);
		return;
	}
	ck_assert_int_eq(fs_read_fd(got, fd, path), 0);
	close(fd);
}

static void jail_for(struct jail *j, int walk)
{
	jail_force_walk(walk);
	ck_assert_int_eq(jail_init(j, root.ptr), 0);
}

START_TEST(test_jail__dotdot_and_links_stay_inside)
{
	struct jail j = JAIL_INIT;
	struct buf got = BUF_INIT, want = BUF_INIT;
	jail_for(&j, _i);
	static const char *const cases[][2] = {
		{ "/sub/file", "inside" },
		{ "/../../../sub/file", "inside" },
		{ "/sub/../../../sub/./file", "inside" },
		{ "/slash/file", "inside" },
		{ "/rel/f", "jailed" },
		{ "/sub/deep/f", "jailed" },
		{ "/rel/../rel/../../out/f", "jailed" },
		{ "/slash/../slash/../../../sub/file", "inside" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		read_in(&got, &j, cases[i][0]);
		ck_assert_msg(!strcmp(got.ptr, cases[i][1]), "%s (%s): got '%s', want '%s'", cases[i][0],
			      _i ? "walk" : "openat2", got.ptr, cases[i][1]);
	}
	/* the absolute link to the sentinel means the root's copy of that path: absent */
	read_in(&got, &j, "/abs/f");
	buf_addf(&want, "errno %d", ENOENT);
	ck_assert_str_eq(got.ptr, want.ptr);
	jail_release(&j);
	buf_release(&got);
	buf_release(&want);
}
END_TEST

START_TEST(test_jail__loops_dangling_relative)
{
	struct jail j = JAIL_INIT;
	jail_for(&j, _i);
	ck_assert_int_eq(jail_open(&j, "/loop1", O_RDONLY, 0), -ELOOP);
	ck_assert_int_eq(jail_open(&j, "/loop1/x", O_RDONLY, 0), -ELOOP);
	ck_assert_int_eq(jail_open(&j, "/dangling", O_RDONLY, 0), -ENOENT);
	ck_assert_int_eq(jail_open(&j, "sub/file", O_RDONLY, 0), -EINVAL);
	ck_assert_int_eq(jail_open(&j, "/sub/file/x", O_RDONLY, 0), -ENOTDIR);
	/* O_NOFOLLOW: the link itself */
	int fd = jail_open(&j, "/dangling", O_PATH | O_NOFOLLOW, 0);
	struct stat st;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	close(fd);
	jail_release(&j);
}
END_TEST

START_TEST(test_jail__parent_and_resolve)
{
	struct jail j = JAIL_INIT;
	struct buf got = BUF_INIT, want = BUF_INIT;
	struct stat a, b;
	const char *name;
	jail_for(&j, _i);
	/* the parent of /rel/f is the root's out/, not the sentinel's */
	int dir = jail_open_parent(&j, "/rel/f", &name);
	ck_assert_int_ge(dir, 0);
	ck_assert_str_eq(name, "f");
	buf_addf(&want, "%s/out", root.ptr);
	ck_assert_int_eq(fstat(dir, &a), 0);
	ck_assert_int_eq(stat(want.ptr, &b), 0);
	ck_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(dir);
	ck_assert_int_eq(jail_open_parent(&j, "/sub/..", &name), -EINVAL);
	ck_assert_int_eq(jail_open_parent(&j, "/", &name), -EINVAL);
	/* resolved names: inside the root, no link left, missing parts as given */
	ck_assert_int_eq(jail_resolve(&got, &j, "/sub/deep/f", true), 0);
	buf_reset(&want);
	buf_addf(&want, "%s/out/f", root.ptr);
	ck_assert_str_eq(got.ptr, want.ptr);
	buf_reset(&got);
	ck_assert_int_eq(jail_resolve(&got, &j, "/../abs/new/file", true), 0);
	buf_reset(&want);
	buf_addf(&want, "%s%s/new/file", root.ptr, out.ptr); /* the link, followed in the root */
	ck_assert_str_eq(got.ptr, want.ptr);
	buf_reset(&got);
	ck_assert_int_eq(jail_resolve(&got, &j, "/rel", false), 0);
	buf_reset(&want);
	buf_addf(&want, "%s/rel", root.ptr);
	ck_assert_str_eq(got.ptr, want.ptr);
	jail_release(&j);
	buf_release(&got);
	buf_release(&want);
}
END_TEST

START_TEST(test_jail__real_root)
{
	struct jail j = JAIL_INIT;
	struct buf got = BUF_INIT;
	jail_force_walk(_i);
	ck_assert_int_eq(jail_init(&j, ""), 0);
	struct buf p = BUF_INIT;
	buf_addf(&p, "%s/sub/file", root.ptr);
	read_in(&got, &j, p.ptr);
	ck_assert_str_eq(got.ptr, "inside");
	buf_reset(&p);
	buf_addf(&p, "%s/rel/f", root.ptr);
	read_in(&got, &j, p.ptr);
	ck_assert_str_eq(got.ptr, "host"); /* without a root, links mean what they say */
	jail_release(&j);
	buf_release(&got);
	buf_release(&p);
}
END_TEST

Suite *suite_jail(void)
{
	Suite *s = suite_create("jail");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_jail__dotdot_and_links_stay_inside, 0, 2);
	tcase_add_loop_test(tc, test_jail__loops_dangling_relative, 0, 2);
	tcase_add_loop_test(tc, test_jail__parent_and_resolve, 0, 2);
	tcase_add_loop_test(tc, test_jail__real_root, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
