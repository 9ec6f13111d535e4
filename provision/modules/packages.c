/*
 * packages.c: the `packages` step: Debian/Ubuntu packages through
 * dpkg-query/apt-get, Fedora through rpm/dnf. The check asks the package
 * database for each name, so a converged host spawns one query and never
 * touches apt's lists. Under --root the database of the root is read
 * (dpkg --admindir); installing into a root needs a chroot, which is out of
 * scope, so missing packages there are a failure with that reason.
 * Queries and installs run on the target host (over SSH for a remote one).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "facts.h"
#include "host.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec packages_args[] = {
	{ "names", ARG_LIST, true, NULL },
	{ "state", ARG_STR, false, "present|absent" },
	{ NULL, 0, false, NULL },
};

struct pkg_plan {
	const char **todo; /* borrowed names */
	size_t n;
	bool apt;
};

static void pkg__free(void *p)
{
	struct pkg_plan *pp = p;
	free(pp->todo);
	free(pp);
}

/* Installed names from one dpkg-query call over every name. */
static int pkg__installed_apt(struct run_ctx *ctx, const char **names, struct buf *installed)
{
	struct buf admin = BUF_INIT;
	size_t n = 0;
	while (names[n])
		n++;
	const char **argv = calloc(n + 6, sizeof(*argv));
	size_t k = 0;
	if (!argv)
		abort();
	argv[k++] = "dpkg-query";
	if (ctx->host->root[0]) {
		/* the root's database, found as a chroot would find it (an image's
		 * /var/lib/dpkg may be a link): never the host's by way of a link */
		buf_adds(&admin, "--admindir=");
		if (host_local_resolve(&admin, ctx->host, "/var/lib/dpkg", true)) {
			free(argv);
			buf_release(&admin);
			return NP_ERROR;
		}
		argv[k++] = admin.ptr;
	}
	argv[k++] = "-W";
	argv[k++] = "-f=${Package} ${db:Status-Abbrev}\\n";
	for (size_t i = 0; i < n; i++)
		argv[k++] = names[i];
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.timeout_ms = 60000;
	int r = ctx_run(ctx, &sp);
	for (char *l = sp.out.ptr; !r && l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		char *sp_ = strchr(l, ' ');
		if (sp_ && !strncmp(sp_ + 1, "ii", 2))
			buf_addf(installed, "\n%.*s\n", (int)(sp_ - l), l);
		l = nl ? nl + 1 : NULL;
	}
	spawn_release(&sp);
	buf_release(&admin);
	free(argv);
	return r;
}

static bool pkg__in(const struct buf *installed, const char *name)
{
	struct buf k = BUF_INIT;
	buf_addf(&k, "\n%s\n", name);
	bool r = strstr(installed->ptr, k.ptr) != NULL;
	buf_release(&k);
	return r;
}

static int pkg__installed_rpm(struct run_ctx *ctx, const char *name, bool *yes)
{
	const char *argv[] = { "rpm", "-q", name, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	int r = ctx_run(ctx, &sp);
	*yes = !r && sp.status == 0;
	spawn_release(&sp);
	return r;
}

static int packages_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char **names = args_list(a, "names");
	const char *pm = facts_get(ctx->facts, "pkg_manager");
	bool absent = !strcmp(args_str(a, "state", "present"), "absent");
	struct pkg_plan *p = calloc(1, sizeof(*p));
	struct buf installed = BUF_INIT;
	int r = 0;
	if (!p)
		abort();
	ch->priv = p;
	ch->priv_free = pkg__free;
	p->todo = calloc(ynode_get(a, "names")->n + 1, sizeof(*p->todo));
	p->apt = !strcmp(pm, "apt");
	if (!p->apt && strcmp(pm, "dnf")) {
		r = np_error_set("no supported package manager (apt or dnf) on this host");
		goto out;
	}
	if (p->apt && (r = pkg__installed_apt(ctx, names, &installed)))
		goto out;
	for (size_t i = 0; names[i] && !r; i++) {
		bool have = false;
		if (p->apt)
			have = pkg__in(&installed, names[i]);
		else
			r = pkg__installed_rpm(ctx, names[i], &have);
		if (have == absent)
			p->todo[p->n++] = names[i];
	}
	ch->needed = p->n > 0;
	if (p->n) {
		buf_adds(&ch->summary, absent ? "remove" : "install");
		for (size_t i = 0; i < p->n; i++)
			buf_addf(&ch->summary, " %s", p->todo[i]);
	}
	if (p->n && ctx->host->root[0] && ctx->opts->mode == EXEC_APPLY)
		r = np_error_set("cannot %s packages inside --root '%s' (needs a chroot): %s",
				 absent ? "remove" : "install", ctx->host->root, ch->summary.ptr);
out:
	free(names);
	buf_release(&installed);
	return r;
}

#define PKG_LOCK_WAIT_S "600"

static int packages_apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	struct pkg_plan *p = ch->priv;
	bool absent = !strcmp(args_str(a, "state", "present"), "absent");
	const char **argv = calloc(p->n + 8, sizeof(*argv));
	const char *env[] = { "DEBIAN_FRONTEND=noninteractive", NULL };
	size_t k = 0;
	if (!argv)
		abort();
	argv[k++] = p->apt ? "apt-get" : "dnf";
	argv[k++] = absent ? "remove" : "install";
	argv[k++] = "-y";
	/*
	 * Wait for another apt (unattended-upgrades on a fresh VM, a second
	 * nodeprep) instead of failing at once on the dpkg lock.
	 */
	if (p->apt)
		argv[k++] = "-oDPkg::Lock::Timeout=" PKG_LOCK_WAIT_S;
	if (p->apt && !absent)
		argv[k++] = "--no-install-recommends";
	for (size_t i = 0; i < p->n; i++)
		argv[k++] = p->todo[i];
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.env = env;
	sp.merge_err = true;
	sp.timeout_ms = 30 * 60 * 1000;
	int r = ctx_run(ctx, &sp);
	if (!r && sp.status && p->apt && !absent) {
		/* stale package lists are the usual cause: refresh once and retry */
		const char *upd[] = { "apt-get", "update", "-q", "-oDPkg::Lock::Timeout=" PKG_LOCK_WAIT_S, NULL };
		struct spawn su = SPAWN_INIT;
		su.argv = upd;
		su.timeout_ms = 10 * 60 * 1000;
		ctx_run(ctx, &su);
		spawn_release(&su);
		spawn_release(&sp);
		struct spawn again = SPAWN_INIT;
		again.argv = argv;
		again.env = env;
		again.merge_err = true;
		again.timeout_ms = 30 * 60 * 1000;
		sp = again;
		r = ctx_run(ctx, &sp);
	}
	if (!r && sp.status)
		r = np_error_set("%s failed with status %d: %s", argv[0], sp.status, sp.out.ptr);
	spawn_release(&sp);
	free(argv);
	return r;
}

const struct step_kind step_packages = { "packages", packages_args, NULL, packages_check,
					 packages_apply, false, true };
