/*
 * checkpoint_image.h: turn a container checkpoint archive (kubelet, CRI-O,
 * containerd CRI) into the OCI image Kubernetes restores from: one layer
 * holding the archive's contents at /, and the annotations both runtimes
 * look for: io.kubernetes.cri-o.annotations.checkpoint.name (CRI-O) and
 * org.criu.checkpoint.container.name (containerd >= 2.1 reads it from the
 * index), plus the org.criu.checkpoint.* facts checkpointctl records.
 */
#ifndef NP_CHECKPOINT_IMAGE_H
#define NP_CHECKPOINT_IMAGE_H

/**
 * Write the image for archive to path (atomically) under name; container
 * NULL: the name recorded in the archive's config.dump. NP_EINVALID when
 * archive is not a container checkpoint or holds entries an image layer
 * must not (absolute paths, "..", links, devices).
 */
int checkpoint_image_write(const char *path, const char *archive, const char *name,
			   const char *container);

#endif
