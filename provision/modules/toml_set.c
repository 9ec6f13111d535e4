/*
 * toml_set.c: set `key = value` under a [table] of a TOML file (crio.conf,
 * containerd's config.toml), or write a drop-in that does. No C TOML
 * library is packaged for Debian, and a parse/re-emit cycle would lose
 * comments anyway, so this edits lines: it finds the table's header, the
 * key's line inside it, and replaces only the value text (keeping an
 * end-of-line comment). A missing key is added after the table's last
 * key; a missing table is appended. Values that span lines (multi-line
 * arrays, """ strings) are refused rather than guessed at.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "keyedit.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec toml_set_args[] = {
	{ "path", ARG_PATH, true, NULL },
	{ "table", ARG_STR, false, NULL },
	{ "set", ARG_MAP, true, NULL },
	{ "mode", ARG_MODE, false, NULL },
	{ NULL, 0, false, NULL },
};

static int toml_set_validate(const char *f, const struct ynode *a)
{
	const struct ynode *set = ynode_get(a, "set");
	for (size_t i = 0; i < set->n; i++)
		if (set->items[i]->type == YNODE_MAP)
			return ynode_error(f, set->items[i], "toml_set: value of '%s' must be a scalar or a list",
					   set->keys[i]->value);
	return 0;
}

struct line {
	const char *s;
	size_t n;
};

/* Normalise a table name or key: drop blanks outside quotes. */
static void toml__norm(struct buf *out, const char *s, size_t n)
{
	char q = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (q) {
			if (c == q)
				q = 0;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (isspace((unsigned char)c)) {
			continue;
		}
		buf_addch(out, c);
	}
}

/* If l is a [table] or [[array]] header, its normalised name into out. */
static bool toml__header(const struct line *l, struct buf *out)
{
	size_t i = 0, n = l->n;
	while (i < n && isspace((unsigned char)l->s[i]))
		i++;
	if (i >= n || l->s[i] != '[')
		return false;
	size_t open = (i + 1 < n && l->s[i + 1] == '[') ? 2 : 1;
	const char *end = memchr(l->s + i, ']', n - i);
	if (!end)
		return false;
	buf_reset(out);
	toml__norm(out, l->s + i + open, (size_t)(end - (l->s + i + open)));
	return true;
}

