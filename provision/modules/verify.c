/*
 * verify.c: the `verify` step: run a command and check its exit status and
 * output. It never changes anything, so it runs on every apply (and is
 * only listed in plan: what it checks may not exist yet).
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "error.h"
#include "exec.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec verify_args[] = {
	{ "command", ARG_STR_OR_LIST, true, NULL },
	{ "expect_output", ARG_STR, false, NULL },
	{ "expect_status", ARG_INT, false, NULL },
	{ "env", ARG_MAP, false, NULL },
	{ "cwd", ARG_PATH, false, NULL },
	{ "timeout", ARG_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

static int verify_validate(const char *f, const struct ynode *a)
{
	const struct ynode *re = ynode_get(a, "expect_output");
	regex_t rx;
	if (re && !strstr(re->value, "{{")) {
		if (regcomp(&rx, re->value, REG_EXTENDED | REG_NOSUB | REG_NEWLINE))
			return ynode_error(f, re, "verify: invalid regular expression '%s'", re->value);
		regfree(&rx);
	}
	return 0;
}

static int verify_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct spawn sp = SPAWN_INIT;
	struct cmd_spec cs;
	struct buf tail = BUF_INIT;
	const char *re = args_str(a, "expect_output", NULL);
	long want = args_int(a, "expect_status", 0);
	regex_t rx;
	bool rx_ok = false;
	int r;
	(void)ch;
	sp.merge_err = true;
	if ((r = cmd_spec_build(&cs, &sp, a, "command")))
		goto out;
	if (!sp.timeout_ms)
		sp.timeout_ms = 120000;
	if ((r = ctx_run(ctx, &sp)))
		goto out;
	cmd_tail(&tail, sp.out.ptr, 10);
	if (sp.status != want) {
		r = np_error_set("expected exit status %ld, got %d%s%s", want, sp.status,
				 tail.len ? "; output:\n" : "", tail.ptr);
		goto out;
	}
	if (re) {
		if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE)) {
			r = np_error_setc(NP_EINVALID, "invalid regular expression '%s'", re);
			goto out;
		}
		rx_ok = true;
		if (regexec(&rx, sp.out.ptr, 0, NULL, 0))
			r = np_error_set("output does not match /%s/; output:\n%s", re, tail.ptr);
	}
out:
	if (rx_ok)
		regfree(&rx);
	cmd_spec_release(&cs);
	spawn_release(&sp);
	buf_release(&tail);
	return r;
}

const struct step_kind step_verify = { "verify", verify_args, verify_validate, verify_check,
				       NULL, true, true };
