/*
 * cmdutil.c: see cmdutil.h.
 */
#include "cmdutil.h"

#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "error.h"
#include "banned.h"

int cmd_spec_build(struct cmd_spec *out, struct spawn *sp, const struct ynode *args,
		   const char *field)
{
	const struct ynode *cmd = field ? ynode_get(args, field) : NULL;
	const struct ynode *env = ynode_get(args, "env");
	memset(out, 0, sizeof(*out));
	if (field && !cmd)
		return np_error_setc(NP_EINVALID, "missing '%s'", field);
	if (!field) {
		/* env/cwd/timeout only; the caller sets argv */
	} else if (cmd->type == YNODE_SEQ) {
		out->argv = args_list(args, field);
		if (!out->argv[0])
			return np_error_setc(NP_EINVALID, "'%s' is an empty list", field);
	} else {
		out->argv = calloc(4, sizeof(*out->argv));
		if (!out->argv)
			abort();
		out->argv[0] = "/bin/sh";
		out->argv[1] = "-c";
		out->argv[2] = cmd->value;
	}
	out->env = calloc((env ? env->n : 0) + 1, sizeof(*out->env));
	if (!out->env)
		abort();
	for (size_t i = 0; env && i < env->n; i++) {
		struct buf kv = BUF_INIT;
		buf_addf(&kv, "%s=%s", env->keys[i]->value, env->items[i]->value);
		out->env[out->nenv++] = buf_detach(&kv, NULL);
	}
	sp->argv = out->argv;
	sp->env = out->env;
	sp->cwd = args_str(args, "cwd", NULL);
	sp->timeout_ms = (int)args_int(args, "timeout", 0) * 1000;
	return 0;
}

void cmd_spec_release(struct cmd_spec *c)
{
	for (size_t i = 0; i < c->nenv; i++)
		free((char *)c->env[i]);
	free(c->env);
	free(c->argv);
	memset(c, 0, sizeof(*c));
}

void cmd_tail(struct buf *out, const char *text, int n)
{
	size_t len = strlen(text);
	while (len && text[len - 1] == '\n')
		len--;
	size_t start = len;
	for (int seen = 0; start > 0; start--)
		if (text[start - 1] == '\n' && ++seen == n)
			break;
	buf_add(out, text + start, len - start);
}
