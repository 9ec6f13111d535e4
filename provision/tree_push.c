/*
 * tree_push.c: see tree_push.h. The tar is written with libarchive from a
 * walk of the local tree (symlinks kept as links, modes kept, owners not:
 * the node's tar runs with --no-same-owner so files belong to whoever
 * nodeprep runs as there, as a local extract's would). The tar is mapped,
 * not read, so a large source tree costs no heap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "error.h"
#include "extract.h"
#include "fsutil.h"
#include "tree_push.h"
#include "banned.h"

static int tar__fail(struct archive *a, const char *what)
{
	return np_error_set("%s: %s", what, archive_error_string(a) ?: "libarchive error");
}

/* One entry: header, then the file's bytes. */
static int tar__entry(struct archive *disk, struct archive *w, struct archive_entry *e, size_t skip)
{
	const char *p = archive_entry_pathname(e);
	char name[4096];
	snprintf(name, sizeof(name), "./%s", strlen(p) > skip ? p + skip + 1 : "");
	archive_entry_set_pathname(e, name);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, NULL);
	archive_entry_set_gname(e, NULL);
	if (archive_write_header(w, e) != ARCHIVE_OK)
		return tar__fail(w, name);
	if (archive_entry_filetype(e) != AE_IFREG)
		return 0;
	char chunk[65536];
	la_ssize_t n;
	while ((n = archive_read_data(disk, chunk, sizeof(chunk))) > 0)
		if (archive_write_data(w, chunk, (size_t)n) != n)
			return tar__fail(w, name);
	return n < 0 ? tar__fail(disk, name) : 0;
}

static int tar__dir(const char *dir, const char *tar)
{
	struct archive *disk = archive_read_disk_new(), *w = archive_write_new();
	int r = 0;
	archive_read_disk_set_symlink_physical(disk);
	archive_write_set_format_pax_restricted(w);
	if (archive_read_disk_open(disk, dir) != ARCHIVE_OK)
		r = tar__fail(disk, dir);
	else if (archive_write_open_filename(w, tar) != ARCHIVE_OK)
		r = tar__fail(w, tar);
	while (!r) {
		struct archive_entry *e = archive_entry_new();
		int st = archive_read_next_header2(disk, e);
		if (st == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (st != ARCHIVE_OK)
			r = tar__fail(disk, dir);
		else if (archive_read_disk_can_descend(disk) && archive_read_disk_descend(disk) != ARCHIVE_OK)
			r = tar__fail(disk, archive_entry_pathname(e));
		else
			r = tar__entry(disk, w, e, strlen(dir));
		archive_entry_free(e);
	}
	if (archive_write_close(w) != ARCHIVE_OK && !r)
		r = tar__fail(w, tar);
	archive_read_free(disk);
	archive_write_free(w);
	return r;
}

/* The tar onto the host beside dest, mapped rather than read. */
static int tar__upload(struct host *h, const char *tar, const char *remote)
{
	int fd = open(tar, O_RDONLY | O_CLOEXEC), r;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = np_error_set("cannot open '%s': %s", tar, strerror(errno));
		goto out;
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		r = np_error_set("cannot map '%s': %s", tar, strerror(errno));
		goto out;
	}
	r = host_write_file(h, remote, map, (size_t)st.st_size, 0600, -1, -1);
	munmap(map, (size_t)st.st_size);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* dest's parent on the node, as a local extract makes it (mkdir -p) */
static int tree__parent(struct host *h, const char *mdest)
{
	struct buf parent = BUF_INIT;
	fs_dirname(&parent, mdest);
	const char *argv[] = { "mkdir", "-p", "--", parent.ptr, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.timeout_ms = 60000;
	int r = host_run(h, &sp);
	if (!r && sp.status)
		r = np_error_set("cannot make '%s' on %s: %s", parent.ptr, h->name, sp.err.ptr);
	spawn_release(&sp);
	buf_release(&parent);
	return r;
}

int tree_push(struct host *h, const char *local_dir, const char *dest, const char *tmp_dir)
{
	struct buf tar = BUF_INIT, rtar = BUF_INIT, mtar = BUF_INIT, mdest = BUF_INIT;
	/* the old tree goes aside by rename and is removed after the new one is
	 * in place: dest is missing only between two renames, never during a
	 * long rm -rf (GNU mv on Debian 12 cannot exchange) */
	static const char script[] =
		"set -e; t=\"$2.np-push\"; rm -rf \"$t\"; mkdir -p \"$t\"; "
		"tar -xf \"$1\" -C \"$t\" --no-same-owner || { rm -rf \"$t\" \"$1\"; exit 1; }; "
		"rm -f \"$1\"; o=\"$2.np-old\"; rm -rf \"$o\"; "
		"if [ -e \"$2\" ] || [ -L \"$2\" ]; then mv -T \"$2\" \"$o\"; fi; mv -T \"$t\" \"$2\"; rm -rf \"$o\"";
	buf_addf(&tar, "%s/push-%ld.tar", tmp_dir, (long)getpid());
	buf_addf(&rtar, "%s.np-push.tar", dest);
	host_map_path(&mtar, h, rtar.ptr);
	host_map_path(&mdest, h, dest);
	const char *argv[] = { "/bin/sh", "-c", script, "tree_push", mtar.ptr, mdest.ptr, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.timeout_ms = 3600 * 1000;
	int r = fs_mkdir_p(tmp_dir, 0700);
	if (!r && !(r = tar__dir(local_dir, tar.ptr)) && !(r = tree__parent(h, mdest.ptr)) &&
	    !(r = tar__upload(h, tar.ptr, rtar.ptr)) &&
	    !(r = host_run(h, &sp)) && sp.status)
		r = np_error_set("unpacking into '%s' on %s failed (status %d): %s", dest, h->name,
				 sp.status, sp.err.ptr);
	if (r)
		np_error_prefix("putting %s on %s", dest, h->name);
	unlink(tar.ptr);
	spawn_release(&sp);
	buf_release(&tar);
	buf_release(&rtar);
	buf_release(&mtar);
	buf_release(&mdest);
	return r;
}

int tree_push_archive(struct host *h, const char *state_dir, const char *src, const void *data, size_t len,
		      const char *dest, const struct extract_opts *o)
{
	struct buf tmp = BUF_INIT, tree = BUF_INIT;
	buf_addf(&tmp, "%s/tmp/unpack-%ld", state_dir, (long)getpid());
	buf_addf(&tree, "%s/tree", tmp.ptr);
	fs_remove_tree(tmp.ptr);
	int r = src ? extract_file(src, tree.ptr, o) : extract_mem(data, len, tree.ptr, o);
	if (!r)
		r = tree_push(h, tree.ptr, dest, tmp.ptr);
	fs_remove_tree(tmp.ptr);
	buf_release(&tmp);
	buf_release(&tree);
	return r;
}
