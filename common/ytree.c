/*
 * ytree.c: builds struct ynode trees from libyaml's event stream. The event
 * API is used (not libyaml's document API) because it keeps start and end
 * marks for every node and lets us refuse aliases with a precise location.
 */
#include "ytree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "banned.h"

#define YTREE_MAX_DEPTH 64

struct yparse {
	yaml_parser_t parser;
	const char *name;
	int depth;
};

static struct ymark mark__from(yaml_mark_t m)
{
	struct ymark r = { m.line + 1, m.column + 1, m.index };
	return r;
}

static struct ynode *ynode__new(enum ynode_type t, const yaml_event_t *ev)
{
	struct ynode *n = calloc(1, sizeof(*n));
	if (!n)
		abort();
	n->type = t;
	n->start = mark__from(ev->start_mark);
	n->end = mark__from(ev->end_mark);
	return n;
}

static void ynode__push(struct ynode *parent, struct ynode *key, struct ynode *item)
{
	size_t n = parent->n + 1;
	parent->items = realloc(parent->items, n * sizeof(*parent->items));
	if (!parent->items)
		abort();
	parent->items[parent->n] = item;
	if (parent->type == YNODE_MAP) {
		parent->keys = realloc(parent->keys, n * sizeof(*parent->keys));
		if (!parent->keys)
			abort();
		parent->keys[parent->n] = key;
	}
	parent->n = n;
}

static int yparse__error_at(struct yparse *p, yaml_mark_t m, const char *msg)
{
	return np_error_setc(NP_EINVALID, "%s:%zu:%zu: %s", p->name, m.line + 1, m.column + 1,
			     msg);
}

static int yparse__next(struct yparse *p, yaml_event_t *ev)
{
	if (yaml_parser_parse(&p->parser, ev))
		return 0;
	yaml_mark_t m = p->parser.problem_mark;
	return np_error_setc(NP_EINVALID, "%s:%zu:%zu: %s%s%s", p->name, m.line + 1,
			     m.column + 1, p->parser.problem ? p->parser.problem : "invalid YAML",
			     p->parser.context ? " " : "",
			     p->parser.context ? p->parser.context : "");
}

static int yparse__node(struct yparse *p, yaml_event_t *ev, struct ynode **out);

static int yparse__children(struct yparse *p, struct ynode *parent, yaml_event_type_t end)
{
	for (;;) {
		yaml_event_t ev;
		struct ynode *key = NULL, *val = NULL;
		int r = yparse__next(p, &ev);
		if (r)
			return r;
		if (ev.type == end) {
			parent->end = mark__from(ev.end_mark);
			yaml_event_delete(&ev);
			return 0;
		}
		if (parent->type == YNODE_MAP) {
			if (ev.type != YAML_SCALAR_EVENT) {
				r = yparse__error_at(p, ev.start_mark, "mapping keys must be plain scalars");
				yaml_event_delete(&ev);
				return r;
			}
			r = yparse__node(p, &ev, &key);
			yaml_event_delete(&ev);
			if (r)
				return r;
			for (size_t i = 0; i < parent->n; i++)
				if (!strcmp(parent->keys[i]->value, key->value)) {
					r = np_error_setc(NP_EINVALID, "%s:%zu:%zu: duplicate key '%s'", p->name,
							  key->start.line, key->start.col, key->value);
					ynode_free(key);
					return r;
				}
			r = yparse__next(p, &ev);
			if (r) {
				ynode_free(key);
				return r;
			}
		}
		r = yparse__node(p, &ev, &val);
		yaml_event_delete(&ev);
		if (r) {
			ynode_free(key);
			return r;
		}
		ynode__push(parent, key, val);
	}
}

static int yparse__node(struct yparse *p, yaml_event_t *ev, struct ynode **out)
{
	struct ynode *n = NULL;
	int r;
	*out = NULL;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = ynode__new(YNODE_SCALAR, ev);
		n->value = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (!n->value)
			abort();
		n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
			    ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
			    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++p->depth > YTREE_MAX_DEPTH)
			return yparse__error_at(p, ev->start_mark, "nesting is too deep");
		bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
		n = ynode__new(seq ? YNODE_SEQ : YNODE_MAP, ev);
		n->flow = seq ? ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
			      : ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
		r = yparse__children(p, n, seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT);
		p->depth--;
		if (r) {
			ynode_free(n);
			return r;
		}
		*out = n;
		return 0;
	case YAML_ALIAS_EVENT:
		return yparse__error_at(p, ev->start_mark, "aliases (*name) are not supported");
	default:
		return yparse__error_at(p, ev->start_mark, "unexpected YAML event");
	}
}

