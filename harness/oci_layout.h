/*
 * oci_layout.h: write an OCI image-layout archive with one layer, the way
 * every consumer reads it: oci-layout, index.json (containerd's name
 * annotation, the OCI ref name, and any extra annotations both on the
 * manifest's descriptor and on the index itself, since containerd reads
 * the descriptor and checkpointctl-built images carry them on the index),
 * the manifest and config blobs, and a docker-style manifest.json
 * (docker/podman load). The archive replaces path atomically.
 */
#ifndef NP_OCI_LAYOUT_H
#define NP_OCI_LAYOUT_H

#include <stddef.h>
#include <jansson.h>

#include "buf.h"
#include "sha256.h"

/** A content-addressed blob, held in memory (data) or in a file (path). */
struct oci_blob {
	char hex[SHA256_HEX_LEN + 1];
	char *data;        /* owned */
	long long len;
	const char *path;  /* not owned; data is NULL then */
};

/** Take src's bytes (src is emptied). */
void oci_blob_from_buf(struct oci_blob *b, struct buf *src);
/** Hash the file at path (kept by reference). */
int oci_blob_from_file(struct oci_blob *b, const char *path);
void oci_blob_release(struct oci_blob *b);

/** "amd64" or "arm64", for the config and the index platform. */
const char *oci_arch(void);

/**
 * Write the image: layer (an uncompressed tar), config (its rootfs and
 * history are filled in here; reference taken), name normalised to
 * containerd's form; annotations (may be NULL; reference taken) go on the
 * manifest, its index descriptor and the index.
 */
int oci_layout_write(const char *path, const char *name, const struct oci_blob *layer,
		     json_t *config, json_t *annotations);

#endif
