/*
 * gomod.h: a git step's source taken from the Go module proxy instead
 * (`--source NAME=gomod:MODULE@VERSION`); see gomod.c.
 */
#ifndef NP_GOMOD_H
#define NP_GOMOD_H
#include "step.h"

/**
 * Download MODULE@VERSION (spec) with the go command, check the recipe's
 * `gomod_sum` pin, and say whether dest holds that module already. Fills
 * ch (priv owns the download's details). NP_ENOTFOUND when go or the
 * module is missing, NP_EVERIFY on a pin mismatch.
 */
int gomod_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch, const char *spec);
/** Verify the zip's h1: hash and unpack it into dest (journaled, atomic). */
int gomod_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch);
#endif
