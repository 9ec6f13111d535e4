/*
 * recipe.c: loads recipe files into struct recipe, resolves `requires`
 * (depth first, cycle detection) and checks every step's shape against its
 * kind's field specs. Nothing here renders templates: that needs -e values
 * and facts, and happens in the executor (and in `validate`).
 */
#include "recipe.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fsutil.h"
#include "step.h"
#include "banned.h"

static const char *const top_keys[] = { "recipe", "description", "requires", "vars",
					"steps", "handlers", NULL };
static const char *const step_keys[] = { "name", "when", "notify", "tags", NULL };

static bool key__in(const char *k, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(k, *set))
			return true;
	return false;
}

void var_table_set(struct var_table *t, const char *name, const char *value, const char *file)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name)) {
			free((char *)t->v[i].value);
			t->v[i].value = strdup(value);
			return;
		}
	t->v = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	if (!t->v)
		abort();
	struct var *v = &t->v[t->n++];
	v->name = strdup(name);
	v->value = strdup(value);
	v->file = file;
	v->at = (struct ymark){ 1, 1, 0 };
	if (!v->name || !v->value)
		abort();
}

int var_table_add_assignment(struct var_table *t, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return np_error_setc(NP_EINVALID, "-e expects NAME=VALUE, got '%s'", assignment);
	char *name = strndup(assignment, (size_t)(eq - assignment));
	if (!name)
		abort();
	var_table_set(t, name, eq + 1, "-e");
	free(name);
	return 0;
}

const struct var *var_table_find(const struct var_table *t, const char *name)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

/* Recipe vars borrow their value from the tree; only -e/builtins own theirs. */
static void var_table__release(struct var_table *t, bool own_values)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		if (own_values)
			free((char *)t->v[i].value);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

void var_table_release(struct var_table *t)
{
	var_table__release(t, true);
}

static int vars__flatten(struct recipe *r, const struct ynode *map, const char *prefix)
{
	for (size_t i = 0; i < map->n; i++) {
		struct buf name = BUF_INIT;
		const struct ynode *v = map->items[i];
		int rc = 0;
		buf_addf(&name, "%s%s%s", prefix, *prefix ? "." : "", map->keys[i]->value);
		if (v->type == YNODE_MAP) {
			rc = vars__flatten(r, v, name.ptr);
		} else if (v->type == YNODE_SEQ) {
			rc = ynode_error(r->path, v, "vars: '%s' must be a scalar or a mapping, not a list",
					 name.ptr);
		} else {
			r->vars.v = realloc(r->vars.v, (r->vars.n + 1) * sizeof(*r->vars.v));
			if (!r->vars.v)
				abort();
			r->vars.v[r->vars.n++] = (struct var){ buf_detach(&name, NULL), v->value, r->path,
							       v->start };
		}
		buf_release(&name);
		if (rc)
			return rc;
	}
	return 0;
}

static int scalar__field(const char *file, const struct ynode *n, const char *what)
{
	if (n->type != YNODE_SCALAR)
		return ynode_error(file, n, "'%s' must be a scalar, not %s", what,
				   ynode_type_name(n->type));
	return 0;
}

static int names__field(const char *file, const struct ynode *n, const char *what)
{
	if (n->type == YNODE_SCALAR)
		return 0;
	if (n->type != YNODE_SEQ)
		return ynode_error(file, n, "'%s' must be a name or a list of names", what);
	for (size_t i = 0; i < n->n; i++)
		if (n->items[i]->type != YNODE_SCALAR)
			return ynode_error(file, n->items[i], "'%s' entries must be names", what);
	return 0;
}

/* Parse one step mapping; handler_name is set for handlers (no name key needed). */
static int step__parse(struct recipe *r, const struct ynode *node, const char *handler_name,
		       struct step *out)
{
	const char *file = r->path;
	int rc;
	memset(out, 0, sizeof(*out));
	out->recipe = r;
	out->node = node;
	out->name = handler_name;
	if (node->type != YNODE_MAP)
		return ynode_error(file, node, "a step must be a mapping, not %s",
				   ynode_type_name(node->type));
	for (size_t i = 0; i < node->n; i++) {
		const char *k = node->keys[i]->value;
		const struct ynode *v = node->items[i];
		if (key__in(k, step_keys)) {
			if (!strcmp(k, "name") && (rc = scalar__field(file, v, "name")))
				return rc;
			if (!strcmp(k, "when") && (rc = scalar__field(file, v, "when")))
				return rc;
			if ((!strcmp(k, "notify") || !strcmp(k, "tags")) && (rc = names__field(file, v, k)))
				return rc;
			if (!strcmp(k, "name") && !handler_name)
				out->name = v->value;
			if (!strcmp(k, "when"))
				out->when = v;
			if (!strcmp(k, "notify"))
				out->notify = v;
			if (!strcmp(k, "tags"))
				out->tags = v;
			continue;
		}
		const struct step_kind *kind = step_kind_find(k);
		if (!kind) {
			struct buf known = BUF_INIT;
			step_kind_list(&known);
			rc = ynode_error(file, node->keys[i], "unknown step kind '%s' (known: %s)", k,
					 known.ptr);
			buf_release(&known);
			return rc;
		}
		if (out->kind)
			return ynode_error(file, node->keys[i],
					   "step has two kinds, '%s' and '%s': split it into two steps",
					   out->kind->name, k);
		out->kind = kind;
		out->args = v;
	}
	if (!out->kind)
		return ynode_error(file, node, "step has no kind (one of the step kinds is required)");
	if (!out->name)
		out->name = out->kind->name;
	if ((rc = args_validate(file, out->kind->name, out->args, out->kind->args)))
		return rc;
	if (out->kind->validate && (rc = out->kind->validate(file, out->args)))
		return rc;
	return 0;
}

