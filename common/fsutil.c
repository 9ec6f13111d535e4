/*
 * fsutil.c: see fsutil.h. The atomic writer names its temp file
 * ".NAME.np-XXXXXX" beside the target so rename() never crosses a file
 * system, and fsyncs the directory so the rename itself is durable.
 */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "banned.h"

static int fs__read_fd_max(struct buf *out, int fd, const char *what, size_t max)
{
	char chunk[65536];
	for (size_t total = 0;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return np_error_set("cannot read '%s': %s", what, strerror(errno));
		if (n == 0)
			return 0;
		if ((total += (size_t)n) > max)
			return np_error_set("'%s' is larger than %zu MiB: not a file this tool reads", what,
					    max >> 20);
		buf_add(out, chunk, (size_t)n);
	}
}

int fs_read_fd(struct buf *out, int fd, const char *what)
{
	return fs__read_fd_max(out, fd, what, SIZE_MAX);
}

int fs_read_file_max(struct buf *out, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return np_error_setc(errno == ENOENT || errno == ENOTDIR ? NP_ENOTFOUND : NP_ERROR,
				     "cannot open '%s': %s", path, strerror(errno));
	int r = fs__read_fd_max(out, fd, path, max);
	close(fd);
	return r;
}

int fs_read_file(struct buf *out, const char *path)
{
	return fs_read_file_max(out, path, SIZE_MAX);
}

void fs_dirname(struct buf *out, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		buf_adds(out, ".");
	else if (slash == path)
		buf_adds(out, "/");
	else
		buf_add(out, path, (size_t)(slash - path));
}

void fs_join(struct buf *out, const char *a, const char *b)
{
	buf_adds(out, a);
	if (out->len && out->ptr[out->len - 1] != '/' && b[0] != '/')
		buf_addch(out, '/');
	if (out->len && out->ptr[out->len - 1] == '/' && b[0] == '/')
		b++;
	buf_adds(out, b);
}

static int fs__write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int fs_mktemp_at(int dir, const char *name, const char *tag, bool directory, struct buf *tmp)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		buf_reset(tmp);
		buf_addf(tmp, ".%s.%s", name, tag);
		for (size_t i = 0; i < sizeof(rnd); i++)
			buf_addch(tmp, set[rnd[i] % (sizeof(set) - 1)]);
		int fd = directory ? mkdirat(dir, tmp->ptr, 0700)
				   : openat(dir, tmp->ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

int fs_write_atomic_at(int dir, const char *name, const char *what, const void *data, size_t len,
		       int mode, int uid, int gid, const struct stat *old)
{
	struct buf tmp = BUF_INIT;
	int fd = -1, r = NP_ERROR;

	fd = fs_mktemp_at(dir, name, "np-", false, &tmp);
	if (fd < 0) {
		r = np_error_set("cannot create a temporary file beside '%s': %s", what, strerror(errno));
		goto out;
	}
	mode_t m = mode >= 0 ? (mode_t)mode : old ? (old->st_mode & 07777) : 0644;
	uid_t u = uid >= 0 ? (uid_t)uid : old ? old->st_uid : (uid_t)-1;
	gid_t g = gid >= 0 ? (gid_t)gid : old ? old->st_gid : (gid_t)-1;
	if (fs__write_all(fd, data, len) < 0 || fchmod(fd, m) < 0 ||
	    ((u != (uid_t)-1 || g != (gid_t)-1) && fchown(fd, u, g) < 0 && errno != EPERM) ||
	    fsync(fd) < 0) {
		r = np_error_set("cannot write a temporary file beside '%s': %s", what, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	/* relative to dir, which was reached once: a link swapped into the path
	 * meanwhile cannot move where this lands */
	if (renameat(dir, tmp.ptr, dir, name) < 0) {
		r = np_error_set("cannot rename '%s' into '%s': %s", tmp.ptr, what, strerror(errno));
		goto out;
	}
	fsync(dir);
	tmp.len = 0;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp.len)
		unlinkat(dir, tmp.ptr, 0);
	buf_release(&tmp);
	return r;
}

int fs_write_atomic(const char *path, const void *data, size_t len, int mode, int uid, int gid)
{
	struct buf dir = BUF_INIT;
	struct stat old;
	const char *base = strrchr(path, '/');
	bool had_old = stat(path, &old) == 0;
	fs_dirname(&dir, path);
	int dfd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;
	if (dfd < 0)
		r = np_error_set("cannot create a temporary file beside '%s': %s", path, strerror(errno));
	else
		r = fs_write_atomic_at(dfd, base ? base + 1 : path, path, data, len, mode, uid, gid,
				       had_old ? &old : NULL);
	if (dfd >= 0)
		close(dfd);
	buf_release(&dir);
	return r;
}

int fs_copy_atomic(const char *src, const char *dst, int mode)
{
	struct buf data = BUF_INIT;
	struct stat st;
	int r = fs_read_file(&data, src);
	if (r < 0)
		goto out;
	if (mode < 0 && stat(src, &st) == 0)
		mode = (int)(st.st_mode & 07777);
	r = fs_write_atomic(dst, data.ptr, data.len, mode, -1, -1);
out:
	buf_release(&data);
	return r;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	struct buf p = BUF_INIT;
	int r = 0;
	buf_adds(&p, path);
	for (size_t i = 1; i <= p.len; i++) {
		if (i < p.len && p.ptr[i] != '/')
			continue;
		char save = p.ptr[i];
		p.ptr[i] = '\0';
		if (mkdir(p.ptr, mode) < 0 && errno != EEXIST) {
			r = np_error_set("cannot create directory '%s': %s", p.ptr, strerror(errno));
			break;
		}
		p.ptr[i] = save;
	}
	if (!r && !fs_is_dir(path))
		r = np_error_set("'%s' exists and is not a directory", path);
	buf_release(&p);
	return r;
}

int fs_remove_tree_at(int dir, const char *name, const char *what)
{
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : np_error_set("cannot stat '%s': %s", what, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dir, name, 0) < 0)
			return np_error_set("cannot remove '%s': %s", what, strerror(errno));
		return 0;
	}
	/* descend through fds opened with O_NOFOLLOW: a directory swapped for a
	 * link while this runs is not followed */
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return np_error_set("cannot open directory '%s': %s", what, strerror(e));
	}
	struct dirent *de;
	int r = 0;
	while (!r && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct buf child = BUF_INIT;
		fs_join(&child, what, de->d_name);
		r = fs_remove_tree_at(dirfd(d), de->d_name, child.ptr);
		buf_release(&child);
	}
	closedir(d);
	if (r)
		return r;
	if (unlinkat(dir, name, AT_REMOVEDIR) < 0)
		return np_error_set("cannot remove '%s': %s", what, strerror(errno));
	return 0;
}

