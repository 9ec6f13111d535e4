/*
 * counter_mem.c: the counter's value as the checkpoint froze it, read
 * from the dumped memory of the counter's shell rather than from the file
 * it writes. busybox ash keeps a variable as one "NAME=VALUE" string on
 * its heap, NUL-terminated and preceded by the allocator's header, so the
 * live counter shows up as "\0i=DIGITS\0". The parsed script also holds
 * the literal "i=0", and a freed older "i=N" may survive, but the counter
 * only grows: the largest value found is the live one.
 */
#include "counter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "inspect.h"
#include "banned.h"

static const char needle[] = "\0i=";
#define NEEDLE_LEN 3

static bool find_var(void *arg, const unsigned char *p, size_t len, size_t *off, size_t *mlen)
{
	(void)arg;
	const unsigned char *m = memmem(p, len, needle, NEEDLE_LEN);
	if (!m)
		return false;
	*off = (size_t)(m - p);
	*mlen = NEEDLE_LEN;
	return true;
}

static int on_var(void *arg, uint64_t addr, size_t mlen, const unsigned char *ctx, size_t ctx_len,
		  size_t before)
{
	long *best = arg, v = 0;
	size_t i = before + mlen, digits = 0;
	(void)addr;
	while (i < ctx_len && ctx[i] >= '0' && ctx[i] <= '9' && digits < 18)
		v = v * 10 + (ctx[i++] - '0'), digits++;
	if (digits && i < ctx_len && !ctx[i] && v > *best)
		*best = v;
	return 0;
}

int counter_read_memory(long *out, const char *checkpoint)
{
	struct checkpoint_info ci;
	FILE *pages;
	long best = -1;
	int r = inspect_checkpoint_ex(&ci, checkpoint, INSPECT_MEMORY);
	if (r)
		return r;
	/* the counter's shell is the container's init: the root of the tree */
	size_t root = 0;
	while (root < ci.nprocs && inspect_task_index(&ci, ci.procs[root].ppid) >= 0)
		root++;
	if (root == ci.nprocs) {
		r = np_error_setc(NP_EINVALID, "'%s' holds no process tree", checkpoint);
		goto out;
	}
	if ((r = inspect_pages(&pages, &ci, root)))
		goto out;
	if ((r = criu_mem_scan(&ci.tasks[root].pm, pages, find_var, NULL, 24, on_var, &best)) < 0)
		goto out;
	if (best < 0) {
		r = np_error_setc(NP_ENOTFOUND, "no counter variable (i=N) in the memory of pid %u in '%s'",
				  ci.procs[root].pid, checkpoint);
		goto out;
	}
	*out = best;
	r = 0;
out:
	inspect_free(&ci);
	return r;
}
