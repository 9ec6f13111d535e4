/*
 * journal.c: see journal.h. JSON lines via jansson: a line is complete or
 * missing after a crash (readers skip a torn last line), which a single
 * JSON document rewritten per change could not promise.
 */
#include "journal.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "error.h"
#include "fsutil.h"
#include "host.h"
#include "banned.h"

struct journal {
	char *state_dir;
	char *root;
	char *run_dir;
	FILE *f;
	char **paths;
	size_t n;
};

int journal_open(struct journal **out, const char *state_dir, const char *root)
{
	struct journal *j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	j->state_dir = strdup(state_dir);
	j->root = strdup(root);
	if (!j->state_dir || !j->root)
		abort();
	*out = j;
	return 0;
}

size_t journal_count(const struct journal *j)
{
	return j ? j->n : 0;
}

static int journal__start(struct journal *j)
{
	struct buf dir = BUF_INIT, file = BUF_INIT, last = BUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int r = NP_ERROR;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	buf_addf(&dir, "%s/runs/%s-%ld", j->state_dir, stamp, (long)getpid());
	if ((r = fs_mkdir_p(dir.ptr, 0700)))
		goto out;
	buf_addf(&file, "%s/backup", dir.ptr);
	if ((r = fs_mkdir_p(file.ptr, 0700)))
		goto out;
	buf_reset(&file);
	buf_addf(&file, "%s/journal.jsonl", dir.ptr);
	j->f = fopen(file.ptr, "ae");
	if (!j->f) {
		r = np_error_set("cannot create journal '%s': %s", file.ptr, strerror(errno));
		goto out;
	}
	json_t *head = json_pack("{s:s, s:s}", "root", j->root, "started", stamp);
	json_dumpf(head, j->f, JSON_COMPACT);
	json_decref(head);
	fputc('\n', j->f);
	fflush(j->f);
	fsync(fileno(j->f));
	/* "last" names this run as soon as it may change anything */
	buf_addf(&last, "%s/last", j->state_dir);
	const char *id = strrchr(dir.ptr, '/') + 1;
	if ((r = fs_write_atomic(last.ptr, id, strlen(id), 0600, -1, -1)))
		goto out;
	j->run_dir = buf_detach(&dir, NULL);
	r = 0;
out:
	buf_release(&dir);
	buf_release(&file);
	buf_release(&last);
	return r;
}

static bool journal__seen(struct journal *j, const char *path)
{
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->paths[i], path))
			return true;
	return false;
}

static int journal__record(struct journal *j, struct host *h, const char *path, bool tree,
			   struct buf *keep);

int journal_record(struct journal *j, struct host *h, const char *path)
{
	return journal__record(j, h, path, false, NULL);
}

int journal_record_tree(struct journal *j, struct host *h, const char *path, struct buf *keep)
{
	return journal__record(j, h, path, true, keep);
}

static int journal__record(struct journal *j, struct host *h, const char *path, bool tree,
			   struct buf *keep)
{
	struct host_stat st;
	struct buf data = BUF_INIT, bpath = BUF_INIT;
	json_t *e = NULL;
	int r;
	if (!j || journal__seen(j, path))
		return 0;
	if (!j->f && (r = journal__start(j)))
		return r;
	if ((r = host_stat(h, path, &st)))
		return r;
	e = json_pack("{s:s, s:b, s:b}", "path", path, "existed", st.exists, "dir", st.is_dir);
	if (tree)
		json_object_set_new(e, "tree", json_true());
	if (tree && keep && st.exists && st.is_dir && host_is_local(h)) {
		buf_addf(keep, "%s/backup/tree-%zu", j->run_dir, j->n);
		json_object_set_new(e, "tree_backup", json_integer((json_int_t)j->n));
	}
	if (st.exists && !st.is_dir) {
		if ((r = host_read_file(h, path, &data)))
			goto out;
		buf_addf(&bpath, "%s/backup/%zu", j->run_dir, j->n);
		if ((r = fs_write_atomic(bpath.ptr, data.ptr, data.len, 0600, -1, -1)))
			goto out;
		json_object_set_new(e, "backup", json_integer((json_int_t)j->n));
	}
	if (st.exists) {
		json_object_set_new(e, "mode", json_integer(st.mode));
		json_object_set_new(e, "uid", json_integer(st.uid));
		json_object_set_new(e, "gid", json_integer(st.gid));
	}
	json_dumpf(e, j->f, JSON_COMPACT);
	fputc('\n', j->f);
	if (fflush(j->f) != 0 || fsync(fileno(j->f)) != 0) {
		r = np_error_set("cannot write the journal: %s", strerror(errno));
		goto out;
	}
	j->paths = realloc(j->paths, (j->n + 1) * sizeof(*j->paths));
	if (!j->paths || !(j->paths[j->n] = strdup(path)))
		abort();
	j->n++;
	r = 0;
out:
	json_decref(e);
	buf_release(&data);
	buf_release(&bpath);
	return r;
}

