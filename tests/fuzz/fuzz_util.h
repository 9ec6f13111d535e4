/*
 * fuzz_util.h: libFuzzer targets feed file-based loaders through one
 * private temp file per process (the loaders take paths, as users do).
 */
#ifndef NP_FUZZ_UTIL_H
#define NP_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline const char *fuzz_file(const uint8_t *data, size_t len, const char *suffix)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/np-fuzz-%ld%s", (long)getpid(), suffix);
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (len && fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
	return path;
}

#endif
