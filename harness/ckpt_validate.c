/*
 * ckpt_validate.c: see ckpt_validate.h. jansson parses the JSON files (its
 * own message and position go into ours; an error at the very end of the
 * text is a truncation), the inventory is checked as CRIU writes it: its
 * magic, then entries of a u32 size and that many protobuf bytes.
 */
#include "ckpt_validate.h"

#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "error.h"
#include "pb.h"
#include "banned.h"

#define INVENTORY_MAGIC 0x58313116u /* CRIU's magic.h; the inventory has no common magic */

static const char *const json_files[] = { "config.dump", "spec.dump", "status.dump", "network.status" };

bool ckpt_validate_wants(const char *name)
{
	for (size_t i = 0; i < sizeof(json_files) / sizeof(json_files[0]); i++)
		if (!strcmp(name, json_files[i]))
			return true;
	/* a runc/CRIU image dir has it at the top, before it is named checkpoint/ */
	return !strcmp(name, "checkpoint/inventory.img") || !strcmp(name, "inventory.img");
}

static int ckpt__json(const char *path, const char *name, const struct ckpt_view *v)
{
	json_error_t e;
	if (v->size == 0)
		return np_error_setc(NP_EINVALID, "%s: %s: empty file (expected a JSON document)", path, name);
	if (!v->data)
		return np_error_setc(NP_EINVALID, "%s: %s: %lld bytes, too large to be checkpoint metadata",
				     path, name, v->size);
	json_t *j = json_loadb(v->data, v->len, 0, &e);
	if (!j) {
		/* jansson's position is where it gave up: at the end, the text was cut short */
		bool at_end = e.position >= (int)v->len;
		return np_error_setc(NP_EINVALID, "%s: %s: %s (line %d, column %d: %s)", path, name,
				     at_end ? "unexpected end of JSON input (truncated?)" : "not valid JSON",
				     e.line, e.column, e.text);
	}
	bool shape = json_is_object(j) || (!strcmp(name, "network.status") && json_is_array(j));
	json_decref(j);
	if (!shape)
		return np_error_setc(NP_EINVALID, "%s: %s: valid JSON but not an object", path, name);
	return 0;
}

static int ckpt__inventory(const char *path, const struct ckpt_view *v)
{
	static const char name[] = "checkpoint/inventory.img";
	const unsigned char *p = (const unsigned char *)v->data;
	if (v->size == 0)
		return np_error_setc(NP_EINVALID, "%s: %s: empty file (CRIU writes a magic and an entry)", path, name);
	if (!p || v->len < 4)
		return np_error_setc(NP_EINVALID, "%s: %s: %lld bytes, too short for a CRIU image", path, name,
				     v->size);
	if (pb_le32(p) != INVENTORY_MAGIC)
		return np_error_setc(NP_EINVALID, "%s: %s: not a CRIU inventory image (magic 0x%08x, expected 0x%08x)",
				     path, name, pb_le32(p), INVENTORY_MAGIC);
	if (v->len < 8)
		return np_error_setc(NP_EINVALID, "%s: %s: truncated after the magic (no entry)", path, name);
	size_t n = pb_le32(p + 4);
	if (n > v->len - 8)
		return np_error_setc(NP_EINVALID, "%s: %s: truncated (its entry says %zu bytes, %zu are there)",
				     path, name, n, v->len - 8);
	/* InventoryEntry: img_version (field 1) is always there */
	struct pb b = { p + 8, p + 8 + n };
	unsigned field, wire;
	unsigned long long val;
	struct pb sub;
	bool version = false;
	int r;
	while ((r = pb_next(&b, &field, &wire, &val, &sub)) == 0)
		version = version || (field == 1 && wire == 0);
	if (r < 0 || !version)
		return np_error_setc(NP_EINVALID, "%s: %s: corrupt inventory entry (%s)", path, name,
				     r < 0 ? "malformed protobuf" : "no image version");
	return 0;
}

int ckpt_validate(const char *path, ckpt_lookup_fn lookup, void *list, size_t nfiles,
		  bool has_checkpoint_dir, struct buf *notes)
{
	struct ckpt_view v;
	bool archive_form = false;
	int r;
	for (size_t i = 0; i < sizeof(json_files) / sizeof(json_files[0]); i++) {
		memset(&v, 0, sizeof(v));
		if (!lookup(list, json_files[i], &v))
			continue;
		archive_form = true;
		if ((r = ckpt__json(path, json_files[i], &v)))
			return r;
	}
	memset(&v, 0, sizeof(v));
	if (!lookup(list, "checkpoint/inventory.img", &v)) {
		if (has_checkpoint_dir)
			return np_error_setc(NP_EINVALID, "%s: has a checkpoint/ directory but no checkpoint/inventory.img "
					     "(CRIU writes it; the dump did not finish or the archive lost it)", path);
		return np_error_setc(NP_EINVALID, "%s: not a container checkpoint: no checkpoint/inventory.img "
				     "among its %zu files", path, nfiles);
	}
	if ((r = ckpt__inventory(path, &v)))
		return r;
	/* a runc/CRIU image directory has none of these: nothing to note there */
	for (size_t i = 0; archive_form && i < sizeof(json_files) / sizeof(json_files[0]); i++)
		if (!lookup(list, json_files[i], &v))
			buf_addf(notes, "%s: no %s (optional)\n", path, json_files[i]);
	return 0;
}