int journal_close(struct journal *j, int failed)
{
	if (!j)
		return 0;
	if (j->f) {
		json_t *t = json_pack("{s:b}", "finished", !failed);
		json_dumpf(t, j->f, JSON_COMPACT);
		json_decref(t);
		fputc('\n', j->f);
		fflush(j->f);
		fsync(fileno(j->f));
		fclose(j->f);
	}
	for (size_t i = 0; i < j->n; i++)
		free(j->paths[i]);
	free(j->paths);
	free(j->run_dir);
	free(j->root);
	free(j->state_dir);
	free(j);
	return 0;
}

/* A tree that existed: swap the kept old tree back in, if the step kept it. */
static int rollback__tree(struct host *h, const char *run_dir, const char *path, json_t *bk,
			  struct buf *report)
{
	struct buf old = BUF_INIT, dest = BUF_INIT;
	int r = 0;
	if (bk)
		buf_addf(&old, "%s/backup/tree-%lld", run_dir, (long long)json_integer_value(bk));
	if (!bk || !host_is_local(h) || !fs_exists(old.ptr)) {
		buf_addf(report, "left      %s (a tree that existed before; not kept)\n", path);
		goto out;
	}
	host_map_path(&dest, h, path);
	/* the tree the apply made is swapped out and removed */
	if ((r = fs_replace_tree(old.ptr, dest.ptr, NULL)))
		np_error_prefix("putting the old tree back at '%s'", dest.ptr);
	else
		buf_addf(report, "restored  %s (tree)\n", path);
out:
	buf_release(&old);
	buf_release(&dest);
	return r;
}

/* Temp files and dirs a killed write or extract left beside path on a local
 * host (".NAME.np-*", the names fsutil and extract give them): gone with the
 * rollback, so the tree is as it was, litter included. */
static void rollback__sweep(struct host *h, const char *path, struct buf *report)
{
	struct buf dest = BUF_INIT, pat = BUF_INIT;
	glob_t g;
	if (!path || !host_is_local(h))
		return;
	host_map_path(&dest, h, path);
	const char *base = strrchr(dest.ptr, '/');
	fs_dirname(&pat, dest.ptr);
	buf_addf(&pat, "/.%s.np-*", base ? base + 1 : dest.ptr);
	if (glob(pat.ptr, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (fs_remove_tree(g.gl_pathv[i]) == 0)
				buf_addf(report, "removed   %s (left by an interrupted apply)\n", g.gl_pathv[i]);
		globfree(&g);
	}
	buf_release(&dest);
	buf_release(&pat);
}

/* Undo one journal entry on host h. */
static int rollback__entry(struct host *h, const char *run_dir, json_t *e, struct buf *report)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	bool existed = json_is_true(json_object_get(e, "existed"));
	bool dir = json_is_true(json_object_get(e, "dir"));
	json_t *bk = json_object_get(e, "backup");
	int mode = (int)json_integer_value(json_object_get(e, "mode"));
	int uid = (int)json_integer_value(json_object_get(e, "uid"));
	int gid = (int)json_integer_value(json_object_get(e, "gid"));
	struct buf data = BUF_INIT, bpath = BUF_INIT;
	int r = 0;
	if (!path)
		return 0;
	bool tree = json_is_true(json_object_get(e, "tree"));
	if (!existed) {
		r = tree ? host_remove_tree(h, path) : host_remove(h, path);
		if (!r)
			buf_addf(report, "removed   %s\n", path);
	} else if (tree) {
		r = rollback__tree(h, run_dir, path, json_object_get(e, "tree_backup"), report);
	} else if (dir) {
		r = host_chmod_chown(h, path, mode, -1, -1);
	} else if (bk) {
		buf_addf(&bpath, "%s/backup/%lld", run_dir, (long long)json_integer_value(bk));
		if (!(r = fs_read_file(&data, bpath.ptr)))
			r = host_write_file(h, path, data.ptr, data.len, mode, uid, gid);
		if (!r)
			buf_addf(report, "restored  %s\n", path);
	}
	buf_release(&data);
	buf_release(&bpath);
	return r;
}

