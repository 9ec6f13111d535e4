/*
 * counter.h: the counter workload. A busybox shell loop that increments a
 * number every interval and publishes it to /tmp/count inside the
 * container (write to a temp file, then rename, so a reader never sees a
 * torn value). stdio is /dev/null: CRIU cannot dump a container whose
 * stdout is a host file (runc#1202).
 */
#ifndef NP_COUNTER_H
#define NP_COUNTER_H

#include "buf.h"

#define COUNTER_FILE "/tmp/count"
/** A file the rootfs-changes scenario deletes. */
#define COUNTER_DELETE_ME "/etc/delete-me"

/** The shell program of the counter for a period in ms, into out. */
void counter_script(struct buf *out, int interval_ms);
/** Build a rootfs (busybox + applet links + dirs) under dir. */
int counter_make_rootfs(const char *dir);
struct tarw;
/** Write the same tree as counter_make_rootfs into a tar (an image layer). */
int counter_write_layer(struct tarw *tw);
/** Parse a counter file's content; NP_EINVALID when it is not a number. */
int counter_parse(long *out, const char *text);
/** Read and parse a counter file (the container's, or a frozen copy). */
int counter_read_file(long *out, const char *path);

/**
 * The counter's value read from the dumped memory of its shell in a
 * checkpoint (archive or image dir). NP_ENOTFOUND when the variable is
 * not there, NP_EINVALID when it is not a checkpoint.
 */
int counter_read_memory(long *out, const char *checkpoint);

#endif
