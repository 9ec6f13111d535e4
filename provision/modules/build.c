/*
 * build.c: the `build` step: run shell commands in a directory, skipped
 * when nothing that feeds the build changed. The fingerprint is a sha256
 * over the commands, the env and the metadata (path, type, size, mtime,
 * mode) of every file under `inputs` (default: dir), taken right after a
 * successful build and kept in STATE/builds/. Metadata, not content: a
 * converged check of a large source tree must take milliseconds, and a
 * re-extracted or edited tree changes mtimes anyway. The build's own
 * products are part of the fingerprint, which is what makes "unchanged
 * since the last build" exact. Output goes to STATE/logs/; on failure the
 * last 40 lines are shown. On a terminal a status line shows the elapsed
 * time and the log's last line while it runs (progress.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdutil.h"
#include "error.h"
#include "exec.h"
#include "fsutil.h"
#include "host.h"
#include "progress.h"
#include "sha256.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec build_args[] = {
	{ "dir", ARG_PATH, true, NULL },
	{ "commands", ARG_STR_OR_LIST, true, NULL },
	{ "env", ARG_MAP, false, NULL },
	{ "inputs", ARG_STR_OR_LIST, false, NULL },
	{ "outputs", ARG_STR_OR_LIST, true, NULL },
	{ "timeout", ARG_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

static int fp__walk(struct sha256_ctx *h, struct buf *path, int depth)
{
	struct stat st;
	if (lstat(path->ptr, &st) < 0) {
		sha256_update(h, "missing:", 8);
		sha256_update(h, path->ptr, path->len + 1);
		return 0;
	}
	char meta[128];
	int n = snprintf(meta, sizeof(meta), "%o %lld %lld.%09ld|", (unsigned)st.st_mode,
			 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	sha256_update(h, path->ptr, path->len + 1);
	sha256_update(h, meta, (size_t)n);
	if (!S_ISDIR(st.st_mode) || depth > 64)
		return 0;
	struct dirent **ents;
	int k = scandir(path->ptr, &ents, NULL, alphasort);
	if (k < 0)
		return np_error_set("cannot list '%s'", path->ptr);
	size_t len = path->len;
	for (int i = 0; i < k; i++) {
		const char *d = ents[i]->d_name;
		if (strcmp(d, ".") && strcmp(d, "..")) {
			buf_addf(path, "/%s", d);
			fp__walk(h, path, depth + 1);
			buf_setlen(path, len);
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

/* The same metadata listed by the node's find: one exec, not a round trip per file. */
static void fp__walk_remote(struct sha256_ctx *h, struct host *host, const char *path)
{
	static const char script[] = "find \"$1\" -printf '%p %m %y %s %T@\\0' 2>/dev/null | LC_ALL=C sort -z "
				     "|| true; test -e \"$1\" || echo missing";
	const char *argv[] = { "/bin/sh", "-c", script, "fingerprint", path, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.timeout_ms = 600000;
	if (host_run(host, &sp) == 0)
		sha256_update(h, sp.out.ptr, sp.out.len);
	else
		sha256_update(h, "unreadable", 10); /* never equal to a stamp: rebuild */
	spawn_release(&sp);
}

/* The fingerprint of a build as it stands now. */
static void build__fingerprint(struct run_ctx *ctx, const struct ynode *a, char out[SHA256_HEX_LEN + 1])
{
	struct sha256_ctx *h = sha256_new();
	struct buf p = BUF_INIT, t = BUF_INIT;
	const char **cmds = args_list(a, "commands"), **in = args_list(a, "inputs");
	const char *dir = args_str(a, "dir", NULL);
	if (!h)
		abort();
	for (size_t i = 0; cmds[i]; i++)
		sha256_update(h, cmds[i], strlen(cmds[i]) + 1);
	const struct ynode *env = ynode_get(a, "env");
	for (size_t i = 0; env && i < env->n; i++) {
		sha256_update(h, env->keys[i]->value, strlen(env->keys[i]->value) + 1);
		sha256_update(h, env->items[i]->value, strlen(env->items[i]->value) + 1);
	}
	const char *def[] = { dir, NULL };
	for (const char **i = in[0] ? in : def; *i; i++) {
		buf_reset(&p);
		buf_reset(&t);
		buf_adds(&t, (*i)[0] == '/' ? *i : dir);
		if ((*i)[0] != '/' && *i != dir)
			buf_addf(&t, "/%s", *i);
		/* read where it resolves inside the root (a missing input is hashed as missing) */
		if (!host_is_local(ctx->host) || host_local_resolve(&p, ctx->host, t.ptr, true)) {
			np_error_clear();
			buf_reset(&p);
			host_map_path(&p, ctx->host, t.ptr);
		}
		if (host_is_local(ctx->host))
			fp__walk(h, &p, 0);
		else
			fp__walk_remote(h, ctx->host, p.ptr);
	}
	sha256_final_hex(h, out);
	free(cmds);
	free(in);
	buf_release(&p);
	buf_release(&t);
}

/* Keyed by dir, and by host when remote: one state dir may serve many nodes. */
static void build__stamp_path(struct buf *out, struct run_ctx *ctx, const char *dir)
{
	char h[SHA256_HEX_LEN + 1];
	struct buf key = BUF_INIT;
	if (!host_is_local(ctx->host))
		buf_addf(&key, "%s:", ctx->host->name);
	buf_adds(&key, dir);
	sha256_hex_mem(h, key.ptr, key.len);
	buf_release(&key);
	buf_addf(out, "%s/builds/%s", ctx->opts->state_dir, h);
}

static int build_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *dir = args_str(a, "dir", NULL);
	const char **outs = args_list(a, "outputs");
	struct buf stamp = BUF_INIT, have = BUF_INIT, p = BUF_INIT;
	char fp[SHA256_HEX_LEN + 1];
	bool outputs_ok = true;
	for (size_t i = 0; outs[i] && outputs_ok; i++) {
		struct host_stat st;
		buf_reset(&p);
		if (outs[i][0] != '/')
			buf_addf(&p, "%s/", dir);
		buf_adds(&p, outs[i]);
		outputs_ok = !host_stat(ctx->host, p.ptr, &st) && st.exists;
	}
	build__stamp_path(&stamp, ctx, dir);
	ch->needed = !outputs_ok || fs_read_file(&have, stamp.ptr);
	if (!ch->needed) {
		build__fingerprint(ctx, a, fp);
		ch->needed = strncmp(have.ptr, fp, SHA256_HEX_LEN) != 0;
	}
	if (ch->needed)
		buf_addf(&ch->summary, "build in %s (%s)", dir,
			 !outputs_ok ? "outputs missing" : have.len ? "inputs changed" : "never built");
	free(outs);
	buf_release(&stamp);
	buf_release(&have);
	buf_release(&p);
	return 0;
}

