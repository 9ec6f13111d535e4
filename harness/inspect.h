/*
 * inspect.h: describe a container checkpoint the way checkpointctl's
 * show/inspect do, from any of the forms C/R tools produce: a kubelet,
 * CRI-O, Podman or containerd-CRI archive (config.dump, spec.dump,
 * checkpoint/...), a containerd `ctr` checkpoint exported as an OCI
 * archive, or a runc/CRIU image directory. Reading only; nothing is
 * extracted to disk.
 */
#ifndef NP_INSPECT_H
#define NP_INSPECT_H

#include <stdbool.h>
#include <stddef.h>

#include <stdio.h>

#include "criu_files.h"
#include "criu_image.h"
#include "criu_mem.h"
#include "criu_stats.h"

/* The files checkpointctl looks for, in its order. */
#define INSPECT_NKNOWN 7
extern const char *const inspect_known_files[INSPECT_NKNOWN];

/* One task of the process tree, beside ci->procs[i]. */
struct inspect_task {
	char *cmdline;           /* arguments joined by spaces (INSPECT_MEMORY), or NULL */
	char *env;               /* NAME=VALUE lines (INSPECT_MEMORY), or NULL */
	unsigned files_id, mnt_ns_id;
	struct criu_fd *fds;
	size_t nfds;
	struct criu_pagemap pm;  /* empty when the image has none */
	struct criu_mm mm;
	bool has_mm;
};

struct inspect_set;

/* A file of the root fs diff (rootfs-diff.tar, or a ctr export's rw layer). */
struct inspect_entry {
	char *name;
	long long size, mtime;
	unsigned mode;
};

/* inspect_checkpoint flags */
#define INSPECT_MEMORY 1u /* keep the pages images readable; read command lines and environment */
#define INSPECT_ROOTFS 2u /* list the root fs diff's files and deleted.files */

struct checkpoint_info {
	char engine[48];
	char id[96], name[128], pod[128], ns[64];
	char image[256], runtime[64], created[64], checkpointed[64];
	long long checkpoint_bytes;  /* regular files under checkpoint/ */
	long long pages_bytes;       /* checkpoint/pages-*.img */
	long long rootfs_diff_bytes; /* rootfs-diff.tar (or the rw layer) */
	bool has[INSPECT_NKNOWN];
	struct criu_stats stats;
	struct criu_proc *procs;
	size_t nprocs;
	struct inspect_task *tasks;   /* nprocs of them */
	struct criu_file *files;      /* files.img: every open file, pipe and socket */
	size_t nfiles;
	struct criu_mount *mounts;    /* the root task's mount namespace */
	size_t nmounts;
	char **ips;                   /* addresses from network.status */
	size_t nips;
	uint64_t mem_pages;           /* pages stored (all tasks) */
	struct inspect_entry *rootfs; /* INSPECT_ROOTFS */
	size_t nrootfs;
	char **deleted;               /* deleted.files (INSPECT_ROOTFS) */
	size_t ndeleted;
	bool rootfs_listed;           /* a root fs diff was there and was read */
	struct inspect_set *set;      /* the files read, for inspect_pages */
};

/**
 * Inspect path (archive or directory). NP_EINVALID when it is not a
 * checkpoint; on failure *out holds nothing (inspect_free is harmless).
 */
int inspect_checkpoint(struct checkpoint_info *out, const char *path);
/** Same, with INSPECT_* flags. */
int inspect_checkpoint_ex(struct checkpoint_info *out, const char *path, unsigned flags);
/**
 * The pages image of task i (pages-<pages_id>.img), positioned anywhere;
 * owned by ci. Needs INSPECT_MEMORY. NP_ENOTFOUND when absent.
 */
int inspect_pages(FILE **out, struct checkpoint_info *ci, size_t task);
/** Index of pid in ci->procs, or -1. */
long inspect_task_index(const struct checkpoint_info *ci, unsigned pid);
/** The task whose file id id is, as "PID:FD" pairs joined by commas, into out. */
void inspect_file_holders(char *out, size_t n, const struct checkpoint_info *ci, unsigned id);
void inspect_free(struct checkpoint_info *ci);

#endif
