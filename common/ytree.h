/*
 * ytree.h: a YAML document as a tree of nodes that remember where they came
 * from (line, column, byte offsets). Loaders use the marks for
 * FILE:LINE:COL errors; yaml_set uses the byte offsets to splice new values
 * into the original text so comments and order survive.
 */
#ifndef NP_YTREE_H
#define NP_YTREE_H

#include <stdbool.h>
#include <stddef.h>

enum ynode_type { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ymark {
	size_t line, col; /* 1-based, for messages */
	size_t offset;    /* 0-based byte offset */
};

struct ynode {
	enum ynode_type type;
	char *value;         /* scalars: the text; NULL otherwise */
	bool quoted;         /* scalar was single- or double-quoted (never a bool/number) */
	bool rendered;       /* scalar is the output of a template substitution */
	bool flow;           /* [..] or {..} style collection */
	struct ymark start, end;
	size_t n;            /* children: SEQ items, or MAP key/value pairs */
	struct ynode **keys; /* MAP only: scalar keys */
	struct ynode **items;/* SEQ items, or MAP values */
};

/**
 * Parse one YAML document from memory. On error returns NP_EINVALID with
 * "NAME:LINE:COL: MESSAGE" as the error. Aliases, multiple documents and
 * non-scalar keys are refused; an empty document gives an empty MAP.
 */
int ytree_parse(struct ynode **out, const char *name, const char *text, size_t len);
/* Recipes, scenarios and inventories are hand-written: 16 MiB is far past
 * any real one and keeps /dev/zero or a mistyped image path from filling
 * memory. */
#define YTREE_MAX_FILE (16u << 20)
/** Read and parse a file (NP_ENOTFOUND if missing; over YTREE_MAX_FILE is an error). */
int ytree_load_file(struct ynode **out, const char *path);
void ynode_free(struct ynode *n);

/** The value for key in a MAP, or NULL. */
struct ynode *ynode_get(const struct ynode *map, const char *key);
/** Index of key in a MAP, or -1. */
long ynode_index(const struct ynode *map, const char *key);
const char *ynode_type_name(enum ynode_type t);

/** Scalar as a boolean: true/false/yes/no (unquoted). NP_EINVALID otherwise. */
int ynode_bool(bool *out, const struct ynode *n);
/** Scalar as a decimal integer (unquoted). NP_EINVALID otherwise. */
int ynode_long(long *out, const struct ynode *n);

/** Set an error "FILE:LINE:COL: MESSAGE" at node n; returns NP_EINVALID. */
int ynode_error(const char *file, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
