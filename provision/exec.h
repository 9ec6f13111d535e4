/*
 * exec.h: runs loaded recipes against a host, in plan mode (check only,
 * show what would change) or apply mode (check, then change what differs,
 * journaled). Data flows one way: recipe_set -> exec_run -> exec_result,
 * which the CLI prints.
 */
#ifndef NP_EXEC_H
#define NP_EXEC_H

#include <stdbool.h>
#include <stdio.h>

#include "recipe.h"
#include "template.h"

struct host;
struct journal;
struct facts;
struct spawn;
struct change;

enum exec_mode { EXEC_PLAN, EXEC_APPLY, EXEC_VALIDATE };

struct exec_opts {
	enum exec_mode mode;
	const char *root;         /* "" for / */
	const char *state_dir;
	const struct var_table *overrides;
	const char *const *tags;  /* run only steps with one of these tags; NULL all */
	bool json;
	FILE *out;                /* human output; NULL for none */
	const struct var_table *sources; /* source name -> URL or path (fetch, git) */
	struct host *host;        /* the target (borrowed); NULL: this machine under root */
};

/** What steps may use: the host, the journal, facts and the mode. */
struct run_ctx {
	struct host *host;
	struct journal *journal; /* NULL when planning */
	struct facts *facts;
	const struct exec_opts *opts;
	struct scope scope;
	struct var_table builtins;
	const char *step_name;
};

struct exec_result {
	size_t ok, changed, failed, skipped;
	void *json; /* json_t array of step results */
	int interrupted;  /* the signal that stopped an apply between steps, or 0 */
	size_t journaled; /* paths the apply journaled (what rollback would undo) */
};

/**
 * Run every recipe in set; fills res. Returns 0 when no step failed, 1
 * otherwise, <0 on setup errors. Once a stop is requested (interrupt.h) no
 * further step or handler starts: the step in flight finishes, or fails
 * when its command outlives the grace (every file change being atomic,
 * that step is then abandoned whole); the journal records the interruption
 * and res->interrupted is set.
 */
int exec_run(const struct recipe_set *set, const struct exec_opts *o, struct exec_result *res);
void exec_result_release(struct exec_result *res);
/** The JSON document for --json (caller frees the string). */
char *exec_result_json(const struct exec_result *res, enum exec_mode mode);

/* Helpers for step kinds: journaled writes through the host. */
int ctx_write_file(struct run_ctx *ctx, const char *path, const void *data, size_t len, int mode,
		   int uid, int gid);
int ctx_mkdir_p(struct run_ctx *ctx, const char *path, int mode);
/**
 * The directories above path, made (0755) and journaled where missing.
 * Call it before journaling path itself: rollback undoes in reverse
 * order, so the tree goes before the directories made for it.
 */
int ctx_mkdir_parent(struct run_ctx *ctx, const char *path);
int ctx_remove(struct run_ctx *ctx, const char *path);
int ctx_chmod_chown(struct run_ctx *ctx, const char *path, int mode, int uid, int gid);
/** Run a command on the host; output goes to the debug log. */
int ctx_run(struct run_ctx *ctx, struct spawn *sp);
/** Default apply for content kinds: write ch->new to ch->path (mode ch->mode). */
int ctx_apply_content(struct run_ctx *ctx, struct change *ch);
/**
 * The URL for source name: the --source/--sources override when there is
 * one (a plain path becomes an absolute file:// URL), else def. Appends to out.
 */
void ctx_source(struct run_ctx *ctx, const char *name, const char *def, struct buf *out);
/** The --source/--sources value given for name as written, or NULL. */
const char *ctx_source_override(const struct run_ctx *ctx, const char *name);
/** Fill ch->old from path (old_exists set); NP_ENOTFOUND is not an error. */
int ctx_load_old(struct run_ctx *ctx, const char *path, struct change *ch);

#endif
