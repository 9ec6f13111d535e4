/*
 * criu_files.c: see criu_files.h. Field numbers from CRIU's
 * images/fdinfo.proto (FileEntry: type 1, id 2, reg 3, isk 4, nsf 5,
 * usk 16, fifo 17, pipe 18; FdinfoEntry: id 1, flags 2, type 3, fd 4),
 * regfile.proto (name 6), sk-inet.proto (family 3, type 4, proto 5,
 * state 6, src_port 7, dst_port 8, src_addr 11, dst_addr 12),
 * sk-unix.proto (type 3, state 4, name 11), pipe.proto (pipe_id 2),
 * core.proto (TaskKobjIdsEntry: files_id 2, mnt_ns_id 9) and mnt.proto
 * (mnt_id 2, parent_mnt_id 4, fstype 1, root 6, mountpoint 7, source 8,
 * options 9, fsname 14).
 */
#include "criu_files.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu_image.h"
#include "error.h"
#include "pb.h"
#include "banned.h"

#define FILES_MAGIC 0x56303138u
#define FDINFO_MAGIC 0x56213732u
#define IDS_MAGIC 0x54432030u
#define MNTS_MAGIC 0x55563928u
#define MAX_ENTRIES 65536u

const char *criu_file_type_name(unsigned type)
{
	static const char *const n[] = { "UND", "REG", "PIPE", "FIFO", "INETSK", "UNIXSK",
					 "EVENTFD", "EVENTPOLL", "INOTIFY", "SIGNALFD", "PACKETSK",
					 "TTY", "FANOTIFY", "NETLINKSK", "NS", "TUNF", "EXT",
					 "TIMERFD", "MEMFD", "BPFMAP", "PIDFD" };
	return type < sizeof(n) / sizeof(n[0]) ? n[type] : "?";
}

const char *criu_sock_state_name(unsigned state)
{
	static const char *const n[] = { "", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
					 "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
					 "LISTEN", "CLOSING" };
	return state < sizeof(n) / sizeof(n[0]) ? n[state] : "?";
}

const char *criu_sock_proto_name(const struct criu_file *f)
{
	if (f->family == 1)
		return f->sk_type == 1 ? "UNIX stream" : f->sk_type == 2 ? "UNIX dgram" : "UNIX seqpacket";
	if (f->proto == 6)
		return f->family == 10 ? "TCP6" : "TCP";
	if (f->proto == 17)
		return f->family == 10 ? "UDP6" : "UDP";
	return f->family == 10 ? "INET6" : "INET";
}

/* A string field into a fixed buffer, cut to fit; NULs become '@' (abstract unix names). */
static void str_field(char *dst, size_t n, struct pb s)
{
	size_t len = (size_t)(s.end - s.p) < n - 1 ? (size_t)(s.end - s.p) : n - 1;
	for (size_t i = 0; i < len; i++)
		dst[i] = s.p[i] ? (char)s.p[i] : '@';
	dst[len] = 0;
}

/* Append entries with a generic growing array; bounded count. */
static void *grow(void *arr, size_t n, size_t size)
{
	void *g = realloc(arr, (n + 1) * size);
	if (!g)
		abort();
	return g;
}

/* Repeated uint32 address words (packed or not) -> text. */
static void addr_text(char *dst, size_t n, unsigned family, const unsigned *w, size_t nw)
{
	unsigned char raw[16] = { 0 };
	for (size_t i = 0; i < nw && i < 4; i++) /* CRIU stores the kernel's be32 words as host u32 */
		memcpy(raw + 4 * i, &w[i], 4);
	if (!inet_ntop(family == 10 && nw >= 4 ? AF_INET6 : AF_INET, raw, dst, (socklen_t)n))
		snprintf(dst, n, "?");
}

