/*
 * host.c: dispatch to the host's ops table (one place, so tracing or
 * dry-run wrappers can be added without touching step kinds). Reads are
 * answered from the host's batch cache when it has the answer; anything
 * that may change the host empties the cache first (host_cache.h).
 */
#include "host.h"

#include <string.h>

#include "error.h"
#include "host_cache.h"

#include "banned.h"

void host_free(struct host *h)
{
	if (!h)
		return;
	host_cache_free(h->cache);
	h->cache = NULL;
	host_remote_root_free(h);
	h->ops->free(h);
}

/*
 * Under a root, "." and ".." are taken out of the path before the root is
 * put in front, ".." stopping at the root as a chroot's does: the mapped
 * path never climbs out by name (a remote node resolves it as it is; the
 * local host resolves through the jail and uses this for messages only).
 */
void host_map_path(struct buf *out, const struct host *h, const char *path)
{
	buf_adds(out, h->root);
	if (!h->root[0] || !strstr(path, "/.")) {
		if (h->root[0] && path[0] != '/')
			buf_addch(out, '/');
		buf_adds(out, path);
		return;
	}
	size_t base = out->len;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (out->len > base && out->ptr[out->len - 1] != '/')
				out->len--;
			if (out->len > base)
				out->len--;
			out->ptr[out->len] = '\0';
		} else if (n && !(n == 1 && p[0] == '.')) {
			buf_addch(out, '/');
			buf_add(out, p, n);
		}
		p += n + (p[n] == '/');
	}
	if (out->len == base)
		buf_addch(out, '/');
}

int host_read_file(struct host *h, const char *path, struct buf *out)
{
	int rr = h->root_links ? host_remote_root_path(h, path) : 0;
	if (rr)
		return rr;
	int r = h->cache ? host_cache_read(h->cache, path, out) : NP_EAGAIN;
	if (r != NP_EAGAIN)
		return r;
	size_t from = out->len;
	r = h->ops->read_file(h, path, out);
	if (!r)
		host_cache_note_content(h->cache, path, out->ptr + from, out->len - from);
	return r;
}

int host_write_file(struct host *h, const char *path, const void *data, size_t len, int mode,
		    int uid, int gid)
{
	int rr = h->root_links ? host_remote_root_path(h, path) : 0;
	if (rr)
		return rr;
	/* emptied after: the write itself may use the old file's stat (mode, owner) */
	int r = h->ops->write_file(h, path, data, len, mode, uid, gid);
	host_cache_clear(h->cache);
	return r;
}

int host_stat(struct host *h, const char *path, struct host_stat *out)
{
	int rr = h->root_links ? host_remote_root_path(h, path) : 0;
	if (rr)
		return rr;
	memset(out, 0, sizeof(*out));
	if (h->cache && !host_cache_stat(h->cache, path, out))
		return 0;
	int r = h->ops->stat(h, path, out);
	if (!r)
		host_cache_note_stat(h->cache, path, out);
	return r;
}

int host_mkdir(struct host *h, const char *path, int mode)
{
	int rr = h->root_links ? host_remote_root_path(h, path) : 0;
	if (rr)
		return rr;
	host_cache_clear(h->cache);
	return h->ops->mkdir(h, path, mode);
}

int host_remove(struct host *h, const char *path)
{
	int rr = h->root_links ? host_remote_root_path(h, path) : 0;
	if (rr)
		return rr;
	host_cache_clear(h->cache);
	return h->ops->remove(h, path);
}

int host_remove_tree(struct host *h, const char *path)
{
	int rr = h->root_links ? host_remote_root_path(h, path) : 0;
	if (rr)
		return rr;
	host_cache_clear(h->cache);
	return h->ops->remove_tree(h, path);
}

int host_chmod_chown(struct host *h, const char *path, int mode, int uid, int gid)
{
	int rr = h->root_links ? host_remote_root_path(h, path) : 0;
	if (rr)
		return rr;
	host_cache_clear(h->cache);
	return h->ops->chmod_chown(h, path, mode, uid, gid);
}

int host_run(struct host *h, struct spawn *sp)
{
	int rr = h->root_links && sp->cwd ? host_remote_root_path(h, sp->cwd) : 0;
	if (rr)
		return rr;
	if (h->cache && !host_cache_run(h->cache, sp))
		return 0;
	/* a command nobody batched may change anything */
	host_cache_clear(h->cache);
	return h->ops->run(h, sp);
}

bool host_can_prefetch(const struct host *h)
{
	return h->ops->prefetch != NULL;
}

int host_prefetch(struct host *h, const struct host_req *reqs, size_t n)
{
	if (!h->ops->prefetch || !n)
		return 0;
	if (!h->cache)
		h->cache = host_cache_new();
	return h->ops->prefetch(h, reqs, n);
}
