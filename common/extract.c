/*
 * extract.c: see extract.h. The checks are ours (for clear messages that
 * name the entry); libarchive's SECURE_* flags stay on underneath as a
 * second line of defence.
 */
#include "extract.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "error.h"
#include "fsutil.h"
#include "banned.h"

#define DEFAULT_MAX (64ULL << 30)

struct archive *extract_reader_open(const char *src, const void *data, size_t len)
{
	struct archive *a = archive_read_new();
	if (!a)
		abort();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_zip(a);
	int r = src ? archive_read_open_filename(a, src, 65536) : archive_read_open_memory(a, data, len);
	if (r != ARCHIVE_OK) {
		np_error_set("cannot open archive '%s': %s", src ? src : "(memory)",
			     archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/*
 * Normalise an archive path: refuse absolute paths and "..", drop "." and
 * empty parts, then strip leading components. out gets the relative path
 * ("" when everything was stripped).
 */
static int extract__clean(struct buf *out, const char *name, int strip)
{
	if (name[0] == '/')
		return np_error_setc(NP_EINVALID, "entry '%s' has an absolute path", name);
	const char *p = name;
	int skipped = 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2))
			return np_error_setc(NP_EINVALID, "entry '%s' contains '..'", name);
		if (n && !(n == 1 && p[0] == '.')) {
			if (skipped < strip) {
				skipped++;
			} else {
				if (out->len)
					buf_addch(out, '/');
				buf_add(out, p, n);
			}
		}
		p += n + (p[n] == '/');
	}
	return 0;
}

/* Does a symlink at rel (relative to dest) pointing at target stay inside dest? */
static bool extract__link_inside(const char *rel, const char *target)
{
	if (target[0] == '/')
		return false;
	int depth = 0;
	for (const char *p = rel; *p; p++)
		depth += *p == '/';
	for (const char *p = target; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2))
			depth--;
		else if (n && !(n == 1 && p[0] == '.'))
			depth++;
		if (depth < 0)
			return false;
		p += n + (p[n] == '/');
	}
	return true;
}

