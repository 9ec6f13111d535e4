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
int tarw_add_dir(struct tarw *tw, const char *name, int mode);
int tarw_add_symlink(struct tarw *tw, const char *name, const char *target);
/** Finish the archive and free tw; returns the first error of the whole write. */
int tarw_close(struct tarw *tw);

#endif