static int sock_inet(struct criu_file *f, struct pb m)
{
	unsigned field, wire, src[4] = { 0 }, dst[4] = { 0 };
	size_t ns = 0, nd = 0;
	unsigned long long v;
	struct pb sub;
	int r;
	while ((r = pb_next(&m, &field, &wire, &v, &sub)) == 0) {
		unsigned *w = field == 11 ? src : dst;
		size_t *nw = field == 11 ? &ns : &nd;
		if (wire == 0 && field >= 3 && field <= 8) {
			unsigned *slot[] = { &f->family, &f->sk_type, &f->proto, &f->state, &f->src_port,
					     &f->dst_port };
			*slot[field - 3] = (unsigned)v;
		} else if ((field == 11 || field == 12) && wire == 0 && *nw < 4) {
			w[(*nw)++] = (unsigned)v;
		} else if ((field == 11 || field == 12) && wire == 2) {
			while (sub.p < sub.end && *nw < 4 && !pb_varint(&sub, &v))
				w[(*nw)++] = (unsigned)v;
		}
	}
	if (r < 0)
		return -1;
	addr_text(f->src, sizeof(f->src), f->family, src, ns);
	addr_text(f->dst, sizeof(f->dst), f->family, dst, nd);
	snprintf(f->desc, sizeof(f->desc), "%s %s:%u -> %s:%u %s", criu_sock_proto_name(f), f->src,
		 f->src_port, f->dst, f->dst_port, criu_sock_state_name(f->state));
	return 0;
}

static int sock_unix(struct criu_file *f, struct pb m)
{
	unsigned field, wire;
	unsigned long long v;
	struct pb sub;
	int r;
	f->family = 1;
	while ((r = pb_next(&m, &field, &wire, &v, &sub)) == 0) {
		if (wire == 0 && field == 3)
			f->sk_type = (unsigned)v;
		else if (wire == 0 && field == 4)
			f->state = (unsigned)v;
		else if (wire == 2 && field == 11) {
			while (sub.end > sub.p + 1 && !sub.end[-1]) /* the kernel's trailing NULs */
				sub.end--;
			str_field(f->uname, sizeof(f->uname), sub);
		}
	}
	snprintf(f->desc, sizeof(f->desc), "%s %s", criu_sock_proto_name(f),
		 f->uname[0] ? f->uname : "(unnamed)");
	return r < 0 ? -1 : 0;
}

/* The payload of one FileEntry: fills desc (and socket fields). */
static int file_payload(struct criu_file *f, unsigned field, struct pb m)
{
	unsigned fl, wire;
	unsigned long long v;
	struct pb sub;
	switch (field) {
	case 3: /* reg: name 6 */
		while (pb_next(&m, &fl, &wire, &v, &sub) == 0)
			if (fl == 6 && wire == 2)
				str_field(f->desc, sizeof(f->desc), sub);
		return 0;
	case 4:
		f->socket = true;
		return sock_inet(f, m);
	case 16:
		f->socket = true;
		return sock_unix(f, m);
	case 17: /* fifo and pipe: pipe_id 2 */
	case 18:
		while (pb_next(&m, &fl, &wire, &v, &sub) == 0)
			if (fl == 2 && wire == 0)
				snprintf(f->desc, sizeof(f->desc), "%s:[%llu]", field == 18 ? "pipe" : "fifo", v);
		return 0;
	}
	return 0;
}

int criu_files_parse(struct criu_file **out, size_t *n, const unsigned char *data, size_t len)
{
	struct pb body, msg;
	int r = criu_image_body(&body, data, len, FILES_MAGIC, "files"), e = 0;
	*out = NULL;
	*n = 0;
	if (r)
		return r;
	while ((e = criu_image_entry(&body, &msg)) == 0) {
		struct criu_file f = { 0 };
		unsigned field, wire;
		unsigned long long v;
		struct pb sub;
		int s;
		if (*n >= MAX_ENTRIES) {
			e = -1;
			break;
		}
		while ((s = pb_next(&msg, &field, &wire, &v, &sub)) == 0) {
			if (wire == 0 && field == 1)
				f.type = (unsigned)v;
			else if (wire == 0 && field == 2)
				f.id = (unsigned)v;
			else if (wire == 2 && field >= 3 && file_payload(&f, field, sub))
				s = -1;
			if (s)
				break;
		}
		if (s < 0) {
			e = -1;
			break;
		}
		if (!f.desc[0])
			snprintf(f.desc, sizeof(f.desc), "%s", criu_file_type_name(f.type));
		*out = grow(*out, *n, sizeof(**out));
		(*out)[(*n)++] = f;
	}
	if (e < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return np_error_setc(NP_EINVALID, "CRIU files image is malformed");
	}
	return 0;
}

