/*
 * cmd.h: nodeprep's subcommands. Each cmd_<name>.c parses nothing itself
 * (cli_parse did) and returns the process exit code: 0 ok, 1 a step
 * failed, 2 bad usage or bad input.
 */
#ifndef NP_CMD_H
#define NP_CMD_H

#include "cli.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

int cmd_validate(struct cli_opts *o);
int cmd_plan(struct cli_opts *o);
int cmd_apply(struct cli_opts *o);
int cmd_rollback(struct cli_opts *o);
int cmd_facts(struct cli_opts *o);
int cmd_inventory(struct cli_opts *o);
int cmd_doctor(struct cli_opts *o);
int cmd_ssh_master(struct cli_opts *o);

/** Load recipes named in o->args; prints errors; returns an exit code. */
int cmd_load(struct recipe_set *set, struct cli_opts *o);
/** Run recipes in a mode and print the outcome; returns an exit code. */
int cmd_run(struct cli_opts *o, int mode);

#endif
