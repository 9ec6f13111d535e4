/*
 * cli.c: shared option parsing and error printing for nodeprep.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "host.h"
#include "mux.h"
#include "ytree.h"
#include "log.h"
#include "banned.h"

static int cli__value(const char **out, int *i, int argc, char **argv, const char *opt)
{
	const char *a = argv[*i];
	size_t n = strlen(opt);
	if (!strncmp(a, opt, n) && a[n] == '=') {
		*out = a + n + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return np_error_setc(NP_EINVALID, "option '%s' needs a value", opt);
	*out = argv[++*i];
	return 0;
}

static bool cli__is(const char *a, const char *opt)
{
	size_t n = strlen(opt);
	return !strncmp(a, opt, n) && (a[n] == '\0' || a[n] == '=');
}

/*
 * A site file: `sources: {NAME: URL_OR_PATH, ...}` (mirrors, local copies).
 * --source flags given earlier or later win, since the last set wins.
 */
static int cli__load_sources(struct var_table *t, const char *path)
{
	struct ynode *doc = NULL;
	int r = ytree_load_file(&doc, path);
	if (r)
		return r;
	const struct ynode *m = ynode_get(doc, "sources");
	if (doc->type != YNODE_MAP || !m || m->type != YNODE_MAP) {
		r = ynode_error(path, m ? m : doc, "a site file is a mapping with 'sources: {NAME: URL}'");
		goto out;
	}
	for (size_t i = 0; i < doc->n; i++)
		if (strcmp(doc->keys[i]->value, "sources")) {
			r = ynode_error(path, doc->keys[i], "unknown key '%s' (expected sources)",
					doc->keys[i]->value);
			goto out;
		}
	for (size_t i = 0; i < m->n; i++) {
		if (m->items[i]->type != YNODE_SCALAR) {
			r = ynode_error(path, m->items[i], "source '%s' must be a URL or a path",
					m->keys[i]->value);
			goto out;
		}
		var_table_set(t, m->keys[i]->value, m->items[i]->value, path);
	}
out:
	ynode_free(doc);
	return r;
}

/* Seconds: 0 or more, at most a day (a master is for a working session, not forever). */
static int cli__seconds(int *out, const char *v, const char *what)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < 0 || n > 86400)
		return np_error_setc(NP_EINVALID, "%s expects seconds (0 to 86400), got '%s'", what, v);
	*out = (int)n;
	return 0;
}

int cli_parse(struct cli_opts *o, int argc, char **argv, bool *help)
{
	const char *v;
	int r = 0;
	memset(o, 0, sizeof(*o));
	o->persist = -1;
	o->root = "";
	*help = false;
	o->args = calloc((size_t)argc + 1, sizeof(*o->args));
	if (!o->args)
		abort();
	o->search[o->nsearch++] = "recipes";
	o->argc = argc;
	o->argv = argv;
	for (int i = 1; i < argc && !r; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = true;
		} else if (cli__is(a, "--root")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--root")))
				o->root = v;
		} else if (cli__is(a, "--state-dir")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--state-dir")))
				o->state_dir = v;
		} else if (cli__is(a, "--recipe-path")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--recipe-path")) && o->nsearch < 31)
				o->search[o->nsearch++] = v;
		} else if (cli__is(a, "--tags")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--tags")) && o->ntags < 31)
				o->tags[o->ntags++] = v;
		} else if (!strcmp(a, "-e") || cli__is(a, "--extra-var")) {
			if (!(r = cli__value(&v, &i, argc, argv, a[1] == 'e' ? "-e" : "--extra-var")))
				r = var_table_add_assignment(&o->overrides, v);
		} else if (cli__is(a, "--source")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--source")))
				r = var_table_add_assignment(&o->sources, v);
		} else if (cli__is(a, "--sources")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--sources")))
				r = cli__load_sources(&o->sources, v);
		} else if (cli__is(a, "--host") || !strcmp(a, "-H")) {
			if (!(r = cli__value(&v, &i, argc, argv, a[1] == 'H' ? "-H" : "--host")))
				o->host = v;
		} else if (!strcmp(a, "-i") || cli__is(a, "--key")) {
			if (!(r = cli__value(&v, &i, argc, argv, a[1] == 'i' ? "-i" : "--key")))
				o->key = v;
		} else if (cli__is(a, "--known-hosts")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--known-hosts")))
				o->known_hosts = v;
		} else if (!strcmp(a, "--accept-new-host-key")) {
			o->accept_new_host_key = true;
		} else if (!strcmp(a, "--become")) {
			o->become = true;
		} else if (cli__is(a, "--persist")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--persist")))
				r = cli__seconds(&o->persist, v, "--persist");
		} else if (cli__is(a, "--inventory")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--inventory")))
				o->inventory = v;
		} else if (cli__is(a, "--limit")) {
			if (!(r = cli__value(&v, &i, argc, argv, "--limit")))
				o->limit = v;
		} else if (cli__is(a, "--forks")) {
			char *end;
			if (!(r = cli__value(&v, &i, argc, argv, "--forks")) &&
			    ((o->forks = (int)strtol(v, &end, 10)) < 1 || *end))
				r = np_error_setc(NP_EINVALID, "--forks expects a positive number, got '%s'", v);
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			o->verbose = true;
		} else if (a[0] == '-' && a[1]) {
			r = np_error_setc(NP_EINVALID, "unknown option '%s'", a);
		} else {
			o->args[o->nargs++] = a;
		}
	}
	if (o->persist < 0) {
		const char *env = getenv("NODEPREP_SSH_PERSIST");
		o->persist = 0;
		if (!r && env && *env)
			r = cli__seconds(&o->persist, env, "NODEPREP_SSH_PERSIST");
	}
	o->state_dir_given = o->state_dir != NULL;
	if (!o->state_dir) {
		struct buf sd = BUF_INIT;
		/* a remote node's journal and cache live on this (the control) machine */
		if (o->host)
			buf_addf(&sd, "/var/lib/nodeprep/hosts/%s", o->host);
		else
			buf_addf(&sd, "%s/var/lib/nodeprep", o->root);
		o->state_dir_owned = buf_detach(&sd, NULL);
		o->state_dir = o->state_dir_owned;
	}
	return r;
}

