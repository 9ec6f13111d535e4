/*
 * scenario.h: counter C/R scenarios as loaded from YAML. A scenario is a
 * list of steps (start, wait, checkpoint, restore, exec, kill, corrupt,
 * check, repeat) run against one or more counter containers ("lanes").
 * Loading checks every field and reports FILE:LINE:COL.
 */
#ifndef NP_SCENARIO_H
#define NP_SCENARIO_H

#include "backend.h"
#include "ytree.h"

enum sstep_kind { SS_START, SS_WAIT, SS_CHECKPOINT, SS_RESTORE, SS_EXEC, SS_KILL, SS_CORRUPT,
		  SS_CHECK, SS_REPEAT };

enum scheck { CHECK_RESUMED, CHECK_RUNNING, CHECK_STOPPED, CHECK_ORIGINAL_RUNNING,
	      CHECK_EXISTS, CHECK_ABSENT, CHECK_MEMORY };

struct sstep {
	enum sstep_kind kind;
	long ms;                  /* wait */
	struct ckpt_opts ck;      /* checkpoint */
	struct restore_opts rs;   /* restore */
	enum scheck check;
	const char *text;         /* exec shell, check path, corrupt file name */
	long times;               /* repeat */
	struct sstep *sub;
	size_t nsub;
	struct ymark at;
};

struct scenario {
	char *path;
	const char *name;
	const char *description;
	struct ynode *doc;
	long containers;
	long interval_ms;
	const char *criu;         /* override (failure scenarios: a missing criu) */
	struct sstep *steps;
	size_t nsteps;
};

/** Load a scenario file (or NAME from the scenario dir). NP_EINVALID with FILE:LINE:COL. */
int scenario_load(struct scenario **out, const char *path);
void scenario_free(struct scenario *s);

#endif
