/*
 * tarw.h: deterministic tar writing through libarchive (pax format, fixed
 * mtime, uid/gid 0), into memory or a file. Used for OCI image layers and
 * archives, where the same input must give the same digest.
 */
#ifndef NP_TARW_H
#define NP_TARW_H

#include <stddef.h>

#include "buf.h"

struct tarw;

/** Write into out (appends); the caller owns out. */
int tarw_open_mem(struct tarw **tw, struct buf *out);
/** Write to path (created with mode 0644, truncated). */
int tarw_open_file(struct tarw **tw, const char *path);
int tarw_add_file(struct tarw *tw, const char *name, const void *data, size_t len, int mode);
/**
 * A regular file of exactly size bytes whose data comes from read(ctx,
 * buf, n) (bytes read, 0 at the end, <0 on error, message set): large
 * members stream through a fixed buffer instead of memory.
 */
typedef long (*tarw_read_fn)(void *ctx, void *buf, size_t n);
int tarw_add_stream(struct tarw *tw, const char *name, long long size, int mode,
		    tarw_read_fn read, void *ctx);
/** A regular file whose data is the file at path. */
int tarw_add_path(struct tarw *tw, const char *name, const char *path, int mode);
int tarw_add_dir(struct tarw *tw, const char *name, int mode);
int tarw_add_symlink(struct tarw *tw, const char *name, const char *target);
/** Finish the archive and free tw; returns the first error of the whole write. */
int tarw_close(struct tarw *tw);

#endif
