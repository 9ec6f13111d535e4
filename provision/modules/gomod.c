/*
 * gomod.c: a `git` step whose source is redirected to a Go module
 * (`--source NAME=gomod:MODULE@VERSION`). The go command downloads the
 * module through the configured proxy and checks it against go.sum / the
 * checksum database; nodeprep then hashes the very zip it unpacks (the
 * module's "h1:" dirhash) so a tampered cache is caught too, compares it
 * with the recipe's `gomod_sum` pin, and unpacks it into dest like an
 * `extract` (same escape checks, temp dir, one atomic swap, marker inside).
 *
 * Why not git: mirrors (a company GOPROXY), offline caches and CI reach a
 * module proxy where they reach no forge. A module's tree has no .git and
 * no nested modules, so builds from it run in module mode and fetch their
 * dependencies through the same proxy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "error.h"
#include "exec.h"
#include "extract.h"
#include "fsutil.h"
#include "gomod.h"
#include "host.h"
#include "journal.h"
#include "unpack.h"
#include "log.h"
#include "sha256.h"
#include "spawn.h"
#include "step.h"
#include "tree_push.h"
#include "banned.h"

#define GOMOD_MARKER ".nodeprep-gomod"

struct gomod {
	struct buf zip;    /* the module zip in the module cache (control host) */
	struct buf sum;    /* "h1:..." as the go command reports it */
	struct buf marker; /* wanted marker content */
	int strip;         /* leading path parts of "MODULE@VERSION/" in the zip */
};

static void gomod__free(void *p)
{
	struct gomod *g = p;
	buf_release(&g->zip);
	buf_release(&g->sum);
	buf_release(&g->marker);
	free(g);
}

/* The go command: $NODEPREP_GO, else `go` on PATH, else the tarball's place. */
static const char *gomod__go(void)
{
	const char *env = getenv("NODEPREP_GO"), *path = getenv("PATH");
	if (env && env[0])
		return env;
	for (const char *p = path; p && *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char cand[4096];
		snprintf(cand, sizeof(cand), "%.*s/go", (int)n, p);
		if (n && access(cand, X_OK) == 0)
			return "go";
		p = end ? end + 1 : NULL;
	}
	return access("/usr/local/go/bin/go", X_OK) == 0 ? "/usr/local/go/bin/go" : NULL;
}

/* Where the go command keeps modules: the caller's GOMODCACHE, else the state dir's cache. */
static void gomod__cache(struct buf *out, const struct run_ctx *ctx)
{
	const char *env = getenv("GOMODCACHE");
	if (env && env[0])
		buf_adds(out, env);
	else
		buf_addf(out, "%s/cache/go/mod", ctx->opts->state_dir);
}

/* Parse the go command's JSON; a module it could not serve carries "Error". */
static int gomod__parse(struct gomod *g, const char *spec, const struct spawn *sp)
{
	json_error_t je;
	json_t *j = json_loads(sp->out.ptr ? sp->out.ptr : "", 0, &je);
	const char *err = j ? json_string_value(json_object_get(j, "Error")) : NULL;
	const char *zip = j ? json_string_value(json_object_get(j, "Zip")) : NULL;
	const char *sum = j ? json_string_value(json_object_get(j, "Sum")) : NULL;
	int r = 0;
	if (err || sp->status != 0 || !zip || !sum) {
		struct buf why = BUF_INIT;
		buf_adds(&why, err ? err : sp->err.len ? sp->err.ptr : "no module information");
		buf_rtrim(&why);
		r = np_error_setc(NP_ENOTFOUND, "gomod: %s is not served: %s", spec, why.ptr);
		buf_release(&why);
	} else {
		buf_adds(&g->zip, zip);
		buf_adds(&g->sum, sum);
	}
	json_decref(j);
	return r;
}

