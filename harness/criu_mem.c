/*
 * criu_mem.c: see criu_mem.h. Field numbers are CRIU's images/mm.proto
 * (MmEntry: mm_start_stack 5, mm_start_brk 6, mm_brk 7, mm_arg_start 8,
 * mm_arg_end 9, mm_env_start 10, mm_env_end 11, vmas 14 with VmaEntry
 * start 1, end 2) and images/pagemap.proto (PagemapHead pages_id 1, then
 * PagemapEntry vaddr 1, nr_pages 2, in_parent 3, flags 4; flags PE_PARENT
 * 1, PE_LAZY 2, PE_PRESENT 4 as in criu/include/pagemap.h). Images written
 * before the flags field mark parent pages with in_parent only.
 */
#include "criu_mem.h"

#include <stdlib.h>
#include <string.h>

#include "criu_image.h"
#include "error.h"
#include "pb.h"
#include "banned.h"

#define MM_MAGIC 0x57492820u
#define PAGEMAP_MAGIC 0x56084025u
#define PE_PRESENT 4u
#define MAX_RUNS (1u << 20)
/* 2^47: the x86-64/arm64 user address space; nothing real lies above it */
#define ADDR_LIMIT (1ull << 47)
#define CHUNK (1u << 20)
#define MAX_MATCH 4096u

int criu_mm_parse(struct criu_mm *out, const unsigned char *data, size_t len)
{
	struct pb body, msg, sub;
	unsigned field, wire;
	unsigned long long v;
	int r = criu_image_body(&body, data, len, MM_MAGIC, "mm");
	memset(out, 0, sizeof(*out));
	if (r)
		return r;
	if (criu_image_entry(&body, &msg))
		return np_error_setc(NP_EINVALID, "CRIU mm image is empty or malformed");
	while ((r = pb_next(&msg, &field, &wire, &v, &sub)) == 0) {
		uint64_t *slot[] = { NULL, NULL, NULL, NULL, NULL, &out->start_stack, &out->start_brk,
				     &out->brk, &out->arg_start, &out->arg_end, &out->env_start,
				     &out->env_end };
		if (wire == 0 && field < sizeof(slot) / sizeof(slot[0]) && slot[field]) {
			*slot[field] = v;
		} else if (wire == 2 && field == 14) {
			unsigned long long start = 0, end = 0;
			unsigned long long *vs[] = { NULL, &start, &end };
			if (pb_fields(sub, vs, 3))
				break;
			out->nvmas++;
			if (end > start && end - start < ADDR_LIMIT)
				out->vma_bytes += end - start;
		}
	}
	if (r < 0)
		return np_error_setc(NP_EINVALID, "CRIU mm image is malformed");
	return 0;
}

void criu_pagemap_release(struct criu_pagemap *pm)
{
	free(pm->runs);
	memset(pm, 0, sizeof(*pm));
}

int criu_pagemap_parse(struct criu_pagemap *out, const unsigned char *data, size_t len)
{
	struct pb body, msg;
	int r = criu_image_body(&body, data, len, PAGEMAP_MAGIC, "pagemap"), e;
	size_t cap = 0;
	uint64_t off = 0;
	memset(out, 0, sizeof(*out));
	if (r)
		return r;
	if (criu_image_entry(&body, &msg))
		return np_error_setc(NP_EINVALID, "CRIU pagemap image has no head");
	unsigned long long id = 0;
	unsigned long long *head[] = { NULL, &id };
	if (pb_fields(msg, head, 2) || id > 0xffffffffull)
		return np_error_setc(NP_EINVALID, "CRIU pagemap head is malformed");
	out->pages_id = (unsigned)id;
	while ((e = criu_image_entry(&body, &msg)) == 0) {
		unsigned long long vaddr = 0, nr = 0, in_parent = 0, flags = 0, has_flags = 0;
		unsigned long long *f[] = { NULL, &vaddr, &nr, &in_parent, &flags };
		unsigned field, wire;
		unsigned long long v;
		struct pb m = msg, sub;
		if (pb_fields(msg, f, 5))
			goto bad;
		while (pb_next(&m, &field, &wire, &v, &sub) == 0)
			has_flags |= field == 4;
		/* bounded so that vaddr + size and the running offset cannot overflow */
		if (vaddr >= ADDR_LIMIT || vaddr % CRIU_PAGE_SIZE || nr > (ADDR_LIMIT - vaddr) / CRIU_PAGE_SIZE ||
		    out->nruns >= MAX_RUNS)
			goto bad;
		if (out->nruns == cap) {
			cap = cap ? cap * 2 : 16;
			struct criu_pm_run *g = realloc(out->runs, cap * sizeof(*g));
			if (!g)
				abort();
			out->runs = g;
		}
		struct criu_pm_run *run = &out->runs[out->nruns++];
		run->vaddr = vaddr;
		run->nr_pages = nr;
		run->present = has_flags ? (flags & PE_PRESENT) != 0 : !in_parent;
		run->offset = off;
		if (run->present) {
			off += nr * CRIU_PAGE_SIZE;
			out->present_pages += nr;
			if (off > ADDR_LIMIT)
				goto bad;
		}
	}
	if (e < 0)
		goto bad;
	return 0;
bad:
	criu_pagemap_release(out);
	return np_error_setc(NP_EINVALID, "CRIU pagemap image is malformed");
}

