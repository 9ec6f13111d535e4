/*
 * inspect.c: see inspect.h. Every form is first reduced to one list of
 * files named as in a kubelet archive (config.dump, checkpoint/pstree.img,
 * ...), with sizes for all and contents only for the small metadata files;
 * the description is then read from that list alone.
 */
#include "inspect.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "extract.h"
#include "fsutil.h"
#include "banned.h"

const char *const inspect_known_files[INSPECT_NKNOWN] = {
	"config.dump", "spec.dump", "status.dump", "network.status",
	"rootfs-diff.tar", "deleted.files", "checkpoint/inventory.img",
};

#define MT_CRIU "application/vnd.containerd.container.criu.checkpoint.criu.tar"
#define MT_RW "application/vnd.oci.image.layer.v1.tar+gzip"
#define MAX_META (16u << 20) /* metadata files larger than this are not checkpoint metadata */

struct cfile {
	char *name;
	long long size;
	struct buf data;
};

struct cset {
	struct cfile *f;
	size_t n;
};

/* Is this a file whose contents the description needs? */
static bool wanted(const char *name)
{
	static const char *const pats[] = { "config.dump", "spec.dump", "stats-dump",
					    "checkpoint/stats-dump", "checkpoint/pstree.img",
					    "checkpoint/core-*.img", "index.json", "oci-layout",
					    /* a bare CRIU image dir, before it is named checkpoint/ */
					    "pstree.img", "core-*.img" };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (!fnmatch(pats[i], name, FNM_PATHNAME))
			return true;
	return false;
}

static struct cfile *cset_add(struct cset *s, const char *prefix, const char *name, long long size)
{
	struct cfile *g = realloc(s->f, (s->n + 1) * sizeof(*g));
	if (!g)
		abort();
	s->f = g;
	struct cfile *f = &s->f[s->n++];
	struct buf nm = BUF_INIT;
	buf_addf(&nm, "%s%s", prefix, name[0] == '.' && name[1] == '/' ? name + 2 : name);
	f->name = buf_detach(&nm, NULL);
	f->size = size;
	buf_init(&f->data);
	return f;
}

static const struct cfile *cset_get(const struct cset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].name, name))
			return &s->f[i];
	return NULL;
}

static void cset_free(struct cset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->f[i].name);
		buf_release(&s->f[i].data);
	}
	free(s->f);
	s->f = NULL;
	s->n = 0;
}

/* Add an archive's regular files (file or memory) under prefix. */
static int cset_read_archive(struct cset *s, const char *src, const void *mem, size_t len,
			     const char *prefix)
{
	struct archive *a = extract_reader_open(src, mem, len);
	struct archive_entry *e;
	int st, r = 0;
	if (!a)
		return NP_EINVALID;
	while ((st = archive_read_next_header(a, &e)) == ARCHIVE_OK || st == ARCHIVE_WARN) {
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		struct cfile *f = cset_add(s, prefix, archive_entry_pathname(e), archive_entry_size(e));
		if (!wanted(f->name) || f->size > MAX_META)
			continue;
		char chunk[65536];
		la_ssize_t n;
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			buf_add(&f->data, chunk, (size_t)n);
		if (n < 0)
			break;
	}
	if (st != ARCHIVE_EOF && st != ARCHIVE_OK && st != ARCHIVE_WARN)
		r = np_error_setc(NP_EINVALID, "'%s' is not a readable archive: %s",
				  src ? src : "(blob)", archive_error_string(a));
	else if (st != ARCHIVE_EOF)
		r = np_error_setc(NP_EINVALID, "'%s' is truncated or corrupt: %s", src ? src : "(blob)",
				  archive_error_string(a));
	archive_read_free(a);
	return r;
}

