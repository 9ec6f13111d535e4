/*
 * ckpt_list.h: finding container checkpoints on disk (`crharness list`):
 * archives and CRIU image directories under a directory, each described by
 * inspect (engine, container, pod, time, size), so list and inspect agree.
 * Docker's containers/ID/checkpoints/NAME dirs are named from the
 * container's config.v2.json; the kubelet's checkpoint dirs are marked.
 */
#ifndef NP_CKPT_LIST_H
#define NP_CKPT_LIST_H

#include <stddef.h>
#include <sys/stat.h>
#include <jansson.h>

struct ckpt_found {
	json_t *all;    /* array of {path, engine, container, pod, namespace, time, bytes} */
	size_t skipped; /* archives or image dirs that were not readable checkpoints */
};

/** Walk dir (4 levels deep) and append what is found. -1 when dir is unreadable. */
int ckpt_list_dir(struct ckpt_found *fo, const char *dir);
/** Append path (stat st) when it is a checkpoint; count it as skipped otherwise. */
void ckpt_list_one(struct ckpt_found *fo, const char *path, const struct stat *st);

#endif