static int recipe__steps(struct recipe *r, const struct ynode *steps)
{
	if (steps->type != YNODE_SEQ)
		return ynode_error(r->path, steps, "'steps' must be a list, not %s",
				   ynode_type_name(steps->type));
	r->steps = calloc(steps->n ? steps->n : 1, sizeof(*r->steps));
	if (!r->steps)
		abort();
	for (size_t i = 0; i < steps->n; i++) {
		int rc = step__parse(r, steps->items[i], NULL, &r->steps[i]);
		if (rc)
			return rc;
		r->nsteps = i + 1;
	}
	return 0;
}

static int recipe__handlers(struct recipe *r, const struct ynode *h)
{
	if (h->type != YNODE_MAP)
		return ynode_error(r->path, h, "'handlers' must be a mapping of name to step");
	r->handlers = calloc(h->n ? h->n : 1, sizeof(*r->handlers));
	if (!r->handlers)
		abort();
	for (size_t i = 0; i < h->n; i++) {
		int rc = step__parse(r, h->items[i], h->keys[i]->value, &r->handlers[i]);
		if (rc)
			return rc;
		r->nhandlers = i + 1;
	}
	return 0;
}

static int recipe__notify_targets(struct recipe *r)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct ynode *n = r->steps[i].notify;
		size_t cnt = !n ? 0 : n->type == YNODE_SEQ ? n->n : 1;
		for (size_t j = 0; j < cnt; j++) {
			const struct ynode *t = n->type == YNODE_SEQ ? n->items[j] : n;
			size_t k = 0;
			while (k < r->nhandlers && strcmp(r->handlers[k].name, t->value))
				k++;
			if (k == r->nhandlers)
				return ynode_error(r->path, t, "notify: no handler named '%s' in this recipe",
						   t->value);
		}
	}
	return 0;
}

static int recipe__fields(struct recipe *r)
{
	const struct ynode *doc = r->doc;
	int rc;
	if (doc->type != YNODE_MAP)
		return ynode_error(r->path, doc, "a recipe must be a mapping with 'recipe' and 'steps'");
	for (size_t i = 0; i < doc->n; i++)
		if (!key__in(doc->keys[i]->value, top_keys))
			return ynode_error(r->path, doc->keys[i],
					   "unknown key '%s' (expected recipe, description, requires, vars, steps, handlers)",
					   doc->keys[i]->value);
	const struct ynode *n = ynode_get(doc, "recipe");
	if (!n)
		return ynode_error(r->path, doc, "missing required key 'recipe' (the recipe's name)");
	if ((rc = scalar__field(r->path, n, "recipe")))
		return rc;
	r->name = n->value;
	if ((n = ynode_get(doc, "description"))) {
		if ((rc = scalar__field(r->path, n, "description")))
			return rc;
		r->description = n->value;
	}
	if ((n = ynode_get(doc, "requires")) && (rc = names__field(r->path, n, "requires")))
		return rc;
	if ((n = ynode_get(doc, "vars"))) {
		if (n->type != YNODE_MAP)
			return ynode_error(r->path, n, "'vars' must be a mapping");
		if ((rc = vars__flatten(r, n, "")))
			return rc;
	}
	if (!(n = ynode_get(doc, "steps")))
		return ynode_error(r->path, doc, "missing required key 'steps'");
	if ((rc = recipe__steps(r, n)))
		return rc;
	if ((n = ynode_get(doc, "handlers")) && (rc = recipe__handlers(r, n)))
		return rc;
	return recipe__notify_targets(r);
}

static void recipe__free(struct recipe *r)
{
	if (!r)
		return;
	var_table__release(&r->vars, false);
	free(r->steps);
	free(r->handlers);
	free(r->deps);
	ynode_free(r->doc);
	free(r->path);
	free(r->dir);
	free(r);
}