static int yparse__expect(struct yparse *p, yaml_event_type_t t, yaml_event_t *ev)
{
	int r = yparse__next(p, ev);
	if (r)
		return r;
	if (ev->type != t) {
		r = yparse__error_at(p, ev->start_mark, "expected a single YAML document");
		yaml_event_delete(ev);
	}
	return r;
}

static int yparse__document(struct yparse *p, struct ynode **out)
{
	yaml_event_t ev;
	int r = yparse__expect(p, YAML_STREAM_START_EVENT, &ev);
	if (r)
		return r;
	yaml_event_delete(&ev);
	if ((r = yparse__next(p, &ev)))
		return r;
	if (ev.type == YAML_STREAM_END_EVENT) { /* empty file: empty mapping */
		*out = ynode__new(YNODE_MAP, &ev);
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* DOCUMENT_START */
	if ((r = yparse__next(p, &ev)))
		return r;
	r = yparse__node(p, &ev, out);
	yaml_event_delete(&ev);
	if (r)
		return r;
	if ((r = yparse__expect(p, YAML_DOCUMENT_END_EVENT, &ev)))
		goto fail;
	yaml_event_delete(&ev);
	if ((r = yparse__expect(p, YAML_STREAM_END_EVENT, &ev)))
		goto fail;
	yaml_event_delete(&ev);
	return 0;
fail:
	ynode_free(*out);
	*out = NULL;
	return r;
}

int ytree_parse(struct ynode **out, const char *name, const char *text, size_t len)
{
	struct yparse p = { .name = name, .depth = 0 };
	*out = NULL;
	if (!yaml_parser_initialize(&p.parser))
		return np_error_set("cannot initialise the YAML parser");
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)text, len);
	int r = yparse__document(&p, out);
	yaml_parser_delete(&p.parser);
	return r;
}

int ytree_load_file(struct ynode **out, const char *path)
{
	struct buf text = BUF_INIT;
	int r = fs_read_file_max(&text, path, YTREE_MAX_FILE);
	if (!r)
		r = ytree_parse(out, path, text.ptr, text.len);
	buf_release(&text);
	return r;
}

void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			ynode_free(n->keys[i]);
		ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->value);
	free(n);
}

long ynode_index(const struct ynode *map, const char *key)
{
	if (!map || map->type != YNODE_MAP)
		return -1;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->value, key))
			return (long)i;
	return -1;
}

struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	long i = ynode_index(map, key);
	return i < 0 ? NULL : map->items[i];
}

const char *ynode_type_name(enum ynode_type t)
{
	return t == YNODE_SCALAR ? "a scalar" : t == YNODE_SEQ ? "a list" : "a mapping";
}

int ynode_bool(bool *out, const struct ynode *n)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "on", NULL };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "off", NULL };
	if (n->type != YNODE_SCALAR || n->quoted)
		return NP_EINVALID;
	for (int i = 0; yes[i]; i++)
		if (!strcmp(n->value, yes[i]))
			return (*out = true), 0;
	for (int i = 0; no[i]; i++)
		if (!strcmp(n->value, no[i]))
			return (*out = false), 0;
	return NP_EINVALID;
}

int ynode_long(long *out, const struct ynode *n)
{
	char *end;
	if (n->type != YNODE_SCALAR || n->quoted || !n->value[0])
		return NP_EINVALID;
	errno = 0;
	long v = strtol(n->value, &end, 10);
	if (errno || *end)
		return NP_EINVALID;
	*out = v;
	return 0;
}

int ynode_error(const char *file, const struct ynode *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return np_error_setc(NP_EINVALID, "%s:%zu:%zu: %s", file, n ? n->start.line : 1,
			     n ? n->start.col : 1, msg);
}
