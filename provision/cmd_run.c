/*
 * cmd_run.c: what validate, plan and apply share: load recipes, run the
 * executor in the right mode, print the summary (or JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "cmd.h"
#include "fleet.h"
#include "host.h"
#include "error.h"
#include "exec.h"
#include "interrupt.h"
#include "log.h"
#include "banned.h"

int cmd_load(struct recipe_set *set, struct cli_opts *o)
{
	o->search[o->nsearch] = NULL;
	o->args[o->nargs] = NULL;
	if (!o->nargs) {
		log_error("no recipe given (see --help)");
		return EXIT_USAGE;
	}
	int r = recipe_set_load(set, o->args, o->search);
	if (r) {
		cli_print_error(np_error_last());
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static void print__validate_errors(const struct exec_result *res)
{
	size_t i;
	json_t *st;
	json_array_foreach((json_t *)res->json, i, st) {
		const char *err = json_string_value(json_object_get(st, "error"));
		if (err)
			cli_print_error(err);
	}
}

static int cmd__fleet(struct cli_opts *o, int mode)
{
	struct inventory inv;
	int r = inventory_load(&inv, o->inventory);
	if (r) {
		cli_print_error(np_error_last());
		inventory_free(&inv);
		return EXIT_USAGE;
	}
	struct fleet_opts fo = { mode == EXEC_APPLY ? "apply" : "plan", o->argc, o->argv, o->limit,
				 o->forks, o->state_dir_given ? o->state_dir : "/var/lib/nodeprep" };
	/* a stop signal is passed on to the hosts' runs (fleet.c), never just dies here */
	if (interrupt_install())
		log_warn("%s", np_error_last());
	r = fleet_run(&inv, &fo, stdout);
	if (r < 0)
		log_error("%s", np_error_last());
	inventory_free(&inv);
	if (r >= 128)
		log_warn("interrupted by %s: each host's run stopped after its step in flight; hosts not yet started were not started",
			 interrupt_name(r - 128));
	return r < 0 ? EXIT_USAGE : r >= 128 ? r : r ? EXIT_FAILED : EXIT_OK;
}

int cmd_run(struct cli_opts *o, int mode)
{
	if (o->inventory && mode != EXEC_VALIDATE)
		return cmd__fleet(o, mode);
	if (o->inventory && mode == EXEC_VALIDATE) {
		struct inventory inv;
		int bad = inventory_load(&inv, o->inventory);
		if (bad)
			cli_print_error(np_error_last());
		inventory_free(&inv);
		if (bad)
			return EXIT_USAGE;
	}
	struct recipe_set set = RECIPE_SET_INIT;
	struct exec_result res = { 0 };
	struct host *host = NULL;
	int lock = -1, code = cmd_load(&set, o), r;
	if (code)
		goto out;
	if (mode == EXEC_APPLY && (r = cli_lock(&lock, o->state_dir))) {
		log_error("%s", np_error_last());
		code = EXIT_FAILED;
		goto out;
	}
	o->tags[o->ntags] = NULL;
	/* apply stops between steps on SIGINT/SIGTERM (exec.h); plan and
	 * validate change nothing and may simply die */
	if (mode == EXEC_APPLY && interrupt_install())
		log_warn("%s", np_error_last());
	if (mode != EXEC_VALIDATE && o->host && (r = cli_host_open(&host, o))) {
		log_error("%s", np_error_last());
		code = EXIT_FAILED;
		goto out;
	}
	struct exec_opts eo = { (enum exec_mode)mode, o->root, o->state_dir, &o->overrides,
				o->ntags ? o->tags : NULL, o->json, o->json ? NULL : stdout,
				&o->sources, host };
	r = exec_run(&set, &eo, &res);
	if (r < 0) {
		log_error("%s", np_error_last());
		code = EXIT_FAILED;
		goto out;
	}
	if (mode == EXEC_VALIDATE) {
		print__validate_errors(&res);
		code = res.failed ? EXIT_USAGE : EXIT_OK;
		if (!res.failed && !o->json)
			printf("%zu recipe%s valid (%zu steps)\n", set.n, set.n == 1 ? "" : "s", res.ok);
	} else if (o->json) {
		char *s = exec_result_json(&res, (enum exec_mode)mode);
		puts(s);
		free(s);
	} else {
		printf("%zu ok, %zu %s, %zu failed%s", res.ok, res.changed,
		       mode == EXEC_APPLY ? "changed" : "to change", res.failed,
		       res.skipped ? "" : "\n");
		if (res.skipped)
			printf(", %zu skipped\n", res.skipped);
	}
	if (mode != EXEC_VALIDATE)
		code = res.failed ? EXIT_FAILED : EXIT_OK;
	if (res.interrupted) {
		code = 128 + res.interrupted;
		log_warn("interrupted by %s: no step ran after the one in flight", interrupt_name(res.interrupted));
		if (res.journaled)
			log_warn("%zu path%s changed and journaled; undo with: nodeprep rollback --state-dir %s%s%s",
				 res.journaled, res.journaled == 1 ? "" : "s", o->state_dir,
				 o->host ? " --host " : "", o->host ? o->host : "");
		else
			log_warn("nothing was changed: there is nothing to roll back");
	}
out:
	if (lock >= 0)
		close(lock);
	exec_result_release(&res);
	recipe_set_release(&set);
	host_free(host);
	return code;
}

int cmd_validate(struct cli_opts *o)
{
	return cmd_run(o, EXEC_VALIDATE);
}

int cmd_plan(struct cli_opts *o)
{
	return cmd_run(o, EXEC_PLAN);
}

int cmd_apply(struct cli_opts *o)
{
	return cmd_run(o, EXEC_APPLY);
}
