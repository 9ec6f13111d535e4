/*
 * pb.h: the smallest protobuf wire-format reader that CRIU's image files
 * need (varints, length-delimited fields, skipping the rest). protobuf-c
 * would need generated code per message for a handful of fields.
 */
#ifndef NP_PB_H
#define NP_PB_H

struct pb {
	const unsigned char *p, *end;
};

int pb_varint(struct pb *b, unsigned long long *out);
/** Skip one value of wire type wire. */
int pb_skip(struct pb *b, unsigned wire);
/** Decode the varint fields of a message into slots[field number] (NULL: ignore). */
int pb_fields(struct pb b, unsigned long long **slots, unsigned nslots);
/**
 * Next field of a message: its number and wire type; for wire type 2 the
 * payload in sub, for 0 the value in v. Returns 1 at the end, -1 when malformed.
 */
int pb_next(struct pb *b, unsigned *field, unsigned *wire, unsigned long long *v, struct pb *sub);
/** Little-endian u32 (CRIU image magics and entry sizes). */
unsigned pb_le32(const unsigned char *p);

#endif
