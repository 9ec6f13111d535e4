/*
 * fetch.c: the `fetch` step: download a URL into a content-addressed cache
 * on the control host (STATE/cache/sha256/HEX) and put it at dest. The
 * sha256 is required unless the recipe says `insecure: true`; a mismatch
 * discards the download and fails the step before anything is installed.
 * A `name` lets --source NAME=URL redirect the download (mirror, local
 * file) while the recipe's sha256 still decides what is accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "download.h"
#include "error.h"
#include "exec.h"
#include "fsutil.h"
#include "host.h"
#include "journal.h"
#include "sha256.h"
#include "step.h"
#include "banned.h"

/* The cache entry for this step: by content hash, or by URL when insecure. */
static void fetch__cache_path(struct buf *out, struct run_ctx *ctx, const char *sum, const char *url)
{
	char h[SHA256_HEX_LEN + 1];
	if (sum) {
		buf_addf(out, "%s/cache/sha256/%s", ctx->opts->state_dir, sum);
		return;
	}
	sha256_hex_mem(h, url, strlen(url));
	buf_addf(out, "%s/cache/url/%s", ctx->opts->state_dir, h);
}

static int fetch_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *dest = args_str(a, "dest", NULL), *sum = args_str(a, "sha256", NULL);
	struct host_stat st;
	struct buf have = BUF_INIT, url = BUF_INIT;
	char h[SHA256_HEX_LEN + 1];
	int r = host_stat(ctx->host, dest, &st);
	ch->path = dest;
	if (r)
		goto out;
	if (st.exists && sum) {
		if ((r = host_read_file(ctx->host, dest, &have)))
			goto out;
		sha256_hex_mem(h, have.ptr, have.len);
		ch->needed = strcmp(h, sum) != 0;
	} else {
		/* without a checksum an existing file cannot be judged: keep it */
		ch->needed = !st.exists;
	}
	ch->needed = ch->needed || (args_mode(a, "mode") >= 0 && st.mode != args_mode(a, "mode"));
	ctx_source(ctx, args_str(a, "name", NULL), args_str(a, "url", NULL), &url);
	if (ch->needed)
		buf_addf(&ch->summary, "fetch %s -> %s", url.ptr, dest);
out:
	buf_release(&have);
	buf_release(&url);
	return r;
}

/* Make sure the cache holds the verified file; its path into cached. */
static int fetch__to_cache(struct run_ctx *ctx, const struct ynode *a, struct buf *cached)
{
	const char *sum = args_str(a, "sha256", NULL);
	struct buf url = BUF_INIT, part = BUF_INIT, dir = BUF_INIT;
	char h[SHA256_HEX_LEN + 1];
	int r = 0;
	ctx_source(ctx, args_str(a, "name", NULL), args_str(a, "url", NULL), &url);
	fetch__cache_path(cached, ctx, sum, url.ptr);
	if (sum && fs_exists(cached->ptr) && !sha256_hex_file(h, cached->ptr) && !strcmp(h, sum))
		goto out; /* cached and intact */
	fs_dirname(&dir, cached->ptr);
	buf_addf(&part, "%s.part", cached->ptr);
	struct download_opts o = { args_str(a, "ca_file", NULL), (int)args_int(a, "retries", -1), 0,
				   false };
	if ((r = fs_mkdir_p(dir.ptr, 0700)) || (r = download_to(url.ptr, part.ptr, &o)))
		goto out;
	if (sum && ((r = sha256_hex_file(h, part.ptr)) || strcmp(h, sum))) {
		unlink(part.ptr);
		r = np_error_setc(NP_EVERIFY, "sha256 mismatch for %s: expected %s, got %s; the download was discarded",
				  url.ptr, sum, r ? "(unreadable)" : h);
		goto out;
	}
	if (rename(part.ptr, cached->ptr) < 0)
		r = np_error_set("cannot move the download into the cache '%s'", cached->ptr);
out:
	buf_release(&url);
	buf_release(&part);
	buf_release(&dir);
	return r;
}

/*
 * fetch_on: remote: the node downloads (curl) into a temp file beside dest,
 * checks the sha256 there, and renames: for nodes that can reach the URL
 * when the control host cannot.
 */
static int fetch__on_remote(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *sum = args_str(a, "sha256", NULL);
	struct buf url = BUF_INIT, script = BUF_INIT, tmp = BUF_INIT;
	int mode = args_mode(a, "mode");
	ctx_source(ctx, args_str(a, "name", NULL), args_str(a, "url", NULL), &url);
	buf_addf(&tmp, "%s.np-fetch", ch->path);
	buf_addf(&script, "set -e; rm -f \"$2\"; curl -fsSL --retry 3 -o \"$2\" \"$1\"; %s"
			  "chmod %o \"$2\"; mv -f \"$2\" \"$3\"",
		 sum ? "echo \"$4  $2\" | sha256sum -c --quiet || { rm -f \"$2\"; echo \"sha256 mismatch for $1\" >&2; exit 1; }; " : "",
		 mode >= 0 ? mode : 0644);
	struct buf mapped_tmp = BUF_INIT, mapped_dest = BUF_INIT;
	host_map_path(&mapped_tmp, ctx->host, tmp.ptr);
	host_map_path(&mapped_dest, ctx->host, ch->path);
	const char *argv[] = { "/bin/sh", "-c", script.ptr, "fetch", url.ptr, mapped_tmp.ptr,
			       mapped_dest.ptr, sum ? sum : "", NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.timeout_ms = 3600 * 1000;
	int r = journal_record(ctx->journal, ctx->host, ch->path);
	if (!r && !(r = ctx_run(ctx, &sp)) && sp.status)
		r = np_error_setc(NP_EVERIFY, "fetch on the node failed (status %d): %s", sp.status,
				  sp.err.ptr);
	spawn_release(&sp);
	buf_release(&url);
	buf_release(&script);
	buf_release(&tmp);
	buf_release(&mapped_tmp);
	buf_release(&mapped_dest);
	return r;
}

static int fetch_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	if (!strcmp(args_str(a, "fetch_on", "control"), "remote"))
		return fetch__on_remote(ctx, a, ch);
	struct buf cached = BUF_INIT, data = BUF_INIT;
	int mode = args_mode(a, "mode");
	int r = fetch__to_cache(ctx, a, &cached);
	if (!r && !(r = fs_read_file(&data, cached.ptr)))
		r = ctx_write_file(ctx, ch->path, data.ptr, data.len, mode >= 0 ? mode : 0644, -1, -1);
	buf_release(&cached);
	buf_release(&data);
	return r;
}

/* looked up by name when nodeprep-sources.so is loaded (sources.c) */
const struct step_kind sources_fetch = { "fetch", NULL, NULL, fetch_check, fetch_apply, false };
