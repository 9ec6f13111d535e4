/*
 * criu_mem.h: a dumped process's memory as CRIU stores it. mm-PID.img
 * says where the arguments and environment live (MmEntry) and lists the
 * VMAs; pagemap-PID.img lists runs of pages (PagemapEntry: vaddr,
 * nr_pages, flags) whose contents follow one another in
 * pages-<pages_id>.img. Only runs flagged present are in that file (the
 * rest are in a parent image, or lazy). Everything read from an image is
 * untrusted: counts, addresses and sizes are bounded before use.
 */
#ifndef NP_CRIU_MEM_H
#define NP_CRIU_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

#define CRIU_PAGE_SIZE 4096u

struct criu_mm {
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t start_brk, brk, start_stack;
	size_t nvmas;
	uint64_t vma_bytes; /* sum of VMA sizes: the address space mapped */
};

struct criu_pm_run {
	uint64_t vaddr, nr_pages;
	uint64_t offset; /* byte offset in the pages image when present */
	bool present;
};

struct criu_pagemap {
	unsigned pages_id;
	struct criu_pm_run *runs;
	size_t nruns;
	uint64_t present_pages; /* pages stored in this image set */
};

/** Parse mm-PID.img; NP_EINVALID when malformed. */
int criu_mm_parse(struct criu_mm *out, const unsigned char *data, size_t len);
/** Parse pagemap-PID.img into *out (criu_pagemap_release frees); NP_EINVALID when malformed. */
int criu_pagemap_parse(struct criu_pagemap *out, const unsigned char *data, size_t len);
void criu_pagemap_release(struct criu_pagemap *pm);

/**
 * Append the bytes at [addr, addr+len) of the process to out, reading the
 * pages image `pages` (len at most 1 MiB). NP_ENOTFOUND when part of the
 * range is not in this checkpoint; -1 on a short pages image.
 */
int criu_mem_read(struct buf *out, const struct criu_pagemap *pm, FILE *pages, uint64_t addr,
		  size_t len);

/**
 * Called for each match: its address, and the bytes around it
 * (ctx_before bytes before the match start in ctx). Return non-zero to stop.
 */
typedef int (*criu_mem_match_fn)(void *arg, uint64_t addr, size_t match_len,
				 const unsigned char *ctx, size_t ctx_len, size_t ctx_before);

/**
 * Walk every present run of the pagemap in chunks and call match(chunk,
 * len, &off, &mlen) to find matches; found ones go to cb with `context`
 * bytes either side (within the run). A match may not be longer than
 * 4 KiB. Returns 0, a callback's non-zero value, or -1 (short image).
 */
typedef bool (*criu_mem_find_fn)(void *arg, const unsigned char *p, size_t len, size_t *off,
				 size_t *mlen);
int criu_mem_scan(const struct criu_pagemap *pm, FILE *pages, criu_mem_find_fn find,
		  void *find_arg, size_t context, criu_mem_match_fn cb, void *cb_arg);

/** NUL-separated strings in [p, p+len) joined with sep (cmdline, environ). */
void criu_mem_strings(struct buf *out, const unsigned char *p, size_t len, char sep);

#endif
