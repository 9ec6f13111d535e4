/*
 * pb.c: see pb.h.
 */
#include "pb.h"

#include "banned.h"

int pb_varint(struct pb *b, unsigned long long *out)
{
	unsigned long long v = 0;
	for (int shift = 0; shift < 64 && b->p < b->end; shift += 7) {
		unsigned char c = *b->p++;
		v |= (unsigned long long)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return (*out = v), 0;
	}
	return -1;
}

int pb_skip(struct pb *b, unsigned wire)
{
	unsigned long long n;
	switch (wire) {
	case 0:
		return pb_varint(b, &n);
	case 1:
		n = 8;
		break;
	case 2:
		if (pb_varint(b, &n))
			return -1;
		break;
	case 5:
		n = 4;
		break;
	default:
		return -1;
	}
	if ((unsigned long long)(b->end - b->p) < n)
		return -1;
	b->p += n;
	return 0;
}

/* Decode varint fields of a message into slots[field number]. */
int pb_fields(struct pb b, unsigned long long **slots, unsigned nslots)
{
	while (b.p < b.end) {
		unsigned long long key, v;
		if (pb_varint(&b, &key))
			return -1;
		unsigned field = (unsigned)(key >> 3), wire = (unsigned)(key & 7);
		if (wire == 0 && field < nslots && slots[field]) {
			if (pb_varint(&b, &v))
				return -1;
			*slots[field] = v;
		} else if (pb_skip(&b, wire)) {
			return -1;
		}
	}
	return 0;
}

int pb_next(struct pb *b, unsigned *field, unsigned *wire, unsigned long long *v, struct pb *sub)
{
	unsigned long long key;
	if (b->p >= b->end)
		return 1;
	if (pb_varint(b, &key))
		return -1;
	*field = (unsigned)(key >> 3);
	*wire = (unsigned)(key & 7);
	if (*wire == 0)
		return pb_varint(b, v);
	if (*wire != 2)
		return pb_skip(b, *wire);
	if (pb_varint(b, v) || *v > (unsigned long long)(b->end - b->p))
		return -1;
	sub->p = b->p;
	sub->end = b->p + *v;
	b->p += *v;
	return 0;
}

unsigned pb_le32(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8 | (unsigned)p[2] << 16 | (unsigned)p[3] << 24;
}
