/*
 * modules.c: the table of step kinds. To add a kind: write
 * modules/<name>.c exporting `const struct step_kind step_<name>`, declare
 * it below and add one row. Nothing else in the engine changes.
 */
#include <string.h>

#include "step.h"
#include "banned.h"

extern const struct step_kind step_file, step_line, step_yaml_set, step_toml_set, step_json_set,
	step_install, step_command, step_verify, step_service, step_packages, step_fetch,
	step_extract, step_build, step_git;

static const struct step_kind *const kinds[] = {
	&step_file,    &step_line,    &step_yaml_set, &step_toml_set, &step_json_set,
	&step_install, &step_command, &step_verify,   &step_service,  &step_packages,
	&step_fetch,   &step_extract, &step_build,    &step_git,
};

const struct step_kind *step_kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i]->name, name))
			return kinds[i];
	return NULL;
}

void step_kind_list(struct buf *out)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		buf_addf(out, "%s%s", i ? ", " : "", kinds[i]->name);
}
