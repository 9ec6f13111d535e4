/*
 * keyedit.h: the loop yaml_set, toml_set and json_set share. Each of them
 * edits a file's text key by key; only how one key is set differs, so the
 * kind supplies that and keyedit does the rest (load the current text,
 * apply every key of `set` in order, the default mode of a new file, and
 * whether anything changed).
 */
#ifndef NP_KEYEDIT_H
#define NP_KEYEDIT_H

#include "buf.h"
#include "step.h"
#include "ytree.h"

struct run_ctx;

/**
 * Set one key in text, in place. file names the file in errors; priv is
 * what the kind passed to keyedit_check. Leaves text unchanged when the
 * key already has the value. 0, or an error code with np_error set.
 */
typedef int (*keyedit_set_fn)(struct buf *text, const char *file, const char *key,
			      const struct ynode *want, void *priv);

/**
 * check() of a key-editing kind: args `path`, `set` (mapping key -> value)
 * and `mode`. Fills ch->old/new and ch->needed; a missing file starts as
 * empty text (mode 0644 unless `mode` says otherwise).
 */
int keyedit_check(struct run_ctx *ctx, const struct ynode *args, struct change *ch,
		  keyedit_set_fn set_one, void *priv);

/** Append s double-quoted, escaping " \\ and newline (TOML basic and YAML double-quoted strings agree on these). */
void keyedit_add_quoted(struct buf *out, const char *s);
/** Append a scalar with emit, or a sequence as a one-line [a, b] list of emitted scalars. */
void keyedit_add_value(struct buf *out, const struct ynode *v,
		       void (*emit)(struct buf *out, const struct ynode *scalar));

#endif
