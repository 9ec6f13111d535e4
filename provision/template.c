/*
 * template.c: rendering of {{ name }}. Deliberately tiny: no filters, no
 * loops. Recipes that need logic use `when` and separate steps, which keeps
 * them readable as documentation of what a node gets.
 */
#include "template.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "facts.h"
#include "banned.h"

#define TEMPLATE_MAX_DEPTH 16

static int render__text(struct buf *out, const struct scope *sc, const char *file,
			struct ymark at, const char *text, int depth);

static const struct var *lookup__recipe(const struct recipe *r, const char *name, int depth)
{
	const struct var *v = var_table_find(&r->vars, name);
	if (v || depth > TEMPLATE_MAX_DEPTH)
		return v;
	for (size_t i = 0; i < r->ndeps && !v; i++)
		v = lookup__recipe(r->deps[i], name, depth + 1);
	return v;
}

static int render__var(struct buf *out, const struct scope *sc, const struct var *v, int depth)
{
	if (depth >= TEMPLATE_MAX_DEPTH)
		return np_error_setc(NP_EINVALID,
				     "%s:%zu:%zu: variable '%s' refers to itself (cycle or nesting over %d)",
				     v->file, v->at.line, v->at.col, v->name, TEMPLATE_MAX_DEPTH);
	return render__text(out, sc, v->file, v->at, v->value, depth + 1);
}

static int render__name(struct buf *out, const struct scope *sc, const char *file,
			struct ymark at, const char *name, int depth)
{
	const struct var *v = NULL;
	if (!strncmp(name, "env.", 4)) {
		const char *e = getenv(name + 4);
		if (!e)
			return np_error_setc(NP_EINVALID,
					     "%s:%zu:%zu: environment variable '%s' is not set", file,
					     at.line, at.col, name + 4);
		buf_adds(out, e);
		return 0;
	}
	if (!strncmp(name, "facts.", 6) && sc->facts) {
		const char *f = facts_get(sc->facts, name + 6);
		if (!f)
			return np_error_setc(NP_EINVALID, "%s:%zu:%zu: unknown fact '%s'", file, at.line,
					     at.col, name + 6);
		buf_adds(out, f);
		return 0;
	}
	if (sc->overrides)
		v = var_table_find(sc->overrides, name);
	if (!v && sc->recipe)
		v = lookup__recipe(sc->recipe, name, 0);
	if (!v && sc->builtins)
		v = var_table_find(sc->builtins, name);
	if (!v)
		return np_error_setc(NP_EINVALID, "%s:%zu:%zu: undefined variable '%s'", file, at.line,
				     at.col, name);
	return render__var(out, sc, v, depth);
}

static bool name__ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static int render__text(struct buf *out, const struct scope *sc, const char *file,
			struct ymark at, const char *text, int depth)
{
	const char *p = text;
	for (;;) {
		const char *open = strstr(p, "{{");
		if (!open) {
			buf_adds(out, p);
			return 0;
		}
		buf_add(out, p, (size_t)(open - p));
		struct ymark here = at;
		if (!strchr(text, '\n'))
			here.col += (size_t)(open - text);
		const char *close = strstr(open + 2, "}}");
		if (!close)
			return np_error_setc(NP_EINVALID, "%s:%zu:%zu: unterminated '{{'", file,
					     here.line, here.col);
		const char *s = open + 2, *e = close;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (!name__ok(s, (size_t)(e - s)))
			return np_error_setc(NP_EINVALID, "%s:%zu:%zu: bad variable reference '%.*s'",
					     file, here.line, here.col, (int)(close + 2 - open), open);
		char *name = strndup(s, (size_t)(e - s));
		if (!name)
			abort();
		int r = render__name(out, sc, file, here, name, depth);
		free(name);
		if (r)
			return r;
		p = close + 2;
	}
}

int template_render(struct buf *out, const struct scope *sc, const char *file,
		    const struct ynode *at, const char *text)
{
	struct ymark m = at ? at->start : (struct ymark){ 1, 1, 0 };
	/* quoted scalars start one column before their text */
	if (at && at->quoted && !strchr(text, '\n'))
		m.col++;
	return render__text(out, sc, file, m, text, 0);
}

