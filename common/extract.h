/*
 * extract.h: unpack tar (gz, xz, zst, bz2) and zip archives with libarchive,
 * safely and atomically. Every entry is checked before it is written:
 * absolute paths, "..", symlinks or hardlinks pointing outside the
 * destination, device nodes/FIFOs/sockets, and a declared total size over
 * the limit are refused with the entry's name. Files go to a temp dir
 * beside dest that is renamed into place only when the whole archive was
 * read, so a failed extract leaves nothing behind.
 */
#ifndef NP_EXTRACT_H
#define NP_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct extract_opts {
	int strip_components;      /* drop this many leading path parts */
	unsigned long long max_bytes; /* refuse when entries declare more; 0: 64 GiB */
	/*
	 * Keep symlinks that point outside dest (CRIU's source tarball links
	 * /usr/include/google/protobuf/descriptor.proto). Writing *through* any
	 * symlink stays refused, so nothing can land outside dest either way.
	 */
	bool allow_outside_symlinks;
	/* a file written into the tree before it is renamed into place, so the
	 * tree and the record of what it holds appear together (or not at all) */
	const char *marker_name, *marker_data;
	/* where a replaced dest goes instead of being deleted (a rename: on
	 * another file system it is deleted after all); NULL: deleted */
	const char *keep_old;
	/* one path (after stripping) left out of dest; NULL: none */
	const char *skip;
};

/** Unpack the archive file at src into dest (replacing dest if it exists). */
int extract_file(const char *src, const char *dest, const struct extract_opts *o);
/**
 * The same with dest given as name in the open directory dir (resolved by
 * the caller, e.g. inside a --root): nothing above dir is looked up again.
 * what names dest in errors.
 */
int extract_file_at(const char *src, int dir, const char *name, const char *what,
		    const struct extract_opts *o);
/** Same, for an archive held in memory. */
int extract_mem(const void *data, size_t len, const char *dest, const struct extract_opts *o);
struct archive;
/** A libarchive reader (tar, gnutar, zip; every filter) on a file or memory; NULL + error. */
struct archive *extract_reader_open(const char *src, const void *data, size_t len);
/** Read one regular member of an archive (file or memory: src NULL) into out; NP_ENOTFOUND if absent. */
int extract_member(const char *src, const void *data, size_t len, const char *name,
		   struct buf *out);

/**
 * Where a regular member's bytes start in an uncompressed tar file, checked
 * against what libarchive reads for it (for in-place fault injection).
 */
int extract_member_offset(const char *src, const char *name, long long *off, long long *size);

#endif
