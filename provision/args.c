/*
 * args.c: field validation and accessors for step arguments.
 */
#include "args.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "banned.h"

static bool arg__templated(const struct ynode *n)
{
	return n->type == YNODE_SCALAR && strstr(n->value, "{{");
}

static bool arg__in_choices(const char *v, const char *choices)
{
	size_t n = strlen(v);
	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !strncmp(p, v, n))
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static bool arg__mode_ok(const char *v)
{
	char *end;
	long m = strtol(v, &end, 8);
	return *v && !*end && m >= 0 && m <= 07777;
}

static int arg__check_scalar_list(const char *file, const char *kind, const struct arg_spec *s,
				  const struct ynode *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i]->type != YNODE_SCALAR)
			return ynode_error(file, v->items[i], "%s: '%s' items must be scalars, not %s",
					   kind, s->name, ynode_type_name(v->items[i]->type));
	return 0;
}

/* A typed field given as a template ("{{ enable }}") is typed by the text it
 * rendered to, as if the user had written that text unquoted. */
static void arg__typed(const struct ynode *v, struct ynode *tmp)
{
	*tmp = *v;
	if (v->rendered)
		tmp->quoted = false;
}

static int arg__check_one(const char *file, const char *kind, const struct arg_spec *s,
			  const struct ynode *v)
{
	bool b;
	long l;
	struct ynode t;
	if (arg__templated(v) && s->type != ARG_LIST && s->type != ARG_MAP)
		return 0;
	arg__typed(v, &t);
	switch (s->type) {
	case ARG_STR:
		if (v->type != YNODE_SCALAR)
			return ynode_error(file, v, "%s: '%s' must be a scalar, not %s", kind, s->name,
					   ynode_type_name(v->type));
		if (s->choices && !arg__in_choices(v->value, s->choices))
			return ynode_error(file, v, "%s: '%s' must be one of %s, not '%s'", kind,
					   s->name, s->choices, v->value);
		return 0;
	case ARG_BOOL:
		if (ynode_bool(&b, &t))
			return ynode_error(file, v, "%s: '%s' must be true or false", kind, s->name);
		return 0;
	case ARG_INT:
		if (ynode_long(&l, &t))
			return ynode_error(file, v, "%s: '%s' must be an integer", kind, s->name);
		return 0;
	case ARG_MODE:
		if (v->type != YNODE_SCALAR || !arg__mode_ok(v->value))
			return ynode_error(file, v, "%s: '%s' must be an octal mode such as \"0644\"",
					   kind, s->name);
		return 0;
	case ARG_LIST:
		if (v->type != YNODE_SEQ)
			return ynode_error(file, v, "%s: '%s' must be a list, not %s", kind, s->name,
					   ynode_type_name(v->type));
		return arg__check_scalar_list(file, kind, s, v);
	case ARG_STR_OR_LIST:
		if (v->type == YNODE_MAP)
			return ynode_error(file, v, "%s: '%s' must be a string or a list", kind, s->name);
		return v->type == YNODE_SEQ ? arg__check_scalar_list(file, kind, s, v) : 0;
	case ARG_PATH:
		if (v->type != YNODE_SCALAR)
			return ynode_error(file, v, "%s: '%s' must be a path, not %s", kind, s->name,
					   ynode_type_name(v->type));
		/* relative to what? the target has no working directory a recipe could know */
		if (v->value[0] != '/')
			return ynode_error(file, v, "%s: '%s' must be an absolute path, not '%s'", kind,
					   s->name, v->value);
		return 0;
	case ARG_MAP:
		if (v->type != YNODE_MAP)
			return ynode_error(file, v, "%s: '%s' must be a mapping, not %s", kind, s->name,
					   ynode_type_name(v->type));
		return 0;
	}
	return 0;
}

int args_validate(const char *file, const char *kind, const struct ynode *args,
		  const struct arg_spec *specs)
{
	if (args->type != YNODE_MAP)
		return ynode_error(file, args, "%s: expected a mapping of fields, not %s", kind,
				   ynode_type_name(args->type));
	for (size_t i = 0; i < args->n; i++) {
		const struct arg_spec *s = specs;
		while (s->name && strcmp(s->name, args->keys[i]->value))
			s++;
		if (!s->name)
			return ynode_error(file, args->keys[i], "%s: unknown field '%s'", kind,
					   args->keys[i]->value);
		int r = arg__check_one(file, kind, s, args->items[i]);
		if (r)
			return r;
	}
	for (const struct arg_spec *s = specs; s->name; s++)
		if (s->required && ynode_index(args, s->name) < 0)
			return ynode_error(file, args, "%s: missing required field '%s'", kind, s->name);
	return 0;
}

const char *args_str(const struct ynode *args, const char *name, const char *def)
{
	const struct ynode *v = ynode_get(args, name);
	return v && v->type == YNODE_SCALAR ? v->value : def;
}

bool args_bool(const struct ynode *args, const char *name, bool def)
{
	const struct ynode *v = ynode_get(args, name);
	struct ynode t;
	bool b;
	if (!v)
		return def;
	arg__typed(v, &t);
	return ynode_bool(&b, &t) ? def : b;
}

long args_int(const struct ynode *args, const char *name, long def)
{
	const struct ynode *v = ynode_get(args, name);
	char *end;
	if (!v || v->type != YNODE_SCALAR)
		return def;
	long l = strtol(v->value, &end, 10);
	return *end ? def : l;
}

int args_mode(const struct ynode *args, const char *name)
{
	const char *v = args_str(args, name, NULL);
	char *end;
	if (!v)
		return -1;
	long m = strtol(v, &end, 8);
	return *end ? -1 : (int)m;
}

const char **args_list(const struct ynode *args, const char *name)
{
	const struct ynode *v = ynode_get(args, name);
	size_t n = !v ? 0 : v->type == YNODE_SEQ ? v->n : 1;
	const char **out = calloc(n + 1, sizeof(*out));
	if (!out)
		abort();
	if (v && v->type == YNODE_SEQ)
		for (size_t i = 0; i < n; i++)
			out[i] = v->items[i]->value;
	else if (v)
		out[0] = v->value;
	return out;
}
