/*
 * recipe.h: the loaded form of recipes. A recipe keeps its YAML tree and
 * every step points into it, so any later error can still name
 * FILE:LINE:COL. Loading validates everything that does not depend on
 * variable values; rendering (template.h) checks the rest.
 */
#ifndef NP_RECIPE_H
#define NP_RECIPE_H

#include <stddef.h>

#include "ytree.h"

struct step_kind;

struct var {
	char *name;          /* dotted for nested mappings: "go.version" */
	const char *value;   /* raw text, may itself hold {{ }} */
	const char *file;    /* where it was defined, for messages */
	struct ymark at;
};

struct var_table {
	struct var *v;
	size_t n;
};

struct step {
	const char *name;
	const struct step_kind *kind;
	const struct ynode *node; /* the step's mapping */
	const struct ynode *args; /* the value under the kind's key */
	const struct ynode *when; /* NULL: always */
	const struct ynode *notify; /* NULL, a scalar or a list of handler names */
	const struct ynode *tags;
	struct recipe *recipe;
};

struct recipe {
	char *path;
	char *dir;
	const char *name;
	const char *description;
	struct ynode *doc;
	struct var_table vars;
	struct step *steps;
	size_t nsteps;
	struct step *handlers; /* name = handler name */
	size_t nhandlers;
	struct recipe **deps;
	size_t ndeps;
};

/** Every recipe of a run, dependencies before the recipes that need them. */
struct recipe_set {
	struct recipe **all;
	size_t n;
};

#define RECIPE_SET_INIT { NULL, 0 }

/**
 * Load the recipes named on the command line (paths, or names looked up as
 * NAME.yaml in search_path) and everything they require. search_path is
 * NULL-terminated; the requiring recipe's own directory is searched first.
 * Errors are NP_EINVALID/NP_ENOTFOUND with FILE:LINE:COL.
 */
int recipe_set_load(struct recipe_set *set, const char *const *names,
		    const char *const *search_path);
void recipe_set_release(struct recipe_set *set);

/** Add NAME=VALUE to a table (used for -e); value copied. NP_EINVALID if malformed. */
int var_table_add_assignment(struct var_table *t, const char *assignment);
/** Add name/value (both copied) with a description of where it came from. */
void var_table_set(struct var_table *t, const char *name, const char *value, const char *file);
const struct var *var_table_find(const struct var_table *t, const char *name);
void var_table_release(struct var_table *t);

#endif
