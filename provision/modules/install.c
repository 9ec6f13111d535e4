/*
 * install.c: put a file or binary at dest atomically, keeping the previous
 * one. The backup (dest.old, or backup_path) is written only when none
 * exists yet: after several upgrades it still holds what the node had
 * before nodeprep touched it, which is what people want to go back to
 * (RKE2 keeps its binaries in /var/lib/rancher/rke2/bin this way).
 * The source is read on the control host; a relative src is relative to
 * the recipe's directory.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "fsutil.h"
#include "host.h"
#include "owner.h"
#include "sha256.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec install_args[] = {
	{ "src", ARG_STR, true, NULL },
	{ "dest", ARG_PATH, true, NULL },
	{ "mode", ARG_MODE, false, NULL },
	{ "owner", ARG_STR, false, NULL },
	{ "group", ARG_STR, false, NULL },
	{ "backup", ARG_BOOL, false, NULL },
	{ "backup_path", ARG_PATH, false, NULL },
	{ "remote_src", ARG_BOOL, false, NULL },
	{ NULL, 0, false, NULL },
};

/* src is a target path with remote_src: absolute then, as every target path */
static int install_validate(const char *f, const struct ynode *a)
{
	const struct ynode *src = ynode_get(a, "src");
	if (args_bool(a, "remote_src", false) && src && src->type == YNODE_SCALAR &&
	    !strstr(src->value, "{{") && src->value[0] != '/')
		return ynode_error(f, src, "install: 'src' must be an absolute path with remote_src, not '%s'",
				   src->value);
	return 0;
}

struct install_plan {
	struct buf src_data;
	struct buf backup;
	bool do_backup;
	int uid, gid;
};

static void install__free(void *p)
{
	struct install_plan *ip = p;
	buf_release(&ip->src_data);
	buf_release(&ip->backup);
	free(ip);
}

static int install_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *src = args_str(a, "src", NULL), *dest = args_str(a, "dest", NULL);
	struct install_plan *p = calloc(1, sizeof(*p));
	struct buf spath = BUF_INIT;
	struct host_stat st, bst;
	char hs[SHA256_HEX_LEN + 1] = "", hd[SHA256_HEX_LEN + 1] = "";
	int mode = args_mode(a, "mode"), r;
	if (!p)
		abort();
	ch->priv = p;
	ch->priv_free = install__free;
	ch->path = dest;
	bool remote_src = args_bool(a, "remote_src", false);
	if (remote_src) {
		/* a file already on the target (a build output): read through the host */
		if ((r = host_read_file(ctx->host, src, &p->src_data))) {
			np_error_prefix("install: source missing on the target");
			goto out;
		}
	}
	if (!remote_src && src[0] != '/')
		buf_addf(&spath, "%s/", ctx->scope.recipe->dir);
	buf_adds(&spath, src);
	if ((r = owner_resolve(&p->uid, &p->gid, args_str(a, "owner", NULL), args_str(a, "group", NULL))))
		goto out;
	if (!remote_src && (r = fs_read_file(&p->src_data, spath.ptr))) {
		np_error_prefix("install: source missing");
		goto out;
	}
	if (mode < 0 && remote_src) {
		struct host_stat sst;
		if (!host_stat(ctx->host, src, &sst))
			mode = sst.mode;
	} else if (mode < 0) {
		struct host *local = host_local_new("");
		struct host_stat sst;
		if (!host_stat(local, spath.ptr, &sst))
			mode = sst.mode;
		host_free(local);
	}
	ch->mode = mode;
	if ((r = host_stat(ctx->host, dest, &st)))
		goto out;
	if (st.exists) {
		if ((r = host_read_file(ctx->host, dest, &ch->old)))
			goto out;
		sha256_hex_mem(hd, ch->old.ptr, ch->old.len);
		sha256_hex_mem(hs, p->src_data.ptr, p->src_data.len);
	}
	bool same = st.exists && !strcmp(hs, hd);
	ch->needed = !same || (mode >= 0 && st.mode != mode) || (p->uid >= 0 && st.uid != p->uid) ||
		     (p->gid >= 0 && st.gid != p->gid);
	if (args_bool(a, "backup", false) || ynode_get(a, "backup_path")) {
		const char *bp = args_str(a, "backup_path", NULL);
		if (bp)
			buf_adds(&p->backup, bp);
		else
			buf_addf(&p->backup, "%s.old", dest);
		if ((r = host_stat(ctx->host, p->backup.ptr, &bst)))
			goto out;
		p->do_backup = st.exists && !same && !bst.exists;
	}
	if (ch->needed)
		buf_addf(&ch->summary, "%s %s%s%s", st.exists ? (same ? "fix mode of" : "replace") : "install",
			 dest, p->do_backup ? ", keeping the old one as " : "",
			 p->do_backup ? p->backup.ptr : "");
	r = 0;
out:
	buf_release(&spath);
	return r;
}

static int install_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct install_plan *p = ch->priv;
	(void)a;
	int r = 0;
	if (p->do_backup)
		r = ctx_write_file(ctx, p->backup.ptr, ch->old.ptr, ch->old.len, -1, -1, -1);
	if (!r)
		r = ctx_write_file(ctx, ch->path, p->src_data.ptr, p->src_data.len, ch->mode, p->uid,
				   p->gid);
	return r;
}

const struct step_kind step_install = { "install", install_args, install_validate, install_check,
					install_apply, false, true };
