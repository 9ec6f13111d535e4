/*
 * git.c: the `git` step: a checkout of repo at ref (tag, branch or full
 * commit id) in dest, through libgit2. An existing checkout whose HEAD is
 * already the wanted commit is left alone; for a branch that takes one
 * ls-remote, for a tag or commit none. A first clone goes to a temp dir
 * beside dest and is renamed into place, so a failed clone leaves nothing.
 * `commit` pins the result: after checkout HEAD must be exactly it.
 * ssh URLs authenticate with the ssh-agent or ~/.ssh keys (or `ssh_key`)
 * and check the server against known_hosts; https uses the system CAs.
 * On a remote host the checkout is made on the control host and pushed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <git2.h>

#include "error.h"
#include "exec.h"
#include "fsutil.h"
#include "gomod.h"
#include "host.h"
#include "journal.h"
#include "known_hosts.h"
#include "log.h"
#include "sha256.h"
#include "step.h"
#include "tree_push.h"
#include "banned.h"

#define GIT_MARKER ".nodeprep-git"

struct git_cb {
	const struct ynode *a;
	const char *url;
	int tries;
};

/* The port of an ssh://[user@]host:port/ URL (libgit2 does not pass it to the callback). */
static int git__url_port(const char *url)
{
	if (!url || strncmp(url, "ssh://", 6))
		return 22;
	const char *h = url + 6, *slash = strchr(h, '/'), *at = strchr(h, '@');
	if (at && (!slash || at < slash))
		h = at + 1;
	const char *colon = strchr(h, ':');
	return colon && (!slash || colon < slash) ? (int)strtol(colon + 1, NULL, 10) : 22;
}

