/*
 * fleet.h: inventories and applying recipes to several hosts in parallel.
 */
#ifndef NP_FLEET_H
#define NP_FLEET_H

#include <stdbool.h>
#include <stdio.h>

#include "ytree.h"

struct inv_host {
	const char *name, *address, *user, *key; /* borrowed from the inventory tree */
	int port;
	bool become;
	const struct ynode *vars, *roles;
};

struct inventory {
	struct ynode *doc;
	struct inv_host *h;
	size_t n;
};

/** Load and check an inventory file; NP_EINVALID with FILE:LINE:COL. */
int inventory_load(struct inventory *inv, const char *path);
void inventory_free(struct inventory *inv);

struct fleet_opts {
	const char *command;     /* plan or apply */
	int argc;                /* the command's own arguments, passed on to each host */
	char **argv;
	const char *limit;       /* NAME[,NAME]; NULL: all */
	int forks;               /* parallel hosts; 0: 5 */
	const char *state_base;  /* journals go to STATE_BASE/hosts/NAME */
};

/** Run the command on every selected host; 0 when all succeeded, 1 otherwise. */
int fleet_run(const struct inventory *inv, const struct fleet_opts *fo, FILE *out);

#endif