/* go mod download -json MODULE@VERSION, into the module cache. */
static int gomod__download(struct gomod *g, const struct run_ctx *ctx, const char *spec)
{
	struct buf cache = BUF_INIT, envc = BUF_INIT;
	const char *go = gomod__go();
	int r;
	if (!go)
		return np_error_setc(NP_ENOTFOUND,
				     "gomod: the go command is not on PATH nor in /usr/local/go/bin "
				     "(apply recipes/go-toolchain.yaml first, or set NODEPREP_GO)");
	gomod__cache(&cache, ctx);
	buf_addf(&envc, "GOMODCACHE=%s", cache.ptr);
	const char *argv[] = { go, "mod", "download", "-json", spec, NULL };
	/* -modcacherw: the build steps after us may clean the cache; GOTOOLCHAIN
	 * local: a go.mod's toolchain line must not make go fetch another Go */
	const char *env[] = { envc.ptr, "GOFLAGS=-modcacherw", "GOTOOLCHAIN=local", "GO111MODULE=on", NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.env = env;
	sp.cwd = "/"; /* outside any module: only the named one is downloaded */
	sp.timeout_ms = 30 * 60 * 1000;
	r = spawn_run(&sp);
	if (r == NP_ENOTFOUND)
		r = np_error_setc(NP_ENOTFOUND, "gomod: cannot run the go command '%s' (apply "
				  "recipes/go-toolchain.yaml first, or set NODEPREP_GO)", go);
	else if (!r)
		r = gomod__parse(g, spec, &sp);
	spawn_release(&sp);
	buf_release(&cache);
	buf_release(&envc);
	return r;
}

/* lines are "<name>\n<sha256 hex>": sorted by name, as the go command sorts files */
static int gomod__cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The module's "h1:" hash of a zip, as the go command computes it
 * (golang.org/x/mod/sumdb/dirhash Hash1): sha256 over the sorted lines
 * "<sha256 hex of file>  <name>\n", base64-encoded.
 */
static int gomod__hash_zip(struct buf *out, const char *zip)
{
	struct archive *ar = extract_reader_open(zip, NULL, 0);
	struct archive_entry *e;
	char **lines = NULL, hex[SHA256_HEX_LEN + 1], buf[65536];
	size_t n = 0, cap = 0;
	int r = 0, ar_r;
	if (!ar)
		return NP_ERROR;
	while ((ar_r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		struct sha256_ctx *c;
		la_ssize_t got;
		if (archive_entry_filetype(e) == AE_IFDIR)
			continue;
		if (!name || strchr(name, '\n')) {
			r = np_error_setc(NP_EVERIFY, "gomod: '%s' holds a file name with a newline", zip);
			goto out;
		}
		c = sha256_new();
		while ((got = archive_read_data(ar, buf, sizeof(buf))) > 0)
			sha256_update(c, buf, (size_t)got);
		sha256_final_hex(c, hex);
		if (got < 0) {
			r = np_error_set("gomod: cannot read '%s': %s", zip, archive_error_string(ar));
			goto out;
		}
		if (n == cap) {
			char **grown = realloc(lines, (cap = cap ? cap * 2 : 256) * sizeof(*lines));
			if (!grown)
				abort();
			lines = grown;
		}
		struct buf l = BUF_INIT;
		buf_addf(&l, "%s\n%s", name, hex);
		lines[n++] = buf_detach(&l, NULL);
	}
	if (ar_r != ARCHIVE_EOF) {
		r = np_error_setc(NP_EVERIFY, "gomod: '%s' is not a readable zip: %s", zip,
				  archive_error_string(ar));
		goto out;
	}
	qsort(lines, n, sizeof(*lines), gomod__cmp);
	struct sha256_ctx *all = sha256_new();
	for (size_t i = 0; i < n; i++) {
		const char *nl = strrchr(lines[i], '\n');
		sha256_update(all, nl + 1, strlen(nl + 1));
		sha256_update(all, "  ", 2);
		sha256_update(all, lines[i], (size_t)(nl - lines[i]));
		sha256_update(all, "\n", 1);
	}
	sha256_final_hex(all, hex);
	unsigned char raw[32], b64[48];
	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char)strtoul((char[]){ hex[2 * i], hex[2 * i + 1], 0 }, NULL, 16);
	EVP_EncodeBlock(b64, raw, 32);
	buf_addf(out, "h1:%s", (char *)b64);
out:
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	archive_read_free(ar);
	return r;
}

/* "MODULE@VERSION" -> the zip's leading parts: one per '/' in MODULE, plus the version's. */
static int gomod__strip(const char *spec)
{
	int n = 1;
	for (const char *p = spec; *p && *p != '@'; p++)
		n += *p == '/';
	return n;
}

int gomod_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch, const char *spec)
{
	const char *pin = args_str(a, "gomod_sum", NULL);
	struct gomod *g = calloc(1, sizeof(*g));
	struct buf mpath = BUF_INIT, have = BUF_INIT;
	int r;
	if (!g)
		abort();
	ch->priv = g;
	ch->priv_free = gomod__free;
	ch->path = args_str(a, "dest", NULL);
	const char *at = strchr(spec, '@');
	if (!at || at == spec || !at[1])
		return np_error_setc(NP_EINVALID, "gomod: source '%s' must be MODULE@VERSION", spec);
	if ((r = gomod__download(g, ctx, spec)))
		goto out;
	log_info("%s: %s %s", ctx->step_name, spec, g->sum.ptr);
	if (pin && strcmp(pin, g->sum.ptr)) {
		r = np_error_setc(NP_EVERIFY, "gomod: %s has %s, the recipe pins gomod_sum %s", spec,
				  g->sum.ptr, pin);
		goto out;
	}
	g->strip = gomod__strip(spec);
	buf_addf(&g->marker, "gomod %s %s\n", spec, g->sum.ptr);
	buf_addf(&mpath, "%s/" GOMOD_MARKER, ch->path);
	r = host_read_file(ctx->host, mpath.ptr, &have);
	if (r == NP_ENOTFOUND)
		r = 0;
	ch->needed = !r && strcmp(have.ptr, g->marker.ptr) != 0;
	if (ch->needed)
		buf_addf(&ch->summary, "unpack module %s (%s) into %s", spec, g->sum.ptr, ch->path);
out:
	buf_release(&mpath);
	buf_release(&have);
	return r;
}

