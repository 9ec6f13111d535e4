/*
 * host_local.c: the host nodeprep runs on, optionally with every managed
 * path confined to a root directory (--root), for image roots and tests.
 * Every path is resolved through the jail (common/jail.c) as a chroot
 * would resolve it, for the real root too (one code path), and every
 * change is made relative to a directory fd that resolution returned: an
 * image's absolute symlinks stay inside the root and a link swapped in
 * during an apply cannot carry a write out of it. Commands run on this
 * machine as they are; their cwd is resolved the same way and the root is
 * exported as NODEPREP_ROOT so scripts can honour it.
 */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "jail.h"
#include "banned.h"

struct host_local {
	struct host h; /* first: the ops receive &h */
	struct jail jail;
};

/* The jail, opened on first use: the root may be made after the host is. */
static int local__jail(struct host *h, const struct jail **out)
{
	struct host_local *l = (struct host_local *)h;
	if (l->jail.root_fd < 0) {
		jail_release(&l->jail);
		int r = jail_init(&l->jail, h->root);
		if (r)
			return r;
	}
	*out = &l->jail;
	return 0;
}

/* An errno from the jail as this layer's error, naming the path as the user sees it. */
static int local__fail(struct host *h, int neg_errno, const char *what, const char *path)
{
	struct buf p = BUF_INIT;
	host_map_path(&p, h, path);
	int code = neg_errno == -ENOENT || neg_errno == -ENOTDIR ? NP_ENOTFOUND : NP_ERROR;
	int r = neg_errno == -EINVAL && path[0] != '/'
			? np_error_setc(NP_EINVALID, "'%s' is not an absolute path", path)
			: np_error_setc(code, "cannot %s '%s': %s", what, p.ptr, strerror(-neg_errno));
	buf_release(&p);
	return r;
}

/* path opened with flags, resolved in the root; a failure names what was tried. */
static int local__open(struct host *h, const char *path, int flags, const char *what, int *out)
{
	const struct jail *j;
	int r = local__jail(h, &j);
	if (r)
		return r;
	int fd = jail_open(j, path, flags, 0);
	if (fd < 0)
		return local__fail(h, fd, what, path);
	*out = fd;
	return 0;
}

/* The directory holding path, resolved in the root; *name its last component. */
static int local__parent(struct host *h, const char *path, const char **name, const char *what,
			 int *out)
{
	const struct jail *j;
	int r = local__jail(h, &j);
	if (r)
		return r;
	int fd = jail_open_parent(j, path, name);
	if (fd < 0)
		return local__fail(h, fd, what, path);
	*out = fd;
	return 0;
}

static int local__read(struct host *h, const char *path, struct buf *out)
{
	struct buf p = BUF_INIT;
	int fd, r = local__open(h, path, O_RDONLY, "open", &fd);
	if (r)
		return r;
	host_map_path(&p, h, path);
	r = fs_read_fd(out, fd, p.ptr);
	close(fd);
	buf_release(&p);
	return r;
}

static int local__write(struct host *h, const char *path, const void *data, size_t len,
			int mode, int uid, int gid)
{
	const struct jail *j;
	struct buf p = BUF_INIT;
	struct stat old;
	const char *name;
	int dir = -1, r = local__jail(h, &j);
	if (r || (r = local__parent(h, path, &name, "write", &dir)))
		return r;
	/* mode and owner of what is replaced, found inside the root too */
	int ofd = jail_open(j, path, O_PATH, 0);
	bool had_old = ofd >= 0 && fstat(ofd, &old) == 0;
	if (ofd >= 0)
		close(ofd);
	host_map_path(&p, h, path);
	r = fs_write_atomic_at(dir, name, p.ptr, data, len, mode, uid, gid, had_old ? &old : NULL);
	close(dir);
	buf_release(&p);
	return r;
}

