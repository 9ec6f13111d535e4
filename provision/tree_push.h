/*
 * tree_push.h: put a directory tree made on the control host (an extract
 * checked by libarchive, a libgit2 checkout) on a remote host as dest.
 * The tree travels as one tar over SFTP and is unpacked by the node's tar
 * into a temp dir beside dest, which then replaces dest: a dropped
 * connection leaves dest as it was.
 */
#ifndef NP_TREE_PUSH_H
#define NP_TREE_PUSH_H

#include "host.h"

/** Replace dest on h by the contents of local_dir; tmp_dir holds the tar meanwhile. */
int tree_push(struct host *h, const char *local_dir, const char *dest, const char *tmp_dir);
struct extract_opts;
/**
 * Unpack an archive here (the file src, or len bytes at data when src is
 * NULL), checked as a local extract is, into a temp dir under state_dir,
 * and push the clean tree to dest on h: hostile entries never reach it.
 */
int tree_push_archive(struct host *h, const char *state_dir, const char *src, const void *data, size_t len,
		      const char *dest, const struct extract_opts *o);

#endif
