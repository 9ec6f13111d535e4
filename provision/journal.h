/*
 * journal.h: what an apply changed, so `rollback` can undo it byte for
 * byte. Each apply gets STATE/runs/ID/ with journal.jsonl (one JSON object
 * per line, appended and fsync'd before the change it describes) and
 * backup/N copies of files as they were. A crash mid-apply therefore
 * leaves a readable journal that covers every change made.
 */
#ifndef NP_JOURNAL_H
#define NP_JOURNAL_H

#include "buf.h"

struct host;
struct journal;

/** Prepare a journal for a new apply; nothing is written until the first record. */
int journal_open(struct journal **out, const char *state_dir, const char *root);
/**
 * Record path's current state (content, mode, owner, or absence) before it
 * is changed. Only the first record per path in a run keeps data.
 */
int journal_record(struct journal *j, struct host *h, const char *path);
/**
 * Record that path (a directory tree a step is about to create or replace:
 * extract, git) is managed as a whole: rollback removes it when it did not
 * exist before. A tree that existed is not copied (too large); instead,
 * when keep is non-NULL and the host is local, *keep gets a place in this
 * run's backup dir where the step may rename the old tree once the new one
 * is in. Rollback swaps it back if it is there and otherwise reports the
 * tree as left in place.
 */
int journal_record_tree(struct journal *j, struct host *h, const char *path, struct buf *keep);
/**
 * Record that the apply is about to start daemon `name` (daemon.h: its
 * pid file and argv[0]); rollback stops it. Written before the start, so a
 * crash while the daemon comes up still leaves it to rollback.
 */
int journal_record_daemon(struct journal *j, struct host *h, const char *name,
			  const char *pid_file, const char *argv0);
/** Number of paths recorded. */
size_t journal_count(const struct journal *j);
/**
 * Mark the run finished (or failed, or interrupted: interrupted names the
 * signal that stopped it, else NULL) and free it.
 */
int journal_close(struct journal *j, int failed, const char *interrupted);

/**
 * Undo the most recent apply recorded in state_dir on host h (whose root
 * must be the one recorded, or NULL to use the recorded one). Appends one
 * line per restored/removed path to report.
 */
int journal_rollback(const char *state_dir, const char *root_override, struct host *remote,
		     struct buf *report);

#endif
