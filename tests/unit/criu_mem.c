/*
 * Unit tests for harness/criu_mem.c and criu_files.c on hand-encoded
 * images: pagemap offsets and flags, reads across runs, pages that are
 * not in the checkpoint, a match straddling the scanner's chunks, hostile
 * counts and addresses, and an inet socket FileEntry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "criu_files.h"
#include "criu_mem.h"
#include "error.h"
#include "suites.h"

static void varint(struct buf *b, unsigned long long v)
{
	do {
		unsigned char c = v & 0x7f;
		v >>= 7;
		buf_addch(b, (char)(c | (v ? 0x80 : 0)));
	} while (v);
}

static void field(struct buf *b, unsigned num, unsigned long long v)
{
	varint(b, num << 3);
	varint(b, v);
}

static void entry(struct buf *img, const struct buf *msg)
{
	unsigned char n[4] = { msg->len & 0xff, (msg->len >> 8) & 0xff, 0, 0 };
	buf_add(img, n, 4);
	buf_add(img, msg->ptr, msg->len);
}

static void image(struct buf *img, unsigned magic)
{
	unsigned char h[8] = { 0x19, 0x43, 0x56, 0x54, magic & 0xff, (magic >> 8) & 0xff,
			       (magic >> 16) & 0xff, magic >> 24 };
	buf_add(img, h, 8);
}

/* pagemap: head {pages_id 7}, then runs (vaddr, nr_pages, flags; flags < 0: legacy in_parent) */
static void pagemap(struct buf *img, const long long (*runs)[3], size_t n)
{
	struct buf m = BUF_INIT;
	image(img, 0x56084025u);
	field(&m, 1, 7);
	entry(img, &m);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&m);
		field(&m, 1, (unsigned long long)runs[i][0]);
		field(&m, 2, (unsigned long long)runs[i][1]);
		if (runs[i][2] >= 0)
			field(&m, 4, (unsigned long long)runs[i][2]);
		else
			field(&m, 3, 1); /* in_parent, before the flags field existed */
		entry(img, &m);
	}
	buf_release(&m);
}

START_TEST(test_criu_mem__pagemap_offsets_and_reads)
{
	const long long runs[][3] = { { 0x10000, 2, 4 }, { 0x20000, 1, 1 }, { 0x30000, 1, 4 }, { 0x40000, 1, -1 } };
	struct buf img = BUF_INIT, out = BUF_INIT;
	struct criu_pagemap pm;
	pagemap(&img, runs, 4);
	ck_assert_int_eq(criu_pagemap_parse(&pm, (const unsigned char *)img.ptr, img.len), 0);
	ck_assert_uint_eq(pm.pages_id, 7);
	ck_assert_uint_eq(pm.nruns, 4);
	ck_assert_uint_eq(pm.present_pages, 3);
	ck_assert(!pm.runs[1].present && !pm.runs[3].present);
	ck_assert_uint_eq(pm.runs[2].offset, 2 * CRIU_PAGE_SIZE); /* the parent run takes no room */
	/* pages: page 0 'a', page 1 'b', page 2 'c' */
	char *pages = malloc(3 * CRIU_PAGE_SIZE);
	memset(pages, 'a', CRIU_PAGE_SIZE);
	memset(pages + CRIU_PAGE_SIZE, 'b', CRIU_PAGE_SIZE);
	memset(pages + 2 * CRIU_PAGE_SIZE, 'c', CRIU_PAGE_SIZE);
	FILE *f = fmemopen(pages, 3 * CRIU_PAGE_SIZE, "rb");
	ck_assert_int_eq(criu_mem_read(&out, &pm, f, 0x10000 + CRIU_PAGE_SIZE - 2, 4), 0);
	ck_assert_str_eq(out.ptr, "aabb"); /* across a page boundary */
	buf_reset(&out);
	ck_assert_int_eq(criu_mem_read(&out, &pm, f, 0x30000 + 10, 3), 0);
	ck_assert_str_eq(out.ptr, "ccc");
	ck_assert_int_eq(criu_mem_read(&out, &pm, f, 0x20000, 1), NP_ENOTFOUND);
	ck_assert_int_eq(criu_mem_read(&out, &pm, f, 0x40000, 1), NP_ENOTFOUND);
	ck_assert_int_eq(criu_mem_read(&out, &pm, f, 0x50000, 1), NP_ENOTFOUND);
	ck_assert_int_eq(criu_mem_read(&out, &pm, f, 0x10000, (2u << 20)), NP_EINVALID);
	fclose(f);
	/* a pages image shorter than the pagemap says */
	f = fmemopen(pages, CRIU_PAGE_SIZE, "rb");
	buf_reset(&out);
	ck_assert_int_eq(criu_mem_read(&out, &pm, f, 0x30000, 1), -1);
	fclose(f);
	free(pages);
	criu_pagemap_release(&pm);
	buf_release(&img);
	buf_release(&out);
}
END_TEST

START_TEST(test_criu_mem__hostile_pagemaps)
{
	const long long huge[][3] = { { 0x10000, 1ll << 40, 4 } };
	const long long high[][3] = { { 1ll << 48, 1, 4 } };
	const long long odd[][3] = { { 0x10001, 1, 4 } };
	const long long (*cases[])[3] = { huge, high, odd };
	for (size_t i = 0; i < 3; i++) {
		struct buf img = BUF_INIT;
		struct criu_pagemap pm;
		pagemap(&img, cases[i], 1);
		ck_assert_int_eq(criu_pagemap_parse(&pm, (const unsigned char *)img.ptr, img.len), NP_EINVALID);
		ck_assert_ptr_null(pm.runs);
		buf_release(&img);
	}
	/* a good pagemap cut mid-entry */
	const long long good[][3] = { { 0x10000, 1, 4 } };
	struct buf img = BUF_INIT;
	struct criu_pagemap pm;
	pagemap(&img, good, 1);
	ck_assert_int_eq(criu_pagemap_parse(&pm, (const unsigned char *)img.ptr, img.len), 0);
	criu_pagemap_release(&pm);
	ck_assert_int_eq(criu_pagemap_parse(&pm, (const unsigned char *)img.ptr, img.len - 1), NP_EINVALID);
	buf_release(&img);
}
END_TEST

