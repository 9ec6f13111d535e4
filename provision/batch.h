/*
 * batch.h: the checks of many steps in a few round trips. Before the steps
 * run, their checks are run ahead of time against a host that only records
 * what they ask (stats, reads, inspecting commands); everything asked goes
 * to the real host as one batch (host_prefetch), and the checks are tried
 * again until they complete or nothing new is asked. The steps then run as
 * always, and their checks find the answers in the host's cache
 * (host_cache.h), which the first change empties.
 */
#ifndef NP_BATCH_H
#define NP_BATCH_H

#include <stdbool.h>
#include <stddef.h>

struct run_ctx;
struct step_kind;
struct ynode;

/** A step as the batch sees it: its kind and rendered arguments (borrowed). */
struct batch_step {
	const struct step_kind *kind; /* NULL: not run (tags, when): nothing to fetch */
	const struct ynode *args;
	const char *name;
	bool barrier;                 /* cannot be checked ahead (its arguments failed to render...) */
};

/**
 * Prefetch for steps[0..n). Commands are asked only for steps whose earlier
 * steps are known to change nothing (a verify's command may run on the node
 * before the steps ahead of it are checked, never before a step that would
 * change something). *covered is how many steps the answers serve: up to
 * and including the first step that would change something, or up to a
 * step that cannot be checked ahead. Returns 0, or an error when the host
 * could not be reached (it is then reported by the first step that asks).
 */
int batch_prefetch(struct run_ctx *ctx, const struct batch_step *steps, size_t n, size_t *covered);

#endif
