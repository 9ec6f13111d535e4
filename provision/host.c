/*
 * host.c: dispatch to the host's ops table (one place, so tracing or
 * dry-run wrappers can be added without touching step kinds).
 */
#include "host.h"

#include <string.h>

#include "banned.h"

void host_free(struct host *h)
{
	if (h)
		h->ops->free(h);
}

void host_map_path(struct buf *out, const struct host *h, const char *path)
{
	buf_adds(out, h->root);
	if (h->root[0] && path[0] != '/')
		buf_addch(out, '/');
	buf_adds(out, path);
}

int host_read_file(struct host *h, const char *path, struct buf *out)
{
	return h->ops->read_file(h, path, out);
}

int host_write_file(struct host *h, const char *path, const void *data, size_t len, int mode,
		    int uid, int gid)
{
	return h->ops->write_file(h, path, data, len, mode, uid, gid);
}

int host_stat(struct host *h, const char *path, struct host_stat *out)
{
	memset(out, 0, sizeof(*out));
	return h->ops->stat(h, path, out);
}

int host_mkdir(struct host *h, const char *path, int mode)
{
	return h->ops->mkdir(h, path, mode);
}

int host_remove(struct host *h, const char *path)
{
	return h->ops->remove(h, path);
}

int host_remove_tree(struct host *h, const char *path)
{
	return h->ops->remove_tree(h, path);
}

int host_chmod_chown(struct host *h, const char *path, int mode, int uid, int gid)
{
	return h->ops->chmod_chown(h, path, mode, uid, gid);
}

int host_run(struct host *h, struct spawn *sp)
{
	return h->ops->run(h, sp);
}
