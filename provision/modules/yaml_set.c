/*
 * yaml_set.c: set keys by dotted path in a YAML file, e.g.
 * featureGates.ContainerCheckpoint: true in the kubelet's config.yaml.
 *
 * libyaml cannot re-emit comments, so instead of re-serialising the
 * document we parse it only to find byte offsets (ytree marks) and splice
 * the new text into the original: an existing value is replaced in place,
 * a missing key is inserted after the last line of its parent mapping with
 * the parent's indentation. Everything else stays byte for byte. Each key
 * is applied to the text in turn and the result is parsed again, so the
 * file we write is always valid YAML.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "keyedit.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec yaml_set_args[] = {
	{ "path", ARG_PATH, true, NULL },
	{ "set", ARG_MAP, true, NULL },
	{ "mode", ARG_MODE, false, NULL },
	{ NULL, 0, false, NULL },
};

static int yaml_set_validate(const char *f, const struct ynode *a)
{
	const struct ynode *set = ynode_get(a, "set");
	for (size_t i = 0; i < set->n; i++) {
		if (set->items[i]->type == YNODE_MAP)
			return ynode_error(f, set->items[i],
					   "yaml_set: value of '%s' is a mapping; set its keys one by one with dotted paths",
					   set->keys[i]->value);
		if (!set->keys[i]->value[0] || strstr(set->keys[i]->value, ".."))
			return ynode_error(f, set->keys[i], "yaml_set: bad key path '%s'",
					   set->keys[i]->value);
	}
	return 0;
}

static bool plain__safe(const char *s)
{
	if (!*s || isspace((unsigned char)*s) || isspace((unsigned char)s[strlen(s) - 1]))
		return false;
	if (strchr("-?:,[]{}#&*!|>'\"%@`", *s))
		return false;
	return !strstr(s, ": ") && !strstr(s, " #") && !strchr(s, '\n');
}

static void scalar__emit(struct buf *out, const struct ynode *v)
{
	if (!v->quoted && plain__safe(v->value)) {
		buf_adds(out, v->value);
		return;
	}
	keyedit_add_quoted(out, v->value);
}

static bool scalar__same(const struct ynode *have, const struct ynode *want)
{
	/* "true" quoted is a string, true plain is a boolean: not the same */
	return have->type == YNODE_SCALAR && !strcmp(have->value, want->value) &&
	       (have->quoted == want->quoted || !plain__safe(want->value) || !want->quoted);
}

static bool value__same(const struct ynode *have, const struct ynode *want)
{
	if (want->type == YNODE_SCALAR)
		return scalar__same(have, want);
	if (have->type != YNODE_SEQ || have->n != want->n)
		return false;
	for (size_t i = 0; i < want->n; i++)
		if (!scalar__same(have->items[i], want->items[i]))
			return false;
	return true;
}

/* Offset just past the line holding the last scalar of node. */
static size_t node__end_of_last_line(const struct ynode *n, const struct buf *text)
{
	while ((n->type != YNODE_SCALAR) && n->n && !n->flow)
		n = n->items[n->n - 1];
	size_t off = n->end.offset;
	while (off < text->len && text->ptr[off] != '\n')
		off++;
	return off < text->len ? off + 1 : off;
}

static void insert__keys(struct buf *ins, char **segs, size_t from, size_t nseg, size_t indent,
			 const struct ynode *want)
{
	for (size_t j = from; j < nseg; j++) {
		buf_addf(ins, "%*s%s:", (int)(indent + 2 * (j - from)), "", segs[j]);
		if (j + 1 < nseg) {
			buf_addch(ins, '\n');
		} else {
			buf_addch(ins, ' ');
			keyedit_add_value(ins, want, scalar__emit);
			buf_addch(ins, '\n');
		}
	}
}

static void buf__splice(struct buf *text, size_t at, size_t del, const struct buf *ins)
{
	struct buf out = BUF_INIT;
	buf_add(&out, text->ptr, at);
	buf_add(&out, ins->ptr, ins->len);
	buf_add(&out, text->ptr + at + del, text->len - at - del);
	buf_release(text);
	*text = out;
}

/* Apply one dotted key to text. */
static int yaml__set_one(struct buf *text, const char *file, const char *dotted,
			 const struct ynode *want)
{
	struct ynode *doc = NULL;
	struct buf ins = BUF_INIT;
	char *path = strdup(dotted), *segs[64];
	size_t nseg = 0, i;
	int r;
	if (!path)
		abort();
	for (char *s = path, *dot; s && nseg < 64; s = dot ? dot + 1 : NULL) {
		dot = strchr(s, '.');
		if (dot)
			*dot = '\0';
		segs[nseg++] = s;
	}
	if ((r = ytree_parse(&doc, file, text->ptr, text->len)))
		goto out;
	const struct ynode *node = doc;
	for (i = 0; i < nseg; i++) {
		const struct ynode *child = node->type == YNODE_MAP ? ynode_get(node, segs[i]) : NULL;
		if (!child)
			break;
		node = child;
	}
	if (i == nseg) {
		if (value__same(node, want))
			goto out;
		keyedit_add_value(&ins, want, scalar__emit);
		buf__splice(text, node->start.offset, node->end.offset - node->start.offset, &ins);
	} else if (node->type != YNODE_MAP) {
		r = np_error_setc(NP_EINVALID, "%s:%zu:%zu: '%s' is %s, so '%s' cannot be set inside it",
				  file, node->start.line, node->start.col, segs[i - 1],
				  ynode_type_name(node->type), dotted);
	} else if (node->flow && node->n) {
		r = np_error_setc(NP_EINVALID,
				  "%s:%zu:%zu: cannot add '%s' to a {flow} mapping; write it in block style",
				  file, node->start.line, node->start.col, segs[i]);
	} else if (!node->n && node != doc) {
		/* "key: {}" or an empty value: replace it with a block below the key */
		size_t ls = node->start.offset, indent = 0;
		while (ls > 0 && text->ptr[ls - 1] != '\n')
			ls--;
		while (text->ptr[ls + indent] == ' ')
			indent++;
		buf_addch(&ins, '\n');
		insert__keys(&ins, segs, i, nseg, indent + 2, want);
		buf_rtrim(&ins);
		buf__splice(text, node->start.offset, node->end.offset - node->start.offset, &ins);
	} else {
		size_t indent = node->n ? node->keys[0]->start.col - 1 : 0;
		size_t at = node->n ? node__end_of_last_line(node, text) : text->len;
		if (at == text->len && text->len && text->ptr[text->len - 1] != '\n')
			buf_addch(&ins, '\n');
		insert__keys(&ins, segs, i, nseg, indent, want);
		buf__splice(text, at, 0, &ins);
	}
	ynode_free(doc);
	doc = NULL;
	if (!r && (r = ytree_parse(&doc, file, text->ptr, text->len)))
		np_error_prefix("yaml_set: editing '%s' would produce invalid YAML", dotted);
out:
	ynode_free(doc);
	buf_release(&ins);
	free(path);
	return r;
}

static int yaml__set_key(struct buf *text, const char *file, const char *key,
			 const struct ynode *want, void *priv)
{
	(void)priv;
	return yaml__set_one(text, file, key, want);
}

static int yaml_set_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	return keyedit_check(ctx, a, ch, yaml__set_key, NULL);
}

const struct step_kind step_yaml_set = { "yaml_set", yaml_set_args, yaml_set_validate,
					 yaml_set_check, NULL, false, true };
