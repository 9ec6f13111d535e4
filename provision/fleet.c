/*
 * fleet.c: several hosts at once. The inventory (`hosts:` with name,
 * address, port, user, key, become, vars, roles) is loaded and checked like
 * a recipe (FILE:LINE:COL). Each selected host is applied by a child
 * nodeprep with --host, so every host has its own process, connection,
 * journal (STATE/hosts/NAME) and failure; at most --forks run at once.
 * Their outputs are printed as one block per host in inventory order, then
 * a per-host summary. A host's vars become -e NAME=VALUE, its roles
 * -e roles=a,b. --persist passes through like the other options (and
 * $NODEPREP_SSH_PERSIST through the environment): each host's child then
 * uses, or starts, that host's own ssh-master (mux.h).
 */
#include "fleet.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "interrupt.h"
#include "log.h"
#include "spawn.h"
#include "ytree.h"
#include "banned.h"

static const char *const host_keys[] = { "name", "address", "port", "user", "key", "become",
					 "vars", "roles", NULL };

static int inv__host(struct inv_host *h, const char *file, const struct ynode *n)
{
	const struct ynode *v;
	if (n->type != YNODE_MAP)
		return ynode_error(file, n, "a host is a mapping (name, address, port, user, key, become, vars, roles)");
	for (size_t i = 0; i < n->n; i++) {
		bool known = false;
		for (const char *const *k = host_keys; *k; k++)
			known = known || !strcmp(*k, n->keys[i]->value);
		if (!known)
			return ynode_error(file, n->keys[i], "unknown key '%s' in a host", n->keys[i]->value);
	}
	if (!(v = ynode_get(n, "name")) || v->type != YNODE_SCALAR)
		return ynode_error(file, n, "a host needs a 'name'");
	h->name = v->value;
	if (!(v = ynode_get(n, "address")) || v->type != YNODE_SCALAR)
		return ynode_error(file, n, "host '%s' needs an 'address'", h->name);
	h->address = v->value;
	long port = 22;
	if ((v = ynode_get(n, "port")) && ynode_long(&port, v))
		return ynode_error(file, v, "port must be a number");
	if (port < 1 || port > 65535)
		return ynode_error(file, v, "port %ld is out of range", port);
	h->port = (int)port;
	h->user = (v = ynode_get(n, "user")) ? v->value : NULL;
	h->key = (v = ynode_get(n, "key")) ? v->value : NULL;
	if ((v = ynode_get(n, "become")) && ynode_bool(&h->become, v))
		return ynode_error(file, v, "become must be true or false");
	h->vars = ynode_get(n, "vars");
	h->roles = ynode_get(n, "roles");
	if (h->vars && h->vars->type != YNODE_MAP)
		return ynode_error(file, h->vars, "vars must be a mapping");
	if (h->roles && h->roles->type != YNODE_SEQ)
		return ynode_error(file, h->roles, "roles must be a list");
	return 0;
}

int inventory_load(struct inventory *inv, const char *path)
{
	memset(inv, 0, sizeof(*inv));
	int r = ytree_load_file(&inv->doc, path);
	if (r)
		return r;
	const struct ynode *hosts = ynode_get(inv->doc, "hosts");
	if (inv->doc->type != YNODE_MAP || !hosts || hosts->type != YNODE_SEQ)
		return ynode_error(path, hosts ? hosts : inv->doc, "an inventory is 'hosts:' with a list of hosts");
	for (size_t i = 0; i < inv->doc->n; i++)
		if (strcmp(inv->doc->keys[i]->value, "hosts"))
			return ynode_error(path, inv->doc->keys[i], "unknown key '%s' (expected hosts)",
					   inv->doc->keys[i]->value);
	inv->h = calloc(hosts->n + 1, sizeof(*inv->h));
	if (!inv->h)
		abort();
	for (size_t i = 0; i < hosts->n; i++, inv->n++) {
		if ((r = inv__host(&inv->h[i], path, hosts->items[i])))
			return r;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(inv->h[j].name, inv->h[i].name))
				return ynode_error(path, hosts->items[i], "host '%s' is listed twice", inv->h[i].name);
	}
	return 0;
}

void inventory_free(struct inventory *inv)
{
	free(inv->h);
	ynode_free(inv->doc);
	memset(inv, 0, sizeof(*inv));
}

static bool fleet__selected(const char *limit, const char *name)
{
	if (!limit)
		return true;
	size_t n = strlen(name);
	for (const char *p = limit; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, name, n))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

