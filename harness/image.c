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
#include <jansson.h>

#include "counter.h"
#include "error.h"
#include "oci_layout.h"
#include "tarw.h"
#include "banned.h"

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

static json_t *image__config(int interval_ms)
{
	struct buf script = BUF_INIT;
	counter_script(&script, interval_ms);
	json_t *j = json_pack("{s:s, s:s, s:{s:[s], s:[s,s,s], s:s}, s:[{s:s, s:s}]}",
			      "architecture", oci_arch(), "os", "linux",
			      "config", "Env", "PATH=/bin", "Cmd", "/bin/sh", "-c", script.ptr,
			      "WorkingDir", "/",
			      "history", "created_by", "crharness image counter",
			      "comment", "static busybox and a counter loop writing /tmp/count");
	buf_release(&script);
	return j;
}

int image_write_counter(const char *path, const char *name, int interval_ms)
{
	struct oci_blob layer = { 0 };
	struct buf data = BUF_INIT;
	struct tarw *tw;
	int r = tarw_open_mem(&tw, &data);
	if (r)
		goto out;
	r = counter_write_layer(tw);
	int c = tarw_close(tw);
	if (r || (r = c))
		goto out;
	oci_blob_from_buf(&layer, &data);
	r = oci_layout_write(path, name ? name : "counter:latest", &layer, image__config(interval_ms), NULL);
out:
	oci_blob_release(&layer);
	buf_release(&data);
	return r;
}

int image_write_pause(const char *path, const char *name, const char *binary)
{
	struct oci_blob layer = { 0 };
	struct buf data = BUF_INIT;
	struct tarw *tw;
	json_t *config;
	if (access(binary, X_OK) != 0)
		return np_error_setc(NP_EINVALID, "pause binary '%s' is not an executable file", binary);
	int r = tarw_open_mem(&tw, &data);
	if (r)
		goto out;
	r = tarw_add_path(tw, "pause", binary, 0755);
	int c = tarw_close(tw);
	if (r || (r = c))
		goto out;
	oci_blob_from_buf(&layer, &data);
	config = json_pack("{s:s, s:s, s:{s:[s], s:s, s:s}, s:[{s:s, s:s}]}", "architecture",
			   oci_arch(), "os", "linux", "config", "Entrypoint", "/pause", "WorkingDir",
			   "/", "User", "65535:65535", "history", "created_by",
			   "crharness image pause", "comment", "a static pause binary at /pause");
	r = oci_layout_write(path, name, &layer, config, NULL);
out:
	oci_blob_release(&layer);
	buf_release(&data);
	return r;
}
