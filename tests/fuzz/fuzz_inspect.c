/*
 * Fuzz target: checkpoint inspection of an archive (tar/zip, any filter),
 * memory and root fs diff included, and what is printed from it: the JSON
 * with every section, the text view, and a diff against itself.
 */
#include <stdio.h>

#include "ckpt_diff.h"
#include "inspect.h"
#include "inspect_out.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct checkpoint_info ci;
	const char *path = fuzz_file(data, len, ".tar");
	if (!inspect_checkpoint_ex(&ci, path, INSPECT_MEMORY | INSPECT_ROOTFS)) {
		struct inspect_view all = { true, true, true, true, true, true, true };
		FILE *null = fopen("/dev/null", "w");
		json_decref(inspect_to_json(path, &ci, &all));
		json_t *d = ckpt_diff(path, &ci, path, &ci);
		if (null) {
			inspect_print_text(null, path, &ci, &all);
			ckpt_diff_print(null, d);
			fclose(null);
		}
		json_decref(d);
	}
	inspect_free(&ci);
	return 0;
}
