/*
 * step.h: the interface between the engine and step kinds. A kind is a
 * table row {name, args, validate, check, apply} in modules/modules.c;
 * adding a kind is one new file plus one row. Kinds never call each other.
 *
 * check() inspects the host and fills a struct change: whether anything
 * would change, and for file edits the old and new content (the plan's
 * diff). apply() is called only when check said a change is needed, with
 * the same struct, so work is not done twice.
 */
#ifndef NP_STEP_H
#define NP_STEP_H

#include <stdbool.h>

#include "args.h"
#include "buf.h"

struct run_ctx;

struct change {
	bool needed;
	bool skipped;          /* not applicable here (e.g. service under --root) */
	const char *path;      /* the managed file a content change is about */
	bool has_content;      /* old/new below are meaningful */
	bool old_exists;
	struct buf old, new;
	int mode;              /* wanted mode for content writes, -1 keep */
	struct buf summary;    /* one line: what would change, or why skipped */
	void *priv;
	void (*priv_free)(void *);
};

#define CHANGE_INIT { false, false, NULL, false, false, BUF_INIT, BUF_INIT, -1, BUF_INIT, NULL, NULL }

void change_release(struct change *ch);

struct step_kind {
	const char *name;
	const struct arg_spec *args;
	/** Extra structural checks beyond args (optional). */
	int (*validate)(const char *file, const struct ynode *args);
	int (*check)(struct run_ctx *ctx, const struct ynode *args, struct change *ch);
	/** NULL means "write ch->new to ch->path" (the file-editing kinds). */
	int (*apply)(struct run_ctx *ctx, const struct ynode *args, struct change *ch);
	/** Verification kinds run their check in apply mode only and never "change". */
	bool is_verify;
	/**
	 * check() only inspects the host (stat, read, commands that change
	 * nothing), so it may be run ahead of time against a batch of answers
	 * (provision/batch.c); its commands may then run on the node before the
	 * steps ahead of it are checked. Kinds without it are checked live.
	 */
	bool batchable;
};

/** Look a kind up by its YAML key; NULL when unknown. */
const struct step_kind *step_kind_find(const char *name);
/** "file, line, ..." for error messages. */
void step_kind_list(struct buf *out);

#endif