struct seen {
	unsigned long long addr[8];
	int n;
};

static bool find_x(void *arg, const unsigned char *p, size_t len, size_t *off, size_t *mlen)
{
	(void)arg;
	const unsigned char *m = memmem(p, len, "NEEDLE", 6);
	if (!m)
		return false;
	*off = (size_t)(m - p);
	*mlen = 6;
	return true;
}

static int on_x(void *arg, uint64_t addr, size_t mlen, const unsigned char *ctx, size_t ctx_len,
		size_t before)
{
	struct seen *s = arg;
	ck_assert_uint_eq(mlen, 6);
	ck_assert(before + mlen <= ctx_len);
	ck_assert(!memcmp(ctx + before, "NEEDLE", 6));
	if (s->n < 8)
		s->addr[s->n++] = addr;
	return 0;
}

START_TEST(test_criu_mem__scan_across_chunks)
{
	/* one run of 300 pages (> the 1 MiB chunk): needles at the start, across the chunk edge, at the end */
	const long long runs[][3] = { { 0x100000, 300, 4 } };
	struct buf img = BUF_INIT;
	struct criu_pagemap pm;
	struct seen s = { { 0 }, 0 };
	size_t size = 300 * CRIU_PAGE_SIZE, edge = 1u << 20;
	char *pages = calloc(1, size);
	pagemap(&img, runs, 1);
	ck_assert_int_eq(criu_pagemap_parse(&pm, (const unsigned char *)img.ptr, img.len), 0);
	memcpy(pages, "NEEDLE", 6);
	memcpy(pages + edge - 3, "NEEDLE", 6);
	memcpy(pages + size - 6, "NEEDLE", 6);
	FILE *f = fmemopen(pages, size, "rb");
	ck_assert_int_eq(criu_mem_scan(&pm, f, find_x, NULL, 16, on_x, &s), 0);
	ck_assert_int_eq(s.n, 3); /* each once, none twice */
	ck_assert_uint_eq(s.addr[0], 0x100000);
	ck_assert_uint_eq(s.addr[1], 0x100000 + edge - 3);
	ck_assert_uint_eq(s.addr[2], 0x100000 + size - 6);
	fclose(f);
	free(pages);
	criu_pagemap_release(&pm);
	buf_release(&img);
}
END_TEST

START_TEST(test_criu_mem__strings)
{
	struct buf out = BUF_INIT;
	criu_mem_strings(&out, (const unsigned char *)"sleep\0" "0.1\0\0", 10, ' ');
	ck_assert_str_eq(out.ptr, "sleep 0.1");
	buf_release(&out);
}
END_TEST

START_TEST(test_criu_files__inet_and_unix)
{
	struct buf img = BUF_INIT, isk = BUF_INIT, fe = BUF_INIT, usk = BUF_INIT;
	struct criu_file *f = NULL;
	size_t n = 0;
	image(&img, 0x56303138u);
	field(&isk, 3, 2);
	field(&isk, 4, 1);
	field(&isk, 5, 6);
	field(&isk, 6, 1);
	field(&isk, 7, 40000);
	field(&isk, 8, 443);
	field(&isk, 11, 0x0100007f); /* 127.0.0.1 as CRIU stores it */
	field(&isk, 12, 0x0201a8c0); /* 192.168.1.2 */
	field(&fe, 1, 4);
	field(&fe, 2, 5);
	varint(&fe, 4 << 3 | 2);
	varint(&fe, isk.len);
	buf_add(&fe, isk.ptr, isk.len);
	entry(&img, &fe);
	buf_reset(&fe);
	field(&usk, 3, 1);
	varint(&usk, 11 << 3 | 2);
	varint(&usk, 6);
	buf_add(&usk, "\0sock\0", 6); /* abstract, with the kernel's trailing NUL */
	field(&fe, 1, 5);
	field(&fe, 2, 6);
	varint(&fe, 16 << 3 | 2);
	varint(&fe, usk.len);
	buf_add(&fe, usk.ptr, usk.len);
	entry(&img, &fe);
	ck_assert_int_eq(criu_files_parse(&f, &n, (const unsigned char *)img.ptr, img.len), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(f[0].desc, "TCP 127.0.0.1:40000 -> 192.168.1.2:443 ESTABLISHED");
	ck_assert_str_eq(f[1].uname, "@sock");
	ck_assert_str_eq(f[1].desc, "UNIX stream @sock");
	free(f);
	/* a length that runs past the end */
	ck_assert_int_eq(criu_files_parse(&f, &n, (const unsigned char *)img.ptr, img.len - 3), NP_EINVALID);
	ck_assert_ptr_null(f);
	buf_release(&img);
	buf_release(&isk);
	buf_release(&fe);
	buf_release(&usk);
}
END_TEST

Suite *suite_criu_mem(void)
{
	Suite *s = suite_create("criu_mem");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_criu_mem__pagemap_offsets_and_reads);
	tcase_add_test(tc, test_criu_mem__hostile_pagemaps);
	tcase_add_test(tc, test_criu_mem__scan_across_chunks);
	tcase_add_test(tc, test_criu_mem__strings);
	tcase_add_test(tc, test_criu_files__inet_and_unix);
	suite_add_tcase(s, tc);
	return s;
}
