/*
 * criu_path.c: a PATH in which the only criu is the one a run names (see
 * criu_path.h). Dropping the other dirs that hold a criu keeps a "criu is
 * missing" scenario honest: the runtime must not fall back to another one.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "criu_path.h"
#include "error.h"
#include "fsutil.h"
#include "banned.h"

int criu_path_env(struct buf *out, bool *bad, const char *work_dir, const char *criu)
{
	struct buf dir = BUF_INIT, link = BUF_INIT;
	const char *env = getenv("PATH");
	char *save = NULL, *copy = strdup(env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (!copy)
		abort();
	buf_addf(&dir, "%s/criu-bin", work_dir);
	buf_addf(&link, "%s/criu", dir.ptr);
	int r = fs_mkdir_p(dir.ptr, 0700);
	unlink(link.ptr);
	if (!r && symlink(criu, link.ptr) < 0)
		r = np_error_set("cannot link '%s' to '%s'", link.ptr, criu);
	*bad = access(criu, X_OK) != 0;
	buf_addf(out, "PATH=%s", dir.ptr);
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		struct buf c = BUF_INIT;
		buf_addf(&c, "%s/criu", d);
		if (access(c.ptr, X_OK))
			buf_addf(out, ":%s", d);
		buf_release(&c);
	}
	free(copy);
	buf_release(&dir);
	buf_release(&link);
	return r;
}

void criu_path_which(struct buf *out, const char *name)
{
	const char *env = getenv("PATH");
	char *save = NULL, *copy = strdup(env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (!copy)
		abort();
	for (char *d = strtok_r(copy, ":", &save); d && !strchr(name, '/'); d = strtok_r(NULL, ":", &save)) {
		struct buf c = BUF_INIT;
		buf_addf(&c, "%s/%s", d, name);
		bool found = access(c.ptr, X_OK) == 0;
		if (found)
			buf_adds(out, c.ptr);
		buf_release(&c);
		if (found)
			goto out;
	}
	buf_adds(out, name);
out:
	free(copy);
}
