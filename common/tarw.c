/*
 * tarw.c: see tarw.h. Errors are sticky: after the first failure every
 * call returns it, so callers can check once at tarw_close.
 */
#include "tarw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <archive.h>
#include <archive_entry.h>

#include "error.h"
#include "banned.h"

struct tarw {
	struct archive *a;
	struct buf *mem;
	int err;
	char errmsg[256];
};

static la_ssize_t tarw__mem_write(struct archive *a, void *cookie, const void *data, size_t len)
{
	(void)a;
	buf_add(cookie, data, len);
	return (la_ssize_t)len;
}

static int tarw__new(struct tarw **out)
{
	struct tarw *tw = calloc(1, sizeof(*tw));
	if (!tw)
		abort();
	tw->a = archive_write_new();
	if (!tw->a)
		abort();
	archive_write_set_format_pax_restricted(tw->a);
	/* no padding to 10 KiB records: layer digests depend on exact bytes only */
	archive_write_set_bytes_in_last_block(tw->a, 1);
	*out = tw;
	return 0;
}

static int tarw__fail(struct tarw *tw, const char *what)
{
	if (!tw->err) {
		snprintf(tw->errmsg, sizeof(tw->errmsg), "%s: %s", what, archive_error_string(tw->a));
		tw->err = NP_ERROR;
	}
	return np_error_set("%s", tw->errmsg);
}

int tarw_open_mem(struct tarw **tw, struct buf *out)
{
	tarw__new(tw);
	(*tw)->mem = out;
	if (archive_write_open(( *tw)->a, out, NULL, tarw__mem_write, NULL) != ARCHIVE_OK) {
		int r = tarw__fail(*tw, "cannot start archive");
		archive_write_free((*tw)->a);
		free(*tw);
		*tw = NULL;
		return r;
	}
	return 0;
}

int tarw_open_file(struct tarw **tw, const char *path)
{
	tarw__new(tw);
	if (archive_write_open_filename((*tw)->a, path) != ARCHIVE_OK) {
		int r = np_error_set("cannot create '%s': %s", path, archive_error_string((*tw)->a));
		archive_write_free((*tw)->a);
		free(*tw);
		*tw = NULL;
		return r;
	}
	return 0;
}

static int tarw__add(struct tarw *tw, const char *name, int type, int mode, const char *link,
		     const void *data, size_t len, long long size)
{
	if (tw->err)
		return np_error_set("%s", tw->errmsg);
	struct archive_entry *e = archive_entry_new();
	if (!e)
		abort();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, (unsigned)type);
	archive_entry_set_perm(e, (mode_t)mode);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_size(e, (la_int64_t)size);
	if (link)
		archive_entry_set_symlink(e, link);
	int r = 0;
	if (archive_write_header(tw->a, e) != ARCHIVE_OK)
		r = tarw__fail(tw, name);
	else if (len && archive_write_data(tw->a, data, len) != (la_ssize_t)len)
		r = tarw__fail(tw, name);
	archive_entry_free(e);
	return r;
}

int tarw_add_file(struct tarw *tw, const char *name, const void *data, size_t len, int mode)
{
	return tarw__add(tw, name, AE_IFREG, mode, NULL, data, len, (long long)len);
}

int tarw_add_stream(struct tarw *tw, const char *name, long long size, int mode,
		    tarw_read_fn read, void *ctx)
{
	char chunk[64 * 1024];
	long long left = size;
	int r = tarw__add(tw, name, AE_IFREG, mode, NULL, NULL, 0, size);
	while (!r && left > 0) {
		long n = read(ctx, chunk, left < (long long)sizeof(chunk) ? (size_t)left : sizeof(chunk));
		if (n <= 0) {
			/* a short member would shift every later header: the archive is lost */
			tw->err = NP_ERROR;
			snprintf(tw->errmsg, sizeof(tw->errmsg), "%s: %s", name,
				 n ? np_error_last() : "ended before its declared size");
			return np_error_set("%s", tw->errmsg);
		}
		if (archive_write_data(tw->a, chunk, (size_t)n) != n)
			r = tarw__fail(tw, name);
		left -= n;
	}
	return r;
}

static long tarw__read_fd(void *ctx, void *buf, size_t n)
{
	ssize_t got;
	do
		got = read(*(int *)ctx, buf, n);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		np_error_set("read: %s", strerror(errno));
	return (long)got;
}

int tarw_add_path(struct tarw *tw, const char *name, const char *path, int mode)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return np_error_set("cannot read '%s': %s", path, strerror(e));
	}
	int r = tarw_add_stream(tw, name, (long long)st.st_size, mode, tarw__read_fd, &fd);
	close(fd);
	return r;
}

int tarw_add_dir(struct tarw *tw, const char *name, int mode)
{
	return tarw__add(tw, name, AE_IFDIR, mode, NULL, NULL, 0, 0);
}

int tarw_add_symlink(struct tarw *tw, const char *name, const char *target)
{
	return tarw__add(tw, name, AE_IFLNK, 0777, target, NULL, 0, 0);
}

int tarw_close(struct tarw *tw)
{
	int r = tw->err;
	if (r)
		np_error_set("%s", tw->errmsg);
	else if (archive_write_close(tw->a) != ARCHIVE_OK)
		r = tarw__fail(tw, "cannot finish archive");
	archive_write_free(tw->a);
	free(tw);
	return r;
}
