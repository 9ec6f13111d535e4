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

/*
 * Where a scenario's time went, as means per lane (start) or per cycle
 * (the rest), so runs with different K compare; cpu_ms is what all child
 * processes (runtime, CRIU, daemons) used during the scenario.
 */
struct run_phases {
	double start_ms;        /* runtime start until the counter ticks */
	double checkpoint_ms;   /* the runtime's checkpoint command */
	double criu_dump_ms;    /* of which CRIU: freezing + frozen (stats-dump) */
	double restore_ms;      /* the runtime's restore command */
	double criu_restore_ms; /* of which CRIU: restore_time (stats-restore) */
	double resume_wait_ms;  /* check resumed: until the counter moved on */
	double cpu_ms;          /* user + system time of child processes */
	double cpu_per_cycle_ms;
};

struct scenario_result {
	char name[128];
	char backend[32];
	char runtime[96];        /* as it names itself: "runc 1.2.5", "containerd v2.2.9"; "" unknown */
	bool passed;
	bool interrupted;        /* stopped by SIGINT/SIGTERM/SIGHUP (not passed either) */
	char reason[1024];
	double checkpoint_ms;    /* mean over checkpoints (all lanes) */
	double restore_ms;       /* mean over restores */
	double cycle_p50_ms, cycle_p99_ms; /* checkpoint+restore per cycle, all lanes */
	double downtime_ms;      /* worst stop-to-running gap */
	long long archive_bytes; /* last image size (largest lane) */
	long counter_before;     /* the checkpoint the last restore resumed from (else the last checkpoint) */
	long counter_after;      /* seen after that restore; -1: nothing was restored */
	long counter_memory;     /* from the checkpoint's memory (check: memory), -1 when not read */
	int cycles;              /* checkpoints taken */
	long containers;
	double wall_ms;
	struct criu_stats stats; /* CRIU's own figures for the last dump/restore */
	struct run_phases phases;
};

/**
 * Run s on backend ops with options o; fills res (always, even on failure).
 * Once a stop is requested (interrupt.h) no lane starts another step, the
 * step in flight ends within the grace, every container is removed as
 * usual, and res is marked interrupted with the step it stopped at.
 */
void run_scenario(struct scenario_result *res, const struct scenario *s,
		  const struct backend_ops *ops, const struct harness_opts *o);

#endif
