/*
 * hostinfo.h: what a report says about the machine: kernel and the
 * versions of CRIU, runc and containerd as they report themselves.
 */
#ifndef NP_HOSTINFO_H
#define NP_HOSTINFO_H

#include "buf.h"

/** Kernel release into kernel; "criu X, runc Y, containerd Z" into versions. */
void hostinfo_collect(struct buf *kernel, struct buf *versions, const char *criu);
/** Current UTC time as 2026-11-22T13:55:00Z into out. */
void hostinfo_date(struct buf *out);

#endif
