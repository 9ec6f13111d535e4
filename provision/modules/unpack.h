/*
 * unpack.h: unpacking an archive into a target directory on the local
 * host, inside its root (--root): the one way the extract kind and the
 * gomod source do it, implemented in extract.c.
 */
#ifndef NP_UNPACK_H
#define NP_UNPACK_H

struct run_ctx;
struct extract_opts;

/**
 * Unpack the local archive file into dest (a target path): dest's parent
 * (made beforehand with ctx_mkdir_parent) is resolved inside the root and
 * held open; the tree is built beside dest in it and swapped in there.
 */
int unpack_in_root(struct run_ctx *ctx, const char *archive, const char *dest,
		   const struct extract_opts *o);

#endif
