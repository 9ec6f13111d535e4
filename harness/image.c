/*
 * image.c: see image.h. Everything is deterministic (tar mtimes 0, JSON
 * in fixed key order), so the same busybox gives the same digests.
 */
#include "image.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <jansson.h>

#include "counter.h"
#include "error.h"
#include "sha256.h"
#include "tarw.h"
#include "banned.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

struct blob {
	char hex[SHA256_HEX_LEN + 1];
	char *data;
	size_t len;
};

static void blob_from_buf(struct blob *b, struct buf *src)
{
	sha256_hex_mem(b->hex, src->ptr, src->len);
	b->data = buf_detach(src, &b->len);
}

static void blob_from_json(struct blob *b, json_t *j)
{
	struct buf s = BUF_INIT;
	char *text = json_dumps(j, JSON_COMPACT);
	if (!text)
		abort();
	buf_adds(&s, text);
	free(text);
	json_decref(j);
	blob_from_buf(b, &s);
}

static const char *image__arch(void)
{
	struct utsname u;
	if (uname(&u) == 0 && !strcmp(u.machine, "aarch64"))
		return "arm64";
	return "amd64";
}

void image_normalize_name(struct buf *out, const char *name)
{
	const char *slash = strchr(name, '/');
	bool has_domain = slash && (memchr(name, '.', (size_t)(slash - name)) ||
				    memchr(name, ':', (size_t)(slash - name)) ||
				    !strncmp(name, "localhost/", 10));
	if (!slash)
		buf_adds(out, "docker.io/library/");
	else if (!has_domain)
		buf_adds(out, "docker.io/");
	buf_adds(out, name);
	const char *last = strrchr(name, '/');
	last = last ? last : name;
	if (!strchr(last, ':') && !strchr(last, '@'))
		buf_adds(out, ":latest");
}

static json_t *image__config(const struct blob *layer, int interval_ms)
{
	struct buf script = BUF_INIT;
	counter_script(&script, interval_ms);
	json_t *j = json_pack("{s:s, s:s, s:{s:[s], s:[s,s,s], s:s}, s:{s:s, s:[s+]},"
			      " s:[{s:s, s:s}]}",
			      "architecture", image__arch(), "os", "linux",
			      "config", "Env", "PATH=/bin", "Cmd", "/bin/sh", "-c", script.ptr,
			      "WorkingDir", "/",
			      "rootfs", "type", "layers", "diff_ids", "sha256:", layer->hex,
			      "history", "created_by", "crharness image counter",
			      "comment", "static busybox and a counter loop writing /tmp/count");
	buf_release(&script);
	return j;
}

static json_t *image__desc(const char *mt, const struct blob *b)
{
	return json_pack("{s:s, s:s+, s:I}", "mediaType", mt, "digest", "sha256:", b->hex, "size",
			 (json_int_t)b->len);
}

static int image__write(const char *path, const char *full, const char *tag,
			const struct blob blobs[3])
{
	const struct blob *layer = &blobs[0], *cfg = &blobs[1], *man = &blobs[2];
	struct tarw *tw;
	char name[128];
	int r = tarw_open_file(&tw, path);
	if (r)
		return r;
	json_t *mdesc = image__desc(MT_MANIFEST, man);
	json_object_set_new(mdesc, "annotations",
			    json_pack("{s:s, s:s}", "io.containerd.image.name", full,
				      "org.opencontainers.image.ref.name", tag));
	json_object_set_new(mdesc, "platform",
			    json_pack("{s:s, s:s}", "architecture", image__arch(), "os", "linux"));
	json_t *index = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType",
				  "application/vnd.oci.image.index.v1+json", "manifests", mdesc);
	json_t *docker = json_pack("[{s:s+, s:[s], s:[s+]}]", "Config", "blobs/sha256/", cfg->hex,
				   "RepoTags", full, "Layers", "blobs/sha256/", layer->hex);
	char *itext = json_dumps(index, JSON_COMPACT), *dtext = json_dumps(docker, JSON_COMPACT);
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	tarw_add_file(tw, "oci-layout", layout, strlen(layout), 0644);
	tarw_add_file(tw, "index.json", itext, strlen(itext), 0644);
	tarw_add_file(tw, "manifest.json", dtext, strlen(dtext), 0644);
	tarw_add_dir(tw, "blobs", 0755);
	tarw_add_dir(tw, "blobs/sha256", 0755);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "blobs/sha256/%s", blobs[i].hex);
		tarw_add_file(tw, name, blobs[i].data, blobs[i].len, 0644);
	}
	r = tarw_close(tw);
	free(itext);
	free(dtext);
	json_decref(index);
	json_decref(docker);
	return r;
}

int image_write_counter(const char *path, const char *name, int interval_ms)
{
	struct blob blobs[3] = { 0 };
	struct buf layer = BUF_INIT, full = BUF_INIT, tmp = BUF_INIT;
	struct tarw *tw;
	int r = tarw_open_mem(&tw, &layer);
	if (r)
		goto out;
	r = counter_write_layer(tw);
	int c = tarw_close(tw);
	if (r || (r = c))
		goto out;
	blob_from_buf(&blobs[0], &layer);
	blob_from_json(&blobs[1], image__config(&blobs[0], interval_ms));
	json_t *man = json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType",
				MT_MANIFEST, "config", image__desc(MT_CONFIG, &blobs[1]), "layers",
				image__desc(MT_LAYER, &blobs[0]));
	blob_from_json(&blobs[2], man);
	image_normalize_name(&full, name ? name : "counter:latest");
	const char *colon = strrchr(full.ptr, ':');
	buf_addf(&tmp, "%s.tmp.%d", path, (int)getpid());
	if (!(r = image__write(tmp.ptr, full.ptr, colon + 1, blobs)) && rename(tmp.ptr, path) < 0)
		r = np_error_set("cannot rename '%s' to '%s'", tmp.ptr, path);
	if (r)
		unlink(tmp.ptr);
out:
	for (int i = 0; i < 3; i++)
		free(blobs[i].data);
	buf_release(&layer);
	buf_release(&full);
	buf_release(&tmp);
	return r;
}
