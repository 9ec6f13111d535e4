/*
 * oci_layout.c: see oci_layout.h. Deterministic: tar mtimes 0 and JSON in
 * fixed key order, so the same layer and config give the same digests.
 */
#include "oci_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "error.h"
#include "image.h"
#include "tarw.h"
#include "banned.h"

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

void oci_blob_from_buf(struct oci_blob *b, struct buf *src)
{
	size_t len;
	sha256_hex_mem(b->hex, src->ptr, src->len);
	b->data = buf_detach(src, &len);
	b->len = (long long)len;
	b->path = NULL;
}

int oci_blob_from_file(struct oci_blob *b, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return np_error_set("cannot stat '%s'", path);
	b->data = NULL;
	b->len = (long long)st.st_size;
	b->path = path;
	return sha256_hex_file(b->hex, path);
}

void oci_blob_release(struct oci_blob *b)
{
	free(b->data);
	b->data = NULL;
}

static void blob_from_json(struct oci_blob *b, json_t *j)
{
	struct buf s = BUF_INIT;
	char *text = json_dumps(j, JSON_COMPACT);
	if (!text)
		abort();
	buf_adds(&s, text);
	free(text);
	oci_blob_from_buf(b, &s);
}

const char *oci_arch(void)
{
	struct utsname u;
	if (uname(&u) == 0 && !strcmp(u.machine, "aarch64"))
		return "arm64";
	return "amd64";
}

static json_t *oci__desc(const char *mt, const struct oci_blob *b)
{
	return json_pack("{s:s, s:s+, s:I}", "mediaType", mt, "digest", "sha256:", b->hex, "size",
			 (json_int_t)b->len);
}

static int oci__add_blob(struct tarw *tw, const struct oci_blob *b)
{
	char name[128];
	snprintf(name, sizeof(name), "blobs/sha256/%s", b->hex);
	return b->path ? tarw_add_path(tw, name, b->path, 0644)
		       : tarw_add_file(tw, name, b->data, (size_t)b->len, 0644);
}

/* index.json and manifest.json, as text */
static void oci__indexes(char **itext, char **dtext, const char *full, const struct oci_blob blobs[3],
			 json_t *annotations)
{
	const char *tag = strrchr(full, ':') + 1;
	json_t *ann = json_pack("{s:s, s:s}", "io.containerd.image.name", full,
				"org.opencontainers.image.ref.name", tag);
	if (annotations)
		json_object_update(ann, annotations);
	json_t *mdesc = oci__desc(MT_MANIFEST, &blobs[2]);
	json_object_set_new(mdesc, "annotations", ann);
	json_object_set_new(mdesc, "platform",
			    json_pack("{s:s, s:s}", "architecture", oci_arch(), "os", "linux"));
	json_t *index = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", MT_INDEX,
				  "manifests", mdesc);
	if (annotations)
		json_object_set(index, "annotations", annotations);
	json_t *docker = json_pack("[{s:s+, s:[s], s:[s+]}]", "Config", "blobs/sha256/", blobs[1].hex,
				   "RepoTags", full, "Layers", "blobs/sha256/", blobs[0].hex);
	*itext = json_dumps(index, JSON_COMPACT);
	*dtext = json_dumps(docker, JSON_COMPACT);
	if (!*itext || !*dtext)
		abort();
	json_decref(index);
	json_decref(docker);
}

static int oci__write(const char *path, const char *full, const struct oci_blob blobs[3],
		      json_t *annotations)
{
	struct tarw *tw;
	char *itext, *dtext;
	int r = tarw_open_file(&tw, path);
	if (r)
		return r;
	oci__indexes(&itext, &dtext, full, blobs, annotations);
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	tarw_add_file(tw, "oci-layout", layout, strlen(layout), 0644);
	tarw_add_file(tw, "index.json", itext, strlen(itext), 0644);
	tarw_add_file(tw, "manifest.json", dtext, strlen(dtext), 0644);
	tarw_add_dir(tw, "blobs", 0755);
	tarw_add_dir(tw, "blobs/sha256", 0755);
	for (int i = 0; i < 3; i++)
		oci__add_blob(tw, &blobs[i]);
	r = tarw_close(tw);
	free(itext);
	free(dtext);
	return r;
}

int oci_layout_write(const char *path, const char *name, const struct oci_blob *layer,
		     json_t *config, json_t *annotations)
{
	struct oci_blob blobs[3] = { *layer };
	struct buf full = BUF_INIT, tmp = BUF_INIT;
	json_object_set_new(config, "rootfs", json_pack("{s:s, s:[s+]}", "type", "layers", "diff_ids",
							 "sha256:", layer->hex));
	blob_from_json(&blobs[1], config);
	json_t *man = json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", MT_MANIFEST,
				"config", oci__desc(MT_CONFIG, &blobs[1]), "layers",
				oci__desc(MT_LAYER, layer));
	if (annotations)
		json_object_set(man, "annotations", annotations);
	blob_from_json(&blobs[2], man);
	json_decref(man);
	image_normalize_name(&full, name);
	buf_addf(&tmp, "%s.tmp.%d", path, (int)getpid());
	int r = oci__write(tmp.ptr, full.ptr, blobs, annotations);
	if (!r && rename(tmp.ptr, path) < 0)
		r = np_error_set("cannot rename '%s' to '%s'", tmp.ptr, path);
	if (r)
		unlink(tmp.ptr);
	oci_blob_release(&blobs[1]);
	oci_blob_release(&blobs[2]);
	json_decref(config);
	json_decref(annotations);
	buf_release(&full);
	buf_release(&tmp);
	return r;
}
