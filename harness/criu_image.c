/*
 * criu_image.c: see criu_image.h. Field numbers are CRIU's
 * images/pstree.proto (pid 1, ppid 2, pgid 3, sid 4, threads 5) and images/core.proto
 * (CoreEntry.tc 3, TaskCoreEntry.comm 6).
 */
#include "criu_image.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pb.h"
#include "banned.h"

#define PSTREE_MAGIC 0x50273030u
#define CORE_MAGIC 0x55053847u

int criu_image_body(struct pb *body, const unsigned char *data, size_t len, unsigned magic,
		       const char *what)
{
	if (len < 8 || pb_le32(data + 4) != magic)
		return np_error_setc(NP_EINVALID, "not a CRIU %s image", what);
	body->p = data + 8;
	body->end = data + len;
	return 0;
}

int criu_image_entry(struct pb *body, struct pb *msg)
{
	if (body->p == body->end)
		return 1;
	if (body->end - body->p < 4)
		return -1;
	unsigned size = pb_le32(body->p);
	body->p += 4;
	if (size > (unsigned long)(body->end - body->p))
		return -1;
	msg->p = body->p;
	msg->end = body->p + size;
	body->p += size;
	return 0;
}

int criu_pstree_parse(struct criu_proc **out, size_t *n, const unsigned char *data, size_t len)
{
	struct pb body = { 0 }, msg;
	int r = criu_image_body(&body, data, len, PSTREE_MAGIC, "pstree");
	*out = NULL;
	*n = 0;
	while (!r && (r = criu_image_entry(&body, &msg)) == 0) {
		struct criu_proc p = { 0 };
		unsigned field, wire;
		unsigned long long v;
		struct pb sub;
		int s;
		while ((s = pb_next(&msg, &field, &wire, &v, &sub)) == 0) {
			if (wire == 0 && field == 1)
				p.pid = (unsigned)v;
			else if (wire == 0 && field == 2)
				p.ppid = (unsigned)v;
			else if (wire == 0 && field == 3)
				p.pgid = (unsigned)v;
			else if (wire == 0 && field == 4)
				p.sid = (unsigned)v;
			else if (field == 5)
				p.threads += wire == 0 ? 1 : (unsigned)(sub.end - sub.p); /* packed: ~1 byte each */
		}
		if (s < 0 || *n > 65536) {
			r = -1;
			break;
		}
		struct criu_proc *grown = realloc(*out, (*n + 1) * sizeof(**out));
		if (!grown)
			abort();
		*out = grown;
		(*out)[(*n)++] = p;
	}
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return r == NP_EINVALID ? r : np_error_setc(NP_EINVALID, "CRIU pstree image is malformed");
	}
	return 0;
}

int criu_core_comm(char comm[32], const unsigned char *data, size_t len)
{
	struct pb body = { 0 }, msg, sub, tc;
	unsigned field, wire;
	unsigned long long v;
	int r = criu_image_body(&body, data, len, CORE_MAGIC, "core");
	if (r)
		return r;
	if (criu_image_entry(&body, &msg))
		return np_error_setc(NP_EINVALID, "CRIU core image is empty or malformed");
	while (pb_next(&msg, &field, &wire, &v, &sub) == 0) {
		if (field != 3 || wire != 2)
			continue;
		while (pb_next(&sub, &field, &wire, &v, &tc) == 0)
			if (field == 6 && wire == 2) {
				size_t n = (size_t)(tc.end - tc.p) < 31 ? (size_t)(tc.end - tc.p) : 31;
				memcpy(comm, tc.p, n);
				comm[n] = 0;
				return 0;
			}
	}
	return np_error_setc(NP_EINVALID, "CRIU core image has no task name");
}
