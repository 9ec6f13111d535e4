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

/**
 * One question a batch asks (provision/batch.c): the stat of a path (and
 * its content when it is a small regular file), or the result of a
 * command that only inspects. Every string is owned by the request.
 */
struct host_req {
	bool is_run;
	char *path;          /* !is_run: as on the target, unmapped */
	char **argv, **env;  /* is_run: NULL-terminated */
	char *cwd;
	int timeout_ms;
};

struct host_cache;

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
	/**
	 * Optional: answer every request in as few round trips as the host can,
	 * putting the answers into h->cache. A request it cannot answer is left
	 * out (it is asked again, live, when a step needs it). An error means
	 * the host is unreachable.
	 */
	int (*prefetch)(struct host *h, const struct host_req *reqs, size_t n);
};

struct host {
	const struct host_ops *ops;
	char *root;      /* "" for the real root */
	const char *name;
	struct host_cache *cache; /* answers of the last batch; NULL: none (host_cache.h) */
	struct host_root_links *root_links; /* remote --root: links that lead out (host_remote_root.c) */
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

/* For the ssh-master (ssh_master.c), which keeps one SSH host for many runs. */
/** Round trips so far (shown with -v): channels opened, shell requests, SFTP requests. */
struct host_ssh_counts {
	unsigned channels, requests, sftp_ops;
};
void host_ssh_counts(const struct host *h, struct host_ssh_counts *out);
/** Why the connection is gone, or NULL while it works. */
const char *host_ssh_lost(const struct host *h);
/** The connection's socket, to poll for the peer while idle. */
int host_ssh_fd(const struct host *h);
/**
 * The socket turned readable while no request ran: let libssh2 take what
 * came (window adjusts, keepalives). 0 while the connection works;
 * NP_ERROR, with the reason naming the host, once it is gone.
 */
int host_ssh_idle(struct host *h);
/**
 * A remote host with a root: list, once, the root's symlinks whose target
 * is absolute or has "..", which the node would follow out of the root
 * (kept in h->root_links). 0 for local hosts and the real root.
 */
int host_remote_root_check(struct host *h);
/**
 * NP_EINVALID (naming the link) when path, on a remote host with a root,
 * is or passes through one of those links; 0 otherwise. Every host_*
 * call below checks it first.
 */
int host_remote_root_path(const struct host *h, const char *path);
void host_remote_root_free(struct host *h);
/** True for the machine nodeprep runs on. */
bool host_is_local(const struct host *h);

/** The local host; root "" or a directory every managed path is placed under. */
struct host *host_local_new(const char *root);
void host_free(struct host *h);

/**
 * path as the local process would see it with the root put in front and
 * nothing resolved: for messages and for remote hosts. Never open what it
 * gives on a local host: use the ops, or host_local_resolve.
 */
void host_map_path(struct buf *out, const struct host *h, const char *path);
/**
 * For tools that take only path names (libgit2, libarchive, a tool's
 * --root): the host path that path resolves to inside the local host's
 * root (no symlink, no ".." left; the last component followed only when
 * follow is true). Remote hosts: host_map_path. Appends to out.
 */
int host_local_resolve(struct buf *out, struct host *h, const char *path, bool follow);
/**
 * The directory that holds path on a local host, opened inside its root
 * (for writes relative to it: renameat, mkdirat); *name is path's last
 * component. The caller closes *dir.
 */
int host_local_open_parent(struct host *h, const char *path, const char **name, int *dir);

int host_read_file(struct host *h, const char *path, struct buf *out);
int host_write_file(struct host *h, const char *path, const void *data, size_t len, int mode,
		    int uid, int gid);
int host_stat(struct host *h, const char *path, struct host_stat *out);
int host_mkdir(struct host *h, const char *path, int mode);
int host_remove(struct host *h, const char *path);
int host_remove_tree(struct host *h, const char *path);
int host_chmod_chown(struct host *h, const char *path, int mode, int uid, int gid);
int host_run(struct host *h, struct spawn *sp);
/** True when the host answers batches (a remote host: round trips are what cost). */
bool host_can_prefetch(const struct host *h);
/** Ask the host for reqs in one batch; answers go to its cache. */
int host_prefetch(struct host *h, const struct host_req *reqs, size_t n);

#endif
