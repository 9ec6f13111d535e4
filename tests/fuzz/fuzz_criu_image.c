/* Fuzz target: the CRIU image decoders (pstree, core, stats) on raw bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "criu_image.h"
#include "criu_stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct criu_proc *p = NULL;
	size_t n = 0;
	char comm[32];
	struct criu_stats st = { 0 };
	if (!criu_pstree_parse(&p, &n, data, len))
		free(p);
	criu_core_comm(comm, data, len);
	criu_stats_parse(&st, data, len);
	return 0;
}
