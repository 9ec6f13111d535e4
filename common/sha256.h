/*
 * sha256.h: SHA-256 of memory and files through OpenSSL's EVP API, as
 * lowercase hex (the form recipes write).
 */
#ifndef NP_SHA256_H
#define NP_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256_ctx;

/** Hex digest of len bytes at data into out (65 bytes). */
void sha256_hex_mem(char out[SHA256_HEX_LEN + 1], const void *data, size_t len);
/** Hex digest of a file; NP_ENOTFOUND when missing, NP_ERROR otherwise. */
int sha256_hex_file(char out[SHA256_HEX_LEN + 1], const char *path);

/** Incremental use: new (NULL on failure), update, final (frees ctx). */
struct sha256_ctx *sha256_new(void);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final_hex(struct sha256_ctx *c, char out[SHA256_HEX_LEN + 1]);

/** True when s is 64 hex digits. */
int sha256_is_hex(const char *s);

#endif
