/*
 * runrec.c: see runrec.h. A record is made as DIR/.new-PID-XXXXXX, locked,
 * given its header and only then renamed to run-PID-XXXXXX.jsonl, so a
 * sweeper never sees a record of a live run unlocked or headless. Lines
 * go out with one write(2) on an O_APPEND fd, so a crash cuts at most the
 * last; a line already written (a backend opened once per scenario) is not
 * written again. The mutex is for lanes adding from their threads.
 */
#include "runrec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "backend.h"
#include "error.h"
#include "fsutil.h"
#include "hostinfo.h"
#include "leftovers.h"
#include "banned.h"

struct runrec {
	int fd;
	char *path;
	pthread_mutex_t lock;
	struct buf written; /* every line so far, for duplicates */
};

struct runrec_entry {
	json_t *j;
};

/* Append j as one line, unless seen (the lines so far, NULL: none) has it. */
static int runrec__write(int fd, json_t *j, struct buf *seen)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	struct buf line = BUF_INIT;
	int r = 0;
	if (!s)
		return np_error_set("cannot encode a run record line");
	buf_addf(&line, "\n%s\n", s);
	if (seen && seen->len && strstr(seen->ptr, line.ptr))
		goto out;
	if (write(fd, line.ptr + 1, line.len - 1) != (ssize_t)line.len - 1)
		r = np_error_set("cannot write the run record: %s", strerror(errno));
	else if (seen)
		buf_add(seen, line.ptr, line.len);
out:
	free(s);
	buf_release(&line);
	return r;
}

int runrec_open(struct runrec **out, const char *dir, const char *work_dir, bool own_work_dir)
{
	struct buf tmp = BUF_INIT, final = BUF_INIT, date = BUF_INIT;
	json_t *head = NULL;
	int fd = -1, r;
	*out = NULL;
	if ((r = fs_mkdir_p(dir, 0700)))
		goto out;
	buf_addf(&tmp, "%s/.new-%ld-XXXXXX", dir, (long)getpid());
	if ((fd = mkostemp(tmp.ptr, O_CLOEXEC | O_APPEND)) < 0) {
		r = np_error_set("cannot create a run record in '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX) < 0) {
		r = np_error_set("cannot lock '%s': %s", tmp.ptr, strerror(errno));
		goto out;
	}
	hostinfo_date(&date);
	head = json_pack("{s:i, s:I, s:s, s:s, s:b}", "crharness", 1, "pid", (json_int_t)getpid(),
			 "started", date.ptr, "work_dir", work_dir, "own_work_dir", own_work_dir);
	if ((r = runrec__write(fd, head, NULL)))
		goto out;
	buf_addf(&final, "%s/run-%s.jsonl", dir, strrchr(tmp.ptr, '/') + 6);
	if (rename(tmp.ptr, final.ptr) < 0) {
		r = np_error_set("cannot rename '%s': %s", tmp.ptr, strerror(errno));
		goto out;
	}
	*out = calloc(1, sizeof(**out));
	if (!*out)
		abort();
	(*out)->fd = fd;
	(*out)->path = buf_detach(&final, NULL);
	pthread_mutex_init(&(*out)->lock, NULL);
	buf_init(&(*out)->written);
	fd = -1;
	r = 0;
out:
	if (fd >= 0) {
		unlink(tmp.ptr);
		close(fd);
	}
	json_decref(head);
	buf_release(&tmp);
	buf_release(&final);
	buf_release(&date);
	return r;
}

int runrec_add(struct runrec *r, const char *backend, ...)
{
	va_list ap;
	const char *k;
	if (!r)
		return 0;
	json_t *j = json_pack("{s:s}", "backend", backend);
	va_start(ap, backend);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		json_object_set_new(j, k, json_string(v ? v : ""));
	}
	va_end(ap);
	pthread_mutex_lock(&r->lock);
	int rc = runrec__write(r->fd, j, &r->written);
	pthread_mutex_unlock(&r->lock);
	json_decref(j);
	return rc;
}

const char *runrec_get(const struct runrec_entry *e, const char *key)
{
	return json_string_value(json_object_get(e->j, key));
}

const char *runrec_path(const struct runrec *r)
{
	return r ? r->path : "";
}

