/*
 * fsutil.c: see fsutil.h. The atomic writer names its temp file
 * ".NAME.np-XXXXXX" beside the target so rename() never crosses a file
 * system, and fsyncs the directory so the rename itself is durable.
 */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "banned.h"

int fs_read_file(struct buf *out, const char *path)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return np_error_setc(errno == ENOENT || errno == ENOTDIR ? NP_ENOTFOUND : NP_ERROR,
				     "cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return np_error_set("cannot read '%s': %s", path, strerror(e));
		}
		if (n == 0)
			break;
		buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
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

static int fs__fsync_dir(const char *path)
{
	struct buf dir = BUF_INIT;
	fs_dirname(&dir, path);
	int fd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	buf_release(&dir);
	if (fd < 0)
		return -1;
	fsync(fd);
	close(fd);
	return 0;
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

static void fs__temp_name(struct buf *tmp, const char *path)
{
	const char *base = strrchr(path, '/');
	fs_dirname(tmp, path);
	buf_addf(tmp, "/.%s.np-XXXXXX", base ? base + 1 : path);
}

int fs_write_atomic(const char *path, const void *data, size_t len, int mode, int uid, int gid)
{
	struct buf tmp = BUF_INIT;
	struct stat old;
	int fd = -1, r = NP_ERROR;
	bool had_old = stat(path, &old) == 0;

	fs__temp_name(&tmp, path);
	fd = mkostemp(tmp.ptr, O_CLOEXEC);
	if (fd < 0) {
		r = np_error_set("cannot create a temporary file beside '%s': %s", path, strerror(errno));
		goto out;
	}
	mode_t m = mode >= 0 ? (mode_t)mode : had_old ? (old.st_mode & 07777) : 0644;
	uid_t u = uid >= 0 ? (uid_t)uid : had_old ? old.st_uid : (uid_t)-1;
	gid_t g = gid >= 0 ? (gid_t)gid : had_old ? old.st_gid : (gid_t)-1;
	if (fs__write_all(fd, data, len) < 0 || fchmod(fd, m) < 0 ||
	    ((u != (uid_t)-1 || g != (gid_t)-1) && fchown(fd, u, g) < 0 && errno != EPERM) ||
	    fsync(fd) < 0) {
		r = np_error_set("cannot write '%s': %s", tmp.ptr, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp.ptr, path) < 0) {
		r = np_error_set("cannot rename '%s' to '%s': %s", tmp.ptr, path, strerror(errno));
		goto out;
	}
	fs__fsync_dir(path);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp.len)
		unlink(tmp.ptr);
	buf_release(&tmp);
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

int fs_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : np_error_set("cannot stat '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (!d)
			return np_error_set("cannot open directory '%s': %s", path, strerror(errno));
		struct dirent *de;
		int r = 0;
		while (!r && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			struct buf child = BUF_INIT;
			fs_join(&child, path, de->d_name);
			r = fs_remove_tree(child.ptr);
			buf_release(&child);
		}
		closedir(d);
		if (r)
			return r;
		if (rmdir(path) < 0)
			return np_error_set("cannot remove '%s': %s", path, strerror(errno));
		return 0;
	}
	if (unlink(path) < 0)
		return np_error_set("cannot remove '%s': %s", path, strerror(errno));
	return 0;
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
static void fs__retire(const char *old, const char *keep)
{
	if (!keep || rename(old, keep) < 0)
		fs_remove_tree(old);
}

int fs_replace_tree(const char *tmp, const char *dest, const char *keep)
{
	struct buf old = BUF_INIT;
	bool had = fs_exists(dest);
	int r = 0;
	if (had && renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_EXCHANGE) == 0) {
		fs__retire(tmp, keep);
		return 0;
	}
	if (had) {
		buf_addf(&old, "%s.np-old", dest);
		fs_remove_tree(old.ptr);
		if (rename(dest, old.ptr) < 0) {
			r = np_error_set("cannot move '%s' aside: %s", dest, strerror(errno));
			goto out;
		}
	}
	if (rename(tmp, dest) < 0) {
		r = np_error_set("cannot rename into '%s': %s", dest, strerror(errno));
		if (old.len)
			rename(old.ptr, dest);
		goto out;
	}
	if (old.len)
		fs__retire(old.ptr, keep);
out:
	buf_release(&old);
	return r;
}
