/*
 * json_set.c: set keys by dotted path in a JSON file, e.g.
 * `experimental: true` in Docker's /etc/docker/daemon.json, keeping every
 * other key. The same shape as yaml_set and toml_set (keyedit.c runs the
 * loop); only setting one key differs.
 *
 * JSON has no comments to keep, so the file is parsed with jansson and,
 * only when a value really differs, written back whole (two-space indent,
 * keys in their original order). A file that already has every value is
 * left byte for byte, so a converged host reports no change. Values come
 * from the recipe's YAML: plain true/false/null and numbers are JSON
 * booleans, null and numbers, quoted scalars are strings, lists arrays.
 * A missing or empty file starts as {}. Keys that contain a dot cannot be
 * addressed (the dot separates path segments).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "error.h"
#include "exec.h"
#include "keyedit.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec json_set_args[] = {
	{ "path", ARG_PATH, true, NULL },
	{ "set", ARG_MAP, true, NULL },
	{ "mode", ARG_MODE, false, NULL },
	{ NULL, 0, false, NULL },
};

static int json_set_validate(const char *f, const struct ynode *a)
{
	const struct ynode *set = ynode_get(a, "set");
	for (size_t i = 0; i < set->n; i++) {
		const char *k = set->keys[i]->value;
		if (set->items[i]->type == YNODE_MAP)
			return ynode_error(f, set->items[i],
					   "json_set: value of '%s' is a mapping; set its keys one by one with dotted paths",
					   k);
		if (!k[0] || k[0] == '.' || k[strlen(k) - 1] == '.' || strstr(k, ".."))
			return ynode_error(f, set->keys[i], "json_set: bad key path '%s'", k);
	}
	return 0;
}

static json_t *json__scalar(const struct ynode *v)
{
	bool b;
	long n;
	if (v->quoted)
		return json_string(v->value);
	if (!ynode_bool(&b, v))
		return json_boolean(b);
	if (!strcmp(v->value, "null") || !strcmp(v->value, "~"))
		return json_null();
	if (!ynode_long(&n, v))
		return json_integer(n);
	char *end;
	errno = 0;
	double d = strtod(v->value, &end);
	if (v->value[0] && !*end && !errno && strspn(v->value, "0123456789+-.eE") == strlen(v->value))
		return json_real(d);
	return json_string(v->value);
}

static json_t *json__value(const struct ynode *v)
{
	if (v->type == YNODE_SCALAR)
		return json__scalar(v);
	json_t *a = json_array();
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json__scalar(v->items[i]));
	return a;
}

static bool text__blank(const struct buf *t)
{
	return strspn(t->ptr, " \t\r\n") == t->len;
}

/* Apply one dotted key to text. */
static int json__set_one(struct buf *text, const char *file, const char *dotted,
			 const struct ynode *want, void *priv)
{
	json_error_t jerr;
	json_t *root = NULL, *val = json__value(want);
	char *path = strdup(dotted), *out = NULL;
	int r = 0;
	(void)priv;
	if (!path || !val)
		abort();
	root = text__blank(text) ? json_object() : json_loadb(text->ptr, text->len, 0, &jerr);
	if (!root) {
		r = np_error_setc(NP_EINVALID, "%s:%d:%d: json_set: not valid JSON: %s", file, jerr.line,
				  jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		r = np_error_setc(NP_EINVALID, "%s: json_set: the document is not an object", file);
		goto out;
	}
	json_t *node = root;
	char *seg = path, *dot;
	while ((dot = strchr(seg, '.'))) {
		*dot = '\0';
		json_t *child = json_object_get(node, seg);
		if (!child) {
			child = json_object();
			json_object_set_new(node, seg, child);
		} else if (!json_is_object(child)) {
			r = np_error_setc(NP_EINVALID, "%s: '%s' is not an object, so '%s' cannot be set inside it",
					  file, seg, dotted);
			goto out;
		}
		node = child;
		seg = dot + 1;
	}
	json_t *have = json_object_get(node, seg);
	if (have && json_equal(have, val))
		goto out; /* converged: keep the text byte for byte */
	json_object_set(node, seg, val);
	if (!(out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		abort();
	buf_reset(text);
	buf_adds(text, out);
	buf_addch(text, '\n');
out:
	free(out);
	free(path);
	json_decref(val);
	json_decref(root);
	return r;
}

static int json_set_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	return keyedit_check(ctx, a, ch, json__set_one, NULL);
}

const struct step_kind step_json_set = { "json_set", json_set_args, json_set_validate,
					 json_set_check, NULL, false, true };
