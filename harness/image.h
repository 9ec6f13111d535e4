/*
 * image.h: the counter workload as an OCI image-layout archive, made
 * without Docker: one uncompressed layer (static busybox + applet links),
 * a config whose command is the counter loop, an index.json carrying both
 * the containerd name annotation (what `ctr image import` and `kind load
 * image-archive` read) and the OCI ref name (podman, skopeo), and a
 * docker-style manifest.json (docker/podman load).
 */
#ifndef NP_IMAGE_H
#define NP_IMAGE_H

#include "buf.h"

/** Normalise a short name to containerd's form: counter -> docker.io/library/counter:latest. */
void image_normalize_name(struct buf *out, const char *name);
/** Write the counter image for name (NULL: counter:latest) to path, atomically. */
int image_write_counter(const char *path, const char *name, int interval_ms);

/**
 * Write the pod sandbox ("pause") image for name to path: one layer with
 * binary (a static program, e.g. Kubernetes' build/pause/linux/pause.c
 * compiled with gcc -static) at /pause, entrypoint /pause. No registry is
 * needed to give a node its sandbox image.
 */
int image_write_pause(const char *path, const char *name, const char *binary);

#endif