void cli_release(struct cli_opts *o)
{
	var_table_release(&o->overrides);
	var_table_release(&o->sources);
	free(o->args);
	free(o->state_dir_owned);
}

void cli_print_error(const char *msg)
{
	/* FILE:LINE:COL: message  ->  FILE:LINE:COL: error: message */
	const char *p = msg;
	for (int field = 0; field < 2 && p; field++) {
		p = strchr(p, ':');
		if (p && !isdigit((unsigned char)p[1]))
			p = NULL;
		else if (p)
			p++;
	}
	const char *end = p;
	while (end && isdigit((unsigned char)*end))
		end++;
	if (end && end != p && end[0] == ':' && end[1] == ' ') {
		fprintf(stderr, "%.*s: error: %s\n", (int)(end - msg), msg, end + 2);
		return;
	}
	log_error("%s", msg);
}

int cli_lock(int *out, const char *state_dir)
{
	struct buf path = BUF_INIT;
	int fd = -1, r;
	char pid[32];
	if ((r = fs_mkdir_p(state_dir, 0700)))
		goto out;
	buf_addf(&path, "%s/lock", state_dir);
	fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = np_error_set("cannot open lock '%s': %s", path.ptr, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		r = np_error_setc(NP_ELOCKED, "another nodeprep (pid %s) is working in '%s'; wait for it to finish",
				  n > 0 ? pid : "unknown", state_dir);
		close(fd);
		fd = -1;
		goto out;
	}
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) < 0) {
		r = np_error_set("cannot write lock '%s': %s", path.ptr, strerror(errno));
		close(fd);
		fd = -1;
		goto out;
	}
	r = 0;
out:
	*out = fd;
	buf_release(&path);
	return r;
}

int cli_parse_target(const char *spec, char user[64], char host[256], int *port)
{
	const char *at = strchr(spec, '@'), *h = at ? at + 1 : spec;
	const char *colon = strrchr(h, ':');
	user[0] = 0;
	*port = 22;
	if (at)
		snprintf(user, 64, "%.*s", (int)(at - spec), spec);
	if (colon && !strchr(colon + 1, ']')) {
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (*end || p < 1 || p > 65535)
			return np_error_setc(NP_EINVALID, "bad port in host '%s'", spec);
		*port = (int)p;
	}
	snprintf(host, 256, "%.*s", (int)(colon ? colon - h : (long)strlen(h)), h);
	if (!host[0] || (at && !user[0]))
		return np_error_setc(NP_EINVALID, "host '%s' is not [USER@]HOST[:PORT]", spec);
	return 0;
}

int cli_ssh_opts(struct ssh_opts *so, char user[64], char host[256], const struct cli_opts *o)
{
	int port;
	if (!o->host)
		return np_error_setc(NP_EINVALID, "no --host given");
	int r = cli_parse_target(o->host, user, host, &port);
	if (r)
		return r;
	*so = (struct ssh_opts){ o->host, host, port, user[0] ? user : NULL, o->key, o->known_hosts,
				 o->accept_new_host_key, o->become, o->root };
	return 0;
}

int cli_host_open(struct host **out, const struct cli_opts *o)
{
	char user[64], host[256];
	struct ssh_opts so;
	if (!o->host) {
		*out = host_local_new(o->root);
		return 0;
	}
	int r = cli_ssh_opts(&so, user, host, o);
	if (r)
		return r;
	if ((r = o->persist > 0 ? host_mux_open(out, &so, o->persist) : host_ssh_new(out, &so)))
		return r;
	/* the links of a remote root that lead out of it, listed once */
	if ((r = host_remote_root_check(*out))) {
		host_free(*out);
		*out = NULL;
	}
	return r;
}