static int git__fail(const char *what)
{
	const git_error *e = git_error_last();
	return np_error_set("%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

static int git__creds(git_credential **out, const char *url, const char *user, unsigned allowed, void *p_)
{
	struct git_cb *p = p_;
	const char *key = args_str(p->a, "ssh_key", NULL), *home = getenv("HOME");
	char path[1024];
	(void)url;
	if (!(allowed & GIT_CREDENTIAL_SSH_KEY) || p->tries > 3)
		return GIT_PASSTHROUGH;
	user = user ? user : "git";
	switch (p->tries++) {
	case 0:
		if (key)
			return git_credential_ssh_key_new(out, user, NULL, key, NULL);
		p->tries++;
		/* fall through */
	case 1:
		return git_credential_ssh_key_from_agent(out, user);
	case 2:
		snprintf(path, sizeof(path), "%s/.ssh/id_ed25519", home ? home : "/root");
		if (fs_exists(path))
			return git_credential_ssh_key_new(out, user, NULL, path, NULL);
		/* fall through */
	default:
		snprintf(path, sizeof(path), "%s/.ssh/id_rsa", home ? home : "/root");
		return git_credential_ssh_key_new(out, user, NULL, path, NULL);
	}
}

static int git__certcheck(git_cert *cert, int valid, const char *host, void *p_)
{
	struct git_cb *p = p_;
	static const enum kh_keytype map[] = { KH_UNKNOWN, KH_RSA, KH_DSS, KH_ECDSA256,
					       KH_ECDSA384, KH_ECDSA521, KH_ED25519 };
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return valid ? 0 : GIT_ECERTIFICATE; /* TLS: libgit2's verification decides */
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;
	if (!(hk->type & GIT_CERT_SSH_RAW) || (unsigned)hk->raw_type > 6)
		return np_error_set("ssh: no raw host key to check for %s", host), GIT_ECERTIFICATE;
	int r = known_hosts_check(args_str(p->a, "known_hosts", NULL), host, git__url_port(p->url),
				  hk->hostkey, hk->hostkey_len, map[hk->raw_type]);
	if (r)
		log_error("%s", np_error_last());
	return r ? GIT_ECERTIFICATE : 0;
}

static void git__callbacks(git_remote_callbacks *cb, struct git_cb *p)
{
	cb->credentials = git__creds;
	cb->certificate_check = git__certcheck;
	cb->payload = p;
}

/* The commit the remote's ref points at, without fetching (ls-remote). */
static int git__ls_remote(git_oid *out, git_repository *repo, const char *url, const char *ref,
			  struct git_cb *p)
{
	git_remote *rm = NULL;
	git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
	const git_remote_head **heads;
	size_t n;
	char want[3][256];
	int r = NP_ENOTFOUND;
	git__callbacks(&cb, p);
	snprintf(want[0], 256, "refs/tags/%s^{}", ref);
	snprintf(want[1], 256, "refs/tags/%s", ref);
	snprintf(want[2], 256, "refs/heads/%s", ref);
	if (git_remote_create_anonymous(&rm, repo, url) ||
	    git_remote_connect(rm, GIT_DIRECTION_FETCH, &cb, NULL, NULL) || git_remote_ls(&heads, &n, rm)) {
		r = git__fail(url);
		goto out;
	}
	for (int w = 0; w < 3 && r; w++)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(heads[i]->name, want[w])) {
				*out = heads[i]->oid;
				r = 0;
				break;
			}
	if (r)
		np_error_setc(r, "%s has no tag or branch '%s'", url, ref);
out:
	git_remote_free(rm);
	return r;
}

/* What HEAD must be: the pinned commit, a commit id given as ref, or the remote's ref. */
static int git__wanted(git_oid *out, git_repository *repo, const char *url, const struct ynode *a,
		       struct git_cb *p)
{
	const char *commit = args_str(a, "commit", NULL), *ref = args_str(a, "ref", NULL);
	if (commit)
		return git_oid_fromstr(out, commit) ? git__fail("commit") : 0;
	if (strlen(ref) == 40 && !git_oid_fromstr(out, ref))
		return 0;
	return git__ls_remote(out, repo, url, ref, p);
}

/* Is the checkout at path (local) at the wanted commit? want_hex gets it when known. */
static int git__check_at(struct run_ctx *ctx, const struct ynode *a, struct change *ch, const char *path,
			 char want_hex[GIT_OID_HEXSZ + 1])
{
	struct buf url = BUF_INIT;
	git_repository *repo = NULL;
	git_oid head, want;
	struct git_cb p = { a, NULL, 0 };
	int r = 0;
	git_libgit2_init();
	ctx_source(ctx, args_str(a, "name", NULL), args_str(a, "repo", NULL), &url);
	p.url = url.ptr;
	if (git_repository_open(&repo, path)) {
		ch->needed = true;
		buf_addf(&ch->summary, "clone %s into %s", url.ptr, ch->path);
		goto out;
	}
	if ((r = git__wanted(&want, repo, url.ptr, a, &p)))
		goto out;
	git_oid_tostr(want_hex, GIT_OID_HEXSZ + 1, &want);
	ch->needed = git_reference_name_to_id(&head, repo, "HEAD") || !git_oid_equal(&head, &want);
	if (ch->needed)
		buf_addf(&ch->summary, "check out %s (%.12s) in %s", args_str(a, "ref", "commit"),
			 want_hex, ch->path);
out:
	git_repository_free(repo);
	git_libgit2_shutdown();
	buf_release(&url);
	return r;
}

/* Remote hosts: the checkout is made here (air-gapped nodes work) in
 * STATE/git/, and pushed whole (.git included: builds run git describe)
 * with a marker naming its commit, which is what check compares. */
static void git__local_copy(struct buf *out, struct run_ctx *ctx, const char *dest)
{
	char h[SHA256_HEX_LEN + 1];
	sha256_hex_mem(h, dest, strlen(dest));
	buf_addf(out, "%s/git/%.32s", ctx->opts->state_dir, h);
}

/* The Go module a `--source NAME=gomod:MODULE@VERSION` names, or NULL. */
static const char *git__gomod(struct run_ctx *ctx, const struct ynode *a)
{
	const char *s = ctx_source_override(ctx, args_str(a, "name", NULL));
	return s && !strncmp(s, "gomod:", 6) ? s + 6 : NULL;
}

static int gitstep_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct buf path = BUF_INIT, marker = BUF_INIT, have = BUF_INIT;
	char want[GIT_OID_HEXSZ + 1] = "";
	const char *mod = git__gomod(ctx, a);
	if (mod)
		return gomod_check(ctx, a, ch, mod);
	ch->path = args_str(a, "dest", NULL);
	if (host_is_local(ctx->host)) {
		struct host_stat st;
		int r = host_stat(ctx->host, ch->path, &st);
		/* the clone is renamed over dest's own entry: a link there would
		 * be replaced, not followed */
		if (!r && st.is_link)
			r = np_error_setc(NP_EINVALID, "git: dest '%s' is a symlink; give the directory it points to",
					  ch->path);
		if (!r)
			r = host_local_resolve(&path, ctx->host, ch->path, false);
		if (!r)
			r = git__check_at(ctx, a, ch, path.ptr, want);
		buf_release(&path);
		return r;
	}
	git__local_copy(&path, ctx, ch->path);
	buf_addf(&marker, "%s/" GIT_MARKER, ch->path);
	int r = host_read_file(ctx->host, marker.ptr, &have);
	if (r == NP_ENOTFOUND)
		r = 0;
	if (!r)
		r = git__check_at(ctx, a, ch, path.ptr, want);
	buf_rtrim(&have);
	if (!r && !ch->needed && strcmp(have.ptr, want)) {
		ch->needed = true;
		buf_addf(&ch->summary, "put %s (%.12s) on the host", ch->path, want);
	}
	buf_release(&path);
	buf_release(&marker);
	buf_release(&have);
	return r;
}

