/*
 * jail.h: paths resolved inside a root directory the way a chroot would
 * resolve them. `..` never climbs above the root and an absolute symlink
 * (an image's /etc/resolv.conf -> /run/...) means the root's /run, for
 * every component. A root is often an image or a chroot tree full of such
 * links; following them onto the host would make --root write the host.
 *
 * The kernel does it (openat2 with RESOLVE_IN_ROOT, Linux >= 5.6); where
 * that call is missing or filtered, a component walk does the same with
 * one directory fd per level. Either way callers get file descriptors, not
 * strings, and do their writes with openat/renameat relative to them, so a
 * symlink swapped in after the resolution cannot redirect a write.
 */
#ifndef NP_JAIL_H
#define NP_JAIL_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"

struct jail {
	int root_fd; /* O_PATH directory fd of the root */
	char *root;  /* as given, without a trailing slash; "" for / */
};

#define JAIL_INIT { -1, NULL }

/**
 * Open the root ("" or "/" for the real root). NP_ENOTFOUND when it does
 * not exist, NP_ERROR when it is not a directory.
 */
int jail_init(struct jail *j, const char *root);
/** Close the root fd and free the name. */
void jail_release(struct jail *j);

/**
 * Open path (absolute, as seen inside the root) with open(2) flags and
 * mode. Every component, the last one included unless flags has
 * O_NOFOLLOW, is resolved inside the root; O_CREAT is not accepted (create
 * through jail_open_parent). Returns the fd, or -errno (-EINVAL for a
 * relative path, -ELOOP for too many links, -ENOENT/-ENOTDIR for missing).
 */
int jail_open(const struct jail *j, const char *path, int flags, mode_t mode);

/**
 * Open, inside the root, the directory that holds path's last component
 * (O_RDONLY|O_DIRECTORY, so it can be fsync'd); *name points into path at
 * that component. Returns the fd or -errno; -EINVAL when path is relative
 * or its last component is "." or ".." (it names no entry of a directory).
 */
int jail_open_parent(const struct jail *j, const char *path, const char **name);

/** path as the local process sees it without resolving anything (root + path), for messages. */
void jail_display(struct buf *out, const struct jail *j, const char *path);

/**
 * The host path path resolves to inside the root, with no symlink and no
 * ".." left in it (the parent resolved in the root, the last component
 * appended as it is, or followed inside the root when follow is true and
 * it exists), for tools that take only path names (libgit2, a command's
 * cwd). Appends to out; -errno on failure.
 */
int jail_resolve(struct buf *out, const struct jail *j, const char *path, bool follow);

/** Force the component walk even where openat2 works (tests; NODEPREP_RESOLVE=walk). */
void jail_force_walk(bool on);

#endif
