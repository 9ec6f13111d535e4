/*
 * fsutil.h: file operations with the guarantees nodeprep promises: whole
 * reads, atomic replacement (temp file in the same directory, fsync,
 * rename, fsync of the directory) and recursive mkdir/remove.
 */
#ifndef NP_FSUTIL_H
#define NP_FSUTIL_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"

/** Read a whole file into out (appends). NP_ENOTFOUND when it does not exist. */
int fs_read_file(struct buf *out, const char *path);
/**
 * fs_read_file for inputs a person names (recipes, scenarios, inventories):
 * more than max bytes is an error, so /dev/zero or a wrong huge file fails
 * at once instead of eating the machine's memory.
 */
int fs_read_file_max(struct buf *out, const char *path, size_t max);
/** Read fd to its end into out (appends); what names it in errors. */
int fs_read_fd(struct buf *out, int fd, const char *what);
/**
 * Replace path atomically with data. mode is applied to the new file
 * (mode < 0: keep the old file's mode, or 0644). uid/gid < 0 keep the old
 * owner. A crash at any point leaves either the old or the new file.
 */
int fs_write_atomic(const char *path, const void *data, size_t len, int mode, int uid, int gid);
/**
 * Make a new file (0600, O_EXCL, not through a link; returns its fd) or
 * directory (0700; returns 0) named ".NAME.TAGXXXXXX" in dir, the random
 * part retried on a clash; its name into tmp. -1 with errno on failure.
 */
int fs_mktemp_at(int dir, const char *name, const char *tag, bool directory, struct buf *tmp);
/**
 * The same relative to an open directory: the temp file and the rename
 * are made in dir, so only name is looked up again. Mode and owner
 * defaults come from old (the file being replaced; NULL: none). what
 * names the target in errors.
 */
int fs_write_atomic_at(int dir, const char *name, const char *what, const void *data, size_t len,
		       int mode, int uid, int gid, const struct stat *old);
/** Copy src to dst atomically (same guarantees), keeping src's mode unless mode >= 0. */
int fs_copy_atomic(const char *src, const char *dst, int mode);
/** mkdir -p; mode for created dirs. */
int fs_mkdir_p(const char *path, mode_t mode);
/** rm -rf; a missing path is not an error. */
int fs_remove_tree(const char *path);
/** rm -rf of name in dir, never following a symlink; what names it in errors. */
int fs_remove_tree_at(int dir, const char *name, const char *what);
bool fs_exists(const char *path);
bool fs_is_dir(const char *path);
/** The directory part of path (like dirname, without modifying input) into out. */
void fs_dirname(struct buf *out, const char *path);
/** Join a and b with one '/' into out (appends). */
void fs_join(struct buf *out, const char *a, const char *b);
/**
 * Put the tree at tmp in place as dest. An existing dest is exchanged with
 * it in one step (RENAME_EXCHANGE: no moment without a dest); where the
 * file system cannot exchange, it goes aside first. The replaced tree is
 * renamed to keep when given (same file system only), else removed.
 */
int fs_replace_tree(const char *tmp, const char *dest, const char *keep);
/** The same with tmp relative to dir tdir and dest to ddir (keep is a plain path). */
int fs_replace_tree_at(int tdir, const char *tmp, int ddir, const char *dest, const char *what,
		       const char *keep);
/** Make a fresh directory under $TMPDIR (or /tmp) from a prefix; path into out. */
int fs_mkdtemp(struct buf *out, const char *prefix);

#endif
