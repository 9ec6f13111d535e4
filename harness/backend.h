/*
 * backend.h: one interface for every runtime crharness drives. A backend
 * is a table row {name, open, start, read_counter, checkpoint, restore,
 * exec, stop, close, cleanup} in backends/backends.c; adding one is a new
 * file plus a row. Scenario code never knows which runtime it talks to.
 *
 * A backend that creates anything on this host (containers, daemons,
 * mounts, runtime state) writes it down in the run record first
 * (runrec_add on o->rec) and removes it again in `cleanup` when a run
 * died without doing so itself.
 */
#ifndef NP_BACKEND_H
#define NP_BACKEND_H

#include <stdbool.h>

#include "buf.h"

struct runrec;
struct runrec_entry;

struct harness_opts {
	const char *work_dir;    /* where bundles, images and logs go */
	const char *criu;        /* criu binary passed to the runtime */
	const char *const *env;  /* extra environment for the runtime (CRIU_FAULT=130) */
	int interval_ms;         /* counter period */
	bool keep;               /* keep work files after the run */
	const char *containerd_socket; /* a running containerd; NULL: start a private one */
	const char *docker_host;       /* a running docker engine (unix://PATH); NULL: a private dockerd */
	const char *runtime;           /* the runc binary (runc backend, and under containerd); NULL: runc */
	const char *containerd_bin;    /* containerd binary; its shim and ctr are looked for beside it */
	struct runrec *rec;            /* this run's record (runrec.h); NULL: none kept */
	/* kubelet backend */
	const char *kubeconfig, *kube_context;
	const char *kubelet_url;       /* NULL: https://<pod's hostIP>:10250 */
	const char *kubelet_cert, *kubelet_key, *kubelet_ca;
	int kubelet_timeout_s;
	const char *image;             /* the counter image the pod runs */
	/* apiserver backend: pod checkpoint subresource; crd backend: the object kind */
	const char *encrypt_secret;    /* non-NULL: encrypt with this TLS secret */
	const char *crd_group_version, *crd_kind, *crd_plural;
	/* restore through Kubernetes: a pod from a checkpoint image (loaded on the
	 * node by load_image, a shell command with {archive} and {name}) or from
	 * RESTORE_FROM=ARCHIVE in its env; under runtime_class when set */
	const char *restore_via;       /* "image" (default) or "env" */
	const char *load_image;
	const char *unload_image;      /* removes a loaded image ({name}, {archive}) at the end */
	const char *runtime_class;
};

/** One counter container as a scenario sees it. */
struct container {
	char id[96];          /* current runtime id */
	char base[96];        /* first id, for naming */
	char dir[512];        /* per-container work dir */
	char bundle[512];     /* current bundle (runc) */
	char image[512];      /* last checkpoint's image dir */
	char ref[160];        /* last checkpoint's image name (containerd) */
	char archive[512];    /* last checkpoint's archive, as its node names it (kubelet) */
	long pid;             /* init's host pid, when the backend tracks it */
	int generation;       /* bumps with each checkpoint/restore */
	int node;             /* which node/engine holds it: 0, or 1 after a new_node restore */
	unsigned loaded;      /* bit g-1: the checkpoint image of generation g is on the node (kubelet) */
	bool running;
	bool exists;          /* known to the runtime (needs stop/delete) */
};

struct ckpt_opts {
	bool leave_running;
	bool tcp_established;
	bool file_locks;
	const char *image_dir;   /* override, for failure scenarios */
};

struct restore_opts {
	bool new_id;             /* restore under a new container id */
	bool new_bundle;         /* into a copy of the bundle (leave-running, migrate) */
	bool new_node;           /* on another node/engine (backends with multi_node) */
};

struct backend;

struct backend_ops {
	const char *name;
	int (*open)(struct backend **out, const struct harness_opts *o);
	int (*start)(struct backend *b, struct container *c);
	int (*read_counter)(struct backend *b, struct container *c, long *out);
	int (*checkpoint)(struct backend *b, struct container *c, const struct ckpt_opts *o);
	/**
	 * Optional, run after the timed checkpoint: put the checkpoint's CRIU
	 * files under c->image (size, statistics, inspect) and whatever
	 * read_counter needs to report the frozen value of a stopped container.
	 */
	int (*collect)(struct backend *b, struct container *c);
	/** Optional: damage file in the last checkpoint (failure scenarios); NULL: c->image/file. */
	int (*corrupt)(struct backend *b, struct container *c, const char *file);
	int (*restore)(struct backend *b, struct container *c, const struct restore_opts *o);
	/** Run a shell command inside the container (and wait for it). */
	int (*exec)(struct backend *b, struct container *c, const char *shell);
	/** Send SIGKILL to the container's init; it stays known as stopped. */
	int (*kill)(struct backend *b, struct container *c);
	/** Is the container's init running? */
	int (*is_running)(struct backend *b, struct container *c, bool *out);
	/** Kill (if needed) and delete the container; idempotent. */
	int (*stop)(struct backend *b, struct container *c);
	void (*close)(struct backend *b);
	/** restore can move a container to a second node (restore: { new_node: true }) */
	bool multi_node;
	/** Optional: the runtime as it names itself, e.g. "runc 1.2.5", into out (for reports). */
	int (*version)(struct backend *b, struct buf *out);
	/**
	 * Optional: remove what one line of a dead run's record describes (a
	 * line this backend wrote with runrec_add), or with dry_run only say
	 * what of it still exists, starting no process. One line per thing to
	 * report (leftovers_say). 0 when nothing of it is left (dry_run: always),
	 * NP_ERROR otherwise. Runs in another process than the one that wrote
	 * the line: everything it needs must be in the line.
	 */
	int (*cleanup)(const struct runrec_entry *e, bool dry_run, struct buf *report);
};

const struct backend_ops *backend_find(const char *name);
void backend_list(struct buf *out);

#endif
