/*
 * ckpt_validate.h: is each file a checkpoint carries what it says it is?
 * config.dump, spec.dump, status.dump and network.status must be JSON
 * documents, checkpoint/inventory.img a CRIU inventory image. A broken
 * one is named with what is wrong with it (empty, truncated, not JSON, a
 * wrong magic), as checkpointctl does (`config.dump: unexpected end of
 * JSON input`); a missing optional one is only a note. inspect and
 * `image from-checkpoint` both call it before describing anything.
 */
#ifndef NP_CKPT_VALIDATE_H
#define NP_CKPT_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/** One file of the checkpoint as the reader found it. */
struct ckpt_view {
	const char *data; /* NULL when its contents were not read */
	size_t len;
	long long size;   /* as listed (an archive's header, a file's stat) */
};

/** Find name in the reader's list; false when the checkpoint has no such file. */
typedef bool (*ckpt_lookup_fn)(void *list, const char *name, struct ckpt_view *out);

/** Must the reader load name's contents for ckpt_validate? */
bool ckpt_validate_wants(const char *name);

/**
 * Check the checkpoint at path (for messages) whose files lookup finds in
 * list; nfiles is how many there are. Returns 0, or NP_EINVALID with
 * "PATH: NAME: what is wrong". Optional files a kubelet/CRI-O/Podman
 * archive lacks are appended to notes, one line each.
 */
int ckpt_validate(const char *path, ckpt_lookup_fn lookup, void *list, size_t nfiles,
		  bool has_checkpoint_dir, struct buf *notes);

#endif