struct child {
	const struct inv_host *h;
	struct spawn sp;
	struct buf log;       /* temp file with its output */
	const char **argv;
	struct buf *strs;     /* owned argument strings */
	size_t nstrs;
	int fd;
	bool started;
};

static const char *child__str(struct child *c, const char *fmt, const char *a, const char *b)
{
	struct buf *s = &c->strs[c->nstrs++];
	buf_init(s);
	buf_addf(s, fmt, a, b ? b : "");
	return s->ptr;
}

/* The child's argv: the parent's, minus fleet options, plus this host's. */
static void child__argv(struct child *c, const struct fleet_opts *fo)
{
	size_t n = 0, cap = (size_t)fo->argc + 32 + (c->h->vars ? c->h->vars->n : 0);
	c->argv = calloc(cap, sizeof(*c->argv));
	c->strs = calloc(cap, sizeof(*c->strs));
	if (!c->argv || !c->strs)
		abort();
	c->argv[n++] = "/proc/self/exe";
	c->argv[n++] = fo->command;
	for (int i = 1; i < fo->argc; i++) {
		const char *a = fo->argv[i];
		bool takes = !strcmp(a, "--inventory") || !strcmp(a, "--limit") || !strcmp(a, "--forks") ||
			     !strcmp(a, "--state-dir");
		if (takes) {
			i++;
			continue;
		}
		if (!strncmp(a, "--inventory=", 12) || !strncmp(a, "--limit=", 8) ||
		    !strncmp(a, "--forks=", 8) || !strncmp(a, "--state-dir=", 12))
			continue;
		c->argv[n++] = a;
	}
	struct buf target = BUF_INIT;
	if (c->h->user)
		buf_addf(&target, "%s@", c->h->user);
	buf_addf(&target, "%s:%d", c->h->address, c->h->port);
	c->argv[n++] = "--host";
	c->argv[n++] = child__str(c, "%s%s", target.ptr, NULL);
	buf_release(&target);
	if (c->h->key) {
		c->argv[n++] = "-i";
		c->argv[n++] = c->h->key;
	}
	if (c->h->become)
		c->argv[n++] = "--become";
	c->argv[n++] = "--state-dir";
	c->argv[n++] = child__str(c, "%s/hosts/%s", fo->state_base, c->h->name);
	for (size_t i = 0; c->h->vars && i < c->h->vars->n; i++) {
		c->argv[n++] = "-e";
		c->argv[n++] = child__str(c, "%s=%s", c->h->vars->keys[i]->value,
					  c->h->vars->items[i]->value ? c->h->vars->items[i]->value : "");
	}
	if (c->h->roles) {
		struct buf roles = BUF_INIT;
		for (size_t i = 0; i < c->h->roles->n; i++)
			buf_addf(&roles, "%s%s", i ? "," : "", c->h->roles->items[i]->value ? c->h->roles->items[i]->value : "");
		c->argv[n++] = "-e";
		c->argv[n++] = child__str(c, "roles=%s%s", roles.ptr, NULL);
		buf_release(&roles);
	}
	c->argv[n] = NULL;
}

static int child__start(struct child *c, const struct fleet_opts *fo)
{
	child__argv(c, fo);
	if (fs_mkdtemp(&c->log, "nodeprep-fleet"))
		return NP_ERROR;
	buf_adds(&c->log, "/out");
	c->fd = open(c->log.ptr, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (c->fd < 0)
		return np_error_set("cannot create '%s'", c->log.ptr);
	c->sp = (struct spawn)SPAWN_INIT;
	c->sp.argv = c->argv;
	c->sp.out_mode = c->sp.err_mode = SPAWN_IO_FD;
	c->sp.out_fd = c->sp.err_fd = c->fd;
	int r = spawn_start(&c->sp);
	c->started = !r;
	return r;
}

/* Print the host's block; its summary line goes into sum. */
static void child__report(struct child *c, FILE *out, struct buf *sum)
{
	struct buf text = BUF_INIT;
	fs_read_file(&text, c->log.ptr);
	fprintf(out, "=== %s (%s)\n%s", c->h->name, c->h->address, text.ptr);
	if (text.len && text.ptr[text.len - 1] != '\n')
		fputc('\n', out);
	const char *last = NULL;
	for (const char *p = text.ptr; (p = strstr(p, " ok, ")); p++)
		last = p;
	while (last && last > text.ptr && last[-1] != '\n')
		last--;
	if (last && (c->sp.status <= 1 || c->sp.status >= 128))
		buf_addf(sum, "  %-20s %.*s\n", c->h->name, (int)strcspn(last, "\n"), last);
	else
		buf_addf(sum, "  %-20s FAILED before any step ran (exit %d): %s\n", c->h->name,
			 c->sp.status, text.len ? "see its block above" : "no output");
	buf_release(&text);
}

static void child__free(struct child *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->log.len) {
		struct buf dir = BUF_INIT;
		unlink(c->log.ptr);
		fs_dirname(&dir, c->log.ptr);
		rmdir(dir.ptr);
		buf_release(&dir);
	}
	for (size_t i = 0; i < c->nstrs; i++)
		buf_release(&c->strs[i]);
	free(c->strs);
	free(c->argv);
	buf_release(&c->log);
	spawn_release(&c->sp);
}