int fs_remove_tree(const char *path)
{
	return fs_remove_tree_at(AT_FDCWD, path, path);
}

bool fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_mkdtemp(struct buf *out, const char *prefix)
{
	const char *t = getenv("TMPDIR");
	buf_addf(out, "%s/%s-XXXXXX", t && *t ? t : "/tmp", prefix);
	if (!mkdtemp(out->ptr))
		return np_error_set("cannot create a temporary directory '%s': %s", out->ptr,
				    strerror(errno));
	return 0;
}

/* A replaced tree: kept where asked (same file system only), else removed. */
static void fs__retire(int dir, const char *old, const char *what, const char *keep)
{
	if (!keep || renameat(dir, old, AT_FDCWD, keep) < 0)
		fs_remove_tree_at(dir, old, what);
}

int fs_replace_tree_at(int tdir, const char *tmp, int ddir, const char *dest, const char *what,
		       const char *keep)
{
	struct buf old = BUF_INIT;
	struct stat st;
	bool had = fstatat(ddir, dest, &st, AT_SYMLINK_NOFOLLOW) == 0;
	int r = 0;
	if (had && renameat2(tdir, tmp, ddir, dest, RENAME_EXCHANGE) == 0) {
		fs__retire(tdir, tmp, what, keep);
		return 0;
	}
	if (had) {
		buf_addf(&old, "%s.np-old", dest);
		fs_remove_tree_at(ddir, old.ptr, what);
		if (renameat(ddir, dest, ddir, old.ptr) < 0) {
			r = np_error_set("cannot move '%s' aside: %s", what, strerror(errno));
			goto out;
		}
	}
	if (renameat(tdir, tmp, ddir, dest) < 0) {
		r = np_error_set("cannot rename into '%s': %s", what, strerror(errno));
		if (old.len)
			renameat(ddir, old.ptr, ddir, dest);
		goto out;
	}
	if (old.len)
		fs__retire(ddir, old.ptr, what, keep);
out:
	buf_release(&old);
	return r;
}

int fs_replace_tree(const char *tmp, const char *dest, const char *keep)
{
	return fs_replace_tree_at(AT_FDCWD, tmp, AT_FDCWD, dest, dest, keep);
}
