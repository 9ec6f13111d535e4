/* Fuzz target: recipe loader, argument validation and template rendering
 * (nodeprep validate's whole path, which never touches the host). */
#include <stdio.h>
#include <string.h>

#include "exec.h"
#include "recipe.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *path = fuzz_file(data, len, ".yaml");
	const char *names[] = { path, NULL }, *search[] = { NULL };
	struct recipe_set set = RECIPE_SET_INIT;
	if (!recipe_set_load(&set, names, search)) {
		struct exec_opts o = { EXEC_VALIDATE, "", "/nonexistent-fuzz-state", NULL, NULL, false,
				       NULL, NULL, NULL };
		struct exec_result res;
		exec_run(&set, &o, &res);
		exec_result_release(&res);
	}
	recipe_set_release(&set);
	return 0;
}
