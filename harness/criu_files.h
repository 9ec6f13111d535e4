/*
 * criu_files.h: what a dumped process had open and mounted, from CRIU's
 * images: files.img (one FileEntry per open file, socket, pipe...),
 * fdinfo-<files_id>.img (fd number -> file id), ids-PID.img (which
 * fdinfo and mount namespace a task uses) and mountpoints-<mnt_ns>.img.
 * CRIU >= 3.15 writes files.img; older per-kind images are not read.
 */
#ifndef NP_CRIU_FILES_H
#define NP_CRIU_FILES_H

#include <stdbool.h>
#include <stddef.h>

struct criu_file {
	unsigned id, type;       /* type: CRIU's fd_types (1 REG, 2 PIPE, 4 INETSK, 5 UNIXSK...) */
	char desc[288];          /* path, "pipe:[N]", or the socket's addresses */
	bool socket;
	unsigned family, sk_type, proto, state, src_port, dst_port;
	char src[48], dst[48];   /* inet addresses as text */
	char uname[112];         /* unix socket name ('@' for abstract) */
};

struct criu_fd {
	unsigned fd, id, type;
};

struct criu_mount {
	unsigned mnt_id, parent;
	char fstype[32], mountpoint[256], source[128], options[256];
};

/** Parse files.img into *out (caller frees); NP_EINVALID when malformed. */
int criu_files_parse(struct criu_file **out, size_t *n, const unsigned char *data, size_t len);
/** Parse fdinfo-N.img into *out (caller frees). */
int criu_fdinfo_parse(struct criu_fd **out, size_t *n, const unsigned char *data, size_t len);
/** files_id and mnt_ns_id from ids-PID.img. */
int criu_ids_parse(unsigned *files_id, unsigned *mnt_ns_id, const unsigned char *data, size_t len);
/** Parse mountpoints-N.img into *out (caller frees). */
int criu_mounts_parse(struct criu_mount **out, size_t *n, const unsigned char *data, size_t len);

/** "REG", "PIPE", "INETSK"... for a CRIU fd type; "?" when unknown. */
const char *criu_file_type_name(unsigned type);
/** "TCP"/"UDP"/"UNIX stream"... and "LISTEN"/"ESTABLISHED"... for a socket. */
const char *criu_sock_proto_name(const struct criu_file *f);
const char *criu_sock_state_name(unsigned state);

#endif
