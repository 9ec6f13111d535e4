/*
 * criu_stats.c: see criu_stats.h. Layout of a CRIU image file: u32 magic
 * (IMG_SERVICE or a common magic), u32 image magic (STATS), then u32
 * length + one protobuf StatsEntry { dump = 1; restore = 2 }.
 */
#include "criu_stats.h"

#include <string.h>
#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "pb.h"
#include "banned.h"

#define STATS_MAGIC 0x57093306u

static int stats__sub(struct criu_stats *st, struct pb b, unsigned field)
{
	if (field == 1) {
		unsigned long long *s[] = { NULL, &st->freezing_time, &st->frozen_time,
					    &st->memdump_time, &st->memwrite_time, &st->pages_scanned,
					    &st->pages_skipped_parent, &st->pages_written, NULL,
					    &st->pages_lazy };
		st->has_dump = true;
		return pb_fields(b, s, 10);
	}
	unsigned long long *s[] = { NULL, &st->pages_compared, &st->pages_skipped_cow,
				    &st->forking_time, &st->restore_time, &st->pages_restored };
	st->has_restore = true;
	return pb_fields(b, s, 6);
}

int criu_stats_parse(struct criu_stats *st, const unsigned char *data, unsigned long len)
{
	if (len < 12 || pb_le32(data + 4) != STATS_MAGIC)
		return np_error_setc(NP_EINVALID, "not a CRIU stats image");
	unsigned size = pb_le32(data + 8);
	if (size > len - 12)
		return np_error_setc(NP_EINVALID, "CRIU stats image is truncated");
	struct pb b = { data + 12, data + 12 + size };
	while (b.p < b.end) {
		unsigned long long key, n;
		if (pb_varint(&b, &key))
			goto bad;
		unsigned field = (unsigned)(key >> 3);
		if ((key & 7) != 2 || (field != 1 && field != 2)) {
			if (pb_skip(&b, (unsigned)(key & 7)))
				goto bad;
			continue;
		}
		if (pb_varint(&b, &n) || n > (unsigned long long)(b.end - b.p))
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

json_t *criu_stats_json(const struct criu_stats *s)
{
	json_t *o = json_object();
	if (s->has_dump)
		json_object_set_new(o, "dump", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"freezing_time_us", (json_int_t)s->freezing_time,
			"frozen_time_us", (json_int_t)s->frozen_time,
			"memdump_time_us", (json_int_t)s->memdump_time,
			"memwrite_time_us", (json_int_t)s->memwrite_time,
			"pages_scanned", (json_int_t)s->pages_scanned,
			"pages_written", (json_int_t)s->pages_written,
			"pages_lazy", (json_int_t)s->pages_lazy));
	if (s->has_restore)
		json_object_set_new(o, "restore", json_pack("{s:I, s:I, s:I, s:I}",
			"forking_time_us", (json_int_t)s->forking_time,
			"restore_time_us", (json_int_t)s->restore_time,
			"pages_compared", (json_int_t)s->pages_compared,
			"pages_restored", (json_int_t)s->pages_restored));
	return o;
}
