/*
 * run.h: runs a scenario on a backend and measures it. Each container of
 * the scenario is a lane running the same steps in its own thread; the
 * scenario passes when every lane does.
 */
#ifndef NP_RUN_H
#define NP_RUN_H

#include <stdbool.h>

#include "backend.h"
#include "criu_stats.h"
#include "scenario.h"

struct scenario_result {
	char name[128];
	char backend[32];
	bool passed;
	char reason[1024];
	double checkpoint_ms;    /* mean over checkpoints (all lanes) */
	double restore_ms;       /* mean over restores */
	double cycle_p50_ms, cycle_p99_ms; /* checkpoint+restore per cycle, all lanes */
	double downtime_ms;      /* worst stop-to-running gap */
	long long archive_bytes; /* last image size (largest lane) */
	long counter_before, counter_after;
	int cycles;              /* checkpoints taken */
	long containers;
	double wall_ms;
	struct criu_stats stats; /* CRIU's own figures for the last dump/restore */
};

/** Run s on backend ops with options o; fills res (always, even on failure). */
void run_scenario(struct scenario_result *res, const struct scenario *s,
		  const struct backend_ops *ops, const struct harness_opts *o);

#endif
