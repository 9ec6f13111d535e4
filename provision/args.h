/*
 * args.h: declarative field specs for step kinds, and typed accessors on a
 * step's rendered arguments. One validator for every kind means every kind
 * reports unknown keys, wrong types and missing fields the same way, with
 * FILE:LINE:COL.
 */
#ifndef NP_ARGS_H
#define NP_ARGS_H

#include <stdbool.h>

#include "ytree.h"

enum arg_type {
	ARG_STR,     /* scalar, any text */
	ARG_BOOL,    /* true/false */
	ARG_INT,     /* decimal integer */
	ARG_MODE,    /* octal file mode such as "0644" */
	ARG_LIST,    /* list of scalars */
	ARG_MAP,     /* mapping of key to scalar */
	ARG_STR_OR_LIST,
	ARG_PATH,    /* absolute path on the target (--root confines it; relative is refused) */
};

struct arg_spec {
	const char *name;
	enum arg_type type;
	bool required;
	const char *choices; /* "a|b|c" for ARG_STR enums, or NULL */
};

/**
 * Check args (a MAP, or a scalar when the kind allows a short form) against
 * specs (terminated by a NULL name). Returns 0 or NP_EINVALID with
 * "FILE:LINE:COL: ..." naming the field. Templated scalars ("{{ }}") are
 * accepted for every type here and checked again after rendering.
 */
int args_validate(const char *file, const char *kind, const struct ynode *args,
		  const struct arg_spec *specs);

/** Typed accessors on rendered args; defaults when absent. */
const char *args_str(const struct ynode *args, const char *name, const char *def);
bool args_bool(const struct ynode *args, const char *name, bool def);
long args_int(const struct ynode *args, const char *name, long def);
/** Octal mode, or -1 when absent. */
int args_mode(const struct ynode *args, const char *name);
/** A list field (or a scalar, as a one-item list) as a NULL-terminated array of borrowed strings; free the array only. */
const char **args_list(const struct ynode *args, const char *name);

#endif
