/*
 * cli.h: options shared by nodeprep's subcommands, parsed in one place so
 * every command spells them the same way.
 */
#ifndef NP_CLI_H
#define NP_CLI_H

#include <stdbool.h>

#include "recipe.h"

struct cli_opts {
	const char *root;          /* "" for / */
	const char *state_dir;     /* derived from root when not given */
	struct var_table overrides;
	struct var_table sources;  /* --source NAME=URL and --sources FILE */
	const char *search[32];    /* recipe search path, NULL-terminated */
	size_t nsearch;
	const char *tags[32];
	size_t ntags;
	bool json;
	bool verbose;
	/* remote targets */
	const char *host;          /* [USER@]HOST[:PORT] */
	const char *key;           /* -i */
	const char *known_hosts;
	bool accept_new_host_key;
	bool become;
	int persist;               /* --persist / $NODEPREP_SSH_PERSIST seconds; 0: no ssh-master */
	const char *inventory;
	const char *limit;
	int forks;
	int argc;                  /* the command's raw arguments (for fleet children) */
	char **argv;
	bool state_dir_given;
	const char **args;         /* positional arguments (borrowed from argv) */
	size_t nargs;
	char *state_dir_owned;
};

/** Parse argv[1..]; usage errors return NP_EINVALID with a message; "--help" sets *help. */
int cli_parse(struct cli_opts *o, int argc, char **argv, bool *help);
void cli_release(struct cli_opts *o);
/** Print an error; "FILE:L:C: msg" becomes "FILE:L:C: error: msg". */
void cli_print_error(const char *msg);

struct host;
/**
 * The target: this machine (under --root) or --host over SSH, through an
 * ssh-master (mux.h) when o->persist > 0. NP_* with a message.
 */
int cli_host_open(struct host **out, const struct cli_opts *o);
struct ssh_opts;
/** --host and the SSH options as ssh_opts (strings borrowed from o and the buffers). */
int cli_ssh_opts(struct ssh_opts *so, char user[64], char host[256], const struct cli_opts *o);
/** Parse [USER@]HOST[:PORT] into its parts (copied into the buffers). */
int cli_parse_target(const char *spec, char user[64], char host[256], int *port);

/** Take the state-dir lock; NP_ELOCKED with the holder's pid when busy. fd into *out. */
int cli_lock(int *out, const char *state_dir);

#endif