static int git__fetch(git_repository *repo, struct git_cb *p)
{
	git_remote *rm = NULL;
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	int r = 0;
	git__callbacks(&fo.callbacks, p);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
	if (git_remote_lookup(&rm, repo, "origin") || git_remote_fetch(rm, NULL, &fo, NULL))
		r = git__fail("fetch");
	git_remote_free(rm);
	return r;
}

/* Resolve ref after a fetch: tag, remote branch, or commit id. */
static int git__resolve(git_oid *out, git_repository *repo, const struct ynode *a)
{
	const char *commit = args_str(a, "commit", NULL), *ref = args_str(a, "ref", NULL);
	char spec[300];
	const char *forms[] = { "refs/tags/%s^{commit}", "refs/remotes/origin/%s^{commit}", "%s^{commit}" };
	if (commit)
		return git_oid_fromstr(out, commit) ? git__fail("commit") : 0;
	for (int i = 0; i < 3; i++) {
		git_object *o = NULL;
		snprintf(spec, sizeof(spec), forms[i], ref);
		if (!git_revparse_single(&o, repo, spec)) {
			*out = *git_object_id(o);
			git_object_free(o);
			return 0;
		}
	}
	return np_error_setc(NP_ENOTFOUND, "no tag, branch or commit '%s' in the repository", ref);
}

static int git__submodules(git_repository *repo, struct git_cb *p);

static int git__sub_cb(git_submodule *sm, const char *name, void *p_)
{
	struct git_cb *p = p_;
	git_submodule_update_options uo = GIT_SUBMODULE_UPDATE_OPTIONS_INIT;
	git_repository *sub = NULL;
	git__callbacks(&uo.fetch_opts.callbacks, p);
	if (git_submodule_update(sm, 1, &uo))
		return git__fail(name);
	int r = git_submodule_open(&sub, sm) ? git__fail(name) : git__submodules(sub, p);
	git_repository_free(sub);
	return r;
}

static int git__submodules(git_repository *repo, struct git_cb *p)
{
	int r = git_submodule_foreach(repo, git__sub_cb, p);
	return r > 0 ? 0 : r;
}

static int git__checkout(git_repository *repo, const git_oid *want, const struct ynode *a, struct git_cb *p)
{
	git_object *o = NULL;
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	git_oid head;
	int r = 0;
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (git_object_lookup(&o, repo, want, GIT_OBJECT_COMMIT))
		return np_error_setc(NP_EVERIFY, "commit %s is not in the repository", git_oid_tostr_s(want));
	if (git_checkout_tree(repo, o, &co) || git_repository_set_head_detached(repo, want))
		r = git__fail("checkout");
	git_object_free(o);
	if (!r && (git_reference_name_to_id(&head, repo, "HEAD") || !git_oid_equal(&head, want)))
		r = np_error_setc(NP_EVERIFY, "after checkout HEAD is not %s", git_oid_tostr_s(want));
	if (!r && args_bool(a, "submodules", false))
		r = git__submodules(repo, p);
	return r;
}