static int rollback__load(json_t ***out, size_t *n, json_t **head, const char *file)
{
	FILE *f = fopen(file, "re");
	char *line = NULL;
	size_t cap = 0;
	if (!f)
		return np_error_setc(NP_ENOTFOUND, "cannot open journal '%s': %s", file, strerror(errno));
	*out = NULL;
	*n = 0;
	*head = NULL;
	while (getline(&line, &cap, f) > 0) {
		json_t *e = json_loads(line, 0, NULL);
		if (!e) /* a torn last line after a crash */
			continue;
		if (!*head) {
			*head = e;
			continue;
		}
		if (!json_object_get(e, "path")) {
			json_decref(e);
			continue;
		}
		*out = realloc(*out, (*n + 1) * sizeof(**out));
		if (!*out)
			abort();
		(*out)[(*n)++] = e;
	}
	free(line);
	fclose(f);
	return *head ? 0 : np_error_setc(NP_EINVALID, "journal '%s' is empty or unreadable", file);
}

int journal_rollback(const char *state_dir, const char *root_override, struct host *remote,
		     struct buf *report)
{
	struct buf last = BUF_INIT, run = BUF_INIT, file = BUF_INIT, done = BUF_INIT;
	json_t **entries = NULL, *head = NULL;
	size_t n = 0;
	struct host *h = remote;
	int r;
	buf_addf(&last, "%s/last", state_dir);
	if ((r = fs_read_file(&run, last.ptr))) {
		if (r == NP_ENOTFOUND)
			r = np_error_setc(NP_ENOTFOUND, "nothing to roll back: no recorded apply in '%s'",
					  state_dir);
		goto out;
	}
	buf_rtrim(&run);
	buf_addf(&file, "%s/runs/%s/journal.jsonl", state_dir, run.ptr);
	if ((r = rollback__load(&entries, &n, &head, file.ptr)))
		goto out;
	const char *root = json_string_value(json_object_get(head, "root"));
	if (!remote)
		h = host_local_new(root_override ? root_override : root ? root : "");
	buf_reset(&file);
	buf_addf(&file, "%s/runs/%s", state_dir, run.ptr);
	for (size_t i = n; i-- > 0 && !r;)
		if (!(r = rollback__entry(h, file.ptr, entries[i], report)))
			rollback__sweep(h, json_string_value(json_object_get(entries[i], "path")), report);
	if (r)
		goto out;
	/* the run is undone: it must not be undone twice */
	buf_addf(&done, "%s.rolled-back", file.ptr);
	if (rename(file.ptr, done.ptr) < 0 || unlink(last.ptr) < 0)
		r = np_error_set("cannot retire run '%s': %s", run.ptr, strerror(errno));
out:
	for (size_t i = 0; i < n; i++)
		json_decref(entries[i]);
	free(entries);
	json_decref(head);
	if (!remote)
		host_free(h);
	buf_release(&last);
	buf_release(&run);
	buf_release(&file);
	buf_release(&done);
	return r;
}
