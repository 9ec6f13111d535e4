/*
 * inspect_out.h: printing a checkpoint description (text or JSON). The
 * view says which optional sections to add, as checkpointctl inspect's
 * --ps-tree-cmd, --ps-tree-env, --files, --sockets, --mounts, --stats.
 */
#ifndef NP_INSPECT_OUT_H
#define NP_INSPECT_OUT_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "inspect.h"

struct inspect_view {
	bool cmd, env, files, sockets, mounts, network, stats;
};

void inspect_print_text(FILE *f, const char *path, const struct checkpoint_info *ci,
			const struct inspect_view *v);
/** A new JSON object describing ci, with the sections v asks for. */
json_t *inspect_to_json(const char *path, const struct checkpoint_info *ci,
			const struct inspect_view *v);

#endif
