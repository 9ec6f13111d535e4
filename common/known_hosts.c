/*
 * known_hosts.c: see known_hosts.h. libssh2 wants a session to hang the
 * knownhost collection on; an unconnected one is enough.
 */
#include "known_hosts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libssh2.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "banned.h"

static int kh__mask(enum kh_keytype t)
{
	static const int m[] = { LIBSSH2_KNOWNHOST_KEY_SSHRSA, LIBSSH2_KNOWNHOST_KEY_SSHDSS,
				 LIBSSH2_KNOWNHOST_KEY_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
				 LIBSSH2_KNOWNHOST_KEY_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ED25519,
				 LIBSSH2_KNOWNHOST_KEY_UNKNOWN };
	return LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | m[t];
}

static void kh__default(struct buf *out, const char *file)
{
	const char *home = getenv("HOME");
	if (file)
		buf_adds(out, file);
	else
		buf_addf(out, "%s/.ssh/known_hosts", home && *home ? home : "/root");
}

/* the collection and the unconnected session it hangs on */
struct kh_set {
	LIBSSH2_SESSION *s;
	LIBSSH2_KNOWNHOSTS *kh;
};

static LIBSSH2_KNOWNHOSTS *kh__open(struct kh_set *k)
{
	k->s = libssh2_session_init();
	k->kh = k->s ? libssh2_knownhost_init(k->s) : NULL;
	return k->kh;
}

static void kh__close(struct kh_set *k)
{
	if (k->kh)
		libssh2_knownhost_free(k->kh);
	if (k->s)
		libssh2_session_free(k->s);
}

int known_hosts_check(const char *file, const char *host, int port, const void *key,
		      size_t keylen, enum kh_keytype type)
{
	struct buf path = BUF_INIT;
	int r = NP_ENOTFOUND;
	kh__default(&path, file);
	struct kh_set set;
	LIBSSH2_KNOWNHOSTS *kh = kh__open(&set);
	if (!kh) {
		r = np_error_set("cannot initialise libssh2 known hosts");
		goto out;
	}
	if (fs_exists(path.ptr) &&
	    libssh2_knownhost_readfile(kh, path.ptr, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		r = np_error_set("cannot read known hosts file '%s'", path.ptr);
		goto out;
	}
	struct libssh2_knownhost *found = NULL;
	int c = libssh2_knownhost_checkp(kh, host, port, key, keylen, kh__mask(type), &found);
	if (c == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		r = 0;
	else if (c == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
		r = np_error_setc(NP_EVERIFY, "the host key of %s:%d does NOT match %s: refusing "
				  "(if the host was really reinstalled, remove its old entry)", host, port, path.ptr);
	else if (c == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND)
		r = np_error_setc(NP_ENOTFOUND, "the host key of %s:%d is not in %s", host, port, path.ptr);
	else
		r = np_error_set("cannot check the host key of %s:%d", host, port);
out:
	kh__close(&set);
	buf_release(&path);
	return r;
}

int known_hosts_add(const char *file, const char *host, int port, const void *key, size_t keylen,
		    enum kh_keytype type)
{
	struct buf path = BUF_INIT, name = BUF_INIT, dir = BUF_INIT, old = BUF_INIT;
	char line[16384];
	size_t n = 0;
	int r = 0;
	kh__default(&path, file);
	if (port == 22 || port <= 0)
		buf_adds(&name, host);
	else
		buf_addf(&name, "[%s]:%d", host, port);
	struct kh_set set;
	LIBSSH2_KNOWNHOSTS *kh = kh__open(&set);
	struct libssh2_knownhost *entry;
	if (!kh || libssh2_knownhost_addc(kh, name.ptr, NULL, key, keylen, NULL, 0, kh__mask(type),
					  &entry) < 0 ||
	    libssh2_knownhost_writeline(kh, entry, line, sizeof(line), &n,
					LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		r = np_error_set("cannot format a known_hosts line for %s", name.ptr);
		goto out;
	}
	fs_dirname(&dir, path.ptr);
	fs_read_file(&old, path.ptr);
	buf_add(&old, line, n);
	if (!(r = fs_mkdir_p(dir.ptr, 0700)))
		r = fs_write_atomic(path.ptr, old.ptr, old.len, 0600, -1, -1);
out:
	kh__close(&set);
	buf_release(&path);
	buf_release(&name);
	buf_release(&dir);
	buf_release(&old);
	return r;
}
