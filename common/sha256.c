/*
 * sha256.c: thin wrapper over OpenSSL EVP. Kept in one file so OpenSSL's
 * types and error handling stay out of every other module.
 */
#include "sha256.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "error.h"
#include "banned.h"

struct sha256_ctx {
	EVP_MD_CTX *md;
};

struct sha256_ctx *sha256_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	/* the wrapper struct is the EVP context itself, cast back and forth */
	return (struct sha256_ctx *)md;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	EVP_DigestUpdate((EVP_MD_CTX *)c, data, len);
}

static void hex__encode(char *out, const unsigned char *d, unsigned n)
{
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void sha256_final_hex(struct sha256_ctx *c, char out[SHA256_HEX_LEN + 1])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex((EVP_MD_CTX *)c, d, &n);
	EVP_MD_CTX_free((EVP_MD_CTX *)c);
	hex__encode(out, d, n);
}

void sha256_hex_mem(char out[SHA256_HEX_LEN + 1], const void *data, size_t len)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_Digest(data, len, d, &n, EVP_sha256(), NULL);
	hex__encode(out, d, n);
}

int sha256_hex_file(char out[SHA256_HEX_LEN + 1], const char *path)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return np_error_setc(errno == ENOENT ? NP_ENOTFOUND : NP_ERROR, "cannot open '%s': %s",
				     path, strerror(errno));
	struct sha256_ctx *c = sha256_new();
	if (!c) {
		close(fd);
		return np_error_set("sha256: cannot initialise digest");
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			sha256_final_hex(c, out);
			return np_error_set("cannot read '%s': %s", path, strerror(e));
		}
		if (n == 0)
			break;
		sha256_update(c, chunk, (size_t)n);
	}
	close(fd);
	sha256_final_hex(c, out);
	return 0;
}

int sha256_is_hex(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return i == SHA256_HEX_LEN;
}
