/*
 * cmd_memsearch.c: `crharness memsearch`: find a string or a regular
 * expression in the memory a checkpoint holds (CRIU's pagemap + pages
 * images), like checkpointctl memparse --search/--search-regex; each match
 * with its process, address and the bytes around it.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cmd.h"
#include "error.h"
#include "inspect.h"
#include "log.h"
#include "banned.h"

static const char memsearch_usage[] =
	"usage: crharness memsearch CHECKPOINT [--pid N] (--search STR | --regex RE)\n"
	"                           [--context N] [--max N] [--json]\n\n"
	"Searches the memory pages of a checkpoint's processes (CRIU's pagemap and\n"
	"pages images) and prints each match: pid, address, and the bytes around it\n"
	"(non-printable bytes as '.').\n\n"
	"CHECKPOINT is anything `crharness inspect` reads (archive, ctr export, image\n"
	"directory).\n\n"
	"options:\n"
	"  --pid N         only this process (its pid inside the checkpoint)\n"
	"  --search STR    the exact bytes of STR\n"
	"  --regex RE      a POSIX extended regular expression (matches up to 4 KiB;\n"
	"                  NUL bytes are ordinary characters)\n"
	"  --context N     bytes shown before and after a match (default 32, max 4096)\n"
	"  --max N         stop after N matches (default 1000)\n"
	"  --json          {\"matches\": [{\"pid\", \"address\", \"match\", \"context\"}]}\n\n"
	"exit status: 0 matches found, 1 none found or unreadable, 2 bad usage or not a\n"
	"checkpoint.\n";

struct finder {
	const char *needle;
	size_t nlen;
	regex_t re;
	bool regex;
};

static bool find_bytes(void *arg, const unsigned char *p, size_t len, size_t *off, size_t *mlen)
{
	const struct finder *f = arg;
	const unsigned char *m = memmem(p, len, f->needle, f->nlen);
	if (!m)
		return false;
	*off = (size_t)(m - p);
	*mlen = f->nlen;
	return true;
}

static bool find_regex(void *arg, const unsigned char *p, size_t len, size_t *off, size_t *mlen)
{
	struct finder *f = arg;
	regmatch_t m[1] = { { 0, (regoff_t)len } };
	/* REG_STARTEND: the window is bytes, not a C string */
	if (regexec(&f->re, (const char *)p, 1, m, REG_STARTEND))
		return false;
	*off = (size_t)m[0].rm_so;
	*mlen = (size_t)(m[0].rm_eo - m[0].rm_so);
	return true;
}

struct hits {
	unsigned pid;
	long max, n;
	bool json;
	json_t *all;
};

static void printable(char *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	out[n] = 0;
}

static int on_match(void *arg, uint64_t addr, size_t mlen, const unsigned char *ctx, size_t ctx_len,
		    size_t before)
{
	struct hits *h = arg;
	char *c = malloc(ctx_len + 1), *m = malloc(mlen + 1);
	if (!c || !m)
		abort();
	char at[32];
	printable(c, ctx, ctx_len);
	printable(m, ctx + before, mlen);
	snprintf(at, sizeof(at), "0x%llx", (unsigned long long)addr);
	if (h->json)
		json_array_append_new(h->all, json_pack("{s:i, s:s, s:s, s:s, s:i}", "pid", (int)h->pid,
							"address", at, "match", m, "context", c,
							"match_offset", (int)before));
	else
		printf("pid %u  %-14s  %s\n", h->pid, at, c);
	free(c);
	free(m);
	return ++h->n >= h->max;
}

static int memsearch__num(long *out, const char *opt, const char *v, long lo, long hi)
{
	char *end;
	*out = strtol(v, &end, 10);
	if (*end || !*v || *out < lo || *out > hi) {
		log_error("%s expects a number from %ld to %ld, got '%s'", opt, lo, hi, v);
		return -1;
	}
	return 0;
}

int cmd_memsearch(int argc, char **argv)
{
	const char *path = NULL, *search = NULL, *regex = NULL;
	long pid = -1, context = 32, max = 1000;
	struct finder fd = { 0 };
	struct hits h = { 0 };
	struct checkpoint_info ci = { 0 };
	int code = EXIT_USAGE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(memsearch_usage, stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			h.json = true;
		} else if (!strcmp(a, "--pid") || !strcmp(a, "--search") || !strcmp(a, "--regex") ||
			   !strcmp(a, "--context") || !strcmp(a, "--max")) {
			if (cmd_need_value(i, argc, a))
				return EXIT_USAGE;
			const char *v = argv[++i];
			if ((!strcmp(a, "--pid") && memsearch__num(&pid, a, v, 1, 4194304)) ||
			    (!strcmp(a, "--context") && memsearch__num(&context, a, v, 0, 4096)) ||
			    (!strcmp(a, "--max") && memsearch__num(&max, a, v, 1, 1000000)))
				return EXIT_USAGE;
			if (!strcmp(a, "--search"))
				search = v;
			else if (!strcmp(a, "--regex"))
				regex = v;
		} else if (a[0] == '-') {
			log_error("unknown option '%s'", a);
			return EXIT_USAGE;
		} else if (path) {
			log_error("one checkpoint at a time ('%s' and '%s')", path, a);
			return EXIT_USAGE;
		} else {
			path = a;
		}
	}
	if (!path || !search == !regex || (search && !*search)) {
		log_error(!path ? "no checkpoint given" : "give one of --search STR and --regex RE");
		fputs(memsearch_usage, stderr);
		return EXIT_USAGE;
	}
	if (regex) {
		int e = regcomp(&fd.re, regex, REG_EXTENDED);
		if (e) {
			char msg[256];
			regerror(e, &fd.re, msg, sizeof(msg));
			log_error("bad regular expression '%s': %s", regex, msg);
			return EXIT_USAGE;
		}
		fd.regex = true;
	} else {
		fd.needle = search;
		fd.nlen = strlen(search);
	}
	int r = inspect_checkpoint_ex(&ci, path, INSPECT_MEMORY);
	if (r) {
		log_error("%s", np_error_last());
		code = r == NP_EINVALID ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	if (pid > 0 && inspect_task_index(&ci, (unsigned)pid) < 0) {
		log_error("no process %ld in '%s' (its processes: %zu, the first %u)", pid, path, ci.nprocs,
			  ci.nprocs ? ci.procs[0].pid : 0);
		code = EXIT_USAGE;
		goto out;
	}
	h.max = max;
	h.all = json_array();
	code = EXIT_OK;
	for (size_t i = 0; i < ci.nprocs && h.n < h.max; i++) {
		FILE *pages;
		if (pid > 0 && ci.procs[i].pid != (unsigned)pid)
			continue;
		if (inspect_pages(&pages, &ci, i)) {
			log_warn("pid %u: %s", ci.procs[i].pid, np_error_last());
			continue;
		}
		h.pid = ci.procs[i].pid;
		if (criu_mem_scan(&ci.tasks[i].pm, pages, fd.regex ? find_regex : find_bytes, &fd,
				  (size_t)context, on_match, &h) < 0) {
			log_error("pid %u: %s", h.pid, np_error_last());
			code = EXIT_FAILED;
		}
	}
	if (h.json) {
		json_t *doc = json_pack("{s:s, s:O}", "checkpoint", path, "matches", h.all);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	}
	if (!code && !h.n) {
		log_info("no match in %s", path);
		code = EXIT_FAILED;
	}
out:
	json_decref(h.all);
	inspect_free(&ci);
	if (fd.regex)
		regfree(&fd.re);
	return code;
}
