/*
 * leftovers.c: see leftovers.h. Processes come from /proc/PID/cmdline,
 * mounts from /proc/self/mountinfo, runc containers from the directories
 * runc keeps under its root (so a dry run needs no runc).
 */
#include "leftovers.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "spawn.h"
#include "banned.h"

int leftovers_say(struct buf *report, bool dry_run, int r, const char *fmt, ...)
{
	va_list ap;
	buf_adds(report, dry_run ? "left      " : r ? "cannot remove " : "removed   ");
	va_start(ap, fmt);
	buf_vaddf(report, fmt, ap);
	va_end(ap);
	if (!dry_run && r)
		buf_addf(report, ": %s", np_error_last());
	buf_addch(report, '\n');
	return r;
}

/* What a process must have in its argv (NUL-separated) to be ours. */
struct argv_match {
	const char *flag, *value; /* flag value, or flag=value */
	const char *also;         /* and this whole argument; NULL: no need */
	const char *under;        /* instead: an argument at or under this dir */
};

static bool argv__match(const struct buf *cmd, const struct argv_match *m)
{
	bool flag = false, also = !m->also;
	size_t fl = m->flag ? strlen(m->flag) : 0, dl = m->under ? strlen(m->under) : 0;
	for (size_t i = 0; i < cmd->len; i += strlen(cmd->ptr + i) + 1) {
		const char *a = cmd->ptr + i;
		if (m->under && !strncmp(a, m->under, dl) && (!a[dl] || a[dl] == '/'))
			return true;
		if (m->flag && !strcmp(a, m->flag) && i + fl + 1 < cmd->len && !strcmp(a + fl + 1, m->value))
			flag = true;
		if (m->flag && !strncmp(a, m->flag, fl) && a[fl] == '=' && !strcmp(a + fl + 1, m->value))
			flag = true;
		if (m->also && !strcmp(a, m->also))
			also = true;
	}
	return m->flag && flag && also;
}

/* Is the process's root dir (a container's rootfs) at or under dir? */
static bool root__under(long pid, const char *dir)
{
	char link[64], root[1024];
	size_t dl = dir ? strlen(dir) : 0;
	snprintf(link, sizeof(link), "/proc/%ld/root", pid);
	ssize_t n = dir ? readlink(link, root, sizeof(root) - 1) : -1;
	if (n <= 0)
		return false;
	root[n] = 0;
	return !strncmp(root, dir, dl) && (!root[dl] || root[dl] == '/' || root[dl] == ' ');
}

static int leftovers__kill(const struct argv_match *m, const char *what, bool dry_run,
			   struct buf *report)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int bad = 0;
	if (!d)
		return np_error_set("cannot read /proc");
	while ((de = readdir(d))) {
		char path[64];
		struct buf cmd = BUF_INIT;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		long pid = strtol(de->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		if (pid != (long)getpid() && !fs_read_file(&cmd, path) && cmd.len &&
		    (argv__match(&cmd, m) || root__under(pid, m->under))) {
			int r = 0;
			if (!dry_run && kill((pid_t)pid, SIGKILL) < 0)
				r = np_error_set("kill: %s", strerror(errno));
			/* the first arguments say what it is: "containerd --config ..." */
			for (size_t i = 0, words = 0; i < cmd.len; i++)
				if (!cmd.ptr[i] && ++words < 3)
					cmd.ptr[i] = ' ';
			bad |= leftovers_say(report, dry_run, r, "%s (pid %ld: %.100s ...)", what, pid,
					     cmd.ptr) != 0;
		}
		buf_release(&cmd);
	}
	closedir(d);
	return bad ? NP_ERROR : 0;
}

int leftovers_kill(const char *flag, const char *value, const char *also, const char *what,
		   bool dry_run, struct buf *report)
{
	struct argv_match m = { flag, value, also, NULL };
	return leftovers__kill(&m, what, dry_run, report);
}

int leftovers_kill_under(const char *dir, bool dry_run, struct buf *report)
{
	struct argv_match m = { NULL, NULL, NULL, dir };
	return leftovers__kill(&m, "process in or using the work dir", dry_run, report);
}

int leftovers_runc_root(const char *root, const char *runtime, bool dry_run, struct buf *report)
{
	DIR *d = opendir(root);
	struct dirent *de;
	int bad = 0;
	if (!d)
		return 0; /* no root: no container was ever created there */
	while ((de = readdir(d))) {
		struct buf state = BUF_INIT;
		buf_addf(&state, "%s/%s/state.json", root, de->d_name);
		if (de->d_name[0] != '.' && fs_exists(state.ptr)) {
			int r = 0;
			if (!dry_run) {
				const char *argv[] = { runtime && runtime[0] ? runtime : "runc", "--root", root,
						       "delete", "--force", de->d_name, NULL };
				struct spawn sp = SPAWN_INIT;
				sp.argv = argv;
				sp.merge_err = true;
				sp.timeout_ms = 30000;
				if (!(r = spawn_run(&sp)) && sp.status) {
					buf_rtrim(&sp.out);
					r = np_error_set("runc delete: %s", sp.out.ptr);
				}
				spawn_release(&sp);
			}
			bad |= leftovers_say(report, dry_run, r, "runc container '%s' (root %s)", de->d_name,
					     root) != 0;
		}
		buf_release(&state);
	}
	closedir(d);
	return bad ? NP_ERROR : 0;
}

static int len__cmp(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

int leftovers_umount_under(const char *dir, bool dry_run, struct buf *report)
{
	struct buf mi = BUF_INIT;
	char **mnts = NULL;
	size_t n = 0, dl = strlen(dir);
	char *save = NULL;
	int bad = 0;
	if (fs_read_file(&mi, "/proc/self/mountinfo"))
		return np_error_set("cannot read /proc/self/mountinfo");
	for (char *line = strtok_r(mi.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char mnt[1024];
		if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 || strncmp(mnt, dir, dl) ||
		    (mnt[dl] && mnt[dl] != '/'))
			continue;
		char **grown = realloc(mnts, (n + 1) * sizeof(*mnts));
		if (!grown || !(grown[n] = strdup(mnt)))
			abort();
		mnts = grown;
		n++;
	}
	if (n)
		qsort(mnts, n, sizeof(*mnts), len__cmp);
	for (size_t i = 0; i < n; i++) {
		int r = 0;
		if (!dry_run && umount2(mnts[i], MNT_DETACH) < 0)
			r = np_error_set("umount: %s", strerror(errno));
		bad |= leftovers_say(report, dry_run, r, "mount %s", mnts[i]) != 0;
		free(mnts[i]);
	}
	free(mnts);
	buf_release(&mi);
	return bad ? NP_ERROR : 0;
}
