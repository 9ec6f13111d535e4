/*
 * jail.c: see jail.h. The walk keeps a stack of directory fds, one per
 * level below the root: ".." pops the stack instead of opening "..", so a
 * directory a racer moves out of the root cannot lead the walk after it,
 * and the root itself is its own parent. Each component is opened with
 * O_NOFOLLOW and looked at through its fd; a symlink is read and its
 * target spliced in front of what is left (an absolute one from the root).
 */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "error.h"
#include "banned.h"

#define JAIL_MAX_LINKS 40 /* the kernel's own limit (MAXSYMLINKS) */

static bool jail__walk_only;

void jail_force_walk(bool on)
{
	jail__walk_only = on;
}

int jail_init(struct jail *j, const char *root)
{
	size_t n = root ? strlen(root) : 0;
	while (n && root[n - 1] == '/')
		n--;
	j->root = strndup(root ? root : "", n);
	if (!j->root)
		abort();
	const char *env = getenv("NODEPREP_RESOLVE");
	if (env && !strcmp(env, "walk"))
		jail__walk_only = true;
	j->root_fd = open(n ? j->root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (j->root_fd < 0)
		return np_error_setc(errno == ENOENT ? NP_ENOTFOUND : NP_ERROR, "cannot open the root '%s': %s",
				     n ? j->root : "/", strerror(errno));
	return 0;
}

void jail_release(struct jail *j)
{
	if (j->root_fd >= 0)
		close(j->root_fd);
	j->root_fd = -1;
	free(j->root);
	j->root = NULL;
}

void jail_display(struct buf *out, const struct jail *j, const char *path)
{
	buf_adds(out, j->root);
	if (j->root[0] && path[0] != '/')
		buf_addch(out, '/');
	buf_adds(out, path);
}

/* The kernel's resolver; -ENOSYS (or the filter's errno) when it is not there. */
static int jail__openat2(const struct jail *j, const char *path, int flags, mode_t mode)
{
	struct open_how how = { 0 };
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.mode = (flags & O_PATH) ? 0 : mode;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	for (int tries = 0; tries < 16; tries++) {
		long fd = syscall(SYS_openat2, j->root_fd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* EAGAIN: a rename raced the lookup; the kernel asks for a retry */
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

struct walk {
	int *fds; /* fds[0] is the root (borrowed); the rest are owned */
	size_t n, cap;
};

static int walk__top(const struct walk *w)
{
	return w->fds[w->n - 1];
}

static void walk__push(struct walk *w, int fd)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->fds = realloc(w->fds, w->cap * sizeof(*w->fds));
		if (!w->fds)
			abort();
	}
	w->fds[w->n++] = fd;
}

static void walk__pop_to(struct walk *w, size_t n)
{
	while (w->n > n)
		close(w->fds[--w->n]);
}

/* The link at (dir, name) or the O_PATH link fd (name ""): its target into t. */
static int walk__readlink(struct buf *t, int dir, const char *name)
{
	char target[PATH_MAX];
	ssize_t len = readlinkat(dir, name, target, sizeof(target));
	if (len < 0)
		return -errno;
	if ((size_t)len >= sizeof(target))
		return -ENAMETOOLONG;
	buf_reset(t);
	buf_add(t, target, (size_t)len);
	return 0;
}

/*
 * Resolve by hand. rest holds what is left to resolve; a followed link
 * replaces the current component by its target. The last component is
 * opened with the caller's flags plus O_NOFOLLOW, so a symlink swapped in
 * after it was looked at fails (ELOOP) or is seen as a link again.
 */
static int jail__walk(const struct jail *j, const char *path, int flags, mode_t mode)
{
	struct walk w = { NULL, 0, 0 };
	struct buf rest = BUF_INIT, comp = BUF_INIT, target = BUF_INIT;
	bool follow_last = !(flags & O_NOFOLLOW);
	int links = 0, r = -EINVAL;
	walk__push(&w, j->root_fd);
	buf_adds(&rest, path);
	for (;;) {
		size_t i = 0;
		while (i < rest.len && rest.ptr[i] == '/')
			i++;
		if (i == rest.len) {
			/* nothing left: the directory we stand in is the answer */
			r = openat(walk__top(&w), ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC, mode);
			r = r < 0 ? -errno : r;
			break;
		}
		size_t n = strcspn(rest.ptr + i, "/");
		buf_reset(&comp);
		buf_add(&comp, rest.ptr + i, n);
		size_t after = i + n;
		while (after < rest.len && rest.ptr[after] == '/')
			after++;
		bool last = after == rest.len;
		bool dir_wanted = i + n < rest.len; /* "name/": must be a directory */
		/* what is left after this component */
		memmove(rest.ptr, rest.ptr + i + n, rest.len - i - n + 1);
		rest.len -= i + n;
		if (!strcmp(comp.ptr, "."))
			continue;
		if (!strcmp(comp.ptr, "..")) {
			if (w.n > 1)
				walk__pop_to(&w, w.n - 1);
			continue;
		}
		int fd;
		if (last && !dir_wanted) {
			fd = openat(walk__top(&w), comp.ptr, flags | O_NOFOLLOW | O_CLOEXEC, mode);
			int e = errno;
			if (fd < 0 && e != ELOOP && e != ENOTDIR) {
				r = -e;
				break;
			}
			struct stat st;
			bool is_link = fd >= 0 ? fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)
					       : fstatat(walk__top(&w), comp.ptr, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
							 S_ISLNK(st.st_mode);
			if (!is_link || !follow_last) {
				r = fd >= 0 ? fd : -e;
				break;
			}
			if (fd >= 0)
				close(fd);
			if (++links > JAIL_MAX_LINKS || (r = walk__readlink(&target, walk__top(&w), comp.ptr))) {
				r = links > JAIL_MAX_LINKS ? -ELOOP : r;
				break;
			}
		} else {
			struct stat st;
			fd = openat(walk__top(&w), comp.ptr, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || fstat(fd, &st) < 0) {
				r = -errno;
				if (fd >= 0)
					close(fd);
				break;
			}
			if (S_ISDIR(st.st_mode)) {
				walk__push(&w, fd);
				continue;
			}
			if (!S_ISLNK(st.st_mode)) {
				close(fd);
				r = -ENOTDIR;
				break;
			}
			r = ++links > JAIL_MAX_LINKS ? -ELOOP : walk__readlink(&target, fd, "");
			close(fd);
			if (r)
				break;
		}
		/* a link: its target takes its place; an absolute one starts at the root */
		if (target.len && target.ptr[0] == '/')
			walk__pop_to(&w, 1);
		buf_addch(&target, '/');
		buf_add(&target, rest.ptr, rest.len);
		buf_reset(&rest);
		buf_add(&rest, target.ptr, target.len);
		if (last && !dir_wanted)
			buf_setlen(&rest, rest.len - 1); /* the link was last: so is its target */
	}
	walk__pop_to(&w, 1);
	free(w.fds);
	buf_release(&rest);
	buf_release(&comp);
	buf_release(&target);
	return r;
}

int jail_open(const struct jail *j, const char *path, int flags, mode_t mode)
{
	if (path[0] != '/' || (flags & O_CREAT))
		return -EINVAL;
	if (!jail__walk_only) {
		int fd = jail__openat2(j, path, flags, mode);
		/* no openat2 (old kernel, a seccomp filter): the walk does the same */
		if (fd != -ENOSYS && fd != -EPERM && fd != -E2BIG)
			return fd;
	}
	return jail__walk(j, path, flags, mode);
}

/* Split path at its last component; parent gets what is before it ("/" at least). */
static int jail__split(struct buf *parent, const char *path, const char **name)
{
	size_t end = strlen(path);
	while (end > 1 && path[end - 1] == '/')
		end--;
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	size_t n = end - start;
	if (path[0] != '/' || !n || (n == 1 && path[start] == '.') ||
	    (n == 2 && path[start] == '.' && path[start + 1] == '.'))
		return -EINVAL;
	size_t plen = start;
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	buf_add(parent, path, plen);
	*name = path + start;
	return 0;
}

int jail_open_parent(const struct jail *j, const char *path, const char **name)
{
	struct buf parent = BUF_INIT;
	int r = jail__split(&parent, path, name);
	if (!r)
		r = jail_open(j, parent.ptr, O_RDONLY | O_DIRECTORY, 0);
	buf_release(&parent);
	return r;
}

/* The path the kernel knows an fd by. */
static int jail__fd_path(struct buf *out, int fd)
{
	char proc[64], p[PATH_MAX];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, p, sizeof(p) - 1);
	if (n < 0)
		return -errno;
	buf_add(out, p, (size_t)n);
	return 0;
}

/*
 * Resolve a path that may not exist yet: what exists is resolved by the
 * kernel (or the walk); a missing last part is appended as it is, unless
 * it is a dangling link and follow is asked, whose target is then resolved
 * the same way (a link to a missing file means that file, inside the root).
 */
static int jail__resolve(struct buf *out, const struct jail *j, const char *path, bool follow,
			 int depth)
{
	struct buf parent = BUF_INIT, next = BUF_INIT, nm = BUF_INIT;
	const char *name;
	struct stat st;
	int r;
	if (depth > JAIL_MAX_LINKS)
		return -ELOOP;
	int fd = jail_open(j, path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
	if (fd >= 0) {
		r = jail__fd_path(out, fd);
		close(fd);
		return r;
	}
	if (fd != -ENOENT)
		return fd;
	if ((r = jail__split(&parent, path, &name)))
		goto out;
	buf_add(&nm, name, strcspn(name, "/")); /* without a trailing slash */
	name = nm.ptr;
	if ((r = jail__resolve(out, j, parent.ptr, true, depth + 1)))
		goto out;
	int dir = open(out->ptr, O_PATH | O_DIRECTORY | O_CLOEXEC);
	bool link = dir >= 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
	if (link && (r = walk__readlink(&next, dir, name)) == 0) {
		/* the link's target, from the root or from the link's directory */
		struct buf again = BUF_INIT;
		if (next.ptr[0] != '/')
			buf_addf(&again, "%s/", parent.ptr);
		buf_add(&again, next.ptr, next.len);
		buf_reset(out);
		r = jail__resolve(out, j, again.ptr, true, depth + 1);
		buf_release(&again);
	} else if (!link) {
		if (out->len && out->ptr[out->len - 1] != '/')
			buf_addch(out, '/');
		buf_adds(out, name);
		while (out->len > 1 && out->ptr[out->len - 1] == '/')
			buf_setlen(out, out->len - 1);
	}
	if (dir >= 0)
		close(dir);
out:
	buf_release(&parent);
	buf_release(&next);
	buf_release(&nm);
	return r;
}

int jail_resolve(struct buf *out, const struct jail *j, const char *path, bool follow)
{
	struct buf root = BUF_INIT, got = BUF_INIT;
	int r = path[0] == '/' ? 0 : -EINVAL;
	if (!r)
		r = jail__fd_path(&root, j->root_fd);
	if (!r)
		r = jail__resolve(&got, j, path, follow, 0);
	/* the resolution ended inside the root, or something is badly wrong */
	if (!r && strcmp(root.ptr, "/") &&
	    (strncmp(got.ptr, root.ptr, root.len) || (got.ptr[root.len] && got.ptr[root.len] != '/')))
		r = -EXDEV;
	if (!r)
		buf_add(out, got.ptr, got.len);
	buf_release(&root);
	buf_release(&got);
	return r;
}
