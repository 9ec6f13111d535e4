/*
 * service.c: the `service` step, through systemctl. Checks with
 * is-active/is-enabled first, so a converged host runs no start/enable.
 * `restarted` always changes, so it belongs in handlers. Under --root (an
 * image root, not a running system) only `enabled` is converged, with
 * `systemctl --root`; start/stop are reported as skipped. Without systemd
 * the step fails clearly, unless the recipe says `if_missing: skip`.
 * systemctl runs on the target host (over SSH for a remote one).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "facts.h"
#include "host.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec service_args[] = {
	{ "name", ARG_STR, true, NULL },
	{ "state", ARG_STR, false, "started|stopped|restarted" },
	{ "enabled", ARG_BOOL, false, NULL },
	{ "if_missing", ARG_STR, false, "fail|skip" },
	{ NULL, 0, false, NULL },
};

enum svc_fix { SVC_START = 1, SVC_STOP = 2, SVC_RESTART = 4, SVC_ENABLE = 8, SVC_DISABLE = 16 };

static int systemctl(struct run_ctx *ctx, const char *verb, const char *unit, int *status)
{
	const char *argv[6];
	size_t n = 0;
	struct spawn sp = SPAWN_INIT;
	struct buf root = BUF_INIT;
	argv[n++] = "systemctl";
	if (ctx->host->root[0]) {
		buf_addf(&root, "--root=%s", ctx->host->root);
		argv[n++] = root.ptr;
	}
	argv[n++] = verb;
	argv[n++] = unit;
	argv[n] = NULL;
	sp.argv = argv;
	sp.timeout_ms = 90000;
	sp.merge_err = true;
	int r = ctx_run(ctx, &sp);
	*status = sp.status;
	if (!r && strcmp(verb, "is-active") && strcmp(verb, "is-enabled") && sp.status)
		r = np_error_set("systemctl %s %s failed (status %d): %s", verb, unit, sp.status,
				 sp.out.ptr);
	spawn_release(&sp);
	buf_release(&root);
	return r;
}

/* "enable, start containerd" and, under --root, why start/stop did not count. */
static void service__summary(struct buf *out, int fix, const char *name, bool root_skip)
{
	static const char *const verbs[] = { "start", "stop", "restart", "enable", "disable" }; /* enum svc_fix bit order */
	const char *sep = "";
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (fix & (1 << i)) {
			buf_addf(out, "%s%s", sep, verbs[i]);
			sep = ", ";
		}
	if (fix)
		buf_addf(out, " %s", name);
	if (root_skip)
		buf_addf(out, "%sstart/stop skipped: --root is not a running system", fix ? "; " : "");
}

static int service_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *name = args_str(a, "name", NULL), *state = args_str(a, "state", NULL);
	const struct ynode *en = ynode_get(a, "enabled");
	bool live = !ctx->host->root[0];
	int fix = 0, st, r;
	if (live && strcmp(facts_get(ctx->facts, "init"), "systemd")) {
		if (!strcmp(args_str(a, "if_missing", "fail"), "skip")) {
			ch->skipped = true;
			buf_adds(&ch->summary, "no systemd on this host");
			return 0;
		}
		return np_error_set("no systemd on this host: cannot manage service '%s' "
				    "(set if_missing: skip to allow this)", name);
	}
	if (en) {
		if ((r = systemctl(ctx, "is-enabled", name, &st)))
			return r;
		bool want = args_bool(a, "enabled", true);
		if (want && st != 0)
			fix |= SVC_ENABLE;
		else if (!want && st == 0)
			fix |= SVC_DISABLE;
	}
	bool root_skip = state && !live;
	if (state && live && !strcmp(state, "restarted")) {
		fix |= SVC_RESTART;
	} else if (state && live) {
		if ((r = systemctl(ctx, "is-active", name, &st)))
			return r;
		if (!strcmp(state, "started") && st != 0)
			fix |= SVC_START;
		if (!strcmp(state, "stopped") && st == 0)
			fix |= SVC_STOP;
	}
	ch->needed = fix != 0;
	ch->skipped = root_skip && !fix;
	ch->priv = (void *)(long)fix;
	service__summary(&ch->summary, fix, name, root_skip);
	return 0;
}

static int service_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *name = args_str(a, "name", NULL);
	int fix = (int)(long)ch->priv, st, r = 0;
	static const struct {
		int bit;
		const char *verb;
	} ops[] = { { SVC_ENABLE, "enable" }, { SVC_DISABLE, "disable" }, { SVC_STOP, "stop" },
		    { SVC_START, "start" },   { SVC_RESTART, "restart" } };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && !r; i++)
		if (fix & ops[i].bit)
			r = systemctl(ctx, ops[i].verb, name, &st);
	return r;
}

const struct step_kind step_service = { "service", service_args, NULL, service_check,
					service_apply, false };
