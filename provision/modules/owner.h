/*
 * owner.h: "user" or "user:group" to numeric ids, shared by the kinds that
 * manage file ownership (file, install).
 */
#ifndef NP_OWNER_H
#define NP_OWNER_H

/** Resolve owner/group names (or numbers); -1 for "leave as is". */
int owner_resolve(int *uid, int *gid, const char *owner, const char *group);

#endif
