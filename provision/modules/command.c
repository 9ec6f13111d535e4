/*
 * command.c: the `command` step: run argv (no shell) or a shell string.
 * A command is not idempotent by itself; `creates` (a path that exists
 * once it has run) and `unless` (a command whose success means "already
 * done") make it so. Without a guard it runs, and reports changed, on
 * every apply: `validate` cannot know better, so the recipe author must.
 */
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "error.h"
#include "exec.h"
#include "host.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec command_args[] = {
	{ "argv", ARG_LIST, false, NULL },
	{ "shell", ARG_STR, false, NULL },
	{ "env", ARG_MAP, false, NULL },
	{ "cwd", ARG_PATH, false, NULL },
	{ "creates", ARG_PATH, false, NULL },
	{ "unless", ARG_STR_OR_LIST, false, NULL },
	{ "timeout", ARG_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

static int command_validate(const char *f, const struct ynode *a)
{
	bool argv = ynode_get(a, "argv"), shell = ynode_get(a, "shell");
	if (argv == shell)
		return ynode_error(f, a, "command: give exactly one of 'argv' (a list) or 'shell' (a string)");
	return 0;
}

static int command__guard(struct run_ctx *ctx, const struct ynode *a, bool *done)
{
	const char *creates = args_str(a, "creates", NULL);
	struct host_stat st;
	int r;
	*done = false;
	if (creates) {
		if ((r = host_stat(ctx->host, creates, &st)))
			return r;
		if (st.exists)
			return (*done = true), 0;
	}
	if (!ynode_get(a, "unless"))
		return 0;
	struct spawn sp = SPAWN_INIT;
	struct cmd_spec cs;
	if (!(r = cmd_spec_build(&cs, &sp, a, "unless"))) {
		r = ctx_run(ctx, &sp);
		if (r == NP_ENOTFOUND)
			r = 0; /* a missing checker means "not done" */
		else if (!r)
			*done = sp.status == 0;
	}
	cmd_spec_release(&cs);
	spawn_release(&sp);
	return r;
}

static int command_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	bool done;
	int r = command__guard(ctx, a, &done);
	if (r)
		return r;
	ch->needed = !done;
	if (!done) {
		buf_adds(&ch->summary, "run ");
		if (ynode_get(a, "shell"))
			buf_adds(&ch->summary, args_str(a, "shell", ""));
		else {
			const char **argv = args_list(a, "argv");
			spawn_describe(&ch->summary, argv);
			free(argv);
		}
	}
	return 0;
}

static int command_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct spawn sp = SPAWN_INIT;
	struct cmd_spec cs;
	struct buf tail = BUF_INIT;
	int r;
	(void)ch;
	sp.merge_err = true;
	if (!(r = cmd_spec_build(&cs, &sp, a, ynode_get(a, "shell") ? "shell" : "argv")) &&
	    !(r = ctx_run(ctx, &sp)) && sp.status != 0) {
		cmd_tail(&tail, sp.out.ptr, 20);
		r = np_error_set("exited with status %d%s%s", sp.status, tail.len ? "; last output:\n" : "",
				 tail.ptr);
	}
	cmd_spec_release(&cs);
	spawn_release(&sp);
	buf_release(&tail);
	return r;
}

const struct step_kind step_command = { "command", command_args, command_validate, command_check,
					command_apply, false, true };
