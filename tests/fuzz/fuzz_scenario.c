/* Fuzz target: crharness scenario loader. */
#include "scenario.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct scenario *s = NULL;
	if (!scenario_load(&s, fuzz_file(data, len, ".yaml")))
		scenario_free(s);
	return 0;
}
