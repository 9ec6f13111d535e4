/*
 * host_local.c: the host nodeprep runs on, optionally with every managed
 * path placed under a root directory (--root), for image roots and tests.
 * Commands run on this machine as they are; their cwd is mapped and the
 * root is exported as NODEPREP_ROOT so scripts can honour it.
 */
#include "host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "banned.h"

static int local__read(struct host *h, const char *path, struct buf *out)
{
	struct buf p = BUF_INIT;
	host_map_path(&p, h, path);
	int r = fs_read_file(out, p.ptr);
	buf_release(&p);
	return r;
}

static int local__write(struct host *h, const char *path, const void *data, size_t len,
			int mode, int uid, int gid)
{
	struct buf p = BUF_INIT;
	host_map_path(&p, h, path);
	int r = fs_write_atomic(p.ptr, data, len, mode, uid, gid);
	buf_release(&p);
	return r;
}

static int local__stat(struct host *h, const char *path, struct host_stat *out)
{
	struct buf p = BUF_INIT;
	struct stat st;
	int r = 0;
	host_map_path(&p, h, path);
	if (lstat(p.ptr, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			r = np_error_set("cannot stat '%s': %s", p.ptr, strerror(errno));
		goto out;
	}
	out->is_link = S_ISLNK(st.st_mode);
	if (out->is_link && stat(p.ptr, &st) < 0) {
		out->exists = true;
		goto out;
	}
	out->exists = true;
	out->is_dir = S_ISDIR(st.st_mode);
	out->mode = (int)(st.st_mode & 07777);
	out->uid = (int)st.st_uid;
	out->gid = (int)st.st_gid;
	out->size = (long long)st.st_size;
	out->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
out:
	buf_release(&p);
	return r;
}

static int local__mkdir(struct host *h, const char *path, int mode)
{
	struct buf p = BUF_INIT;
	host_map_path(&p, h, path);
	int r = 0;
	if (mkdir(p.ptr, (mode_t)(mode >= 0 ? mode : 0755)) < 0 && errno != EEXIST)
		r = np_error_set("cannot create directory '%s': %s", p.ptr, strerror(errno));
	buf_release(&p);
	return r;
}

static int local__remove(struct host *h, const char *path)
{
	struct buf p = BUF_INIT;
	struct stat st;
	int r = 0;
	host_map_path(&p, h, path);
	if (lstat(p.ptr, &st) == 0) {
		int rc = S_ISDIR(st.st_mode) ? rmdir(p.ptr) : unlink(p.ptr);
		if (rc < 0)
			r = np_error_set("cannot remove '%s': %s", p.ptr, strerror(errno));
	}
	buf_release(&p);
	return r;
}

static int local__remove_tree(struct host *h, const char *path)
{
	struct buf p = BUF_INIT;
	host_map_path(&p, h, path);
	int r = fs_remove_tree(p.ptr);
	buf_release(&p);
	return r;
}

static int local__chmod_chown(struct host *h, const char *path, int mode, int uid, int gid)
{
	struct buf p = BUF_INIT;
	int r = 0;
	host_map_path(&p, h, path);
	if (mode >= 0 && chmod(p.ptr, (mode_t)mode) < 0)
		r = np_error_set("cannot chmod '%s': %s", p.ptr, strerror(errno));
	if (!r && (uid >= 0 || gid >= 0) && lchown(p.ptr, (uid_t)uid, (gid_t)gid) < 0)
		r = np_error_set("cannot chown '%s': %s", p.ptr, strerror(errno));
	buf_release(&p);
	return r;
}

static int local__run(struct host *h, struct spawn *sp)
{
	struct buf cwd = BUF_INIT, rootenv = BUF_INIT;
	const char *const *saved_env = sp->env, *saved_cwd = sp->cwd;
	const char *env[64];
	size_t n = 0;
	for (const char *const *e = sp->env; e && *e && n < 62; e++)
		env[n++] = *e;
	buf_addf(&rootenv, "NODEPREP_ROOT=%s", h->root);
	env[n++] = rootenv.ptr;
	env[n] = NULL;
	if (sp->cwd) {
		host_map_path(&cwd, h, sp->cwd);
		sp->cwd = cwd.ptr;
	}
	sp->env = env;
	int r = spawn_run(sp);
	sp->env = saved_env;
	sp->cwd = saved_cwd;
	buf_release(&cwd);
	buf_release(&rootenv);
	return r;
}

static void local__free(struct host *h)
{
	free(h->root);
	free(h);
}

static const struct host_ops local_ops = {
	local__read, local__write, local__stat, local__mkdir,
	local__remove, local__remove_tree, local__chmod_chown, local__run, local__free,
};

struct host *host_local_new(const char *root)
{
	struct host *h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->ops = &local_ops;
	/* "/" and "" both mean the real root; strip a trailing slash */
	size_t n = root ? strlen(root) : 0;
	while (n && root[n - 1] == '/')
		n--;
	h->root = strndup(root ? root : "", n);
	h->name = "localhost";
	if (!h->root)
		abort();
	return h;
}

bool host_is_local(const struct host *h)
{
	return h->ops == &local_ops;
}