static int recipe__load_file(struct recipe **out, const char *path)
{
	struct recipe *r = calloc(1, sizeof(*r));
	struct buf dir = BUF_INIT;
	int rc;
	if (!r)
		abort();
	r->path = strdup(path);
	fs_dirname(&dir, path);
	r->dir = buf_detach(&dir, NULL);
	if ((rc = ytree_load_file(&r->doc, path)) == 0)
		rc = recipe__fields(r);
	if (rc) {
		recipe__free(r);
		r = NULL;
	}
	*out = r;
	return rc;
}

/* Loader state: every recipe loaded so far, and the chain being resolved. */
struct loader {
	struct recipe_set *set;
	const char *const *search;
	const struct recipe *stack[64];
	size_t depth;
};

static int loader__find(struct buf *path, const struct loader *ld, const char *name,
			const char *first_dir)
{
	if (strchr(name, '/') || (strlen(name) > 5 && !strcmp(name + strlen(name) - 5, ".yaml"))) {
		buf_adds(path, name);
		return fs_exists(name) ? 0 : NP_ENOTFOUND;
	}
	const char *dirs[66];
	size_t nd = 0;
	if (first_dir)
		dirs[nd++] = first_dir;
	for (size_t i = 0; ld->search && ld->search[i] && nd < 65; i++)
		dirs[nd++] = ld->search[i];
	for (size_t i = 0; i < nd; i++) {
		buf_reset(path);
		buf_addf(path, "%s/%s.yaml", dirs[i], name);
		if (fs_exists(path->ptr))
			return 0;
	}
	return NP_ENOTFOUND;
}

static int loader__load(struct loader *ld, const char *name, const char *from_file,
			const struct ynode *from, const char *first_dir, struct recipe **out);

static int loader__requires(struct loader *ld, struct recipe *r)
{
	const struct ynode *req = ynode_get(r->doc, "requires");
	size_t n = !req ? 0 : req->type == YNODE_SEQ ? req->n : 1;
	r->deps = calloc(n ? n : 1, sizeof(*r->deps));
	if (!r->deps)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct ynode *item = req->type == YNODE_SEQ ? req->items[i] : req;
		int rc = loader__load(ld, item->value, r->path, item, r->dir, &r->deps[r->ndeps]);
		if (rc)
			return rc;
		r->ndeps++;
	}
	return 0;
}

static int loader__load(struct loader *ld, const char *name, const char *from_file,
			const struct ynode *from, const char *first_dir, struct recipe **out)
{
	struct buf path = BUF_INIT;
	struct recipe *r = NULL;
	int rc;
	if (loader__find(&path, ld, name, first_dir)) {
		rc = from ? ynode_error(from_file, from, "requires: no recipe named '%s' in the search path",
					name)
			  : np_error_setc(NP_ENOTFOUND, "no recipe '%s' (not a file, and not NAME.yaml in the search path)",
					  name);
		goto out;
	}
	/* a device or FIFO named in requires would block or never end */
	struct stat st;
	if (from && (stat(path.ptr, &st) || !S_ISREG(st.st_mode))) {
		rc = ynode_error(from_file, from, "requires: '%s' is not a regular file", name);
		goto out;
	}
	char *real = realpath(path.ptr, NULL);
	for (size_t i = 0; i < ld->depth; i++)
		if (real && !strcmp(ld->stack[i]->path, real)) {
			free(real);
			rc = ynode_error(from_file, from, "requires: cycle through recipe '%s'", name);
			goto out;
		}
	for (size_t i = 0; i < ld->set->n; i++)
		if (real && !strcmp(ld->set->all[i]->path, real)) {
			free(real);
			*out = ld->set->all[i];
			rc = 0;
			goto out;
		}
	rc = recipe__load_file(&r, real ? real : path.ptr);
	free(real);
	if (rc && from)
		np_error_prefix("%s:%zu:%zu: requires '%s'", from_file, from->start.line, from->start.col, name);
	if (rc)
		goto out;
	if (ld->depth >= 64) {
		rc = ynode_error(from_file, from, "requires: chain deeper than 64 recipes");
		goto out;
	}
	ld->stack[ld->depth++] = r;
	rc = loader__requires(ld, r);
	ld->depth--;
	if (rc)
		goto out;
	/* dependencies were appended first: this gives execution order */
	ld->set->all = realloc(ld->set->all, (ld->set->n + 1) * sizeof(*ld->set->all));
	if (!ld->set->all)
		abort();
	ld->set->all[ld->set->n++] = r;
	*out = r;
	r = NULL;
out:
	recipe__free(r);
	buf_release(&path);
	return rc;
}

int recipe_set_load(struct recipe_set *set, const char *const *names,
		    const char *const *search_path)
{
	struct loader ld = { .set = set, .search = search_path, .depth = 0 };
	for (size_t i = 0; names[i]; i++) {
		struct recipe *r;
		int rc = loader__load(&ld, names[i], NULL, NULL, NULL, &r);
		if (rc)
			return rc;
	}
	return 0;
}

void recipe_set_release(struct recipe_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		recipe__free(set->all[i]);
	free(set->all);
	set->all = NULL;
	set->n = 0;
}
