/*
 * cmd_ssh_master.c: `nodeprep ssh-master`: start, query or stop the
 * background connection that --persist uses (mux.h), and `serve`, the
 * master itself, which runs started by a client.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "error.h"
#include "host.h"
#include "log.h"
#include "mux.h"
#include "banned.h"

static void print__status(const char *host, const struct mux_status *st)
{
	printf("ssh-master for %s: pid %ld, connected %lds ago, %u run%s served, exits after %ds idle\n", host,
	       st->pid, st->age_s, st->clients, st->clients == 1 ? "" : "s", st->persist_s);
}

int cmd_ssh_master(struct cli_opts *o)
{
	char user[64], host[256];
	struct ssh_opts so;
	struct mux_status st;
	const char *verb = o->nargs ? o->args[0] : "start";
	int r;
	if (o->nargs > 1 || (strcmp(verb, "start") && strcmp(verb, "check") && strcmp(verb, "exit") &&
			     strcmp(verb, "serve"))) {
		log_error("ssh-master takes one of start, check, exit (see --help)");
		return EXIT_USAGE;
	}
	if ((r = cli_ssh_opts(&so, user, host, o))) {
		log_error("%s", np_error_last());
		return EXIT_USAGE;
	}
	if (!strcmp(verb, "serve"))
		return ssh_master_serve(&so, o->persist > 0 ? o->persist : 60, 1) ? EXIT_FAILED : EXIT_OK;
	if (!strcmp(verb, "start")) {
		struct host *h = NULL;
		/* as a run would: reuse the master, or start it and wait for its connection */
		if ((r = host_mux_open(&h, &so, o->persist > 0 ? o->persist : 60))) {
			log_error("%s", np_error_last());
			return EXIT_FAILED;
		}
		host_free(h);
	}
	r = mux_control(&st, &so, !strcmp(verb, "exit"));
	if (r) {
		log_error("%s", np_error_last());
		return EXIT_FAILED;
	}
	if (!strcmp(verb, "exit"))
		printf("ssh-master for %s (pid %ld) exited\n", o->host, st.pid);
	else
		print__status(o->host, &st);
	return EXIT_OK;
}