void runrec_close(struct runrec *r, bool remove)
{
	if (!r)
		return;
	if (remove)
		unlink(r->path);
	close(r->fd);
	free(r->path);
	pthread_mutex_destroy(&r->lock);
	buf_release(&r->written);
	free(r);
}

/* Undo (or, dry_run, list) what the record at path describes, last line
 * first; header: start with a line naming the run. */
static int runrec__undo(const char *path, bool dry_run, bool header, struct buf *report)
{
	struct buf text = BUF_INIT;
	json_t **lines = NULL;
	size_t n = 0;
	int bad = 0;
	char *save = NULL;
	if (fs_read_file(&text, path))
		return NP_ERROR;
	for (char *l = strtok_r(text.ptr, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(l, 0, NULL);
		if (!j) /* a torn last line: the crash came before the thing existed */
			continue;
		json_t **grown = realloc(lines, (n + 1) * sizeof(*lines));
		if (!grown)
			abort();
		lines = grown;
		lines[n++] = j;
	}
	json_t *head = n ? lines[0] : NULL;
	if (!json_is_integer(json_object_get(head, "pid"))) {
		buf_addf(report, "%s: not a run record, left alone\n", path);
		bad = 1;
		goto out;
	}
	if (header)
		buf_addf(report, "run %lld (started %s, record %s):\n",
			 (long long)json_integer_value(json_object_get(head, "pid")),
			 json_string_value(json_object_get(head, "started")), path);
	const char *wd = json_string_value(json_object_get(head, "work_dir"));
	bool own = wd && wd[0] == '/' && strlen(wd) > 1 && json_is_true(json_object_get(head, "own_work_dir"));
	/* first what is still at work in the dir (a CRIU restoring from it),
	 * or it may create something after we looked */
	if (own)
		bad |= leftovers_kill_under(wd, dry_run, report) != 0;
	for (size_t i = n; i-- > 1;) {
		struct runrec_entry e = { lines[i] };
		const char *name = runrec_get(&e, "backend");
		const struct backend_ops *ops = name ? backend_find(name) : NULL;
		if (!ops || !ops->cleanup) {
			buf_addf(report, "unknown   %s line %zu (backend '%s'): not removed\n", path, i + 1,
				 name ? name : "?");
			bad = 1;
			continue;
		}
		bad |= ops->cleanup(&e, dry_run, report) != 0;
	}
	if (own) {
		bad |= leftovers_umount_under(wd, dry_run, report) != 0;
		if (fs_exists(wd))
			bad |= leftovers_say(report, dry_run, dry_run ? 0 : fs_remove_tree(wd), "work dir %s", wd) != 0;
	}
out:
	for (size_t i = 0; i < n; i++)
		json_decref(lines[i]);
	free(lines);
	buf_release(&text);
	return bad ? NP_ERROR : 0;
}

void runrec_survey(struct runrec *r, struct buf *report)
{
	if (r)
		runrec__undo(r->path, true, false, report);
}

/* Is name one of ours: "run-*.jsonl", or a ".new-*" a crash cut short? */
static bool runrec__named(const char *name, bool *fresh)
{
	size_t l = strlen(name);
	*fresh = !strncmp(name, ".new-", 5);
	return *fresh || (!strncmp(name, "run-", 4) && l > 10 && !strcmp(name + l - 6, ".jsonl"));
}

int runrec_sweep(const char *dir, bool dry_run, struct buf *report, size_t *runs)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int bad = 0;
	*runs = 0;
	if (!d)
		return errno == ENOENT ? 0 : np_error_set("cannot read '%s': %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		struct buf path = BUF_INIT;
		struct stat st;
		bool fresh;
		if (!runrec__named(de->d_name, &fresh))
			continue;
		buf_addf(&path, "%s/%s", dir, de->d_name);
		int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
		/* locked: its run is alive; unlinked meanwhile: another sweeper had it */
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 || !st.st_nlink) {
			if (fd >= 0)
				close(fd);
			buf_release(&path);
			continue;
		}
		if (fresh) {
			/* its run died before it recorded anything: nothing else to do */
			if (!dry_run)
				unlink(path.ptr);
		} else {
			(*runs)++;
			int r = runrec__undo(path.ptr, dry_run, true, report);
			bad |= r != 0;
			if (!r && !dry_run)
				unlink(path.ptr);
		}
		close(fd);
		buf_release(&path);
	}
	closedir(d);
	return bad ? NP_ERROR : 0;
}
