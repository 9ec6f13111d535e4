/*
 * inspect.c: see inspect.h. Every form is first reduced to one list of
 * files named as in a kubelet archive (config.dump, checkpoint/pstree.img,
 * ...), with sizes for all and contents only for the small metadata files;
 * the description is then read from that list alone.
 */
#include "inspect.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "buf.h"
#include "ckpt_validate.h"
#include "error.h"
#include "extract.h"
#include "fsutil.h"
#include "log.h"
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
	char *path;  /* pages images in a directory: where to open them */
	FILE *spool; /* pages images in an archive: a private temp copy (INSPECT_MEMORY) */
};

struct cset {
	struct cfile *f;
	size_t n;
	bool keep_pages;
	struct checkpoint_info *rootfs_to; /* INSPECT_ROOTFS: list rootfs-diff.tar into it */
};

#define MAX_ROOTFS_ENTRIES 200000u

/* A tar inside a tar, read as a stream: the inner reader pulls the outer entry's data. */
struct nested {
	struct archive *outer;
	char chunk[65536];
};

static la_ssize_t nested_read(struct archive *a, void *arg, const void **out)
{
	struct nested *n = arg;
	(void)a;
	*out = n->chunk;
	return archive_read_data(n->outer, n->chunk, sizeof(n->chunk));
}

/* The entries of a root fs diff tar (any compression) into ci->rootfs. */
static int rootfs_list(struct checkpoint_info *ci, struct archive *outer, const char *path,
		       const void *mem, size_t len)
{
	struct nested *n = NULL;
	struct archive *a;
	struct archive_entry *e;
	int st, r = 0;
	if (outer) {
		n = malloc(sizeof(*n));
		a = archive_read_new();
		if (!n || !a)
			abort();
		n->outer = outer;
		archive_read_support_filter_all(a);
		archive_read_support_format_tar(a);
		archive_read_support_format_gnutar(a);
		if (archive_read_open(a, n, NULL, nested_read, NULL) != ARCHIVE_OK) {
			r = np_error_setc(NP_EINVALID, "the root fs diff is not a tar: %s", archive_error_string(a));
			archive_read_free(a);
			free(n);
			return r;
		}
	} else if (!(a = extract_reader_open(path, mem, len))) {
		return NP_EINVALID;
	}
	ci->rootfs_listed = true;
	while ((st = archive_read_next_header(a, &e)) == ARCHIVE_OK || st == ARCHIVE_WARN) {
		if (ci->nrootfs >= MAX_ROOTFS_ENTRIES)
			break;
		struct inspect_entry *g = realloc(ci->rootfs, (ci->nrootfs + 1) * sizeof(*g));
		if (!g)
			abort();
		ci->rootfs = g;
		const char *nm = archive_entry_pathname(e);
		g[ci->nrootfs++] = (struct inspect_entry){ strdup(nm ? nm : "?"), archive_entry_size(e),
							    archive_entry_mtime(e), archive_entry_mode(e) };
	}
	if (st != ARCHIVE_EOF && ci->nrootfs < MAX_ROOTFS_ENTRIES)
		r = np_error_setc(NP_EINVALID, "the root fs diff is truncated or corrupt: %s",
				  archive_error_string(a));
	archive_read_free(a);
	free(n);
	return r;
}

struct inspect_set {
	struct cset s;
	FILE *open; /* a pages image opened from a directory by inspect_pages */
	const struct cfile *open_f;
};

static bool is_pages(const char *name)
{
	return !fnmatch("checkpoint/pages-*.img", name, FNM_PATHNAME) ||
	       !fnmatch("pages-*.img", name, FNM_PATHNAME);
}

