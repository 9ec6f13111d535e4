/*
 * facts.c: host facts. Each fact has a probe function; values are cached
 * after first use. Everything is asked of the host (local, with --root,
 * or over SSH), so an image root or a remote node reports its own distro;
 * arch and kernel come from uname (the running kernel).
 */
#include "facts.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <jansson.h>

#include "fsutil.h"
#include "host.h"
#include "spawn.h"
#include "banned.h"

struct facts {
	struct host *host;
	char *values[16];
	unsigned char done[16];
};

typedef void (*fact_probe)(struct facts *f, struct buf *out);

static void version_of(struct facts *f, const char *prog, const char *arg, struct buf *out);

/* uname -m / -r: the syscall here, the command on a remote host */
static void uname_of(struct facts *f, bool machine, struct buf *out)
{
	struct utsname u;
	if (!host_is_local(f->host)) {
		version_of(f, "uname", machine ? "-m" : "-r", out);
		return;
	}
	if (uname(&u) == 0)
		buf_adds(out, machine ? u.machine : u.release);
}

static void probe__arch(struct facts *f, struct buf *out)
{
	struct buf m = BUF_INIT;
	uname_of(f, true, &m);
	if (!strcmp(m.ptr, "x86_64"))
		buf_adds(out, "amd64");
	else if (!strcmp(m.ptr, "aarch64"))
		buf_adds(out, "arm64");
	else
		buf_adds(out, m.ptr);
	buf_release(&m);
}

static void probe__kernel(struct facts *f, struct buf *out)
{
	uname_of(f, false, out);
}

/* Value of KEY= in ROOT/etc/os-release, unquoted. */
static void os_release(struct facts *f, const char *key, struct buf *out)
{
	struct buf text = BUF_INIT;
	size_t klen = strlen(key);
	if (host_read_file(f->host, "/etc/os-release", &text) == 0) {
		for (char *line = text.ptr; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (!strncmp(line, key, klen) && line[klen] == '=') {
				const char *v = line + klen + 1;
				size_t n = strlen(v);
				if (n >= 2 && (v[0] == '"' || v[0] == '\''))
					buf_add(out, v + 1, n - 2);
				else
					buf_adds(out, v);
				break;
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	buf_release(&text);
}

static void probe__distro(struct facts *f, struct buf *out)
{
	os_release(f, "ID", out);
}

static void probe__distro_version(struct facts *f, struct buf *out)
{
	os_release(f, "VERSION_ID", out);
}

static bool root__exists(struct facts *f, const char *path)
{
	struct host_stat st;
	return host_stat(f->host, path, &st) == 0 && st.exists;
}

static void probe__init(struct facts *f, struct buf *out)
{
	/* the same test systemd's sd_booted() makes */
	buf_adds(out, root__exists(f, "/run/systemd/system") ? "systemd" : "other");
}

static void probe__pkg(struct facts *f, struct buf *out)
{
	if (root__exists(f, "/usr/bin/apt-get"))
		buf_adds(out, "apt");
	else if (root__exists(f, "/usr/bin/dnf"))
		buf_adds(out, "dnf");
	else
		buf_adds(out, "none");
}

static void probe__runtime(struct facts *f, struct buf *out)
{
	static const char *const socks[][2] = {
		{ "/run/crio/crio.sock", "crio" },
		{ "/run/k3s/containerd/containerd.sock", "containerd" },
		{ "/run/containerd/containerd.sock", "containerd" },
		{ "/var/run/docker.sock", "docker" },
	};
	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++)
		if (root__exists(f, socks[i][0])) {
			buf_adds(out, socks[i][1]);
			return;
		}
	buf_adds(out, "none");
}

/* First line of `PROG ARG`, trimmed: the version facts. */
static void version_of(struct facts *f, const char *prog, const char *arg, struct buf *out)
{
	const char *argv[] = { prog, arg, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.timeout_ms = 5000;
	sp.merge_err = true;
	if (host_run(f->host, &sp) == 0 && sp.status == 0) {
		char *nl = strchr(sp.out.ptr, '\n');
		buf_add(out, sp.out.ptr, nl ? (size_t)(nl - sp.out.ptr) : sp.out.len);
	}
	spawn_release(&sp);
}

static void probe__runc(struct facts *f, struct buf *out)
{
	version_of(f, "runc", "--version", out);
}

static void probe__containerd(struct facts *f, struct buf *out)
{
	version_of(f, "containerd", "--version", out);
}

static void probe__criu(struct facts *f, struct buf *out)
{
	version_of(f, "criu", "--version", out);
}

/*
 * The Go at /usr/local/go, the place Go's own install instructions use
 * (recipes/go-toolchain.yaml keeps it or replaces it): its version from
 * the VERSION file ("go1.26.8" -> 1.26.8), empty when there is none.
 */
static void probe__go(struct facts *f, struct buf *out)
{
	struct buf text = BUF_INIT;
	if (host_read_file(f->host, "/usr/local/go/VERSION", &text) == 0 && !strncmp(text.ptr, "go", 2)) {
		size_t n = strcspn(text.ptr + 2, "\n \t");
		buf_add(out, text.ptr + 2, n);
	}
	buf_release(&text);
}

static const struct {
	const char *name;
	fact_probe probe;
} fact_table[] = {
	{ "arch", probe__arch },
	{ "kernel", probe__kernel },
	{ "distro", probe__distro },
	{ "distro_version", probe__distro_version },
	{ "init", probe__init },
	{ "pkg_manager", probe__pkg },
	{ "runtime", probe__runtime },
	{ "runc_version", probe__runc },
	{ "containerd_version", probe__containerd },
	{ "criu_version", probe__criu },
	{ "go_version", probe__go },
};
#define NFACTS (sizeof(fact_table) / sizeof(fact_table[0]))

struct facts *facts_new(struct host *h)
{
	struct facts *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->host = h;
	return f;
}

void facts_free(struct facts *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < NFACTS; i++)
		free(f->values[i]);
	free(f);
}

const char *facts_get(struct facts *f, const char *name)
{
	for (size_t i = 0; i < NFACTS; i++) {
		if (strcmp(fact_table[i].name, name))
			continue;
		if (!f->done[i]) {
			struct buf v = BUF_INIT;
			fact_table[i].probe(f, &v);
			f->values[i] = buf_detach(&v, NULL);
			f->done[i] = 1;
		}
		return f->values[i];
	}
	return NULL;
}

void facts_format(struct buf *out, struct facts *f, int json)
{
	json_t *o = json ? json_object() : NULL;
	for (size_t i = 0; i < NFACTS; i++) {
		const char *v = facts_get(f, fact_table[i].name);
		if (o)
			json_object_set_new(o, fact_table[i].name, json_string(v));
		else
			buf_addf(out, "%-19s %s\n", fact_table[i].name, v);
	}
	if (o) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		buf_adds(out, s);
		buf_addch(out, '\n');
		free(s);
		json_decref(o);
	}
}