int gomod_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct gomod *g = ch->priv;
	struct buf keep = BUF_INIT, h1 = BUF_INIT;
	(void)a;
	int r = gomod__hash_zip(&h1, g->zip.ptr);
	if (!r && strcmp(h1.ptr, g->sum.ptr))
		r = np_error_setc(NP_EVERIFY, "gomod: the zip '%s' hashes to %s, not %s: the module cache "
				  "was altered (remove it and apply again)", g->zip.ptr, h1.ptr, g->sum.ptr);
	if (!r && host_is_local(ctx->host))
		r = ctx_mkdir_parent(ctx, ch->path);
	if (!r)
		r = journal_record_tree(ctx->journal, ctx->host, ch->path, &keep);
	/* a module zip keeps vendor/modules.txt but no vendored packages; left
	 * in the tree it would make the go command build with -mod=vendor and
	 * fail, so the tree is in module mode like the module itself */
	struct extract_opts o = { g->strip, 0, false, GOMOD_MARKER, g->marker.ptr,
				  keep.len ? keep.ptr : NULL, "vendor/modules.txt" };
	if (!r && !host_is_local(ctx->host))
		r = tree_push_archive(ctx->host, ctx->opts->state_dir, g->zip.ptr, NULL, 0, ch->path, &o);
	else if (!r)
		r = unpack_in_root(ctx, g->zip.ptr, ch->path, &o);
	if (!r)
		log_info("%s: %s is module %.*s", ctx->step_name, ch->path, (int)g->marker.len - 7,
			 g->marker.ptr + 6);
	buf_release(&keep);
	buf_release(&h1);
	return r;
}
