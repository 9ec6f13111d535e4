/*
 * service.c: the `service` step, through systemctl. Checks with
 * is-active/is-enabled first, so a converged host runs no start/enable.
 * `restarted` always changes, so it belongs in handlers. Under --root (an
 * image root, not a running system) only `enabled` is converged, with
 * `systemctl --root`; start/stop are reported as skipped. systemctl runs on
 * the target host (over SSH for a remote one).
 *
 * Without systemd, a step that names its `command` runs it as a daemon
 * nodeprep manages itself (daemon.c): pid file, log file, a readiness probe
 * (`ready` command or `ready_url`); started/stopped/restarted keep their
 * meaning, `enabled` has nothing to act on (no boot-time start without an
 * init system) and is reported so. A daemon an apply started is journaled,
 * so `rollback` stops it. Without systemd and without `command` the step
 * fails clearly, unless the recipe says `if_missing: skip`.
 */
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "daemon.h"
#include "error.h"
#include "exec.h"
#include "journal.h"
#include "facts.h"
#include "host.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec service_args[] = {
	{ "name", ARG_STR, true, NULL },
	{ "state", ARG_STR, false, "started|stopped|restarted" },
	{ "enabled", ARG_BOOL, false, NULL },
	{ "if_missing", ARG_STR, false, "fail|skip" },
	/* hosts without systemd: the daemon nodeprep runs itself */
	{ "command", ARG_LIST, false, NULL },
	{ "env", ARG_MAP, false, NULL },
	{ "cwd", ARG_PATH, false, NULL },
	{ "pid_file", ARG_PATH, false, NULL },
	{ "log_file", ARG_PATH, false, NULL },
	{ "ready", ARG_LIST, false, NULL },
	{ "ready_url", ARG_STR, false, NULL },
	{ "ready_timeout", ARG_INT, false, NULL },
	{ "stop_timeout", ARG_INT, false, NULL },
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

enum { SVC_WAS_RUNNING = 32 };

/* The daemon of a step: from its fields, or as remembered on the host
 * (a step that names only the service: a handler, a recipe taking the
 * node down). */
struct svc_daemon {
	struct daemon_spec d;
	struct daemon_saved saved;
	struct cmd_spec cs;
	const char **argv, **ready;
	struct buf pid_file, log_file;
	int stop_timeout;
	bool from_record;
};

static void service__daemon_release(struct svc_daemon *sd)
{
	cmd_spec_release(&sd->cs);
	daemon_saved_release(&sd->saved);
	free(sd->argv);
	free(sd->ready);
	buf_release(&sd->pid_file);
	buf_release(&sd->log_file);
}

static void service__pid_file(struct buf *out, const struct ynode *a)
{
	buf_adds(out, args_str(a, "pid_file", ""));
	if (!out->len)
		buf_addf(out, "/run/nodeprep/%s.pid", args_str(a, "name", NULL));
}

static int service__daemon_spec(struct svc_daemon *sd, struct host *h, const struct ynode *a)
{
	const char *name = args_str(a, "name", NULL);
	struct spawn unused = SPAWN_INIT;
	int r;
	memset(sd, 0, sizeof(*sd));
	buf_init(&sd->pid_file);
	buf_init(&sd->log_file);
	service__pid_file(&sd->pid_file, a);
	sd->stop_timeout = (int)args_int(a, "stop_timeout", 30);
	if (!ynode_get(a, "command")) {
		sd->from_record = true;
		r = daemon_spec_load(h, sd->pid_file.ptr, &sd->saved);
		if (r == NP_ENOTFOUND)
			r = np_error_setc(NP_ENOTFOUND,
					  "no systemd on this host and no daemon '%s' started by nodeprep "
					  "(no '%s.json'): give the service's 'command'",
					  name, sd->pid_file.ptr);
		sd->d = sd->saved.d;
		return r;
	}
	/* env and cwd, parsed as the command step parses them */
	if ((r = cmd_spec_build(&sd->cs, &unused, a, NULL)))
		return r;
	sd->argv = args_list(a, "command");
	if (!sd->argv[0])
		return np_error_setc(NP_EINVALID, "service '%s': 'command' is an empty list", name);
	if (ynode_get(a, "ready"))
		sd->ready = args_list(a, "ready");
	buf_adds(&sd->log_file, args_str(a, "log_file", ""));
	if (!sd->log_file.len)
		buf_addf(&sd->log_file, "/var/log/nodeprep/%s.log", name);
	sd->d.argv = sd->argv;
	sd->d.env = sd->cs.env;
	sd->d.cwd = unused.cwd;
	sd->d.pid_file = sd->pid_file.ptr;
	sd->d.log_file = sd->log_file.ptr;
	sd->d.ready = sd->ready && sd->ready[0] ? sd->ready : NULL;
	sd->d.ready_url = args_str(a, "ready_url", NULL);
	sd->d.ready_timeout_s = (int)args_int(a, "ready_timeout", 60);
	return 0;
}

