/*
 * extract.c: the `extract` step: unpack a tar (gz, xz, zst, bz2) or zip
 * into dest with libarchive (common/extract.c does the refusing of
 * escapes and the temp-dir-then-rename). dest is managed as a whole tree:
 * a marker file inside it records which archive (sha256) and strip count
 * produced it, so a re-apply with the same archive is "ok" without
 * reading the tree, and a new archive replaces it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "extract.h"
#include "host.h"
#include "journal.h"
#include "sha256.h"
#include "step.h"
#include "banned.h"

#define MARKER ".nodeprep-extract"

static const struct arg_spec extract_args[] = {
	{ "src", ARG_STR, true, NULL },
	{ "dest", ARG_STR, true, NULL },
	{ "strip_components", ARG_INT, false, NULL },
	{ "allow_outside_symlinks", ARG_BOOL, false, NULL },
	{ NULL, 0, false, NULL },
};

struct extract_plan {
	struct buf src;    /* local path of the archive */
	struct buf marker; /* wanted marker content */
};

static void extract__free(void *p)
{
	struct extract_plan *ep = p;
	buf_release(&ep->src);
	buf_release(&ep->marker);
	free(ep);
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
	if (ctx_require_local(ctx, "extract"))
		return NP_ERROR;
	ch->path = dest;
	/* the archive is read where it is, on the machine nodeprep runs on */
	host_map_path(&p->src, ctx->host, args_str(a, "src", NULL));
	int r = sha256_hex_file(h, p->src.ptr);
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
	if (ch->needed)
		buf_addf(&ch->summary, "unpack %s into %s", args_str(a, "src", NULL), dest);
out:
	buf_release(&mpath);
	buf_release(&have);
	return r;
}

static int extract_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct extract_plan *p = ch->priv;
	struct buf dest = BUF_INIT, marker = BUF_INIT;
	struct extract_opts o = { (int)args_int(a, "strip_components", 0), 0,
				  args_bool(a, "allow_outside_symlinks", false) };
	int r = journal_record_tree(ctx->journal, ctx->host, ch->path);
	host_map_path(&dest, ctx->host, ch->path);
	if (!r && !(r = extract_file(p->src.ptr, dest.ptr, &o))) {
		/* the marker goes last: a crash before it means "extract again" */
		buf_addf(&marker, "%s/" MARKER, ch->path);
		r = host_write_file(ctx->host, marker.ptr, p->marker.ptr, p->marker.len, 0644, -1, -1);
	}
	if (r)
		np_error_prefix("extract '%s'", p->src.ptr);
	buf_release(&dest);
	buf_release(&marker);
	return r;
}

const struct step_kind step_extract = {
	"extract", extract_args, NULL, extract_check, extract_apply, false,
};
