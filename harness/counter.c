/*
 * counter.c: see counter.h. The rootfs is a static busybox from the host
 * (Debian's busybox-static), the same one the OCI image carries.
 */
#include "counter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "tarw.h"
#include "banned.h"

#define BUSYBOX "/bin/busybox"

/*
 * The USR1 trap is how Kubernetes can kill the counter: a container's init
 * ignores signals it has no handler for, SIGKILL included, when they come
 * from inside its pid namespace, and an ephemeral container (the API's only
 * way into a running pod) is inside it.
 */
void counter_script(struct buf *out, int interval_ms)
{
	buf_addf(out,
		 "trap 'exit 137' USR1; i=0; while true; do i=$((i+1)); echo $i > /tmp/count.new; "
		 "mv /tmp/count.new " COUNTER_FILE "; echo $i; sleep %d.%03d; done",
		 interval_ms / 1000, interval_ms % 1000);
}

static const char *const dirs[] = { "bin", "tmp", "proc", "dev", "sys", "etc", "run" };
/* nc, syslogd: tests give the container sockets for inspect --sockets */
static const char *const applets[] = { "sh", "mv", "sleep", "echo", "cat", "rm", "touch", "ls",
				       "test", "kill", "nc", "syslogd" };
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int counter_make_rootfs(const char *dir)
{
	struct buf p = BUF_INIT;
	int r = 0;
	for (size_t i = 0; i < NELEM(dirs) && !r; i++) {
		buf_reset(&p);
		buf_addf(&p, "%s/%s", dir, dirs[i]);
		r = fs_mkdir_p(p.ptr, 0755);
	}
	buf_reset(&p);
	buf_addf(&p, "%s/bin/busybox", dir);
	if (!r && (r = fs_copy_atomic(BUSYBOX, p.ptr, 0755)))
		np_error_prefix("the counter needs a static busybox (Debian: busybox-static)");
	for (size_t i = 0; i < NELEM(applets) && !r; i++) {
		buf_reset(&p);
		buf_addf(&p, "%s/bin/%s", dir, applets[i]);
		if (symlink("busybox", p.ptr) < 0 && errno != EEXIST)
			r = np_error_set("cannot link '%s': %s", p.ptr, strerror(errno));
	}
	buf_reset(&p);
	buf_addf(&p, "%s" COUNTER_DELETE_ME, dir);
	if (!r)
		r = fs_write_atomic(p.ptr, "delete me\n", 10, 0644, -1, -1);
	buf_release(&p);
	return r;
}

int counter_write_layer(struct tarw *tw)
{
	struct buf bb = BUF_INIT, p = BUF_INIT;
	int r = fs_read_file(&bb, BUSYBOX);
	if (r) {
		np_error_prefix("the counter needs a static busybox (Debian: busybox-static)");
		goto out;
	}
	for (size_t i = 0; i < NELEM(dirs); i++)
		tarw_add_dir(tw, dirs[i], !strcmp(dirs[i], "tmp") ? 01777 : 0755);
	tarw_add_file(tw, "bin/busybox", bb.ptr, bb.len, 0755);
	for (size_t i = 0; i < NELEM(applets); i++) {
		buf_reset(&p);
		buf_addf(&p, "bin/%s", applets[i]);
		tarw_add_symlink(tw, p.ptr, "busybox");
	}
	/* errors are sticky in tarw: the last call reports the first failure */
	r = tarw_add_file(tw, &COUNTER_DELETE_ME[1], "delete me\n", 10, 0644);
out:
	buf_release(&bb);
	buf_release(&p);
	return r;
}

int counter_parse(long *out, const char *text)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno || end == text || *end)
		return np_error_setc(NP_EINVALID, "counter file holds '%.20s', not a number", text);
	*out = v;
	return 0;
}

int counter_read_file(long *out, const char *path)
{
	struct buf text = BUF_INIT;
	int r = fs_read_file(&text, path);
	if (!r)
		r = counter_parse(out, text.ptr);
	buf_release(&text);
	return r;
}