static int local__stat(struct host *h, const char *path, struct host_stat *out)
{
	const struct jail *j;
	struct stat st;
	int r = local__jail(h, &j);
	if (r)
		return r;
	int fd = jail_open(j, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd == -ENOENT || fd == -ENOTDIR ? 0 : local__fail(h, fd, "stat", path);
	out->exists = true;
	r = fstat(fd, &st);
	close(fd);
	if (r < 0)
		return local__fail(h, -errno, "stat", path);
	out->is_link = S_ISLNK(st.st_mode);
	if (out->is_link) {
		/* followed inside the root; a dangling or looping link just exists */
		if ((fd = jail_open(j, path, O_PATH, 0)) < 0)
			return 0;
		r = fstat(fd, &st);
		close(fd);
		if (r < 0)
			return 0;
	}
	out->is_dir = S_ISDIR(st.st_mode);
	out->mode = (int)(st.st_mode & 07777);
	out->uid = (int)st.st_uid;
	out->gid = (int)st.st_gid;
	out->size = (long long)st.st_size;
	out->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	return 0;
}

static int local__mkdir(struct host *h, const char *path, int mode)
{
	const char *name;
	int dir, r = local__parent(h, path, &name, "create directory", &dir);
	if (r)
		return r;
	if (mkdirat(dir, name, (mode_t)(mode >= 0 ? mode : 0755)) < 0 && errno != EEXIST)
		r = local__fail(h, -errno, "create directory", path);
	close(dir);
	return r;
}

static int local__remove(struct host *h, const char *path)
{
	struct stat st;
	const char *name;
	int dir, r = local__parent(h, path, &name, "remove", &dir);
	if (r == NP_ENOTFOUND)
		return 0;
	if (r)
		return r;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    unlinkat(dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		r = local__fail(h, -errno, "remove", path);
	close(dir);
	return r;
}

static int local__remove_tree(struct host *h, const char *path)
{
	struct buf p = BUF_INIT;
	const char *name;
	int dir, r = local__parent(h, path, &name, "remove", &dir);
	if (r == NP_ENOTFOUND)
		return 0;
	if (r)
		return r;
	host_map_path(&p, h, path);
	r = fs_remove_tree_at(dir, name, p.ptr);
	close(dir);
	buf_release(&p);
	return r;
}

static int local__chmod_chown(struct host *h, const char *path, int mode, int uid, int gid)
{
	char proc[64];
	int fd, r = local__open(h, path, O_PATH, "chmod", &fd);
	if (r)
		return r;
	/* an O_PATH fd takes no fchmod; its /proc name reaches the same inode */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (mode >= 0 && chmod(proc, (mode_t)mode) < 0)
		r = local__fail(h, -errno, "chmod", path);
	if (!r && (uid >= 0 || gid >= 0) &&
	    fchownat(fd, "", (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		r = local__fail(h, -errno, "chown", path);
	close(fd);
	return r;
}

static int local__run(struct host *h, struct spawn *sp)
{
	struct buf cwd = BUF_INIT, rootenv = BUF_INIT;
	const char *const *saved_env = sp->env, *saved_cwd = sp->cwd;
	const char *env[64];
	size_t n = 0;
	int dir = -1, r = 0;
	for (const char *const *e = sp->env; e && *e && n < 62; e++)
		env[n++] = *e;
	buf_addf(&rootenv, "NODEPREP_ROOT=%s", h->root);
	env[n++] = rootenv.ptr;
	env[n] = NULL;
	if (sp->cwd) {
		/* the child changes into the directory this fd holds, as it was
		 * resolved in the root, not into a path looked up again */
		const struct jail *j;
		if ((r = local__jail(h, &j)))
			goto out;
		if ((dir = jail_open(j, sp->cwd, O_PATH | O_DIRECTORY, 0)) < 0) {
			r = local__fail(h, dir, "change into", sp->cwd);
			goto out;
		}
		buf_addf(&cwd, "/proc/self/fd/%d", dir);
		sp->cwd = cwd.ptr;
	}
	sp->env = env;
	r = spawn_run(sp);
out:
	sp->env = saved_env;
	sp->cwd = saved_cwd;
	if (dir >= 0)
		close(dir);
	buf_release(&cwd);
	buf_release(&rootenv);
	return r;
}

static void local__free(struct host *h)
{
	struct host_local *l = (struct host_local *)h;
	jail_release(&l->jail);
	free(h->root);
	free(l);
}

static const struct host_ops local_ops = {
	local__read, local__write, local__stat, local__mkdir,
	local__remove, local__remove_tree, local__chmod_chown, local__run, local__free,
};

struct host *host_local_new(const char *root)
{
	struct host_local *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	struct host *h = &l->h;
	h->ops = &local_ops;
	/* "/" and "" both mean the real root; strip a trailing slash */
	size_t n = root ? strlen(root) : 0;
	while (n && root[n - 1] == '/')
		n--;
	h->root = strndup(root ? root : "", n);
	h->name = "localhost";
	if (!h->root)
		abort();
	l->jail.root_fd = -1;
	return h;
}

bool host_is_local(const struct host *h)
{
	return h->ops == &local_ops;
}

int host_local_resolve(struct buf *out, struct host *h, const char *path, bool follow)
{
	const struct jail *j;
	if (!host_is_local(h)) {
		host_map_path(out, h, path);
		return 0;
	}
	int r = local__jail(h, &j);
	if (r)
		return r;
	int e = jail_resolve(out, j, path, follow);
	return e ? local__fail(h, e, "resolve", path) : 0;
}

int host_local_open_parent(struct host *h, const char *path, const char **name, int *dir)
{
	return local__parent(h, path, name, "open the directory of", dir);
}
