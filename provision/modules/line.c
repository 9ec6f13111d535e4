/*
 * line.c: the `line` step (like Ansible's lineinfile): make sure a line is
 * in a text file. The last line matching `regexp` is replaced by `line`;
 * when none matches, `line` is appended unless it is already there. With
 * state absent, every matching line is removed.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "step.h"
#include "banned.h"

static const struct arg_spec line_args[] = {
	{ "path", ARG_PATH, true, NULL },
	{ "regexp", ARG_STR, false, NULL },
	{ "line", ARG_STR, false, NULL },
	{ "state", ARG_STR, false, "present|absent" },
	{ "create", ARG_BOOL, false, NULL },
	{ "mode", ARG_MODE, false, NULL },
	{ NULL, 0, false, NULL },
};

static int line_validate(const char *f, const struct ynode *a)
{
	const char *state = args_str(a, "state", "present");
	if (!strcmp(state, "present") && !ynode_get(a, "line"))
		return ynode_error(f, a, "line: missing required field 'line'");
	if (!strcmp(state, "absent") && !ynode_get(a, "regexp"))
		return ynode_error(f, a, "line: state absent needs 'regexp'");
	const struct ynode *re = ynode_get(a, "regexp");
	if (re && !strstr(re->value, "{{")) {
		regex_t rx;
		if (regcomp(&rx, re->value, REG_EXTENDED | REG_NOSUB))
			return ynode_error(f, re, "line: invalid regular expression '%s'", re->value);
		regfree(&rx);
	}
	return 0;
}

/* The next line of text at *l (without its newline) as a new string; *l moves past it. */
static char *line__next(const char **l, size_t *n)
{
	const char *nl = strchr(*l, '\n');
	*n = nl ? (size_t)(nl - *l) : strlen(*l);
	char *s = strndup(*l, *n);
	if (!s)
		abort();
	*l = nl ? nl + 1 : *l + *n;
	return s;
}

/* Rebuild text into out, line by line, applying the edit. */
static void line__edit(struct buf *out, const char *text, regex_t *rx, const char *want,
		       bool absent)
{
	long last_match = -1, exact = -1, idx = 0;
	size_t n;
	for (const char *l = text; *l; idx++) {
		char *s = line__next(&l, &n);
		if (rx && !regexec(rx, s, 0, NULL, 0))
			last_match = idx;
		if (want && !strcmp(s, want))
			exact = idx;
		free(s);
	}
	idx = 0;
	for (const char *l = text; *l; idx++) {
		const char *at = l;
		char *s = line__next(&l, &n);
		bool match = rx && !regexec(rx, s, 0, NULL, 0);
		free(s);
		if (absent && match)
			continue;
		if (!absent && idx == last_match) {
			buf_addf(out, "%s\n", want);
		} else {
			buf_add(out, at, n);
			buf_addch(out, '\n');
		}
	}
	if (!absent && last_match < 0 && exact < 0)
		buf_addf(out, "%s\n", want);
	/* keep a file without a final newline as it was when nothing changed */
	size_t tl = strlen(text);
	if (tl && text[tl - 1] != '\n' && out->len == tl + 1 && !memcmp(out->ptr, text, tl))
		buf_setlen(out, tl);
}

static int line_check(struct run_ctx *ctx, const struct ynode *a, struct change *ch)
{
	const char *path = args_str(a, "path", NULL), *re = args_str(a, "regexp", NULL);
	bool absent = !strcmp(args_str(a, "state", "present"), "absent");
	regex_t rx;
	int r;
	if (re && regcomp(&rx, re, REG_EXTENDED | REG_NOSUB))
		return np_error_setc(NP_EINVALID, "invalid regular expression '%s'", re);
	if ((r = ctx_load_old(ctx, path, ch)))
		goto out;
	if (!ch->old_exists && !args_bool(a, "create", true) && !absent) {
		r = np_error_setc(NP_ENOTFOUND, "'%s' does not exist (set create: true to make it)", path);
		goto out;
	}
	if (!ch->old_exists && absent)
		goto out;
	line__edit(&ch->new, ch->old.ptr, re ? &rx : NULL, args_str(a, "line", NULL), absent);
	ch->mode = args_mode(a, "mode");
	if (!ch->old_exists && ch->mode < 0)
		ch->mode = 0644;
	ch->needed = !ch->old_exists || ch->old.len != ch->new.len ||
		     memcmp(ch->old.ptr, ch->new.ptr, ch->new.len);
out:
	if (re)
		regfree(&rx);
	return r;
}

const struct step_kind step_line = { "line", line_args, line_validate, line_check, NULL, false, true };
