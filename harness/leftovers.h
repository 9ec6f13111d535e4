/*
 * leftovers.h: find and remove what a dead crharness run left on this
 * host, by the exact paths its run record names (runrec.h): processes
 * whose argv carries one of those paths, runc containers under one of its
 * runc roots, mounts under one of its dirs. Matching is exact (an argv
 * element equal to the path, a mount point inside the dir), never by
 * pattern, so nothing the run did not create is touched.
 *
 * Every function appends one line per thing to report: "removed WHAT",
 * "left WHAT" (dry_run: nothing is changed and nothing is started), or
 * "cannot remove WHAT: WHY".
 */
#ifndef CRH_LEFTOVERS_H
#define CRH_LEFTOVERS_H

#include <stdbool.h>

#include "buf.h"

/** One report line for what (see above); r is the removal's result. Returns r. */
int leftovers_say(struct buf *report, bool dry_run, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/**
 * SIGKILL every process whose argv holds flag followed by value (or
 * "flag=value"), e.g. "--root" "/tmp/crharness-x/runc-state" for the runc
 * commands of a dead run still in flight; when also is non-NULL, only
 * those that have it as an argument too (a client of a shared daemon
 * working on one of the run's containers). what names them in the report.
 */
int leftovers_kill(const char *flag, const char *value, const char *also, const char *what,
		   bool dry_run, struct buf *report);

/**
 * SIGKILL every process with an argv element at or under dir (a CRIU
 * still restoring from an image in a dead run's work dir), or whose root
 * is there (a container whose runtime state is gone). Only for dirs the
 * run made itself (mkdtemp): nobody else's process names or lives in them.
 */
int leftovers_kill_under(const char *dir, bool dry_run, struct buf *report);

/** `RUNTIME --root root delete --force` every container under root (runtime NULL: runc). */
int leftovers_runc_root(const char *root, const char *runtime, bool dry_run, struct buf *report);

/** Detach (MNT_DETACH) every mount point at or under dir, deepest first. */
int leftovers_umount_under(const char *dir, bool dry_run, struct buf *report);

#endif
