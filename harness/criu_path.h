/*
 * criu_path.h: how a runtime is made to run exactly the criu a run names.
 * runc 1.2 ignores its --criu flag (with a warning) and runs the criu it
 * finds in PATH, so the runc backend and the containerd backend's runc
 * wrapper both get a PATH whose only criu is the one given.
 */
#ifndef NP_CRIU_PATH_H
#define NP_CRIU_PATH_H
#include <stdbool.h>
#include "buf.h"

/**
 * Link WORK_DIR/criu-bin/criu to criu and put "PATH=WORK_DIR/criu-bin:<the
 * dirs of our PATH that hold no criu>" into out. *bad is set when criu
 * cannot be run (the run goes on: the runtime's failure is the result).
 * Returns 0, or an error when the link cannot be made.
 */
int criu_path_env(struct buf *out, bool *bad, const char *work_dir, const char *criu);
/**
 * The runtime's binary as an absolute path, looked up in our PATH (that
 * PATH may lose dirs above, /usr/local/sbin among them); name as it is
 * when it has a '/' or is not found. Appends to out.
 */
void criu_path_which(struct buf *out, const char *name);
#endif
