/*
 * file.c: the `file` step: a file with given content (inline or a template
 * rendered with the recipe's variables), a directory, or nothing (absent).
 * Mode and owner are converged without rewriting content that is right.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "fsutil.h"
#include "host.h"
#include "owner.h"
#include "step.h"
#include "template.h"
#include "banned.h"

static const struct arg_spec file_args[] = {
	{ "path", ARG_PATH, true, NULL },
	{ "content", ARG_STR, false, NULL },
	{ "template", ARG_STR, false, NULL },
	{ "mode", ARG_MODE, false, NULL },
	{ "owner", ARG_STR, false, NULL },
	{ "group", ARG_STR, false, NULL },
	{ "state", ARG_STR, false, "present|absent|directory" },
	{ NULL, 0, false, NULL },
};

enum file_fix { FIX_CONTENT = 1, FIX_ATTRS = 2, FIX_REMOVE = 4, FIX_MKDIR = 8 };

struct file_plan {
	int fix;
	int uid, gid;
};

static int file_validate(const char *f, const struct ynode *a)
{
	const struct ynode *c = ynode_get(a, "content"), *t = ynode_get(a, "template");
	const char *state = args_str(a, "state", "present");
	if (c && t)
		return ynode_error(f, t, "file: give 'content' or 'template', not both");
	if (strcmp(state, "present") && (c || t))
		return ynode_error(f, c ? c : t, "file: 'content'/'template' only go with state present");
	return 0;
}

/* Template path relative to the recipe's directory, read on the control host. */
static int file__render_template(struct run_ctx *ctx, const char *tpl, struct buf *out)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	int r;
	if (tpl[0] != '/')
		buf_addf(&path, "%s/", ctx->scope.recipe->dir);
	buf_adds(&path, tpl);
	if (!(r = fs_read_file(&text, path.ptr)))
		r = template_render(out, &ctx->scope, path.ptr, NULL, text.ptr);
	buf_release(&path);
	buf_release(&text);
	return r;
}

static bool attrs__differ(const struct host_stat *st, int mode, int uid, int gid)
{
	return (mode >= 0 && st->mode != mode) || (uid >= 0 && st->uid != uid) ||
	       (gid >= 0 && st->gid != gid);
}

static int file_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *path = args_str(a, "path", NULL), *state = args_str(a, "state", "present");
	struct file_plan *p = calloc(1, sizeof(*p));
	struct host_stat st;
	int mode = args_mode(a, "mode"), r;
	if (!p)
		return np_error_set("out of memory");
	ch->priv = p;
	ch->priv_free = free;
	ch->path = path;
	if ((r = owner_resolve(&p->uid, &p->gid, args_str(a, "owner", NULL), args_str(a, "group", NULL))))
		return r;
	if ((r = host_stat(ctx->host, path, &st)))
		return r;
	if (!strcmp(state, "absent")) {
		if (st.exists) {
			p->fix = FIX_REMOVE;
			buf_addf(&ch->summary, "remove %s", path);
		}
	} else if (!strcmp(state, "directory")) {
		if (st.exists && !st.is_dir)
			return np_error_set("'%s' exists and is not a directory", path);
		if (!st.exists)
			p->fix = FIX_MKDIR | FIX_ATTRS;
		else if (attrs__differ(&st, mode, p->uid, p->gid))
			p->fix = FIX_ATTRS;
	} else {
		if (st.is_dir)
			return np_error_set("'%s' is a directory", path);
		if ((r = ctx_load_old(ctx, path, ch)))
			return r;
		const char *tpl = args_str(a, "template", NULL);
		if (tpl && (r = file__render_template(ctx, tpl, &ch->new)))
			return r;
		if (!tpl)
			buf_adds(&ch->new, args_str(a, "content", ""));
		ch->mode = mode >= 0 ? mode : st.exists ? -1 : 0644;
		if (!st.exists || ch->old.len != ch->new.len || memcmp(ch->old.ptr, ch->new.ptr, ch->new.len))
			p->fix = FIX_CONTENT;
		else if (attrs__differ(&st, mode, p->uid, p->gid))
			p->fix = FIX_ATTRS;
		ch->has_content = p->fix & FIX_CONTENT;
	}
	if (p->fix & FIX_ATTRS && !ch->summary.len)
		buf_addf(&ch->summary, "%s%s mode/owner", p->fix & FIX_MKDIR ? "create " : "set ", path);
	ch->needed = p->fix != 0;
	return 0;
}

static int file_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct file_plan *p = ch->priv;
	int mode = args_mode(a, "mode");
	if (p->fix & FIX_REMOVE)
		return ctx_remove(ctx, ch->path);
	if (p->fix & FIX_MKDIR) {
		int r = ctx_mkdir_p(ctx, ch->path, mode >= 0 ? mode : 0755);
		if (r)
			return r;
	}
	if (p->fix & FIX_CONTENT)
		return ctx_write_file(ctx, ch->path, ch->new.ptr, ch->new.len, ch->mode, p->uid, p->gid);
	return ctx_chmod_chown(ctx, ch->path, mode, p->uid, p->gid);
}

const struct step_kind step_file = { "file", file_args, file_validate, file_check, file_apply, false, true };