static int extract__entry(struct archive *a, struct archive *w, struct archive_entry *e,
			  const char *tmp, const struct extract_opts *o, unsigned long long *total)
{
	struct buf rel = BUF_INIT, full = BUF_INIT, link = BUF_INIT, namebuf = BUF_INIT;
	/* a copy: set_pathname below frees the entry's own string */
	buf_adds(&namebuf, archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
	const char *name = namebuf.ptr;
	const char *hard = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	int r = extract__clean(&rel, name, o->strip_components);
	if (r || !rel.len || (o->skip && !strcmp(rel.ptr, o->skip)))
		goto out;
	if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
		r = np_error_setc(NP_EINVALID, "entry '%s' is a device node, FIFO or socket", name);
		goto out;
	}
	if (type == AE_IFLNK && !o->allow_outside_symlinks &&
	    !extract__link_inside(rel.ptr, archive_entry_symlink(e))) {
		r = np_error_setc(NP_EINVALID, "symlink '%s' -> '%s' points outside the destination",
				  name, archive_entry_symlink(e));
		goto out;
	}
	if (hard) {
		if ((r = extract__clean(&link, hard, o->strip_components)) || !link.len) {
			np_error_setc(NP_EINVALID, "hardlink '%s' -> '%s' points outside the destination",
				      name, hard);
			r = NP_EINVALID;
			goto out;
		}
		buf_reset(&full);
		fs_join(&full, tmp, link.ptr);
		archive_entry_set_hardlink(e, full.ptr);
	}
	*total += (unsigned long long)archive_entry_size(e);
	if (*total > (o->max_bytes ? o->max_bytes : DEFAULT_MAX)) {
		r = np_error_setc(NP_EINVALID, "entry '%s' takes the archive over %llu bytes", name,
				  o->max_bytes ? o->max_bytes : DEFAULT_MAX);
		goto out;
	}
	buf_reset(&full);
	fs_join(&full, tmp, rel.ptr);
	archive_entry_set_pathname(e, full.ptr);
	if (archive_write_header(w, e) != ARCHIVE_OK) {
		r = np_error_set("cannot write '%s': %s", rel.ptr, archive_error_string(w));
		goto out;
	}
	const void *blk;
	size_t n;
	la_int64_t off;
	int s;
	while ((s = archive_read_data_block(a, &blk, &n, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(w, blk, n, off) != ARCHIVE_OK) {
			r = np_error_set("cannot write '%s': %s", rel.ptr, archive_error_string(w));
			goto out;
		}
	if (s != ARCHIVE_EOF)
		r = np_error_set("truncated or corrupt archive at '%s': %s", name, archive_error_string(a));
	else if (archive_write_finish_entry(w) != ARCHIVE_OK)
		r = np_error_set("cannot finish '%s': %s", rel.ptr, archive_error_string(w));
out:
	buf_release(&rel);
	buf_release(&full);
	buf_release(&link);
	buf_release(&namebuf);
	return r;
}

static int extract__all(struct archive *a, const char *tmp, const struct extract_opts *o)
{
	struct archive *w = archive_write_disk_new();
	struct archive_entry *e;
	unsigned long long total = 0;
	int r = 0, s;
	if (!w)
		abort();
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
					      ARCHIVE_EXTRACT_SECURE_SYMLINKS |
					      ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	while (!r && (s = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (s < ARCHIVE_WARN) {
			r = np_error_set("truncated or corrupt archive: %s", archive_error_string(a));
			break;
		}
		r = extract__entry(a, w, e, tmp, o, &total);
	}
	if (archive_write_close(w) != ARCHIVE_OK && !r)
		r = np_error_set("cannot finish extracting: %s", archive_error_string(w));
	archive_write_free(w);
	return r;
}

/*
 * libarchive takes path names only, and refuses (SECURE_SYMLINKS) any that
 * pass a symlink, /proc/self/fd/N included. So it is given names relative
 * to the temp dir made as the working directory for the time of the
 * extraction: nothing above that dir is looked up again. nodeprep is
 * single-threaded; the previous working directory is restored.
 */
static int extract__in(struct archive *a, int tfd, const char *what, const struct extract_opts *o)
{
	int saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), r;
	if (saved < 0 || fchdir(tfd) < 0) {
		r = np_error_set("cannot enter the temp dir beside '%s': %s", what, strerror(errno));
		goto out;
	}
	r = extract__all(a, ".", o);
	if (fchdir(saved) < 0 && !r)
		r = np_error_set("cannot return to the working directory: %s", strerror(errno));
out:
	if (saved >= 0)
		close(saved);
	return r;
}

/*
 * Everything happens relative to dir (the directory that holds dest, as
 * the caller resolved it): the temp dir is made in it, filled through its
 * fd, and swapped in with a renameat in dir.
 */
static int extract__run(const char *src, const void *data, size_t len, int dir, const char *name,
			const char *what, const struct extract_opts *o)
{
	static const struct extract_opts none = { 0, 0, false, NULL, NULL, NULL };
	struct buf tmp = BUF_INIT;
	struct archive *a = extract_reader_open(src, data, len);
	int tfd = -1, r;
	if (!a)
		return NP_ERROR;
	o = o ? o : &none;
	if (fs_mktemp_at(dir, name, "np-extract-", true, &tmp) < 0) {
		r = np_error_set("cannot create a temp dir beside '%s': %s", what, strerror(errno));
		buf_reset(&tmp);
		goto out;
	}
	if ((tfd = openat(dir, tmp.ptr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = np_error_set("cannot open the temp dir beside '%s': %s", what, strerror(errno));
		goto out;
	}
	r = extract__in(a, tfd, what, o);
	if (!r && o->marker_name)
		r = fs_write_atomic_at(tfd, o->marker_name, what, o->marker_data, strlen(o->marker_data),
				       0644, -1, -1, NULL);
	if (!r)
		r = fs_replace_tree_at(dir, tmp.ptr, dir, name, what, o->keep_old);
out:
	if (r && tmp.len)
		fs_remove_tree_at(dir, tmp.ptr, what);
	if (tfd >= 0)
		close(tfd);
	archive_read_free(a);
	buf_release(&tmp);
	return r;
}

/* A plain path: its directory made and opened, then the same as above. */
static int extract__run_path(const char *src, const void *data, size_t len, const char *dest,
			     const struct extract_opts *o)
{
	struct buf dir = BUF_INIT;
	const char *base = strrchr(dest, '/');
	int dfd = -1, r;
	fs_dirname(&dir, dest);
	if ((r = fs_mkdir_p(dir.ptr, 0755)))
		goto out;
	if ((dfd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = np_error_set("cannot open '%s': %s", dir.ptr, strerror(errno));
		goto out;
	}
	r = extract__run(src, data, len, dfd, base ? base + 1 : dest, dest, o);
out:
	if (dfd >= 0)
		close(dfd);
	buf_release(&dir);
	return r;
}

int extract_file(const char *src, const char *dest, const struct extract_opts *o)
{
	return extract__run_path(src, NULL, 0, dest, o);
}

int extract_file_at(const char *src, int dir, const char *name, const char *what,
		    const struct extract_opts *o)
{
	return extract__run(src, NULL, 0, dir, name, what, o);
}

int extract_mem(const void *data, size_t len, const char *dest, const struct extract_opts *o)
{
	return extract__run_path(NULL, data, len, dest, o);
}

int extract_member(const char *src, const void *data, size_t len, const char *name,
		   struct buf *out)
{
	struct archive *a = extract_reader_open(src, data, len);
	struct archive_entry *e;
	struct buf clean = BUF_INIT, want = BUF_INIT;
	int r = NP_ENOTFOUND, s;
	if (!a)
		return NP_ERROR;
	extract__clean(&want, name, 0);
	while ((s = archive_read_next_header(a, &e)) == ARCHIVE_OK || s == ARCHIVE_WARN) {
		buf_reset(&clean);
		if (extract__clean(&clean, archive_entry_pathname(e), 0) || strcmp(clean.ptr, want.ptr) ||
		    archive_entry_filetype(e) != AE_IFREG)
			continue;
		char chunk[65536];
		la_ssize_t n;
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			buf_add(out, chunk, (size_t)n);
		r = n < 0 ? np_error_set("cannot read '%s': %s", name, archive_error_string(a)) : 0;
		break;
	}
	if (r == NP_ENOTFOUND)
		np_error_setc(NP_ENOTFOUND, s == ARCHIVE_EOF ? "no '%s' in the archive" :
			      "no '%s' in the archive (it is truncated or corrupt)", name);
	archive_read_free(a);
	buf_release(&clean);
	buf_release(&want);
	return r;
}

int extract_member_offset(const char *src, const char *name, long long *off, long long *size)
{
	struct buf data = BUF_INIT, raw = BUF_INIT;
	struct archive *a = extract_reader_open(src, NULL, 0);
	struct archive_entry *e;
	int r = NP_ENOTFOUND;
	if (!a)
		return NP_ERROR;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		if (strcmp(archive_entry_pathname(e), name))
			continue;
		/* a plain ustar header is one 512-byte block before the data */
		*off = archive_read_header_position(a) + 512;
		*size = archive_entry_size(e);
		char chunk[65536];
		la_ssize_t n;
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			buf_add(&data, chunk, (size_t)n);
		r = 0;
		break;
	}
	archive_read_free(a);
	if (r) {
		np_error_setc(r, "no '%s' in '%s'", name, src);
		goto out;
	}
	if ((r = fs_read_file(&raw, src)))
		goto out;
	if (*off + *size > (long long)raw.len || memcmp(raw.ptr + *off, data.ptr, data.len))
		r = np_error_set("'%s' in '%s' is not stored as plain ustar data", name, src);
out:
	buf_release(&data);
	buf_release(&raw);
	return r;
}