/* Position of '=' and the end of the value (before a comment) on a key line. */
static bool toml__keyline(const struct line *l, struct buf *key, size_t *eq, size_t *vend)
{
	char q = 0;
	size_t i = 0;
	while (i < l->n && isspace((unsigned char)l->s[i]))
		i++;
	if (i >= l->n || l->s[i] == '#' || l->s[i] == '[')
		return false;
	*eq = 0;
	for (size_t k = i; k < l->n; k++) {
		char c = l->s[k];
		if (q) {
			if (c == '\\' && q == '"')
				k++;
			else if (c == q)
				q = 0;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (c == '=' && !*eq) {
			*eq = k;
		} else if (c == '#' && *eq) {
			*vend = k;
			goto done;
		}
	}
	*vend = l->n;
done:
	if (!*eq)
		return false;
	while (*vend > *eq + 1 && isspace((unsigned char)l->s[*vend - 1]))
		(*vend)--;
	buf_reset(key);
	toml__norm(key, l->s + i, *eq - i);
	return true;
}

static void toml__scalar(struct buf *out, const struct ynode *v)
{
	bool b;
	long n;
	if (!v->quoted && (!ynode_bool(&b, v))) {
		buf_adds(out, b ? "true" : "false");
		return;
	}
	if (!v->quoted && !ynode_long(&n, v)) {
		buf_addf(out, "%ld", n);
		return;
	}
	keyedit_add_quoted(out, v->value);
}

static size_t lines__split(struct line **out, const struct buf *text)
{
	size_t n = 0, cap = 16;
	*out = malloc(cap * sizeof(**out));
	for (const char *p = text->ptr; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (n == cap)
			*out = realloc(*out, (cap *= 2) * sizeof(**out));
		if (!*out)
			abort();
		(*out)[n++] = (struct line){ p, len };
		p = nl ? nl + 1 : p + len;
	}
	return n;
}

/* Edit text for one key; the table region is [first, end) in line indexes. */
static int toml__set_one(struct buf *text, const char *file, const char *table, const char *key,
			 const struct ynode *want)
{
	struct line *ls = NULL;
	struct buf name = BUF_INIT, k = BUF_INIT, val = BUF_INIT, out = BUF_INIT, wkey = BUF_INIT;
	size_t n = lines__split(&ls, text), first = 0, end = n, i, eq = 0, vend = 0;
	bool found_table = !*table;
	long hit = -1, last_key = -1;
	int r = 0;
	toml__norm(&wkey, key, strlen(key));
	keyedit_add_value(&val, want, toml__scalar);
	for (i = 0; i < n; i++) {
		if (!toml__header(&ls[i], &name))
			continue;
		if (found_table) {
			end = i;
			break;
		}
		if (!strcmp(name.ptr, table)) {
			found_table = true;
			first = i + 1;
		}
	}
	if (!found_table)
		first = end = n;
	for (i = first; i < end; i++) {
		if (!toml__keyline(&ls[i], &k, &eq, &vend))
			continue;
		last_key = (long)i;
		if (!strcmp(k.ptr, wkey.ptr))
			hit = (long)i;
	}
	size_t base = 0;
	if (hit >= 0) {
		struct line *l = &ls[hit];
		toml__keyline(l, &k, &eq, &vend);
		size_t vs = eq + 1;
		while (vs < vend && isspace((unsigned char)l->s[vs]))
			vs++;
		const char *v = l->s + vs;
		size_t vlen = vend - vs;
		if ((vlen >= 3 && (!strncmp(v, "\"\"\"", 3) || !strncmp(v, "'''", 3))) ||
		    (vlen && v[0] == '[' && !memchr(v, ']', vlen))) {
			r = np_error_setc(NP_EINVALID, "%s:%ld: the value of '%s' spans lines; toml_set edits single-line values only",
					  file, hit + 1, key);
			goto out;
		}
		if (vlen == val.len && !memcmp(v, val.ptr, vlen))
			goto out;
		base = (size_t)(v - text->ptr);
		buf_add(&out, text->ptr, base);
		buf_add(&out, val.ptr, val.len);
		buf_adds(&out, v + vlen);
	} else {
		size_t after = last_key >= 0 ? (size_t)last_key + 1 : first;
		size_t at = after < n ? (size_t)(ls[after].s - text->ptr) : text->len;
		buf_add(&out, text->ptr, at);
		if (out.len && out.ptr[out.len - 1] != '\n')
			buf_addch(&out, '\n');
		if (!found_table && *table)
			buf_addf(&out, "%s[%s]\n", out.len ? "\n" : "", table);
		buf_addf(&out, "%s = %s\n", key, val.ptr);
		buf_add(&out, text->ptr + at, text->len - at);
	}
	buf_release(text);
	*text = out;
	buf_init(&out);
out:
	free(ls);
	buf_release(&name);
	buf_release(&k);
	buf_release(&val);
	buf_release(&out);
	buf_release(&wkey);
	return r;
}

static int toml__set_key(struct buf *text, const char *file, const char *key,
			 const struct ynode *want, void *table)
{
	return toml__set_one(text, file, table, key, want);
}

static int toml_set_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct buf table = BUF_INIT;
	const char *t = args_str(a, "table", "");
	toml__norm(&table, t, strlen(t));
	int r = keyedit_check(ctx, a, ch, toml__set_key, table.ptr);
	buf_release(&table);
	return r;
}

const struct step_kind step_toml_set = { "toml_set", toml_set_args, toml_set_validate,
					 toml_set_check, NULL, false, true };
