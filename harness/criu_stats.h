/*
 * criu_stats.h: CRIU's own timing and page counts from the `stats-dump`
 * and `stats-restore` files it writes to its work directory
 * (images/stats.proto). Decoded here with a tiny protobuf reader: the
 * format is stable, the fields few, and protobuf-c would need generated
 * code for one message.
 */
#ifndef NP_CRIU_STATS_H
#define NP_CRIU_STATS_H

#include <stdbool.h>
#include <jansson.h>

struct criu_stats {
	bool has_dump, has_restore;
	/* dump: microseconds and pages */
	unsigned long long freezing_time, frozen_time, memdump_time, memwrite_time;
	unsigned long long pages_scanned, pages_skipped_parent, pages_written, pages_lazy;
	/* restore */
	unsigned long long forking_time, restore_time, pages_compared, pages_skipped_cow,
		pages_restored;
};

/** Parse a stats-dump or stats-restore file into st (fields it holds are set). */
int criu_stats_read(struct criu_stats *st, const char *path);
/** Parse from memory. NP_EINVALID when it is not a CRIU stats image. */
int criu_stats_parse(struct criu_stats *st, const unsigned char *data, unsigned long len);


/** {"dump":{...}, "restore":{...}} with the parts that were read (new reference). */
json_t *criu_stats_json(const struct criu_stats *s);

#endif
