/*
 * mux_wire.c: the framing of mux.h. Plain blocking stream I/O: one client
 * talks to the master at a time, each side sends a whole message and then
 * waits for the other's, so no message ever has to be read piecewise
 * beside other work.
 */
#include "mux.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "error.h"
#include "host.h"
#include "banned.h"

/* a header is small (a prefetch lists every managed path); blobs carry the bulk */
#define MUX_HDR_MAX (64u << 20)

static int wire__write(int sock, const void *p, size_t len)
{
	const char *c = p;
	while (len) {
		ssize_t n = send(sock, c, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return np_error_set("cannot send to the ssh-master socket: %s", strerror(n < 0 ? errno : EPIPE));
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

int mux_send(int sock, json_t *hdr, const struct mux_blob *blobs, size_t nblobs, const int *fds,
	     size_t nfds)
{
	json_t *lens = json_array();
	for (size_t i = 0; i < nblobs; i++)
		json_array_append_new(lens, json_integer((json_int_t)blobs[i].len));
	json_object_set_new(hdr, "blobs", lens);
	char *text = json_dumps(hdr, JSON_COMPACT);
	if (!text)
		abort();
	size_t tl = strlen(text);
	unsigned char len4[4] = { (unsigned char)(tl >> 24), (unsigned char)(tl >> 16), (unsigned char)(tl >> 8),
				  (unsigned char)tl };
	/* the length goes alone in a sendmsg so the descriptors ride on its bytes */
	struct iovec iov = { len4, sizeof(len4) };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * MUX_MAX_FDS)];
	} ctl;
	struct msghdr mh = { 0 };
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.space;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	int r = n < 0 ? np_error_set("cannot send to the ssh-master socket: %s", strerror(errno)) : 0;
	if (!r && n < (ssize_t)sizeof(len4))
		r = wire__write(sock, len4 + n, sizeof(len4) - (size_t)n);
	if (!r)
		r = wire__write(sock, text, tl);
	for (size_t i = 0; !r && i < nblobs; i++)
		if (blobs[i].len)
			r = wire__write(sock, blobs[i].ptr, blobs[i].len);
	free(text);
	return r;
}

/* Exactly len bytes; NP_ENOTFOUND at EOF before the first byte when eof_ok. */
static int wire__read(int sock, void *p, size_t len, bool eof_ok)
{
	char *c = p;
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(sock, c + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && !got && eof_ok)
			return NP_ENOTFOUND;
		if (n <= 0)
			return np_error_set("the ssh-master socket closed in mid-message%s%s", n < 0 ? ": " : "",
					    n < 0 ? strerror(errno) : "");
		got += (size_t)n;
	}
	return 0;
}

int mux_recv(int sock, struct mux_msg *m)
{
	unsigned char len4[4];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * MUX_MAX_FDS)];
	} ctl;
	struct iovec iov = { len4, sizeof(len4) };
	struct msghdr mh = { 0 };
	char *text = NULL;
	int r;
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < MUX_MAX_FDS; i++)
		m->fd[i] = -1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.space;
	mh.msg_controllen = sizeof(ctl.space);
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return NP_ENOTFOUND;
	if (n < 0)
		return np_error_set("cannot read the ssh-master socket: %s", strerror(errno));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[MUX_MAX_FDS];
		memcpy(fds, CMSG_DATA(c), sizeof(int) * (k < MUX_MAX_FDS ? k : MUX_MAX_FDS));
		for (size_t i = 0; i < k && i < MUX_MAX_FDS; i++)
			m->fd[m->nfds++] = fds[i];
	}
	if (n < 4 && (r = wire__read(sock, len4 + n, 4 - (size_t)n, false)))
		goto out;
	size_t tl = (size_t)len4[0] << 24 | (size_t)len4[1] << 16 | (size_t)len4[2] << 8 | len4[3];
	if (tl > MUX_HDR_MAX) {
		r = np_error_set("the ssh-master socket sent a %zu-byte header: not a nodeprep peer", tl);
		goto out;
	}
	text = malloc(tl + 1);
	if (!text)
		abort();
	if ((r = wire__read(sock, text, tl, false)))
		goto out;
	text[tl] = '\0';
	json_error_t je;
	m->hdr = json_loads(text, 0, &je);
	json_t *lens = m->hdr ? json_object_get(m->hdr, "blobs") : NULL;
	if (!json_is_array(lens) || json_array_size(lens) > MUX_MAX_BLOBS) {
		r = np_error_set("the ssh-master socket sent a bad header: not a nodeprep peer");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(lens); i++) {
		json_int_t bl = json_integer_value(json_array_get(lens, i));
		buf_init(&m->blob[m->nblobs++]);
		if (bl < 0) {
			r = np_error_set("the ssh-master socket sent a bad blob length");
			goto out;
		}
		buf_grow(&m->blob[i], (size_t)bl);
		if ((r = wire__read(sock, m->blob[i].ptr, (size_t)bl, false)))
			goto out;
		buf_setlen(&m->blob[i], (size_t)bl);
	}
	r = 0;
out:
	free(text);
	if (r)
		mux_msg_release(m);
	return r;
}

void mux_msg_release(struct mux_msg *m)
{
	json_decref(m->hdr);
	m->hdr = NULL;
	for (size_t i = 0; i < m->nblobs; i++)
		buf_release(&m->blob[i]);
	m->nblobs = 0;
	for (size_t i = 0; i < m->nfds; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
	m->nfds = 0;
}

json_t *mux_stat_json(const struct host_stat *st)
{
	return json_pack("{s:b,s:b,s:b,s:i,s:i,s:i,s:I,s:I}", "exists", st->exists, "dir", st->is_dir, "link",
			 st->is_link, "mode", st->mode, "uid", st->uid, "gid", st->gid, "size",
			 (json_int_t)st->size, "mtime_ns", (json_int_t)st->mtime_ns);
}

void mux_json_stat(struct host_stat *st, const json_t *j)
{
	memset(st, 0, sizeof(*st));
	st->exists = json_is_true(json_object_get(j, "exists"));
	st->is_dir = json_is_true(json_object_get(j, "dir"));
	st->is_link = json_is_true(json_object_get(j, "link"));
	st->mode = (int)json_integer_value(json_object_get(j, "mode"));
	st->uid = (int)json_integer_value(json_object_get(j, "uid"));
	st->gid = (int)json_integer_value(json_object_get(j, "gid"));
	st->size = (long long)json_integer_value(json_object_get(j, "size"));
	st->mtime_ns = (long long)json_integer_value(json_object_get(j, "mtime_ns"));
}

json_t *mux_strv_json(const char *const *v)
{
	if (!v)
		return json_null();
	json_t *a = json_array();
	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

char **mux_json_strv(const json_t *j)
{
	if (!json_is_array(j))
		return NULL;
	size_t n = json_array_size(j);
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(j, i));
		if (!(v[i] = strdup(s ? s : "")))
			abort();
	}
	return v;
}

void mux_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
