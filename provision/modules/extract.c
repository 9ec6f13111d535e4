/*
 * extract.c: the `extract` step: unpack a tar (gz, xz, zst, bz2) or zip
 * into dest with libarchive (common/extract.c does the refusing of
 * escapes and the temp-dir-then-rename). dest is managed as a whole tree:
 * a marker file inside it records which archive (sha256) and strip count
 * produced it, so a re-apply with the same archive is "ok" without
 * reading the tree, and a new archive replaces it.
 *
 * On a remote host the archive (put there by fetch) is copied here,
 * unpacked and checked by the same code into a temp dir, and the clean
 * tree is pushed to dest (tree_push.c): hostile entries never reach the node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "exec.h"
#include "extract.h"
#include "fsutil.h"
#include "host.h"
#include "journal.h"
#include "sha256.h"
#include "step.h"
#include "tree_push.h"
#include "unpack.h"
#include "banned.h"

#define MARKER ".nodeprep-extract"

struct extract_plan {
	struct buf src;    /* the archive's path: local, or on the remote host */
	struct buf data;   /* remote hosts: the archive as read once for its hash */
	struct buf marker; /* wanted marker content */
};

static void extract__free(void *p)
{
	struct extract_plan *ep = p;
	buf_release(&ep->src);
	buf_release(&ep->data);
	buf_release(&ep->marker);
	free(ep);
}

/* The archive's sha256, read where it is: here, or on the remote host
 * (whose bytes are kept: apply unpacks them without a second transfer). */
static int extract__hash(struct run_ctx *ctx, const char *src, struct extract_plan *p,
			 char h[SHA256_HEX_LEN + 1])
{
	if (host_is_local(ctx->host)) {
		int r = host_local_resolve(&p->src, ctx->host, src, true);
		return r ? r : sha256_hex_file(h, p->src.ptr);
	}
	buf_adds(&p->src, src);
	int r = host_read_file(ctx->host, src, &p->data);
	if (!r)
		sha256_hex_mem(h, p->data.ptr, p->data.len);
	return r;
}

static int extract_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *dest = args_str(a, "dest", NULL);
	struct extract_plan *p = calloc(1, sizeof(*p));
	struct buf mpath = BUF_INIT, have = BUF_INIT;
	char h[SHA256_HEX_LEN + 1];
	if (!p)
		abort();
	ch->priv = p;
	ch->priv_free = extract__free;
	ch->path = dest;
	int r = extract__hash(ctx, args_str(a, "src", NULL), p, h);
	if (r == NP_ENOTFOUND && ctx->opts->mode != EXEC_APPLY) {
		/* planning: an earlier fetch step has not put the archive there yet */
		ch->needed = true;
		buf_addf(&ch->summary, "unpack %s (once fetched) into %s", args_str(a, "src", NULL), dest);
		r = 0;
		goto out;
	}
	if (r) {
		np_error_prefix("extract: archive");
		goto out;
	}
	buf_addf(&p->marker, "sha256 %s strip %ld\n", h, args_int(a, "strip_components", 0));
	buf_addf(&mpath, "%s/" MARKER, dest);
	r = host_read_file(ctx->host, mpath.ptr, &have);
	if (r == NP_ENOTFOUND)
		r = 0;
	ch->needed = !r && strcmp(have.ptr, p->marker.ptr) != 0;
	if (!ch->needed)
		buf_release(&p->data); /* nothing to unpack: do not hold the archive */
	if (ch->needed)
		buf_addf(&ch->summary, "unpack %s into %s", args_str(a, "src", NULL), dest);
out:
	buf_release(&mpath);
	buf_release(&have);
	return r;
}

/* see unpack.h: the local half of extract and gomod */
int unpack_in_root(struct run_ctx *ctx, const char *archive, const char *dest,
		   const struct extract_opts *o)
{
	struct buf shown = BUF_INIT;
	const char *name;
	int dir = -1;
	int r = host_local_open_parent(ctx->host, dest, &name, &dir);
	host_map_path(&shown, ctx->host, dest);
	if (!r)
		r = extract_file_at(archive, dir, name, shown.ptr, o);
	if (dir >= 0)
		close(dir);
	buf_release(&shown);
	return r;
}

static int extract_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct extract_plan *p = ch->priv;
	struct buf keep = BUF_INIT;
	int r = host_is_local(ctx->host) ? ctx_mkdir_parent(ctx, ch->path) : 0;
	if (!r)
		r = journal_record_tree(ctx->journal, ctx->host, ch->path, &keep);
	/* the marker travels inside the tree: it appears with the tree, at once;
	 * a replaced tree goes to the journal's backups, for rollback */
	struct extract_opts o = { (int)args_int(a, "strip_components", 0), 0,
				  args_bool(a, "allow_outside_symlinks", false), MARKER, p->marker.ptr,
				  keep.len ? keep.ptr : NULL };
	if (!r && !host_is_local(ctx->host)) {
		/* unpack and check the archive here (read by check), push the tree */
		r = tree_push_archive(ctx->host, ctx->opts->state_dir, NULL, p->data.ptr, p->data.len,
				      ch->path, &o);
	} else if (!r) {
		r = unpack_in_root(ctx, p->src.ptr, ch->path, &o);
	}
	if (r)
		np_error_prefix("extract '%s'", p->src.ptr);
	buf_release(&keep);
	return r;
}

/* looked up by name when nodeprep-sources.so is loaded (sources.c) */
const struct step_kind sources_extract = { "extract", NULL, NULL, extract_check, extract_apply, false };
