/*
 * journal.c: see journal.h. JSON lines via jansson: a line is complete or
 * missing after a crash (readers skip a torn last line), which a single
 * JSON document rewritten per change could not promise.
 */
#include "journal.h"
#include "daemon.h"

#include <errno.h>
#include <limits.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
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

/* The text of the link at path on a local host, read in its directory inside the root. */
static int journal__readlink(struct host *h, const char *path, struct buf *out)
{
	char target[PATH_MAX];
	const char *name;
	int dir, r = host_local_open_parent(h, path, &name, &dir);
	if (r)
		return r;
	ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);
	if (n < 0)
		r = np_error_set("cannot read the link '%s': %s", path, strerror(errno));
	else
		buf_add(out, target, (size_t)n);
	close(dir);
	return r;
}

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
	if (!tree && st.is_link && host_is_local(h)) {
		/* a link is put back as the link it was (its target may not even
		 * exist inside the root): its text, not what it points at */
		if ((r = journal__readlink(h, path, &data)))
			goto out;
		json_object_set_new(e, "link", json_string(data.ptr));
	} else if (st.exists && !st.is_dir) {
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

int journal_record_daemon(struct journal *j, struct host *h, const char *name,
			  const char *pid_file, const char *argv0)
{
	json_t *e = NULL;
	int r;
	(void)h;
	if (!j)
		return 0;
	if (!j->f && (r = journal__start(j)))
		return r;
	e = json_pack("{s:s, s:s, s:s}", "daemon", name, "pid_file", pid_file, "argv0", argv0);
	json_dumpf(e, j->f, JSON_COMPACT);
	fputc('\n', j->f);
	r = 0;
	if (fflush(j->f) != 0 || fsync(fileno(j->f)) != 0)
		r = np_error_set("cannot write the journal: %s", strerror(errno));
	json_decref(e);
	return r;
}

int journal_close(struct journal *j, int failed, const char *interrupted)
{
	if (!j)
		return 0;
	if (j->f) {
		json_t *t = json_pack("{s:b}", "finished", !failed && !interrupted);
		if (interrupted)
			json_object_set_new(t, "interrupted", json_string(interrupted));
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
	const char *name;
	int dir = -1, r = 0;
	if (bk)
		buf_addf(&old, "%s/backup/tree-%lld", run_dir, (long long)json_integer_value(bk));
	if (!bk || !host_is_local(h) || !fs_exists(old.ptr)) {
		buf_addf(report, "left      %s (a tree that existed before; not kept)\n", path);
		goto out;
	}
	host_map_path(&dest, h, path);
	/* the tree the apply made is swapped out and removed, in the directory
	 * that holds it as resolved inside the root */
	if (!(r = host_local_open_parent(h, path, &name, &dir)))
		r = fs_replace_tree_at(AT_FDCWD, old.ptr, dir, name, dest.ptr, NULL);
	if (r)
		np_error_prefix("putting the old tree back at '%s'", dest.ptr);
	else
		buf_addf(report, "restored  %s (tree)\n", path);
out:
	if (dir >= 0)
		close(dir);
	buf_release(&old);
	buf_release(&dest);
	return r;
}

/* Temp files and dirs a killed write or extract left beside path on a local
 * host (".NAME.np-*", the names fsutil and extract give them): gone with the
 * rollback, so the tree is as it was, litter included. Looked for and
 * removed in the directory that holds path, as resolved inside the root. */
static void rollback__sweep(struct host *h, const char *path, struct buf *report)
{
	struct buf pat = BUF_INIT, where = BUF_INIT, shown = BUF_INIT, found = BUF_INIT;
	const char *name;
	int dir = -1;
	if (!path || !host_is_local(h) || host_local_open_parent(h, path, &name, &dir)) {
		np_error_clear();
		return;
	}
	buf_addf(&pat, ".%s.np-*", name);
	host_map_path(&shown, h, path);
	fs_dirname(&where, shown.ptr);
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	/* names first (NUL-separated), removals after: not while reading the directory */
	while (d && (de = readdir(d)))
		if (!fnmatch(pat.ptr, de->d_name, 0))
			buf_add(&found, de->d_name, strlen(de->d_name) + 1);
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	for (size_t off = 0; off < found.len; off += strlen(found.ptr + off) + 1) {
		const char *n = found.ptr + off;
		buf_reset(&shown);
		fs_join(&shown, where.ptr, n);
		if (fs_remove_tree_at(dir, n, shown.ptr) == 0)
			buf_addf(report, "removed   %s (left by an interrupted apply)\n", shown.ptr);
	}
	close(dir);
	buf_release(&pat);
	buf_release(&where);
	buf_release(&shown);
	buf_release(&found);
}

/* A link that was there: made beside path and renamed over whatever the
 * apply put there, in path's directory inside the root. */
static int rollback__link(struct host *h, const char *path, const char *target, struct buf *report)
{
	struct buf tmp = BUF_INIT, shown = BUF_INIT;
	const char *name;
	int dir, r = host_local_open_parent(h, path, &name, &dir);
	if (r)
		return r;
	host_map_path(&shown, h, path);
	buf_addf(&tmp, ".%s.np-link", name);
	unlinkat(dir, tmp.ptr, 0);
	if (symlinkat(target, dir, tmp.ptr) < 0) {
		r = np_error_set("cannot put the link '%s' back: %s", shown.ptr, strerror(errno));
		goto out;
	}
	/* a directory where the link was cannot be renamed over: it goes first */
	if (renameat(dir, tmp.ptr, dir, name) < 0 &&
	    (fs_remove_tree_at(dir, name, shown.ptr) || renameat(dir, tmp.ptr, dir, name) < 0)) {
		r = np_error_set("cannot put the link '%s' back: %s", shown.ptr, strerror(errno));
		unlinkat(dir, tmp.ptr, 0);
		goto out;
	}
	buf_addf(report, "restored  %s (link to %s)\n", path, target);
out:
	close(dir);
	buf_release(&tmp);
	buf_release(&shown);
	return r;
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
	if (json_object_get(e, "daemon")) {
		bool was = false;
		const char *name = json_string_value(json_object_get(e, "daemon"));
		r = daemon_stop(h, json_string_value(json_object_get(e, "pid_file")),
				json_string_value(json_object_get(e, "argv0")), 30, &was);
		if (!r)
			buf_addf(report, "%s daemon %s\n", was ? "stopped  " : "gone     ", name);
		return r;
	}
	if (!path)
		return 0;
	bool tree = json_is_true(json_object_get(e, "tree"));
	json_t *link = json_object_get(e, "link");
	if (existed && json_is_string(link) && host_is_local(h)) {
		r = rollback__link(h, path, json_string_value(link), report);
	} else if (!existed) {
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
		if (!json_object_get(e, "path") && !json_object_get(e, "daemon")) {
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
