/*
 * sources.c: the fetch, git and extract step kinds as the engine sees
 * them. Their arguments and validation live here; their work lives in
 * nodeprep-sources.so (fetch.c, git.c, extract.c and the code under them),
 * loaded on the first such step. A run without one never maps libcurl,
 * libgit2 or libarchive and their dependencies: most of nodeprep's peak
 * memory (bench/README.md).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "sha256.h"
#include "step.h"
#include "banned.h"

#define SOURCES_SO "nodeprep-sources.so"

static const struct arg_spec fetch_args[] = {
	{ "url", ARG_STR, true, NULL },
	{ "dest", ARG_PATH, true, NULL },
	{ "sha256", ARG_STR, false, NULL },
	{ "insecure", ARG_BOOL, false, NULL },
	{ "name", ARG_STR, false, NULL },
	{ "mode", ARG_MODE, false, NULL },
	{ "ca_file", ARG_STR, false, NULL },
	{ "retries", ARG_INT, false, NULL },
	{ "fetch_on", ARG_STR, false, "control|remote" },
	{ NULL, 0, false, NULL },
};

static int fetch_validate(const char *f, const struct ynode *a)
{
	const struct ynode *sum = ynode_get(a, "sha256"), *ins = ynode_get(a, "insecure");
	bool insecure = ins && ins->value && !strcmp(ins->value, "true");
	if (!sum && !insecure)
		return ynode_error(f, a, "fetch: 'sha256' is required (or say 'insecure: true' to skip the check)");
	if (sum && !strstr(sum->value, "{{") && !sha256_is_hex(sum->value))
		return ynode_error(f, sum, "fetch: sha256 must be 64 hex digits, got '%s'", sum->value);
	return 0;
}

static const struct arg_spec git_args[] = {
	{ "repo", ARG_STR, true, NULL },
	{ "dest", ARG_PATH, true, NULL },
	{ "ref", ARG_STR, false, NULL },
	{ "commit", ARG_STR, false, NULL },
	{ "submodules", ARG_BOOL, false, NULL },
	{ "name", ARG_STR, false, NULL },
	{ "ssh_key", ARG_STR, false, NULL },
	{ "known_hosts", ARG_STR, false, NULL },
	{ "gomod_sum", ARG_STR, false, NULL },
	{ NULL, 0, false, NULL },
};

static int gitstep_validate(const char *f, const struct ynode *a)
{
	const struct ynode *c = ynode_get(a, "commit");
	if (!ynode_get(a, "ref") && !c)
		return ynode_error(f, a, "git: give 'ref' (tag, branch or commit) or 'commit'");
	if (c && !strstr(c->value, "{{") && (strlen(c->value) != 40 || strspn(c->value, "0123456789abcdef") != 40))
		return ynode_error(f, c, "git: commit must be a full 40-digit lowercase hex id");
	const struct ynode *gs = ynode_get(a, "gomod_sum");
	if (gs && !strstr(gs->value, "{{") && strncmp(gs->value, "h1:", 3))
		return ynode_error(f, gs, "git: gomod_sum must be a Go module hash 'h1:...', got '%s'",
				   gs->value);
	return 0;
}

static const struct arg_spec extract_args[] = {
	{ "src", ARG_PATH, true, NULL },
	{ "dest", ARG_PATH, true, NULL },
	{ "strip_components", ARG_INT, false, NULL },
	{ "allow_outside_symlinks", ARG_BOOL, false, NULL },
	{ NULL, 0, false, NULL },
};

/* The plugin's kind named sym: beside this executable (the build tree) or
 * in ../lib/nodeprep (make install). dlopen keeps one copy however often
 * it is asked, so nothing is cached here. */
static int sources__kind(const char *sym, const struct step_kind **out)
{
	static const char *const where[] = { "/" SOURCES_SO, "/../lib/nodeprep/" SOURCES_SO };
	char exe[PATH_MAX], path[PATH_MAX + 64], why[512] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	void *h = NULL;
	if (n <= 0)
		return np_error_set("cannot find this executable to load %s: %s", SOURCES_SO, strerror(errno));
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]) && !h; i++) {
		snprintf(path, sizeof(path), "%s%s", exe, where[i]);
		if (access(path, F_OK) == 0 && !(h = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
			snprintf(why, sizeof(why), "%s", dlerror());
	}
	if (!h && !why[0])
		snprintf(why, sizeof(why), "not in %s nor in %s/../lib/nodeprep (make install puts it there)",
			 exe, exe);
	if (!h)
		return np_error_set("cannot load %s (fetch, git and extract steps run there): %s", SOURCES_SO, why);
	if (!(*out = dlsym(h, sym)))
		return np_error_set("%s has no '%s': %s", SOURCES_SO, sym, dlerror());
	return 0;
}

#define SOURCES_PROXY(kind)                                                                        \
	static int kind##__check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)   \
	{                                                                                          \
		const struct step_kind *k;                                                         \
		int r = sources__kind("sources_" #kind, &k);                                       \
		return r ? r : k->check(ctx, a, ch);                                               \
	}                                                                                          \
	static int kind##__apply(struct run_ctx *ctx, const struct ynode *a, struct change *ch)   \
	{                                                                                          \
		const struct step_kind *k;                                                         \
		int r = sources__kind("sources_" #kind, &k);                                       \
		return r ? r : k->apply(ctx, a, ch);                                               \
	}

SOURCES_PROXY(fetch)
SOURCES_PROXY(git)
SOURCES_PROXY(extract)

const struct step_kind step_fetch = { "fetch", fetch_args, fetch_validate, fetch__check, fetch__apply, false };
const struct step_kind step_git = { "git", git_args, gitstep_validate, git__check, git__apply, false };
const struct step_kind step_extract = { "extract", extract_args, NULL, extract__check, extract__apply, false };
