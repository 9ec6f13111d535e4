/*
 * host.h: everything a step kind may do to a host. Step kinds call these,
 * never POSIX directly, so the same kind works on this machine (host_local.c,
 * with --root mapping) and, later, over SSH. Paths are as on the target
 * (absolute); the host maps them.
 */
#ifndef NP_HOST_H
#define NP_HOST_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"
#include "spawn.h"

struct host_stat {
	bool exists;
	bool is_dir;
	bool is_link;
	int mode;   /* permission bits */
	int uid, gid;
	long long size;
	long long mtime_ns;
};

struct host;

struct host_ops {
	int (*read_file)(struct host *h, const char *path, struct buf *out);
	int (*write_file)(struct host *h, const char *path, const void *data, size_t len, int mode,
			  int uid, int gid);
	int (*stat)(struct host *h, const char *path, struct host_stat *out);
	int (*mkdir)(struct host *h, const char *path, int mode);
	int (*remove)(struct host *h, const char *path);
	/** rm -rf (trees a step created: extract, git); a missing path is fine. */
	int (*remove_tree)(struct host *h, const char *path);
	int (*chmod_chown)(struct host *h, const char *path, int mode, int uid, int gid);
	/** Run sp on the host (argv as given; cwd mapped). */
	int (*run)(struct host *h, struct spawn *sp);
	void (*free)(struct host *h);
};

struct host {
	const struct host_ops *ops;
	char *root;      /* "" for the real root */
	const char *name;
};

/** How to reach a host over SSH. */
struct ssh_opts {
	const char *name;        /* for messages and results; default address */
	const char *address;
	int port;                /* 0: 22 */
	const char *user;        /* NULL: root */
	const char *key;         /* private key file; NULL: ssh-agent, then password */
	const char *known_hosts; /* NULL: ~/.ssh/known_hosts */
	bool accept_new;         /* add an unknown host key (a changed one is always refused) */
	bool become;             /* sudo -n for commands and file operations */
	const char *root;        /* remote --root, "" for / */
};

/** Connect, check the host key, authenticate. Errors name the host. */
int host_ssh_new(struct host **out, const struct ssh_opts *o);
/** True for the machine nodeprep runs on. */
bool host_is_local(const struct host *h);

/** The local host; root "" or a directory every managed path is placed under. */
struct host *host_local_new(const char *root);
void host_free(struct host *h);

/** path as the local process sees it (root prefix added); appends to out. */
void host_map_path(struct buf *out, const struct host *h, const char *path);

int host_read_file(struct host *h, const char *path, struct buf *out);
int host_write_file(struct host *h, const char *path, const void *data, size_t len, int mode,
		    int uid, int gid);
int host_stat(struct host *h, const char *path, struct host_stat *out);
int host_mkdir(struct host *h, const char *path, int mode);
int host_remove(struct host *h, const char *path);
int host_remove_tree(struct host *h, const char *path);
int host_chmod_chown(struct host *h, const char *path, int mode, int uid, int gid);
int host_run(struct host *h, struct spawn *sp);

#endif
