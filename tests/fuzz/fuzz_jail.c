/*
 * Fuzz target: the root resolver (common/jail.c). A hostile root is made
 * once (absolute and relative links out, a loop, a deep link); each input
 * is a path (first line) and the target of one more link, /fz (second
 * line). Whatever it is, through openat2 and through the walk, an opened
 * fd and a resolved name must lie inside the root, and the two resolvers
 * must agree on which object a path names.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "jail.h"

static char top[64], root[96];

static void fuzz__cleanup(void)
{
	fs_remove_tree(top);
}

static void fuzz__tree(void)
{
	char p[256];
	snprintf(top, sizeof(top), "/tmp/np-fuzz-jail-%ld", (long)getpid());
	snprintf(root, sizeof(root), "%s/root", top);
	static const char *const dirs[] = { "", "/root", "/root/etc", "/root/deep", "/root/deep/a", "/out" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", top, dirs[i]);
		mkdir(p, 0755);
	}
	static const char *const links[][2] = {
		{ "/root/abs", "/etc" }, { "/root/up", "../out" }, { "/root/loop", "loop" },
		{ "/root/deep/a/back", "../../../../../out" }, { "/root/etc/host", "/tmp" },
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", top, links[i][0]);
		if (symlink(links[i][1], p) < 0)
			abort();
	}
	atexit(fuzz__cleanup);
}

/* Is the object behind fd inside the root (the root itself included)? */
static int fuzz__inside(int fd, struct stat *st)
{
	char proc[64], got[4096];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, got, sizeof(got) - 1);
	if (n < 0 || fstat(fd, st) < 0)
		abort();
	got[n] = '\0';
	size_t rl = strlen(root);
	return !strncmp(got, root, rl) && (got[rl] == '\0' || got[rl] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char path[4096], target[1024] = "";
	struct buf res = BUF_INIT;
	struct jail j = JAIL_INIT;
	struct stat st[2];
	int ok[2];
	if (!top[0])
		fuzz__tree();
	if (len > 3000 || memchr(data, 0, len))
		return 0;
	const char *nl = memchr(data, '\n', len);
	size_t plen = nl ? (size_t)(nl - (const char *)data) : len;
	snprintf(path, sizeof(path), "/%.*s", (int)plen, (const char *)data);
	if (nl) {
		size_t tl = len - plen - 1;
		snprintf(target, sizeof(target), "%.*s", (int)(tl < 1000 ? tl : 1000), nl + 1);
		char *e = strchr(target, '\n');
		if (e)
			*e = '\0';
	}
	char fz[128];
	snprintf(fz, sizeof(fz), "%s/fz", root);
	unlink(fz);
	if (target[0] && symlink(target, fz) < 0)
		abort();
	if (jail_init(&j, root))
		abort();
	for (int walk = 0; walk < 2; walk++) {
		jail_force_walk(walk);
		int fd = jail_open(&j, path, O_PATH, 0);
		ok[walk] = fd >= 0;
		if (fd >= 0) {
			if (!fuzz__inside(fd, &st[walk]))
				abort();
			close(fd);
		}
		buf_reset(&res);
		if (!jail_resolve(&res, &j, path, walk) &&
		    (strncmp(res.ptr, root, strlen(root)) || (res.ptr[strlen(root)] && res.ptr[strlen(root)] != '/')))
			abort();
		const char *name;
		fd = jail_open_parent(&j, path, &name);
		if (fd >= 0) {
			struct stat ps;
			if (!fuzz__inside(fd, &ps))
				abort();
			close(fd);
		}
	}
	/* the kernel and the walk name the same object */
	if (ok[0] != ok[1] || (ok[0] && (st[0].st_ino != st[1].st_ino || st[0].st_dev != st[1].st_dev)))
		abort();
	jail_force_walk(false);
	jail_release(&j);
	buf_release(&res);
	return 0;
}