int template_render_node(struct ynode **out, const struct scope *sc, const char *file,
			 const struct ynode *in)
{
	struct ynode *n = calloc(1, sizeof(*n));
	int r = 0;
	if (!n)
		abort();
	*n = *in;
	n->value = NULL;
	n->keys = NULL;
	n->items = NULL;
	n->n = 0;
	if (in->type == YNODE_SCALAR) {
		struct buf b = BUF_INIT;
		r = template_render(&b, sc, file, in, in->value);
		n->value = buf_detach(&b, NULL);
		/* a rendered template is text the user wrote in quotes or not;
		 * keep "plain" only when nothing was substituted */
		n->rendered = strstr(in->value, "{{") != NULL;
		n->quoted = in->quoted || n->rendered;
		goto out;
	}
	n->items = calloc(in->n ? in->n : 1, sizeof(*n->items));
	n->keys = in->type == YNODE_MAP ? calloc(in->n ? in->n : 1, sizeof(*n->keys)) : NULL;
	if (!n->items || (in->type == YNODE_MAP && !n->keys))
		abort();
	for (size_t i = 0; i < in->n && !r; i++) {
		if (n->keys)
			r = template_render_node(&n->keys[i], sc, file, in->keys[i]);
		if (!r)
			r = template_render_node(&n->items[i], sc, file, in->items[i]);
		n->n = i + 1;
	}
out:
	if (r) {
		ynode_free(n);
		n = NULL;
	}
	*out = n;
	return r;
}

static void trim__copy(char *dst, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * Dotted versions compared number by number ("1.9" < "1.22" < "1.22.1");
 * a leading 'v' is ignored and an empty side is older than any version.
 */
static int version__cmp(const char *a, const char *b)
{
	a += *a == 'v';
	b += *b == 'v';
	while (*a || *b) {
		char *ea, *eb;
		unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
		if (ea == a && eb == b)
			return strcmp(a, b);
		if (ea == a || eb == b)
			return ea == a ? -1 : 1;
		if (x != y)
			return x < y ? -1 : 1;
		a = *ea == '.' ? ea + 1 : ea;
		b = *eb == '.' ? eb + 1 : eb;
		if ((!*a) != (!*b))
			return !*a ? -1 : 1;
	}
	return 0;
}

/* "A >= B" and "A < B": version comparisons (Go, kernel, runtime versions). */
static int truthy__version(const char *text, const char *op, bool ge)
{
	size_t ln = (size_t)(op - text), rn = strlen(op + (ge ? 2 : 1));
	char *a = malloc(ln + 1), *b = malloc(rn + 1);
	if (!a || !b)
		abort();
	trim__copy(a, text, ln);
	trim__copy(b, op + (ge ? 2 : 1), rn);
	int c = version__cmp(a, b);
	free(a);
	free(b);
	return ge ? c >= 0 : c < 0;
}

int template_truthy(const char *text)
{
	const char *and = strstr(text, " and ");
	if (and) {
		char *left = malloc((size_t)(and - text) + 1);
		if (!left)
			abort();
		memcpy(left, text, (size_t)(and - text));
		left[and - text] = '\0';
		int t = template_truthy(left) && template_truthy(and + 5);
		free(left);
		return t;
	}
	const char *op = strstr(text, "==");
	bool neg = false;
	if (!op && (op = strstr(text, "!=")))
		neg = true;
	if (!op && (op = strstr(text, ">=")))
		return truthy__version(text, op, true);
	if (!op && (op = strstr(text, " < ")))
		return truthy__version(text, op + 1, false);
	if (op) {
		size_t ln = (size_t)(op - text), rn = strlen(op + 2);
		char *a = malloc(ln + 1), *b = malloc(rn + 1);
		if (!a || !b)
			abort();
		trim__copy(a, text, ln);
		trim__copy(b, op + 2, rn);
		int eq = !strcmp(a, b);
		free(a);
		free(b);
		return neg ? !eq : eq;
	}
	char *t = malloc(strlen(text) + 1);
	if (!t)
		abort();
	trim__copy(t, text, strlen(text));
	int r = t[0] && strcmp(t, "false") && strcmp(t, "no") && strcmp(t, "0") &&
		strcmp(t, "False");
	free(t);
	return r;
}