/* True once c's process has ended (not reaped: spawn_wait does that). */
static bool child__ended(const struct child *c)
{
	siginfo_t info = { 0 };
	return waitid(P_PID, (id_t)c->sp.pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid;
}

/*
 * Wait until every started child of a batch has ended. Each child runs in
 * its own process group (spawn_start), so a Ctrl-C on the terminal reaches
 * only this process: a stop signal is passed on to every child still
 * running (once, and once more for a second SIGINT), and each stops as a
 * single-host run does, after the step in flight, its journal saying so.
 */
static void fleet__wait(struct child *kids, size_t n)
{
	int passed = 0; /* signals passed on: 1 after a stop, 2 after a second SIGINT */
	for (;;) {
		size_t running = 0;
		for (size_t i = 0; i < n; i++)
			running += kids[i].started && !child__ended(&kids[i]);
		if (!running)
			return;
		int want = interrupt_now() ? 2 : interrupt_requested() ? 1 : 0;
		/* a child that ended is not reaped yet, so its group id is still its own */
		for (size_t i = 0; want > passed && i < n; i++)
			if (kids[i].started)
				kill(-kids[i].sp.pid, want == 2 ? SIGINT : interrupt_signal());
		passed = want; /* never goes down: a second SIGINT implies a stop */
		/* wake for a stop signal; the pipe stays readable once one came, so then just tick */
		struct pollfd p = { interrupt_fd(), POLLIN, 0 };
		if (interrupt_requested() || p.fd < 0)
			poll(NULL, 0, 50);
		else
			poll(&p, 1, 50);
	}
}

int fleet_run(const struct inventory *inv, const struct fleet_opts *fo, FILE *out)
{
	struct child *kids = calloc(inv->n + 1, sizeof(*kids));
	struct buf sum = BUF_INIT;
	size_t n = 0, failed = 0;
	if (!kids)
		abort();
	for (size_t i = 0; i < inv->n; i++)
		if (fleet__selected(fo->limit, inv->h[i].name)) {
			kids[n].h = &inv->h[i];
			kids[n++].fd = -1;
		}
	if (!n) {
		free(kids);
		return np_error_setc(NP_EINVALID, "--limit '%s' matches no host in the inventory", fo->limit);
	}
	int forks = fo->forks > 0 ? fo->forks : 5;
	size_t ran = 0; /* hosts started; none is after a stop was asked for */
	for (size_t start = 0; start < n && !interrupt_requested(); start += (size_t)forks) {
		size_t end = start + (size_t)forks < n ? start + (size_t)forks : n;
		for (size_t i = start; i < end; i++)
			if (child__start(&kids[i], fo))
				log_error("%s: %s", kids[i].h->name, np_error_last());
		fleet__wait(kids + start, end - start);
		for (size_t i = start; i < end; i++) {
			if (kids[i].started)
				spawn_wait(&kids[i].sp);
			else
				kids[i].sp.status = 2;
			/* a host stopped by the signal passed on did not fail */
			failed += kids[i].sp.status != 0 &&
				  !(interrupt_requested() && kids[i].sp.status == interrupt_exit_code());
			child__report(&kids[i], out, &sum);
		}
		ran = end;
	}
	for (size_t i = ran; i < n; i++)
		buf_addf(&sum, "  %-20s not started: interrupted by %s\n", kids[i].h->name,
			 interrupt_name(interrupt_signal()));
	fprintf(out, "\nper host:\n%s%zu host%s, %zu failed%s%s\n", sum.ptr, n, n == 1 ? "" : "s", failed,
		interrupt_requested() ? ", interrupted by " : "",
		interrupt_requested() ? interrupt_name(interrupt_signal()) : "");
	for (size_t i = 0; i < n; i++)
		child__free(&kids[i]);
	free(kids);
	buf_release(&sum);
	if (interrupt_requested())
		return interrupt_exit_code();
	return failed ? 1 : 0;
}
