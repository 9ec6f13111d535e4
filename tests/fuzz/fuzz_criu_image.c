/*
 * Fuzz target: the CRIU image decoders (pstree, core, stats, mm, pagemap,
 * files, fdinfo, ids, mountpoints) on raw bytes, and a memory scan of the
 * decoded pagemap over the same bytes read as its pages image.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "criu_files.h"
#include "criu_image.h"
#include "criu_mem.h"
#include "criu_stats.h"

static bool find_any(void *arg, const unsigned char *p, size_t len, size_t *off, size_t *mlen)
{
	(void)arg;
	for (size_t i = 0; i < len; i++)
		if (p[i] == 'i') {
			*off = i;
			*mlen = 1;
			return true;
		}
	return false;
}

static int on_match(void *arg, uint64_t addr, size_t mlen, const unsigned char *ctx, size_t ctx_len,
		    size_t before)
{
	(void)addr;
	(void)mlen;
	if (ctx_len && before < ctx_len)
		*(unsigned *)arg += ctx[before];
	return *(unsigned *)arg > 100000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct criu_proc *p = NULL;
	struct criu_file *f = NULL;
	struct criu_fd *fd = NULL;
	struct criu_mount *m = NULL;
	struct criu_mm mm;
	struct criu_pagemap pm;
	size_t n = 0;
	unsigned a, b, sum = 0;
	char comm[32];
	struct criu_stats st = { 0 };
	if (!criu_pstree_parse(&p, &n, data, len))
		free(p);
	criu_core_comm(comm, data, len);
	criu_stats_parse(&st, data, len);
	criu_mm_parse(&mm, data, len);
	if (!criu_files_parse(&f, &n, data, len))
		free(f);
	if (!criu_fdinfo_parse(&fd, &n, data, len))
		free(fd);
	if (!criu_mounts_parse(&m, &n, data, len))
		free(m);
	criu_ids_parse(&a, &b, data, len);
	if (!criu_pagemap_parse(&pm, data, len)) {
		FILE *pages = len ? fmemopen((void *)data, len, "rb") : NULL;
		if (pages) {
			struct buf out = BUF_INIT;
			for (size_t i = 0; i < pm.nruns && i < 4; i++)
				criu_mem_read(&out, &pm, pages, pm.runs[i].vaddr + 5, 5000);
			criu_mem_scan(&pm, pages, find_any, NULL, 16, on_match, &sum);
			buf_release(&out);
			fclose(pages);
		}
		criu_pagemap_release(&pm);
	}
	return 0;
}
