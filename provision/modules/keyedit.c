/*
 * keyedit.c: see keyedit.h. Not a step kind (no row in modules.c): the
 * shared body of the key-editing kinds' check().
 */
#include "keyedit.h"

#include <string.h>

#include "args.h"
#include "exec.h"
#include "banned.h"

int keyedit_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch,
		  keyedit_set_fn set_one, void *priv)
{
	const char *path = args_str(a, "path", NULL);
	const struct ynode *set = ynode_get(a, "set");
	int r = ctx_load_old(ctx, path, ch);
	if (r)
		return r;
	buf_add(&ch->new, ch->old.ptr, ch->old.len);
	for (size_t i = 0; i < set->n && !r; i++)
		r = set_one(&ch->new, path, set->keys[i]->value, set->items[i], priv);
	ch->mode = args_mode(a, "mode");
	if (!ch->old_exists && ch->mode < 0)
		ch->mode = 0644;
	ch->needed = !ch->old_exists || ch->old.len != ch->new.len ||
		     memcmp(ch->old.ptr, ch->new.ptr, ch->new.len);
	return r;
}

void keyedit_add_quoted(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addf(out, "\\%c", *p);
		else if (*p == '\n')
			buf_adds(out, "\\n");
		else
			buf_addch(out, *p);
	}
	buf_addch(out, '"');
}

void keyedit_add_value(struct buf *out, const struct ynode *v,
		       void (*emit)(struct buf *out, const struct ynode *scalar))
{
	if (v->type == YNODE_SCALAR) {
		emit(out, v);
		return;
	}
	buf_addch(out, '[');
	for (size_t i = 0; i < v->n; i++) {
		buf_adds(out, i ? ", " : "");
		emit(out, v->items[i]);
	}
	buf_addch(out, ']');
}