static int build__run_one(struct run_ctx *ctx, const struct ynode *a, const char *cmd, int logfd)
{
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct cmd_spec cs;
	struct spawn sp = SPAWN_INIT;
	int r = cmd_spec_build(&cs, &sp, a, NULL);
	if (r)
		return r;
	sp.argv = argv;
	sp.cwd = args_str(a, "dir", NULL);
	sp.out_mode = sp.err_mode = SPAWN_IO_FD;
	sp.out_fd = sp.err_fd = logfd;
	sp.timeout_ms = (int)args_int(a, "timeout", 3600) * 1000;
	dprintf(logfd, "+ %s\n", cmd);
	r = host_run(ctx->host, &sp);
	if (!r && sp.status)
		r = np_error_set("'%s' exited with status %d", cmd, sp.status);
	cmd_spec_release(&cs);
	spawn_release(&sp);
	return r;
}

static int build_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char **cmds = args_list(a, "commands");
	struct buf log = BUF_INIT, text = BUF_INIT, stamp = BUF_INIT, dir = BUF_INIT;
	char fp[SHA256_HEX_LEN + 1];
	char name[64];
	int r = 0, fd;
	(void)ch;
	snprintf(name, sizeof(name), "%s", ctx->step_name);
	for (char *c = name; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= '0' && *c <= '9') && *c != '-')
			*c = '-';
	buf_addf(&dir, "%s/logs", ctx->opts->state_dir);
	buf_addf(&log, "%s/build-%s.log", dir.ptr, name);
	if ((r = fs_mkdir_p(dir.ptr, 0700)))
		goto out;
	if ((fd = open(log.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		r = np_error_set("cannot create build log '%s'", log.ptr);
		goto out;
	}
	/* a long build is silent otherwise: on a terminal, time and the log's last line */
	struct progress_watch *pw;
	char label[96];
	snprintf(label, sizeof(label), "  building '%.60s'", ctx->step_name);
	progress_watch_start(&pw, label, log.ptr);
	for (size_t i = 0; cmds[i] && !r; i++)
		r = build__run_one(ctx, a, cmds[i], fd);
	progress_watch_stop(pw);
	close(fd);
	if (r) {
		fs_read_file(&text, log.ptr);
		buf_reset(&dir);
		cmd_tail(&dir, text.ptr, 40);
		np_error_prefix("build failed (log: %s; last lines:\n%s\n)", log.ptr, dir.ptr);
		goto out;
	}
	build__fingerprint(ctx, a, fp);
	buf_reset(&dir);
	build__stamp_path(&stamp, ctx, args_str(a, "dir", NULL));
	fs_dirname(&dir, stamp.ptr);
	if (!(r = fs_mkdir_p(dir.ptr, 0700)))
		r = fs_write_atomic(stamp.ptr, fp, SHA256_HEX_LEN, 0600, -1, -1);
out:
	free(cmds);
	buf_release(&log);
	buf_release(&text);
	buf_release(&stamp);
	buf_release(&dir);
	return r;
}

const struct step_kind step_build = {
	"build", build_args, NULL, build_check, build_apply, false,
};