static int git__clone(git_repository **repo, const char *url, const char *tmp, struct git_cb *p)
{
	git_clone_options o = GIT_CLONE_OPTIONS_INIT;
	git__callbacks(&o.fetch_opts.callbacks, p);
	o.fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
	o.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
	return git_clone(repo, url, tmp, &o) ? git__fail(url) : 0;
}

/*
 * Clone or update the checkout at path (local) to the wanted commit. A
 * fresh clone is made beside it and renamed in relative to dir when the
 * caller opened the directory that holds it (name: path's last part).
 */
static int git__apply_at(struct run_ctx *ctx, const struct ynode *a, const char *path, int dir,
			 const char *name, char want_hex[GIT_OID_HEXSZ + 1])
{
	struct buf url = BUF_INIT, tmp = BUF_INIT;
	git_repository *repo = NULL;
	git_oid want;
	struct git_cb p = { a, NULL, 0 };
	int r;
	git_libgit2_init();
	ctx_source(ctx, args_str(a, "name", NULL), args_str(a, "repo", NULL), &url);
	p.url = url.ptr;
	bool fresh = git_repository_open(&repo, path) != 0;
	if (fresh) {
		buf_addf(&tmp, "%s.np-clone", path);
		fs_remove_tree(tmp.ptr);
		if ((r = fs_mkdir_p(tmp.ptr, 0755)) || (r = git__clone(&repo, url.ptr, tmp.ptr, &p)))
			goto out;
	} else if ((r = git__fetch(repo, &p))) {
		goto out;
	}
	if ((r = git__resolve(&want, repo, a)) || (r = git__checkout(repo, &want, a, &p)))
		goto out;
	if (fresh && dir >= 0) {
		const char *tname = strrchr(tmp.ptr, '/');
		if (renameat(dir, tname ? tname + 1 : tmp.ptr, dir, name) < 0)
			r = np_error_set("cannot move the clone into '%s'", path);
	} else if (fresh && rename(tmp.ptr, path) < 0) {
		r = np_error_set("cannot move the clone into '%s'", path);
	}
	git_oid_tostr(want_hex, GIT_OID_HEXSZ + 1, &want);
out:
	git_repository_free(repo);
	if (r && tmp.len)
		fs_remove_tree(tmp.ptr);
	git_libgit2_shutdown();
	buf_release(&url);
	buf_release(&tmp);
	return r;
}

static int gitstep_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct buf path = BUF_INIT, marker = BUF_INIT, tmp = BUF_INIT;
	char want[GIT_OID_HEXSZ + 1] = "", line[GIT_OID_HEXSZ + 2];
	bool local = host_is_local(ctx->host);
	if (git__gomod(ctx, a))
		return gomod_apply(ctx, a, ch);
	const char *name = NULL;
	int dir = -1;
	/* locally: the checkout's place, resolved inside the root; its parent
	 * made through the journal and held open for the final rename */
	int r = local ? ctx_mkdir_parent(ctx, ch->path) : 0;
	if (!r)
		r = journal_record_tree(ctx->journal, ctx->host, ch->path, NULL);
	if (local) {
		if (!r)
			r = host_local_resolve(&path, ctx->host, ch->path, false);
		if (!r)
			r = host_local_open_parent(ctx->host, ch->path, &name, &dir);
	} else {
		git__local_copy(&path, ctx, ch->path);
	}
	if (!r)
		r = git__apply_at(ctx, a, path.ptr, dir, name, want);
	if (dir >= 0)
		close(dir);
	if (!r && !local) {
		buf_addf(&marker, "%s/" GIT_MARKER, path.ptr);
		snprintf(line, sizeof(line), "%s\n", want);
		buf_addf(&tmp, "%s/tmp", ctx->opts->state_dir);
		if (!(r = fs_write_atomic(marker.ptr, line, strlen(line), 0644, -1, -1)))
			r = tree_push(ctx->host, path.ptr, ch->path, tmp.ptr);
	}
	if (!r)
		log_info("%s: %s at %.12s", ctx->step_name, ch->path, want);
	buf_release(&path);
	buf_release(&marker);
	buf_release(&tmp);
	return r;
}

/* looked up by name when nodeprep-sources.so is loaded (sources.c) */
const struct step_kind sources_git = { "git", NULL, NULL, gitstep_check, gitstep_apply, false };
