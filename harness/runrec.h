/*
 * runrec.h: the run record. A `crharness run` writes down what it creates
 * just before creating it, so that whatever ends the run (SIGKILL, the OOM
 * killer, a crash) the next run or `crharness cleanup` can remove it, and
 * only it.
 *
 * One file per run, DIR/run-PID-XXXXXX.jsonl (DIR defaults to
 * /run/crharness: a tmpfs, so records go with a reboot, as do the
 * processes and mounts they describe). The run holds an flock on its
 * record as long as it lives; a record nobody holds belongs to a dead run
 * (no pid reuse can fool that). One JSON object per line, each appended
 * with one write(2), so a crash leaves at worst a torn last line, which
 * readers skip:
 *
 *   {"crharness": 1, "pid": 123, "started": "2026-11-30T05:00:00Z",
 *    "work_dir": "/tmp/crharness-x", "own_work_dir": true}
 *   {"backend": "runc", "root": "/tmp/crharness-x/runc-state"}
 *   {"backend": "containerd", "dir": "/tmp/crharness-x/containerd", "socket": "..."}
 *   {"backend": "containerd", "socket": "/run/containerd/containerd.sock",
 *    "namespace": "crharness", "container": "crh-123-counter-basic-0"}
 *   {"backend": "docker", "host": "unix:///run/docker.sock", "container": "crh-..."}
 *
 * The header is written by runrec_open; every other line by a backend
 * (runrec_add), whose `cleanup` op (backend.h) gets the line back and
 * removes what it describes. All values are strings. Lines are undone
 * last first; the work dir, when the run made it, goes at the end.
 */
#ifndef CRH_RUNREC_H
#define CRH_RUNREC_H

#include <stdbool.h>

#include "buf.h"

#define RUNREC_DIR "/run/crharness"

struct runrec;
/** One line of a record, read back (opaque; read it with runrec_get). */
struct runrec_entry;

/**
 * Start this run's record in dir (created 0700): the header names the work
 * dir, and whether the run made it (then cleanup removes it). The record
 * is locked until runrec_close.
 */
int runrec_open(struct runrec **out, const char *dir, const char *work_dir, bool own_work_dir);

/* Ends runrec_add's pairs: a typed NULL, as a variadic call needs. */
#define RUNREC_END ((const char *)NULL)

/**
 * Append {"backend": backend, k1: v1, ...}: RUNREC_END ends the key/value
 * pairs. Call it before creating the thing. Safe from several lanes'
 * threads at once. A NULL r records nothing and returns 0.
 */
int runrec_add(struct runrec *r, const char *backend, ...) __attribute__((sentinel));

/** The value of key in e, or NULL. */
const char *runrec_get(const struct runrec_entry *e, const char *key);

/**
 * End the record: remove it (the run removed everything itself) or keep it
 * for `crharness cleanup` (something was left); frees r. NULL is fine.
 */
void runrec_close(struct runrec *r, bool remove);

/** The record's path (for messages). */
const char *runrec_path(const struct runrec *r);

/**
 * List what of this (live) run's record still exists, one line per thing,
 * nothing when all is gone. After a second SIGINT no process can be
 * started: what only a runtime client could check is listed as left.
 */
void runrec_survey(struct runrec *r, struct buf *report);

/**
 * Remove what every dead run recorded in dir left behind (dry_run: only
 * list it). *runs counts the dead runs found. Appends one line per thing
 * (leftovers.h). A dead run's record is deleted once all of it is gone.
 * Returns 0, or NP_ERROR when something could not be removed.
 */
int runrec_sweep(const char *dir, bool dry_run, struct buf *report, size_t *runs);

#endif