int criu_fdinfo_parse(struct criu_fd **out, size_t *n, const unsigned char *data, size_t len)
{
	struct pb body, msg;
	int r = criu_image_body(&body, data, len, FDINFO_MAGIC, "fdinfo"), e;
	*out = NULL;
	*n = 0;
	if (r)
		return r;
	while ((e = criu_image_entry(&body, &msg)) == 0 && *n < MAX_ENTRIES) {
		unsigned long long id = 0, type = 0, fd = 0;
		unsigned long long *f[] = { NULL, &id, NULL, &type, &fd };
		if (pb_fields(msg, f, 5)) {
			e = -1;
			break;
		}
		*out = grow(*out, *n, sizeof(**out));
		(*out)[(*n)++] = (struct criu_fd){ (unsigned)fd, (unsigned)id, (unsigned)type };
	}
	if (e < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return np_error_setc(NP_EINVALID, "CRIU fdinfo image is malformed");
	}
	return 0;
}

int criu_ids_parse(unsigned *files_id, unsigned *mnt_ns_id, const unsigned char *data, size_t len)
{
	struct pb body, msg;
	unsigned long long fid = 0, mnt = 0;
	unsigned long long *f[] = { NULL, NULL, &fid, NULL, NULL, NULL, NULL, NULL, NULL, &mnt };
	int r = criu_image_body(&body, data, len, IDS_MAGIC, "ids");
	if (r)
		return r;
	if (criu_image_entry(&body, &msg) || pb_fields(msg, f, 10))
		return np_error_setc(NP_EINVALID, "CRIU ids image is malformed");
	*files_id = (unsigned)fid;
	*mnt_ns_id = (unsigned)mnt;
	return 0;
}

static const char *fstype_name(unsigned t)
{
	static const char *const n[] = { "unsupported", "proc", "sysfs", "devtmpfs", "binfmt_misc",
					 "tmpfs", "devpts", "simfs", "pstore", "securityfs",
					 "fusectl", "debugfs", "cgroup", "aufs", "mqueue", "fuse",
					 "auto", "overlay", "autofs", "tracefs", "rpc_pipefs", "nfs",
					 "nfs4", "cgroup2" };
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

int criu_mounts_parse(struct criu_mount **out, size_t *n, const unsigned char *data, size_t len)
{
	struct pb body, msg;
	int r = criu_image_body(&body, data, len, MNTS_MAGIC, "mountpoints"), e;
	*out = NULL;
	*n = 0;
	if (r)
		return r;
	while ((e = criu_image_entry(&body, &msg)) == 0 && *n < MAX_ENTRIES) {
		struct criu_mount m = { 0 };
		unsigned field, wire;
		unsigned long long v;
		struct pb sub;
		int s;
		while ((s = pb_next(&msg, &field, &wire, &v, &sub)) == 0) {
			if (wire == 0 && field == 1 && !m.fstype[0])
				snprintf(m.fstype, sizeof(m.fstype), "%s", fstype_name((unsigned)v));
			else if (wire == 0 && field == 2)
				m.mnt_id = (unsigned)v;
			else if (wire == 0 && field == 4)
				m.parent = (unsigned)v;
			else if (wire == 2 && field == 7)
				str_field(m.mountpoint, sizeof(m.mountpoint), sub);
			else if (wire == 2 && field == 8)
				str_field(m.source, sizeof(m.source), sub);
			else if (wire == 2 && field == 9)
				str_field(m.options, sizeof(m.options), sub);
			else if (wire == 2 && field == 14) /* the real name of an "unsupported"/fuse type */
				str_field(m.fstype, sizeof(m.fstype), sub);
		}
		if (s < 0) {
			e = -1;
			break;
		}
		*out = grow(*out, *n, sizeof(**out));
		(*out)[(*n)++] = m;
	}
	if (e < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return np_error_setc(NP_EINVALID, "CRIU mountpoints image is malformed");
	}
	return 0;
}
