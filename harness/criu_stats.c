/*
 * criu_stats.c: see criu_stats.h. Layout of a CRIU image file: u32 magic
 * (IMG_SERVICE or a common magic), u32 image magic (STATS), then u32
 * length + one protobuf StatsEntry { dump = 1; restore = 2 }.
 */
#include "criu_stats.h"

#include <string.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "banned.h"

#define STATS_MAGIC 0x57093306u

struct pb {
	const unsigned char *p, *end;
};

static int pb__varint(struct pb *b, unsigned long long *out)
{
	unsigned long long v = 0;
	for (int shift = 0; shift < 64 && b->p < b->end; shift += 7) {
		unsigned char c = *b->p++;
		v |= (unsigned long long)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return (*out = v), 0;
	}
	return -1;
}

static int pb__skip(struct pb *b, unsigned wire)
{
	unsigned long long n;
	switch (wire) {
	case 0:
		return pb__varint(b, &n);
	case 1:
		n = 8;
		break;
	case 2:
		if (pb__varint(b, &n))
			return -1;
		break;
	case 5:
		n = 4;
		break;
	default:
		return -1;
	}
	if ((unsigned long long)(b->end - b->p) < n)
		return -1;
	b->p += n;
	return 0;
}

/* Decode varint fields of a message into slots[field number]. */
static int pb__fields(struct pb b, unsigned long long **slots, unsigned nslots)
{
	while (b.p < b.end) {
		unsigned long long key, v;
		if (pb__varint(&b, &key))
			return -1;
		unsigned field = (unsigned)(key >> 3), wire = (unsigned)(key & 7);
		if (wire == 0 && field < nslots && slots[field]) {
			if (pb__varint(&b, &v))
				return -1;
			*slots[field] = v;
		} else if (pb__skip(&b, wire)) {
			return -1;
		}
	}
	return 0;
}

static int stats__sub(struct criu_stats *st, struct pb b, unsigned field)
{
	if (field == 1) {
		unsigned long long *s[] = { NULL, &st->freezing_time, &st->frozen_time,
					    &st->memdump_time, &st->memwrite_time, &st->pages_scanned,
					    &st->pages_skipped_parent, &st->pages_written, NULL,
					    &st->pages_lazy };
		st->has_dump = true;
		return pb__fields(b, s, 10);
	}
	unsigned long long *s[] = { NULL, &st->pages_compared, &st->pages_skipped_cow,
				    &st->forking_time, &st->restore_time, &st->pages_restored };
	st->has_restore = true;
	return pb__fields(b, s, 6);
}

static unsigned le32(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8 | (unsigned)p[2] << 16 | (unsigned)p[3] << 24;
}

int criu_stats_parse(struct criu_stats *st, const unsigned char *data, unsigned long len)
{
	if (len < 12 || le32(data + 4) != STATS_MAGIC)
		return np_error_setc(NP_EINVALID, "not a CRIU stats image");
	unsigned size = le32(data + 8);
	if (size > len - 12)
		return np_error_setc(NP_EINVALID, "CRIU stats image is truncated");
	struct pb b = { data + 12, data + 12 + size };
	while (b.p < b.end) {
		unsigned long long key, n;
		if (pb__varint(&b, &key))
			goto bad;
		unsigned field = (unsigned)(key >> 3);
		if ((key & 7) != 2 || (field != 1 && field != 2)) {
			if (pb__skip(&b, (unsigned)(key & 7)))
				goto bad;
			continue;
		}
		if (pb__varint(&b, &n) || n > (unsigned long long)(b.end - b.p))
			goto bad;
		struct pb sub = { b.p, b.p + n };
		if (stats__sub(st, sub, field))
			goto bad;
		b.p += n;
	}
	return 0;
bad:
	return np_error_setc(NP_EINVALID, "CRIU stats image is malformed");
}

int criu_stats_read(struct criu_stats *st, const char *path)
{
	struct buf data = BUF_INIT;
	int r = fs_read_file(&data, path);
	if (!r)
		r = criu_stats_parse(st, (const unsigned char *)data.ptr, data.len);
	buf_release(&data);
	return r;
}
