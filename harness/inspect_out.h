/*
 * inspect_out.h: printing a checkpoint description (text or JSON).
 */
#ifndef NP_INSPECT_OUT_H
#define NP_INSPECT_OUT_H

#include <stdio.h>
#include <jansson.h>

#include "inspect.h"

void inspect_print_text(FILE *f, const char *path, const struct checkpoint_info *ci);
/** A new JSON object describing ci. */
json_t *inspect_to_json(const char *path, const struct checkpoint_info *ci);

#endif