static int cset_read_dir(struct cset *s, const char *root, const char *rel, int depth)
{
	struct buf dir = BUF_INIT, p = BUF_INIT, r_ = BUF_INIT;
	int r = 0;
	buf_addf(&dir, "%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(dir.ptr);
	if (!d) {
		r = np_error_set("cannot read directory '%s'", dir.ptr);
		goto out;
	}
	struct dirent *de;
	while (!r && (de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		buf_reset(&p);
		buf_addf(&p, "%s/%s", dir.ptr, de->d_name);
		buf_reset(&r_);
		buf_addf(&r_, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (lstat(p.ptr, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 8) {
			r = cset_read_dir(s, root, r_.ptr, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			struct cfile *f = cset_add(s, "", r_.ptr, st.st_size);
			if (wanted(f->name) && st.st_size <= MAX_META)
				r = fs_read_file(&f->data, p.ptr);
		}
	}
	closedir(d);
out:
	buf_release(&dir);
	buf_release(&p);
	buf_release(&r_);
	return r;
}

/* Runc/CRIU image dir: the images are at the top; name them checkpoint/... */
static void cset_as_checkpoint_dir(struct cset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!strcmp(s->f[i].name, "stats-dump"))
			continue;
		struct buf nm = BUF_INIT;
		buf_addf(&nm, "checkpoint/%s", s->f[i].name);
		free(s->f[i].name);
		s->f[i].name = buf_detach(&nm, NULL);
	}
}

static void copy_str(char *dst, size_t n, json_t *v)
{
	const char *s = json_string_value(v);
	if (s && !dst[0])
		snprintf(dst, n, "%s", s);
}

static const char *oci_blob_name(struct buf *out, const char *digest)
{
	buf_reset(out);
	if (digest && !strncmp(digest, "sha256:", 7))
		buf_addf(out, "blobs/sha256/%s", digest + 7);
	return out->ptr;
}

/*
 * A `ctr image export` of a checkpoint: index.json -> checkpoint index ->
 * criu tar (read as checkpoint/...) and the rw layer (its size is the root
 * fs diff). The annotations name runtime and image.
 */
static int inspect__containerd(struct checkpoint_info *ci, struct cset *s, const char *path)
{
	struct buf name = BUF_INIT, blob = BUF_INIT;
	json_t *idx = json_loads(cset_get(s, "index.json")->data.ptr, 0, NULL), *ck = NULL;
	int r = np_error_setc(NP_EINVALID, "'%s' is an OCI archive but not a containerd checkpoint", path);
	const char *d = json_string_value(json_object_get(json_array_get(json_object_get(idx, "manifests"), 0), "digest"));
	if (!d || extract_member(path, NULL, 0, oci_blob_name(&name, d), &blob))
		goto out;
	ck = json_loads(blob.ptr, 0, NULL);
	json_t *ann = json_object_get(ck, "annotations"), *m;
	size_t i;
	if (!json_object_get(ann, "io.containerd.checkpoint.runtime"))
		goto out;
	snprintf(ci->engine, sizeof(ci->engine), "containerd (ctr checkpoint)");
	copy_str(ci->runtime, sizeof(ci->runtime), json_object_get(ann, "io.containerd.checkpoint.runtime"));
	copy_str(ci->image, sizeof(ci->image), json_object_get(ann, "org.opencontainers.image.ref.name"));
	r = 0;
	json_array_foreach(json_object_get(ck, "manifests"), i, m) {
		const char *t = json_string_value(json_object_get(m, "mediaType"));
		const char *dg = json_string_value(json_object_get(m, "digest"));
		if (t && !strcmp(t, MT_RW)) {
			ci->rootfs_diff_bytes = json_integer_value(json_object_get(m, "size"));
			ci->has[4] = true;
		} else if (t && !strcmp(t, MT_CRIU)) {
			buf_reset(&blob);
			if ((r = extract_member(path, NULL, 0, oci_blob_name(&name, dg), &blob)) ||
			    (r = cset_read_archive(s, NULL, blob.ptr, blob.len, "checkpoint/")))
				break;
		}
	}
out:
	json_decref(idx);
	json_decref(ck);
	buf_release(&name);
	buf_release(&blob);
	return r;
}

/* Engine and names from spec.dump's annotations (checkpointctl's rules). */
static void inspect__spec(struct checkpoint_info *ci, const struct cfile *spec)
{
	json_t *j = spec ? json_loads(spec->data.ptr, 0, NULL) : NULL;
	json_t *ann = json_object_get(j, "annotations"), *v;
	const char *k;
	json_object_foreach(ann, k, v) {
		if (!strcmp(k, "io.container.manager") && json_string_value(v) &&
		    !strcmp(json_string_value(v), "libpod"))
			snprintf(ci->engine, sizeof(ci->engine), "Podman");
		else if (!strncmp(k, "io.kubernetes.cri-o.", 20) && strncmp(ci->engine, "Podman", 6))
			snprintf(ci->engine, sizeof(ci->engine), "CRI-O");
		else if (!strncmp(k, "io.kubernetes.cri.", 18) && !ci->engine[0])
			snprintf(ci->engine, sizeof(ci->engine), "containerd");
	}
	copy_str(ci->name, sizeof(ci->name), json_object_get(ann, "io.kubernetes.container.name"));
	copy_str(ci->name, sizeof(ci->name), json_object_get(ann, "io.kubernetes.cri.container-name"));
	copy_str(ci->pod, sizeof(ci->pod), json_object_get(ann, "io.kubernetes.pod.name"));
	copy_str(ci->pod, sizeof(ci->pod), json_object_get(ann, "io.kubernetes.cri.sandbox-name"));
	copy_str(ci->ns, sizeof(ci->ns), json_object_get(ann, "io.kubernetes.pod.namespace"));
	copy_str(ci->ns, sizeof(ci->ns), json_object_get(ann, "io.kubernetes.cri.sandbox-namespace"));
	json_decref(j);
}

static void inspect__config(struct checkpoint_info *ci, const struct cfile *cfg)
{
	json_t *j = cfg ? json_loads(cfg->data.ptr, 0, NULL) : NULL;
	copy_str(ci->id, sizeof(ci->id), json_object_get(j, "id"));
	copy_str(ci->name, sizeof(ci->name), json_object_get(j, "name"));
	copy_str(ci->image, sizeof(ci->image), json_object_get(j, "rootfsImageName"));
	copy_str(ci->image, sizeof(ci->image), json_object_get(j, "rootfsImageRef"));
	copy_str(ci->runtime, sizeof(ci->runtime), json_object_get(j, "runtime"));
	copy_str(ci->runtime, sizeof(ci->runtime), json_object_get(j, "OCIRuntime"));
	copy_str(ci->created, sizeof(ci->created), json_object_get(j, "createdTime"));
	copy_str(ci->checkpointed, sizeof(ci->checkpointed), json_object_get(j, "checkpointedTime"));
	json_decref(j);
}

static void inspect__criu(struct checkpoint_info *ci, const struct cset *s)
{
	const struct cfile *f;
	for (size_t i = 0; i < s->n; i++) {
		const char *n = s->f[i].name;
		if (strncmp(n, "checkpoint/", 11))
			continue;
		ci->checkpoint_bytes += s->f[i].size;
		if (!fnmatch("checkpoint/pages-*.img", n, FNM_PATHNAME))
			ci->pages_bytes += s->f[i].size;
	}
	if ((f = cset_get(s, "checkpoint/stats-dump")) || (f = cset_get(s, "stats-dump")))
		criu_stats_parse(&ci->stats, (const unsigned char *)f->data.ptr, f->data.len);
	if ((f = cset_get(s, "checkpoint/pstree.img")) &&
	    criu_pstree_parse(&ci->procs, &ci->nprocs, (const unsigned char *)f->data.ptr, f->data.len))
		np_error_clear(); /* a damaged tree is left out, the rest still describes it */
	for (size_t i = 0; i < ci->nprocs; i++) {
		char core[64];
		snprintf(core, sizeof(core), "checkpoint/core-%u.img", ci->procs[i].pid);
		if ((f = cset_get(s, core)))
			criu_core_comm(ci->procs[i].comm, (const unsigned char *)f->data.ptr, f->data.len);
	}
}

static int inspect__load(struct checkpoint_info *ci, struct cset *s, const char *path)
{
	if (!fs_exists(path))
		return np_error_setc(NP_ENOTFOUND, "no such file or directory: '%s'", path);
	int r = fs_is_dir(path) ? cset_read_dir(s, path, "", 0)
				: cset_read_archive(s, path, NULL, 0, "");
	if (r == NP_EINVALID && !s->n)
		np_error_prefix("'%s' is not a container checkpoint", path);
	if (r)
		return r;
	if (cset_get(s, "index.json") && cset_get(s, "oci-layout"))
		return inspect__containerd(ci, s, path);
	if (!cset_get(s, "checkpoint/inventory.img") && cset_get(s, "inventory.img")) {
		cset_as_checkpoint_dir(s);
		snprintf(ci->engine, sizeof(ci->engine), "runc/CRIU image directory");
	}
	return 0;
}

int inspect_checkpoint(struct checkpoint_info *ci, const char *path)
{
	struct cset s = { 0 };
	memset(ci, 0, sizeof(*ci));
	int r = inspect__load(ci, &s, path);
	if (r)
		goto out;
	if (!cset_get(&s, "checkpoint/inventory.img")) {
		r = np_error_setc(NP_EINVALID,
				  "'%s' is not a container checkpoint: no checkpoint/inventory.img "
				  "among its %zu files", path, s.n);
		goto out;
	}
	for (int i = 0; i < INSPECT_NKNOWN; i++)
		ci->has[i] = ci->has[i] || cset_get(&s, inspect_known_files[i]);
	const struct cfile *diff = cset_get(&s, "rootfs-diff.tar");
	if (diff)
		ci->rootfs_diff_bytes = diff->size;
	inspect__spec(ci, cset_get(&s, "spec.dump"));
	inspect__config(ci, cset_get(&s, "config.dump"));
	inspect__criu(ci, &s);
	if (!ci->engine[0])
		snprintf(ci->engine, sizeof(ci->engine), "unknown");
out:
	cset_free(&s);
	return r;
}

void inspect_free(struct checkpoint_info *ci)
{
	free(ci->procs);
	ci->procs = NULL;
	ci->nprocs = 0;
}