static const struct criu_pm_run *run_at(const struct criu_pagemap *pm, uint64_t addr)
{
	for (size_t i = 0; i < pm->nruns; i++) {
		const struct criu_pm_run *r = &pm->runs[i];
		if (addr >= r->vaddr && addr - r->vaddr < r->nr_pages * CRIU_PAGE_SIZE)
			return r;
	}
	return NULL;
}

static int pages_read(FILE *pages, uint64_t off, unsigned char *dst, size_t n)
{
	if (fseeko(pages, (off_t)off, SEEK_SET) || fread(dst, 1, n, pages) != n)
		return np_error_set("CRIU pages image is shorter than its pagemap says");
	return 0;
}

int criu_mem_read(struct buf *out, const struct criu_pagemap *pm, FILE *pages, uint64_t addr,
		  size_t len)
{
	unsigned char tmp[CRIU_PAGE_SIZE];
	if (len > CHUNK || addr >= ADDR_LIMIT || len > ADDR_LIMIT - addr)
		return np_error_setc(NP_EINVALID, "memory range 0x%llx+%zu is out of bounds",
				     (unsigned long long)addr, len);
	while (len) {
		const struct criu_pm_run *r = run_at(pm, addr);
		if (!r || !r->present)
			return np_error_setc(NP_ENOTFOUND, "address 0x%llx is not in this checkpoint's pages",
					     (unsigned long long)addr);
		uint64_t in = addr - r->vaddr, left = r->nr_pages * CRIU_PAGE_SIZE - in;
		size_t n = len < left ? len : (size_t)left;
		if (n > sizeof(tmp))
			n = sizeof(tmp);
		if (pages_read(pages, r->offset + in, tmp, n))
			return -1;
		buf_add(out, tmp, n);
		addr += n;
		len -= n;
	}
	return 0;
}

int criu_mem_scan(const struct criu_pagemap *pm, FILE *pages, criu_mem_find_fn find,
		  void *find_arg, size_t context, criu_mem_match_fn cb, void *cb_arg)
{
	size_t pre = context, post = context > MAX_MATCH ? context : MAX_MATCH;
	unsigned char *w = malloc(pre + CHUNK + post);
	int r = 0;
	if (!w)
		abort();
	for (size_t i = 0; !r && i < pm->nruns; i++) {
		const struct criu_pm_run *run = &pm->runs[i];
		uint64_t size = run->nr_pages * CRIU_PAGE_SIZE;
		if (!run->present)
			continue;
		for (uint64_t pos = 0; !r && pos < size; pos += CHUNK) {
			/* the window: the chunk, plus context before and a tail so a match may straddle */
			uint64_t from = pos > pre ? pos - pre : 0;
			uint64_t to = size - pos > CHUNK + post ? pos + CHUNK + post : size;
			uint64_t chunk_end = size - pos > CHUNK ? pos + CHUNK : size;
			size_t wlen = (size_t)(to - from), at = (size_t)(pos - from);
			if (pages_read(pages, run->offset + from, w, wlen)) {
				r = -1;
				break;
			}
			while (!r && at < wlen) {
				size_t off, mlen;
				if (!find(find_arg, w + at, wlen - at, &off, &mlen))
					break;
				size_t ms = at + off;
				if (from + ms >= chunk_end)
					break; /* the next chunk reports it */
				size_t cs = ms > context ? ms - context : 0;
				size_t ce = ms + mlen + context < wlen ? ms + mlen + context : wlen;
				r = cb(cb_arg, run->vaddr + from + ms, mlen, w + cs, ce - cs, ms - cs);
				at = ms + (mlen ? mlen : 1);
			}
		}
	}
	free(w);
	return r;
}

void criu_mem_strings(struct buf *out, const unsigned char *p, size_t len, char sep)
{
	while (len && !p[len - 1])
		len--;
	for (size_t i = 0; i < len; i++)
		buf_addch(out, p[i] ? (char)p[i] : sep);
}
