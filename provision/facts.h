/*
 * facts.h: what nodeprep knows about the target host: arch (amd64/arm64),
 * distro and version, init system, package manager, container runtimes and
 * their versions. Computed lazily, once per run, because spawning
 * `runc --version` for a recipe that never asks would slow converged runs.
 */
#ifndef NP_FACTS_H
#define NP_FACTS_H

#include "buf.h"

struct facts;

struct host;
/** New fact cache for a host (borrowed: it must outlive the cache). */
struct facts *facts_new(struct host *h);
void facts_free(struct facts *f);
/** Value of fact name (without "facts."), or NULL when no such fact exists. */
const char *facts_get(struct facts *f, const char *name);
/** Every fact as "name: value" lines, or JSON when json is set. */
void facts_format(struct buf *out, struct facts *f, int json);

#endif