/* Is this a file whose contents the description needs? All CRIU images but the pages. */
static bool wanted(const char *name)
{
	static const char *const pats[] = { "config.dump", "spec.dump", "stats-dump", "stats-restore",
					    "deleted.files",
					    "network.status", "checkpoint/stats-dump",
					    "checkpoint/*.img", "index.json", "oci-layout",
					    /* a bare CRIU image dir, before it is named checkpoint/ */
					    "*.img" };
	if (is_pages(name))
		return false;
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (!fnmatch(pats[i], name, FNM_PATHNAME))
			return true;
	return ckpt_validate_wants(name);
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
	f->path = NULL;
	f->spool = NULL;
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
		free(s->f[i].path);
		if (s->f[i].spool)
			fclose(s->f[i].spool);
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
		bool spool = s->keep_pages && is_pages(f->name);
		if (s->rootfs_to && !strcmp(f->name, "rootfs-diff.tar")) {
			if (rootfs_list(s->rootfs_to, a, NULL, NULL, 0))
				np_error_clear(); /* a damaged diff is reported as unlisted, not as a bad checkpoint */
			continue;
		}
		if (!spool && (!wanted(f->name) || f->size > MAX_META))
			continue;
		if (spool && !(f->spool = tmpfile())) {
			r = np_error_set("cannot make a temp file for '%s': %s", f->name, strerror(errno));
			break;
		}
		char chunk[65536];
		la_ssize_t n;
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
			if (!spool)
				buf_add(&f->data, chunk, (size_t)n);
			else if (fwrite(chunk, 1, (size_t)n, f->spool) != (size_t)n)
				break;
		}
		if (spool && (fflush(f->spool) || ferror(f->spool))) {
			r = np_error_set("cannot write a temp copy of '%s': %s", f->name, strerror(errno));
			break;
		}
		if (n < 0)
			break;
	}
	if (r)
		; /* already said */
	else if (st != ARCHIVE_EOF && st != ARCHIVE_OK && st != ARCHIVE_WARN)
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
			else if (is_pages(f->name))
				f->path = strdup(p.ptr);
			else if (s->rootfs_to && !strcmp(f->name, "rootfs-diff.tar") && rootfs_list(s->rootfs_to, NULL, p.ptr, NULL, 0))
				np_error_clear();
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
			buf_reset(&blob);
			/* the rw layer is held in memory to be listed: bounded */
			if (s->rootfs_to && ci->rootfs_diff_bytes < (256ll << 20) &&
			    !extract_member(path, NULL, 0, oci_blob_name(&name, dg), &blob) &&
			    rootfs_list(ci, NULL, NULL, blob.ptr, blob.len))
				np_error_clear();
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

static const struct cfile *img(const struct cset *s, const char *fmt, unsigned n)
{
	char name[96];
	snprintf(name, sizeof(name), fmt, n);
	return cset_get(s, name);
}

#define DATA(f) (const unsigned char *)(f)->data.ptr, (f)->data.len

/* The task's fds (ids-PID.img -> fdinfo-FILES_ID.img) and memory map. */
static void inspect__task(struct inspect_task *t, const struct cset *s, unsigned pid)
{
	const struct cfile *f;
	if ((f = img(s, "checkpoint/ids-%u.img", pid)) &&
	    criu_ids_parse(&t->files_id, &t->mnt_ns_id, DATA(f)))
		np_error_clear();
	if ((f = img(s, "checkpoint/fdinfo-%u.img", t->files_id)) &&
	    criu_fdinfo_parse(&t->fds, &t->nfds, DATA(f)))
		np_error_clear();
	if ((f = img(s, "checkpoint/mm-%u.img", pid)))
		t->has_mm = !criu_mm_parse(&t->mm, DATA(f));
	if ((f = img(s, "checkpoint/pagemap-%u.img", pid)) && criu_pagemap_parse(&t->pm, DATA(f)))
		np_error_clear();
	np_error_clear();
}

/* Command line and environment, read from the dumped memory. */
static void inspect__argv(struct checkpoint_info *ci, size_t i)
{
	struct inspect_task *t = &ci->tasks[i];
	struct buf b = BUF_INIT;
	FILE *pages;
	if (!t->has_mm || inspect_pages(&pages, ci, i))
		goto out;
	const uint64_t range[2][2] = { { t->mm.arg_start, t->mm.arg_end },
				       { t->mm.env_start, t->mm.env_end } };
	for (int k = 0; k < 2; k++) {
		buf_reset(&b);
		/* a real command line or environment fits in 1 MiB; more is a bad image */
		if (range[k][1] <= range[k][0] || range[k][1] - range[k][0] > (1u << 20) ||
		    criu_mem_read(&b, &t->pm, pages, range[k][0], (size_t)(range[k][1] - range[k][0])))
			continue;
		struct buf txt = BUF_INIT;
		criu_mem_strings(&txt, (const unsigned char *)b.ptr, b.len, k ? '\n' : ' ');
		*(k ? &t->env : &t->cmdline) = buf_detach(&txt, NULL);
	}
out:
	np_error_clear();
	buf_release(&b);
}

