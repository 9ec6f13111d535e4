/*
 * cmd_inventory.c: `nodeprep inventory from-vagrant [FILE|-]`: turn
 * `vagrant ssh-config` output (from FILE, stdin, or by running vagrant in
 * the current directory) into an inventory on stdout. Vagrant's boxes log
 * in as an unprivileged user with passwordless sudo, so hosts get
 * `become: true` unless the user is root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "spawn.h"
#include "banned.h"

struct vhost {
	char name[128], address[256], user[64], port[16], key[1024];
};

/* A YAML double-quoted scalar (paths may hold anything). */
static void yq(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addch(out, '\\');
		buf_addch(out, *s);
	}
	buf_addch(out, '"');
}

static void emit(struct buf *out, const struct vhost *v)
{
	if (!v->name[0])
		return;
	buf_adds(out, "  - name: ");
	yq(out, v->name);
	buf_adds(out, "\n    address: ");
	yq(out, v->address[0] ? v->address : v->name);
	buf_addf(out, "\n    port: %s\n", v->port[0] ? v->port : "22");
	if (v->user[0]) {
		buf_adds(out, "    user: ");
		yq(out, v->user);
		buf_addch(out, '\n');
	}
	if (v->key[0]) {
		buf_adds(out, "    key: ");
		yq(out, v->key);
		buf_addch(out, '\n');
	}
	buf_addf(out, "    become: %s\n", strcmp(v->user, "root") ? "true" : "false");
}

static void field(char *dst, size_t n, const char *val)
{
	size_t len = strcspn(val, "\r\n");
	/* ssh-config quotes paths with spaces */
	if (len >= 2 && val[0] == '"' && val[len - 1] == '"')
		val++, len -= 2;
	snprintf(dst, n, "%.*s", (int)len, val);
}

static int parse_ssh_config(struct buf *out, const char *text)
{
	struct vhost v = { 0 };
	size_t hosts = 0;
	buf_adds(out, "# written by `nodeprep inventory from-vagrant`\nhosts:\n");
	for (const char *line = text; *line;) {
		const char *p = line + strspn(line, " \t");
		const char *val = p + strcspn(p, " \t\n");
		val += strspn(val, " \t");
		size_t klen = strcspn(p, " \t\n");
		if (klen == 4 && !strncasecmp(p, "Host", 4)) {
			emit(out, &v);
			memset(&v, 0, sizeof(v));
			field(v.name, sizeof(v.name), val);
			hosts++;
		} else if (klen == 8 && !strncasecmp(p, "HostName", 8)) {
			field(v.address, sizeof(v.address), val);
		} else if (klen == 4 && !strncasecmp(p, "User", 4)) {
			field(v.user, sizeof(v.user), val);
		} else if (klen == 4 && !strncasecmp(p, "Port", 4)) {
			field(v.port, sizeof(v.port), val);
		} else if (klen == 12 && !strncasecmp(p, "IdentityFile", 12) && !v.key[0]) {
			field(v.key, sizeof(v.key), val);
		}
		const char *nl = strchr(line, '\n');
		line = nl ? nl + 1 : line + strlen(line);
	}
	emit(out, &v);
	return hosts ? 0 : np_error_setc(NP_EINVALID, "no 'Host' entries in the ssh-config input");
}

int cmd_inventory(struct cli_opts *o)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	int r, code = EXIT_OK;
	if (o->nargs < 1 || strcmp(o->args[0], "from-vagrant") || o->nargs > 2) {
		log_error("usage: nodeprep inventory from-vagrant [FILE|-]");
		return EXIT_USAGE;
	}
	if (o->nargs == 2 && strcmp(o->args[1], "-")) {
		r = fs_read_file(&in, o->args[1]);
	} else if (o->nargs == 2) {
		char chunk[4096];
		ssize_t n;
		while ((n = read(0, chunk, sizeof(chunk))) > 0)
			buf_add(&in, chunk, (size_t)n);
		r = n < 0 ? np_error_set("cannot read stdin") : 0;
	} else {
		const char *argv[] = { "vagrant", "ssh-config", NULL };
		struct spawn sp = SPAWN_INIT;
		sp.argv = argv;
		sp.timeout_ms = 120000;
		r = spawn_run(&sp);
		if (!r && sp.status)
			r = np_error_set("'vagrant ssh-config' failed (status %d): %s", sp.status, sp.err.ptr);
		buf_add(&in, sp.out.ptr, sp.out.len);
		spawn_release(&sp);
	}
	if (!r)
		r = parse_ssh_config(&out, in.ptr);
	if (r) {
		log_error("%s", np_error_last());
		code = r == NP_EINVALID ? EXIT_USAGE : EXIT_FAILED;
	} else {
		fputs(out.ptr, stdout);
	}
	buf_release(&in);
	buf_release(&out);
	return code;
}
