/*
 * mux_path.c: where a master's socket lives (mux.h). The directory is
 * private because the socket is the connection: whoever can connect to it
 * acts on the node as the login user, without a key. So, as OpenSSH
 * checks a ControlPath's directory: it must be a real directory, owned by
 * us, with no access for group or others; it is never loosened, only
 * refused with the reason. The master checks the peer's uid too
 * (SO_PEERCRED).
 */
#include "mux.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "error.h"
#include "host.h"
#include "sha256.h"
#include "banned.h"

static int mux__dir(struct buf *out)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	/* a login without a runtime directory (su, cron, CI) may still name one: only an existing one counts */
	if (xdg && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode))
		buf_addf(out, "%s/nodeprep-ssh", xdg);
	else
		buf_addf(out, "/tmp/nodeprep-ssh-%ld", (long)getuid());
	if (mkdir(out->ptr, 0700) < 0 && errno != EEXIST)
		return np_error_set("cannot make the ssh-master directory '%s': %s", out->ptr, strerror(errno));
	if (lstat(out->ptr, &st) < 0)
		return np_error_set("cannot stat the ssh-master directory '%s': %s", out->ptr, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return np_error_set("the ssh-master directory '%s' is not a directory (a link?): refusing it", out->ptr);
	if (st.st_uid != getuid())
		return np_error_set("the ssh-master directory '%s' belongs to uid %ld, not to us: refusing it",
				    out->ptr, (long)st.st_uid);
	if (st.st_mode & 077)
		return np_error_set("the ssh-master directory '%s' is open to others (mode %04o; 0700 wanted): refusing it",
				    out->ptr, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* A file name as an absolute path (the master runs the same code from the same cwd). */
static void mux__file(struct buf *out, const char *path, const char *def)
{
	char real[PATH_MAX];
	if (!path) {
		const char *home = getenv("HOME");
		buf_addf(out, "%s%s", def ? (home ? home : "") : "", def ? def : "");
	} else if (realpath(path, real)) {
		buf_adds(out, real);
	} else {
		buf_adds(out, path);
	}
	buf_addch(out, '\n');
}

int mux_paths(struct buf *sock, struct buf *lock, const struct ssh_opts *o)
{
	struct buf dir = BUF_INIT, id = BUF_INIT;
	char hex[SHA256_HEX_LEN + 1];
	int r = mux__dir(&dir);
	if (r)
		goto out;
	/* the name is what the connection is; the password or agent that logged in is not part of it */
	buf_addf(&id, "nodeprep-mux %d\n%s\n%s\n%d\n", MUX_VERSION, o->user ? o->user : "root", o->address,
		 o->port ? o->port : 22);
	mux__file(&id, o->key, NULL);
	mux__file(&id, o->known_hosts, "/.ssh/known_hosts");
	buf_addf(&id, "%d %d\n%s\n", o->accept_new, o->become, o->root ? o->root : "");
	sha256_hex_mem(hex, id.ptr, id.len);
	buf_addf(sock, "%s/%.32s.sock", dir.ptr, hex);
	buf_addf(lock, "%s/%.32s.lock", dir.ptr, hex);
out:
	buf_release(&dir);
	buf_release(&id);
	return r;
}

bool mux_path_is(const char *path, const struct stat *st)
{
	struct stat now;
	return stat(path, &now) == 0 && now.st_ino == st->st_ino && now.st_dev == st->st_dev;
}

int mux_lock(const char *path, int *fd)
{
	for (;;) {
		struct stat held;
		int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lfd < 0 || flock(lfd, LOCK_EX) < 0 || fstat(lfd, &held) < 0) {
			int e = errno;
			if (lfd >= 0)
				close(lfd);
			return np_error_set("cannot lock '%s': %s", path, strerror(e));
		}
		if (mux_path_is(path, &held)) {
			*fd = lfd;
			return 0;
		}
		close(lfd); /* removed (or replaced) while we waited for it */
	}
}
