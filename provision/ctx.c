/*
 * ctx.c: the journaled write path. Every change a step makes to a file goes
 * through here, so the journal can never miss one and rollback stays exact.
 */
#include "exec.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "host.h"
#include "journal.h"
#include "log.h"
#include "step.h"
#include "banned.h"

void change_release(struct change *ch)
{
	buf_release(&ch->old);
	buf_release(&ch->new);
	buf_release(&ch->summary);
	if (ch->priv_free)
		ch->priv_free(ch->priv);
	ch->priv = NULL;
	ch->priv_free = NULL;
}

int ctx_mkdir_p(struct run_ctx *ctx, const char *path, int mode)
{
	struct buf p = BUF_INIT;
	struct host_stat st;
	int r = 0;
	buf_adds(&p, path);
	for (size_t i = 1; i <= p.len && !r; i++) {
		if (i < p.len && p.ptr[i] != '/')
			continue;
		char save = p.ptr[i];
		p.ptr[i] = '\0';
		if (!(r = host_stat(ctx->host, p.ptr, &st)) && !st.exists) {
			if (!(r = journal_record(ctx->journal, ctx->host, p.ptr)))
				r = host_mkdir(ctx->host, p.ptr, mode);
		} else if (!r && !st.is_dir) {
			r = np_error_set("'%s' exists and is not a directory", p.ptr);
		}
		p.ptr[i] = save;
	}
	buf_release(&p);
	return r;
}

int ctx_mkdir_parent(struct run_ctx *ctx, const char *path)
{
	struct buf dir = BUF_INIT;
	const char *slash = strrchr(path, '/');
	int r = 0;
	if (slash && slash != path) {
		buf_add(&dir, path, (size_t)(slash - path));
		r = ctx_mkdir_p(ctx, dir.ptr, 0755);
	}
	buf_release(&dir);
	return r;
}

int ctx_write_file(struct run_ctx *ctx, const char *path, const void *data, size_t len, int mode,
		   int uid, int gid)
{
	int r = ctx_mkdir_parent(ctx, path);
	if (!r)
		r = journal_record(ctx->journal, ctx->host, path);
	if (!r)
		r = host_write_file(ctx->host, path, data, len, mode, uid, gid);
	return r;
}

int ctx_remove(struct run_ctx *ctx, const char *path)
{
	int r = journal_record(ctx->journal, ctx->host, path);
	return r ? r : host_remove(ctx->host, path);
}

int ctx_chmod_chown(struct run_ctx *ctx, const char *path, int mode, int uid, int gid)
{
	int r = journal_record(ctx->journal, ctx->host, path);
	return r ? r : host_chmod_chown(ctx->host, path, mode, uid, gid);
}

int ctx_run(struct run_ctx *ctx, struct spawn *sp)
{
	int r = host_run(ctx->host, sp);
	if (sp->out.len)
		log_debug("%s: stdout:\n%s", ctx->step_name, sp->out.ptr);
	if (sp->err.len)
		log_debug("%s: stderr:\n%s", ctx->step_name, sp->err.ptr);
	return r;
}

int ctx_apply_content(struct run_ctx *ctx, struct change *ch)
{
	return ctx_write_file(ctx, ch->path, ch->new.ptr, ch->new.len, ch->mode, -1, -1);
}

int ctx_load_old(struct run_ctx *ctx, const char *path, struct change *ch)
{
	ch->path = path;
	ch->has_content = true;
	int r = host_read_file(ctx->host, path, &ch->old);
	if (r == NP_ENOTFOUND) {
		ch->old_exists = false;
		return 0;
	}
	ch->old_exists = r == 0;
	return r;
}

const char *ctx_source_override(const struct run_ctx *ctx, const char *name)
{
	const struct var *v = name && ctx->opts->sources ? var_table_find(ctx->opts->sources, name) : NULL;
	return v ? v->value : NULL;
}

void ctx_source(struct run_ctx *ctx, const char *name, const char *def, struct buf *out)
{
	const struct var *v = name && ctx->opts->sources ? var_table_find(ctx->opts->sources, name) : NULL;
	const char *s = v ? v->value : def;
	if (v)
		log_info("%s: source '%s' redirected to %s", ctx->step_name, name, s);
	if (v && !strstr(s, "://")) {
		/* a local path: absolute, as a file URL (libcurl and libgit2 both take it) */
		char cwd[4096];
		buf_adds(out, "file://");
		if (s[0] != '/' && getcwd(cwd, sizeof(cwd)))
			buf_addf(out, "%s/", cwd);
		buf_adds(out, s);
		return;
	}
	buf_adds(out, s);
}