/* No systemd, a command given: the daemon's state decides. */
static int service__check_daemon(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *name = args_str(a, "name", NULL), *state = args_str(a, "state", NULL);
	struct svc_daemon sd;
	bool running = false;
	long pid = 0;
	int fix = 0, r;
	if ((r = service__daemon_spec(&sd, ctx->host, a)))
		goto out;
	if (ctx->host->root[0]) {
		ch->skipped = true;
		buf_addf(&ch->summary, "daemon %s: start/stop skipped: --root is not a running system", name);
		goto out;
	}
	if ((r = daemon_status(ctx->host, sd.d.pid_file, sd.d.argv[0], &running, &pid)))
		goto out;
	bool changed_cmd = false;
	if (running && !sd.from_record && state && !strcmp(state, "started")) {
		/* started with another command line: restart it with this one */
		struct daemon_saved was;
		if (!daemon_spec_load(ctx->host, sd.d.pid_file, &was))
			changed_cmd = daemon_spec_differs(&was.d, &sd.d);
		daemon_saved_release(&was);
	}
	if (state && (!strcmp(state, "restarted") || changed_cmd))
		fix |= SVC_RESTART;
	else if (state && !strcmp(state, "started") && !running)
		fix |= SVC_START;
	else if (state && !strcmp(state, "stopped") && running)
		fix |= SVC_STOP;
	ch->needed = fix != 0;
	ch->priv = (void *)(long)(fix | (running ? SVC_WAS_RUNNING : 0));
	service__summary(&ch->summary, fix, name, false);
	if (fix)
		buf_addf(&ch->summary, " (daemon%s: pid file %s, log %s)",
			 changed_cmd ? " started with another command line" : "", sd.d.pid_file,
			 sd.d.log_file);
	else
		buf_addf(&ch->summary, "daemon %s %s%s", name, running ? "running" : "not running",
			 ynode_get(a, "enabled") ? "; enabled: no init system to enable it in" : "");
out:
	service__daemon_release(&sd);
	return r;
}

static int service__apply_daemon(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	int fix = (int)(long)ch->priv, r;
	struct svc_daemon sd;
	if ((r = service__daemon_spec(&sd, ctx->host, a)))
		goto out;
	if ((fix & (SVC_STOP | SVC_RESTART)) &&
	    (r = daemon_stop(ctx->host, sd.d.pid_file, sd.d.argv[0], sd.stop_timeout, NULL)))
		goto out;
	if (!(fix & (SVC_START | SVC_RESTART)))
		goto out;
	/* journaled first: a daemon that starts is stopped by rollback even if
	 * the apply dies while it becomes ready */
	if (!(fix & SVC_WAS_RUNNING) &&
	    (r = journal_record_daemon(ctx->journal, ctx->host, args_str(a, "name", NULL),
				       sd.d.pid_file, sd.d.argv[0])))
		goto out;
	r = daemon_start(ctx->host, &sd.d);
out:
	service__daemon_release(&sd);
	return r;
}

static bool service__is_daemon(struct run_ctx *ctx, const struct ynode *a)
{
	struct buf rec = BUF_INIT;
	struct host_stat st = { 0 };
	if (!strcmp(facts_get(ctx->facts, "init"), "systemd"))
		return false;
	if (ynode_get(a, "command"))
		return true;
	service__pid_file(&rec, a);
	buf_adds(&rec, ".json");
	bool known = host_stat(ctx->host, rec.ptr, &st) == 0 && st.exists;
	buf_release(&rec);
	return known;
}

static int service_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *name = args_str(a, "name", NULL), *state = args_str(a, "state", NULL);
	const struct ynode *en = ynode_get(a, "enabled");
	bool live = !ctx->host->root[0];
	int fix = 0, st, r;
	if (service__is_daemon(ctx, a))
		return service__check_daemon(ctx, a, ch);
	if (live && strcmp(facts_get(ctx->facts, "init"), "systemd")) {
		if (!strcmp(args_str(a, "if_missing", "fail"), "skip")) {
			ch->skipped = true;
			buf_adds(&ch->summary, "no systemd on this host");
			return 0;
		}
		return np_error_set("no systemd on this host: cannot manage service '%s' "
				    "(give its 'command' to run it as a daemon, or set if_missing: skip)",
				    name);
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
	if (service__is_daemon(ctx, a))
		return service__apply_daemon(ctx, a, ch);
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
					service_apply, false, true };
