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

#include "criu_image.h"
#include "criu_stats.h"

/* The files checkpointctl looks for, in its order. */
#define INSPECT_NKNOWN 7
extern const char *const inspect_known_files[INSPECT_NKNOWN];

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
};

/** Inspect path (archive or directory). NP_EINVALID when it is not a checkpoint. */
int inspect_checkpoint(struct checkpoint_info *out, const char *path);
void inspect_free(struct checkpoint_info *ci);

#endif
