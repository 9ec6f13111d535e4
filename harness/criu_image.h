/*
 * criu_image.h: the few things crharness reads from CRIU's own image files
 * to describe a checkpoint: the process tree (pstree.img: pid, ppid) and
 * each task's command name (core-PID.img: CoreEntry.tc.comm). Layout:
 * u32 magic, u32 image magic, then entries of u32 size + protobuf.
 */
#ifndef NP_CRIU_IMAGE_H
#define NP_CRIU_IMAGE_H

#include <stddef.h>

#include "pb.h"

struct criu_proc {
	unsigned pid, ppid, pgid, sid, threads;
	char comm[32];
};

/**
 * Check an image's second magic and point body at its entries;
 * NP_EINVALID (naming what) when it is not that image.
 */
int criu_image_body(struct pb *body, const unsigned char *data, size_t len, unsigned magic,
		    const char *what);
/** The next "u32 size + message" entry of a body: 0, 1 at the end, -1 when truncated. */
int criu_image_entry(struct pb *body, struct pb *msg);

/** Parse pstree.img into *out (caller frees); NP_EINVALID when malformed. */
int criu_pstree_parse(struct criu_proc **out, size_t *n, const unsigned char *data, size_t len);
/** The task's comm from a core-PID.img; NP_EINVALID when malformed or absent. */
int criu_core_comm(char comm[32], const unsigned char *data, size_t len);

#endif