/* Addresses from network.status: CNI results ("ips": [{"address"}]) and Podman's ("subnets": [{"ipnet"}]). */
static void inspect__ips(struct checkpoint_info *ci, json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;
	if (depth > 16)
		return;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			inspect__ips(ci, v, depth + 1);
		}
	}
	json_object_foreach(j, k, v) {
		const char *ip = json_string_value(v);
		if (ip && (!strcmp(k, "address") || !strcmp(k, "ipnet"))) {
			for (i = 0; i < ci->nips && strcmp(ci->ips[i], ip); i++)
				;
			if (i < ci->nips || ci->nips >= 64)
				continue;
			char **g = realloc(ci->ips, (ci->nips + 1) * sizeof(*g));
			if (!g)
				abort();
			ci->ips = g;
			ci->ips[ci->nips++] = strdup(ip);
		} else {
			inspect__ips(ci, v, depth + 1);
		}
	}
}

static void inspect__criu(struct checkpoint_info *ci, const struct cset *s, unsigned flags)
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
		criu_stats_parse(&ci->stats, DATA(f));
	if ((f = cset_get(s, "checkpoint/stats-restore")) || (f = cset_get(s, "stats-restore")))
		criu_stats_parse(&ci->stats, DATA(f));
	if ((f = cset_get(s, "checkpoint/pstree.img")) && criu_pstree_parse(&ci->procs, &ci->nprocs, DATA(f)))
		np_error_clear(); /* a damaged tree is left out, the rest still describes it */
	ci->tasks = calloc(ci->nprocs + 1, sizeof(*ci->tasks));
	if (!ci->tasks)
		abort();
	for (size_t i = 0; i < ci->nprocs; i++) {
		if ((f = img(s, "checkpoint/core-%u.img", ci->procs[i].pid)))
			criu_core_comm(ci->procs[i].comm, DATA(f));
		inspect__task(&ci->tasks[i], s, ci->procs[i].pid);
		ci->mem_pages += ci->tasks[i].pm.present_pages;
		if (flags & INSPECT_MEMORY)
			inspect__argv(ci, i);
	}
	if ((f = cset_get(s, "checkpoint/files.img")) && criu_files_parse(&ci->files, &ci->nfiles, DATA(f)))
		np_error_clear();
	if (ci->nprocs && (f = img(s, "checkpoint/mountpoints-%u.img", ci->tasks[0].mnt_ns_id)) &&
	    criu_mounts_parse(&ci->mounts, &ci->nmounts, DATA(f)))
		np_error_clear();
	np_error_clear();
	if ((f = cset_get(s, "deleted.files"))) {
		/* a JSON array of paths (CRI-O, Podman) */
		json_t *j = json_loads(f->data.ptr, 0, NULL), *v;
		size_t i;
		json_array_foreach(j, i, v) {
			if (!json_string_value(v) || ci->ndeleted >= MAX_ROOTFS_ENTRIES)
				continue;
			char **g = realloc(ci->deleted, (ci->ndeleted + 1) * sizeof(*g));
			if (!g)
				abort();
			ci->deleted = g;
			ci->deleted[ci->ndeleted++] = strdup(json_string_value(v));
		}
		json_decref(j);
	}
	if ((f = cset_get(s, "network.status"))) {
		json_t *j = json_loads(f->data.ptr, 0, NULL);
		inspect__ips(ci, j, 0);
		json_decref(j);
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

static bool inspect__lookup(void *list, const char *name, struct ckpt_view *out)
{
	const struct cfile *f = cset_get(list, name);
	if (!f)
		return false;
	out->data = f->data.ptr;
	out->len = f->data.len;
	out->size = f->size;
	return true;
}

/* Every file it has is what it claims to be (ckpt_validate.c); notes to stderr. */
static int inspect__validate(struct cset *s, const char *path)
{
	struct buf notes = BUF_INIT;
	bool ckdir = false;
	for (size_t i = 0; i < s->n && !ckdir; i++)
		ckdir = !strncmp(s->f[i].name, "checkpoint/", 11);
	int r = ckpt_validate(path, inspect__lookup, s, s->n, ckdir, &notes);
	for (char *l = notes.ptr; l && *l;) {
		char *nl = strchr(l, '\n');
		log_info("note: %.*s", nl ? (int)(nl - l) : (int)strlen(l), l);
		l = nl ? nl + 1 : NULL;
	}
	buf_release(&notes);
	return r;
}

int inspect_checkpoint(struct checkpoint_info *ci, const char *path)
{
	return inspect_checkpoint_ex(ci, path, 0);
}

int inspect_checkpoint_ex(struct checkpoint_info *ci, const char *path, unsigned flags)
{
	memset(ci, 0, sizeof(*ci));
	ci->set = calloc(1, sizeof(*ci->set));
	if (!ci->set)
		abort();
	struct cset s = { .keep_pages = (flags & INSPECT_MEMORY) != 0,
			  .rootfs_to = flags & INSPECT_ROOTFS ? ci : NULL };
	int r = inspect__load(ci, &s, path);
	if (r)
		goto out;
	if ((r = inspect__validate(&s, path)))
		goto out;
	for (int i = 0; i < INSPECT_NKNOWN; i++)
		ci->has[i] = ci->has[i] || cset_get(&s, inspect_known_files[i]);
	const struct cfile *diff = cset_get(&s, "rootfs-diff.tar");
	if (diff)
		ci->rootfs_diff_bytes = diff->size;
	inspect__spec(ci, cset_get(&s, "spec.dump"));
	inspect__config(ci, cset_get(&s, "config.dump"));
	ci->set->s = s; /* inspect__argv reads the pages through ci->set */
	s = (struct cset){ 0 };
	inspect__criu(ci, &ci->set->s, flags);
	if (!ci->engine[0])
		snprintf(ci->engine, sizeof(ci->engine), "unknown");
out:
	cset_free(&s);
	if (r)
		inspect_free(ci); /* nothing to free for callers that give up at once */
	return r;
}

int inspect_pages(FILE **out, struct checkpoint_info *ci, size_t task)
{
	struct inspect_set *is = ci->set;
	if (!is || task >= ci->nprocs)
		return np_error_setc(NP_ENOTFOUND, "no such task");
	const struct cfile *f = img(&is->s, "checkpoint/pages-%u.img", ci->tasks[task].pm.pages_id);
	if (!f || (!f->spool && !f->path))
		return np_error_setc(NP_ENOTFOUND, "the checkpoint has no pages image for pid %u",
				     ci->procs[task].pid);
	if (f->spool)
		return (*out = f->spool), 0;
	if (is->open_f != f) {
		if (is->open)
			fclose(is->open);
		is->open_f = NULL;
		if (!(is->open = fopen(f->path, "rbe")))
			return np_error_set("cannot open '%s': %s", f->path, strerror(errno));
		is->open_f = f;
	}
	*out = is->open;
	return 0;
}

long inspect_task_index(const struct checkpoint_info *ci, unsigned pid)
{
	for (size_t i = 0; i < ci->nprocs; i++)
		if (ci->procs[i].pid == pid)
			return (long)i;
	return -1;
}

void inspect_file_holders(char *out, size_t n, const struct checkpoint_info *ci, unsigned id)
{
	size_t len = 0;
	out[0] = 0;
	for (size_t i = 0; i < ci->nprocs; i++)
		for (size_t k = 0; k < ci->tasks[i].nfds; k++)
			if (ci->tasks[i].fds[k].id == id && len < n)
				len += (size_t)snprintf(out + len, n - len, "%s%u:%u", len ? "," : "",
							ci->procs[i].pid, ci->tasks[i].fds[k].fd);
}

void inspect_free(struct checkpoint_info *ci)
{
	for (size_t i = 0; ci->tasks && i < ci->nprocs; i++) {
		free(ci->tasks[i].cmdline);
		free(ci->tasks[i].env);
		free(ci->tasks[i].fds);
		criu_pagemap_release(&ci->tasks[i].pm);
	}
	for (size_t i = 0; i < ci->nips; i++)
		free(ci->ips[i]);
	for (size_t i = 0; i < ci->nrootfs; i++)
		free(ci->rootfs[i].name);
	for (size_t i = 0; i < ci->ndeleted; i++)
		free(ci->deleted[i]);
	free(ci->rootfs);
	free(ci->deleted);
	if (ci->set) {
		cset_free(&ci->set->s);
		if (ci->set->open)
			fclose(ci->set->open);
		free(ci->set);
	}
	free(ci->ips);
	free(ci->tasks);
	free(ci->files);
	free(ci->mounts);
	free(ci->procs);
	memset(ci, 0, sizeof(*ci));
}
