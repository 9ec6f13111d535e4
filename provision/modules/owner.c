/*
 * owner.c: name resolution through the control host's passwd/group
 * databases (getpwnam_r), which is right for the local host and for image
 * roots built from the same distro.
 */
#include "owner.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "banned.h"

static int id__number(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int owner_resolve(int *uid, int *gid, const char *owner, const char *group)
{
	char tmp[4096];
	*uid = -1;
	*gid = -1;
	if (owner && *owner && id__number(owner, uid) < 0) {
		struct passwd pw, *res = NULL;
		if (getpwnam_r(owner, &pw, tmp, sizeof(tmp), &res) || !res)
			return np_error_setc(NP_EINVALID, "no user named '%s'", owner);
		*uid = (int)pw.pw_uid;
	}
	if (group && *group && id__number(group, gid) < 0) {
		struct group gr, *res = NULL;
		if (getgrnam_r(group, &gr, tmp, sizeof(tmp), &res) || !res)
			return np_error_setc(NP_EINVALID, "no group named '%s'", group);
		*gid = (int)gr.gr_gid;
	}
	return 0;
}
