/*
 * ckpt_diff.h: what changed between two checkpoints of the same container
 * (`crharness diff`): processes, open files, memory pages and the root fs
 * diff. One JSON document is the result; the text view is printed from it,
 * so both always say the same.
 */
#ifndef NP_CKPT_DIFF_H
#define NP_CKPT_DIFF_H

#include <stdio.h>
#include <jansson.h>

#include "inspect.h"

/** A new JSON object: the differences from a to b (inspected with INSPECT_ROOTFS). */
json_t *ckpt_diff(const char *pa, const struct checkpoint_info *a, const char *pb,
		  const struct checkpoint_info *b);
/** The same as text. */
void ckpt_diff_print(FILE *f, const json_t *d);

#endif
