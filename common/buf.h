/*
 * buf.h: the one growing byte buffer used everywhere (after git's strbuf).
 * Always NUL-terminated so it can be handed to C string APIs; may also hold
 * binary data (len is authoritative).
 */
#ifndef NP_BUF_H
#define NP_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *ptr;   /* never NULL after buf_init: points at "" when empty */
	size_t len;
	size_t alloc;
};

#define BUF_INIT { buf__empty, 0, 0 }
extern char buf__empty[];

/** Initialise an empty buffer; allocates nothing. */
void buf_init(struct buf *b);
/** Free the contents; the buffer is empty and reusable afterwards. */
void buf_release(struct buf *b);
/** Ensure room for extra more bytes plus the NUL; aborts on OOM. */
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/** Truncate to len bytes (len <= b->len). */
void buf_setlen(struct buf *b, size_t len);
void buf_reset(struct buf *b);
/** Hand the string to the caller (who frees it); the buffer becomes empty. */
char *buf_detach(struct buf *b, size_t *len_out);
/** Append s single-quoted for /bin/sh (any byte is safe inside). */
void buf_add_shquoted(struct buf *b, const char *s);
/** Remove trailing whitespace. */
void buf_rtrim(struct buf *b);

#endif
