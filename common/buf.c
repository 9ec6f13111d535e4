/*
 * buf.c: growing NUL-terminated buffer. Allocation failure is treated as
 * fatal (like git's xmalloc): there is no sensible recovery in a provisioning
 * tool that has run out of memory, and checking every append would bury the
 * logic of every caller.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

char buf__empty[1];

void buf_init(struct buf *b)
{
	b->ptr = buf__empty;
	b->len = 0;
	b->alloc = 0;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->ptr);
	buf_init(b);
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->alloc)
		return;
	size_t n = b->alloc ? b->alloc : 64;
	while (n < need)
		n *= 2;
	char *p = realloc(b->alloc ? b->ptr : NULL, n);
	if (!p) {
		fputs("fatal: out of memory\n", stderr);
		abort();
	}
	if (!b->alloc)
		p[0] = '\0';
	b->ptr = p;
	b->alloc = n;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	buf_grow(b, len);
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(b->ptr + b->len, b->alloc ? b->alloc - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->alloc) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->ptr + b->len, b->alloc - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->alloc)
		return;
	b->len = len;
	b->ptr[len] = '\0';
}

void buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *p;
	if (!b->alloc) {
		p = calloc(1, 1);
		if (!p)
			abort();
	} else {
		p = b->ptr;
	}
	if (len_out)
		*len_out = b->len;
	buf_init(b);
	return p;
}

void buf_rtrim(struct buf *b)
{
	while (b->len && (b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == ' ' ||
			  b->ptr[b->len - 1] == '\t' || b->ptr[b->len - 1] == '\r'))
		b->len--;
	if (b->alloc)
		b->ptr[b->len] = '\0';
}

void buf_add_shquoted(struct buf *b, const char *s)
{
	buf_addch(b, '\'');
	for (; *s; s++)
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addch(b, *s);
	buf_addch(b, '\'');
}
