/*
 * checkpoint_image.c: see checkpoint_image.h. The layer is re-written
 * entry by entry (any compression in, plain deterministic tar out) through
 * a temp file beside the output, so a checkpoint of any size streams
 * through a fixed buffer.
 */
#include "checkpoint_image.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "extract.h"
#include "inspect.h"
#include "oci_layout.h"
#include "tarw.h"
#include "banned.h"

static long ci__read(void *ctx, void *buf, size_t n)
{
	la_ssize_t got = archive_read_data(ctx, buf, n);
	if (got < 0)
		np_error_set("%s", archive_error_string(ctx));
	return (long)got;
}

/* "./a/b" -> "a/b"; NULL for names a layer must not carry */
static const char *ci__name(const char *p)
{
	while (!strncmp(p, "./", 2))
		p += 2;
	if (!*p || !strcmp(p, "."))
		return "";
	if (p[0] == '/' || !strcmp(p, "..") || !strncmp(p, "../", 3) || strstr(p, "/../") ||
	    (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")))
		return NULL;
	return p;
}

static int ci__copy_entry(struct tarw *tw, struct archive *a, struct archive_entry *e,
			  const char *archive)
{
	const char *name = ci__name(archive_entry_pathname(e));
	int mode = (int)(archive_entry_perm(e) & 07777);
	if (!name)
		return np_error_setc(NP_EINVALID, "%s: entry '%s' escapes the image root", archive,
				     archive_entry_pathname(e));
	if (!*name)
		return 0;
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		return tarw_add_dir(tw, name, mode);
	case AE_IFREG:
		if (archive_entry_hardlink(e))
			break;
		return tarw_add_stream(tw, name, (long long)archive_entry_size(e), mode, ci__read, a);
	default:
		break;
	}
	return np_error_setc(NP_EINVALID, "%s: entry '%s' is not a plain file or directory", archive, name);
}

static int ci__layer(const char *layer, const char *archive)
{
	struct archive *a = extract_reader_open(archive, NULL, 0);
	struct archive_entry *e;
	struct tarw *tw;
	int r, rr;
	if (!a)
		return NP_ERROR;
	if ((r = tarw_open_file(&tw, layer))) {
		archive_read_free(a);
		return r;
	}
	while (!r && (rr = archive_read_next_header(a, &e)) == ARCHIVE_OK)
		r = ci__copy_entry(tw, a, e, archive);
	if (!r && rr != ARCHIVE_EOF)
		r = np_error_setc(NP_EINVALID, "%s: %s", archive, archive_error_string(a));
	int c = tarw_close(tw);
	archive_read_free(a);
	return r ? r : c;
}

static void ci__annotate(json_t *ann, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(ann, key, json_string(value));
}

static json_t *ci__annotations(const struct checkpoint_info *ci, const char *container)
{
	json_t *ann = json_object();
	ci__annotate(ann, "io.kubernetes.cri-o.annotations.checkpoint.name", container);
	ci__annotate(ann, "org.criu.checkpoint.container.name", container);
	ci__annotate(ann, "org.criu.checkpoint.container.id", ci->id);
	ci__annotate(ann, "org.criu.checkpoint.rootfsImageName", ci->image);
	ci__annotate(ann, "org.criu.checkpoint.runtime.name", ci->runtime);
	ci__annotate(ann, "org.criu.checkpoint.engine.name", ci->engine);
	return ann;
}

int checkpoint_image_write(const char *path, const char *archive, const char *name,
			   const char *container)
{
	struct checkpoint_info ci;
	struct oci_blob layer = { 0 };
	struct buf tmp = BUF_INIT;
	int r = inspect_checkpoint(&ci, archive);
	if (r)
		return r;
	if (!(ci.has[0] && ci.has[1] && ci.has[6])) {
		r = np_error_setc(NP_EINVALID, "%s: not a container checkpoint archive (needs config.dump, "
				  "spec.dump and checkpoint/inventory.img)", archive);
		goto out;
	}
	if (!container && !*ci.name) {
		r = np_error_setc(NP_EINVALID, "%s: config.dump names no container: give --container", archive);
		goto out;
	}
	buf_addf(&tmp, "%s.layer.%d", path, (int)getpid());
	if ((r = ci__layer(tmp.ptr, archive)) || (r = oci_blob_from_file(&layer, tmp.ptr)))
		goto out;
	json_t *config = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "architecture", oci_arch(), "os", "linux",
				   "history", "created_by", "crharness image from-checkpoint",
				   "comment", "a container checkpoint archive's contents at /");
	r = oci_layout_write(path, name, &layer, config, ci__annotations(&ci, container ? container : ci.name));
out:
	if (tmp.len)
		unlink(tmp.ptr);
	buf_release(&tmp);
	inspect_free(&ci);
	return r;
}
