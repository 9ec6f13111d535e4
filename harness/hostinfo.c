/*
 * hostinfo.c: see hostinfo.h. A tool that is missing is reported as such,
 * never as an error: the report is still worth writing.
 */
#include "hostinfo.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>

#include "spawn.h"
#include "banned.h"

/* The first token of the output that looks like a version (starts with a digit). */
static void version_of(struct buf *out, const char *label, const char *prog, const char *arg)
{
	const char *argv[] = { prog, arg, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.merge_err = true;
	sp.timeout_ms = 5000;
	const char *v = NULL;
	size_t n = 0;
	if (!spawn_run(&sp) && !sp.status)
		for (const char *p = sp.out.ptr; *p; p++)
			if (*p >= '0' && *p <= '9' && (p == sp.out.ptr || p[-1] == ' ' || p[-1] == 'v')) {
				v = p;
				n = strcspn(p, " \n,");
				break;
			}
	buf_addf(out, "%s%s %.*s", out->len ? ", " : "", label, v ? (int)n : 7, v ? v : "missing");
	spawn_release(&sp);
}

void hostinfo_collect(struct buf *kernel, struct buf *versions, const char *criu)
{
	struct utsname u;
	if (uname(&u) == 0)
		buf_adds(kernel, u.release);
	version_of(versions, "criu", criu ? criu : "criu", "--version");
	version_of(versions, "runc", "runc", "--version");
	version_of(versions, "containerd", "containerd", "--version");
}

void hostinfo_date(struct buf *out)
{
	char s[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_adds(out, s);
}
