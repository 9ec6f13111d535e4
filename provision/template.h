/*
 * template.h: "{{ name }}" substitution. Names resolve in this order:
 * -e overrides, the recipe's own vars, the vars of recipes it requires,
 * built-ins (cache, state_dir, root, recipe_dir), then "facts.X" and
 * "env.X". Variable values may hold templates themselves; a cycle or an
 * undefined name is an error at the FILE:LINE:COL that used it.
 */
#ifndef NP_TEMPLATE_H
#define NP_TEMPLATE_H

#include "buf.h"
#include "recipe.h"

struct facts;

struct scope {
	const struct var_table *overrides;
	const struct recipe *recipe;
	const struct var_table *builtins;
	struct facts *facts;
};

/** Render text found at node `at` of file into out (appends). */
int template_render(struct buf *out, const struct scope *sc, const char *file,
		    const struct ynode *at, const char *text);
/** Deep copy of in with every scalar rendered; marks are kept. */
int template_render_node(struct ynode **out, const struct scope *sc, const char *file,
			 const struct ynode *in);
/**
 * Truth of a rendered `when`: "a == b", "a != b", the version comparisons
 * "a >= b" and "a < b" (dotted numbers; empty is oldest), or non-empty and
 * not false/no/0; "X and Y" is true when both are.
 */
int template_truthy(const char *text);

#endif
