/*
 * host_remote_root.c: the --root rule on an SSH host. Locally the root is a
 * jail (every path resolved inside it, fd-relative writes); over SSH the
 * node resolves path names itself, and SFTP has no way to say "inside this
 * directory". So: ".." is taken out of every mapped path (host_map_path),
 * and the root's symlinks that could lead a name out (an absolute target,
 * or one with "..") are listed once per run; a step whose path is, or
 * passes through, one of them fails naming it, before the node is asked
 * anything about that path. Links that only descend keep every name inside
 * the root. What this cannot see: a link made on the node while the run
 * goes on (by someone else, or by the run itself) is not in the list.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "host.h"
#include "banned.h"

struct host_root_links {
	char **path, **target; /* path inside the root ("/etc/x"), its link text */
	size_t n;
};

int host_remote_root_check(struct host *h)
{
	/* "PATH<TAB>TARGET" per link that is absolute or has a ".." component */
	static const char script[] =
		"test -d \"$1\" || { echo \"no directory $1\" >&2; exit 3; }; "
		"find \"$1\" -type l -printf '%p\\t%l\\n' 2>/dev/null | "
		"awk -F '\\t' '$2 ~ /^\\// || $2 ~ /(^|\\/)\\.\\.(\\/|$)/'";
	if (host_is_local(h) || !h->root[0])
		return 0;
	const char *argv[] = { "/bin/sh", "-c", script, "root-check", h->root, NULL };
	struct spawn sp = SPAWN_INIT;
	struct host_root_links *l = calloc(1, sizeof(*l));
	sp.argv = argv;
	sp.timeout_ms = 300000;
	if (!l)
		abort();
	int r = host_run(h, &sp);
	if (!r && sp.status)
		r = np_error_setc(NP_EINVALID, "--root '%s' on %s: %s", h->root, h->name,
				  sp.err.len ? sp.err.ptr : "cannot be listed");
	size_t rl = strlen(h->root);
	for (char *line = sp.out.ptr; !r && line && *line;) {
		char *nl = strchr(line, '\n'), *tab;
		if (nl)
			*nl = '\0';
		if ((tab = strchr(line, '\t')) && !strncmp(line, h->root, rl) && line[rl] == '/') {
			*tab = '\0';
			l->path = realloc(l->path, (l->n + 1) * sizeof(*l->path));
			l->target = realloc(l->target, (l->n + 1) * sizeof(*l->target));
			if (!l->path || !l->target || !(l->path[l->n] = strdup(line + rl)) ||
			    !(l->target[l->n] = strdup(tab + 1)))
				abort();
			l->n++;
		}
		line = nl ? nl + 1 : NULL;
	}
	spawn_release(&sp);
	if (r || !l->n) {
		free(l->path);
		free(l->target);
		free(l);
		return r;
	}
	h->root_links = l;
	return 0;
}

int host_remote_root_path(const struct host *h, const char *path)
{
	const struct host_root_links *l = h->root_links;
	struct buf p = BUF_INIT;
	int r = 0;
	if (!l)
		return 0;
	/* the path as the node will see it, below the root */
	host_map_path(&p, h, path);
	const char *in = p.ptr + strlen(h->root);
	for (size_t i = 0; i < l->n && !r; i++) {
		size_t n = strlen(l->path[i]);
		if (!strncmp(in, l->path[i], n) && (in[n] == '\0' || in[n] == '/'))
			r = np_error_setc(NP_EINVALID,
					  "'%s' passes through '%s' -> '%s' in --root '%s' on %s: the node would "
					  "follow that link out of the root (over SSH nodeprep does not resolve links "
					  "inside a root; run nodeprep on the node, where --root is a jail)",
					  path, l->path[i], l->target[i], h->root, h->name);
	}
	buf_release(&p);
	return r;
}

void host_remote_root_free(struct host *h)
{
	struct host_root_links *l = h->root_links;
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->path[i]);
		free(l->target[i]);
	}
	free(l->path);
	free(l->target);
	free(l);
	h->root_links = NULL;
}
