/* Fuzz target: checkpoint inspection of an archive (tar/zip, any filter). */
#include "inspect.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct checkpoint_info ci;
	if (!inspect_checkpoint(&ci, fuzz_file(data, len, ".tar")))
		inspect_free(&ci);
	else
		inspect_free(&ci);
	return 0;
}
