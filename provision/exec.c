/*
 * exec.c: the step loop. For each step: evaluate `when`, render its
 * arguments, re-check their types, check, then (apply mode) change. The
 * first failure stops the run: later steps usually depend on earlier ones,
 * and a half-configured node is better left where a person can see why.
 * Handlers notified by changed steps run once, at the end, if nothing failed.
 */
#include "exec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "batch.h"
#include "error.h"
#include "facts.h"
#include "fsutil.h"
#include "host.h"
#include "interrupt.h"
#include "journal.h"
#include "log.h"
#include "step.h"
#include "banned.h"

enum step_status { ST_OK, ST_CHANGED, ST_FAILED, ST_SKIPPED };

static const char *status__word(enum step_status s, enum exec_mode m)
{
	switch (s) {
	case ST_OK:
		return "ok";
	case ST_CHANGED:
		return m == EXEC_APPLY ? "changed" : "change";
	case ST_FAILED:
		return "failed";
	case ST_SKIPPED:
		return "skipped";
	}
	return "?";
}

static const char *status__colour(enum step_status s)
{
	return s == ST_OK ? C_GREEN : s == ST_CHANGED ? C_YELLOW : s == ST_FAILED ? C_RED : "";
}

/* Unified diff of a planned content change, through diff(1) from diffutils. */
static void plan__diff(struct buf *out, const struct change *ch)
{
	struct buf dir = BUF_INIT, a = BUF_INIT, b = BUF_INIT, la = BUF_INIT, lb = BUF_INIT;
	if (fs_mkdtemp(&dir, "nodeprep-diff"))
		goto out;
	buf_addf(&a, "%s/old", dir.ptr);
	buf_addf(&b, "%s/new", dir.ptr);
	buf_addf(&la, "%s%s", ch->old_exists ? "a" : "", ch->old_exists ? ch->path : "/dev/null");
	buf_addf(&lb, "b%s", ch->path);
	if (fs_write_atomic(a.ptr, ch->old.ptr, ch->old.len, 0600, -1, -1) ||
	    fs_write_atomic(b.ptr, ch->new.ptr, ch->new.len, 0600, -1, -1))
		goto out;
	const char *argv[] = { "diff", "-u", "--label", la.ptr, "--label", lb.ptr, a.ptr, b.ptr, NULL };
	struct spawn sp = SPAWN_INIT;
	sp.argv = argv;
	sp.err_mode = SPAWN_IO_NULL;
	if (spawn_run(&sp) == 0 && sp.status == 1)
		buf_add(out, sp.out.ptr, sp.out.len);
	spawn_release(&sp);
out:
	if (dir.len)
		fs_remove_tree(dir.ptr);
	buf_release(&dir);
	buf_release(&a);
	buf_release(&b);
	buf_release(&la);
	buf_release(&lb);
}

static void report__step(const struct exec_opts *o, struct exec_result *res, const struct step *st,
			 enum step_status s, const struct change *ch, const char *err)
{
	FILE *out = o->out;
	const char *summary = ch && ch->summary.len ? ch->summary.ptr : NULL;
	struct buf diff = BUF_INIT;
	if (o->mode == EXEC_PLAN && s == ST_CHANGED && ch && ch->has_content)
		plan__diff(&diff, ch);
	if (out && o->mode != EXEC_VALIDATE) {
		bool c = log_use_colour(out);
		fprintf(out, "  %s%-8s%s %s", c ? status__colour(s) : "", status__word(s, o->mode),
			c ? C_RESET : "", st->name);
		if (err)
			fprintf(out, ": %s", err);
		else if (summary)
			fprintf(out, " (%s)", summary);
		fputc('\n', out);
		if (diff.len) {
			for (char *l = diff.ptr; l && *l;) {
				char *nl = strchr(l, '\n');
				fprintf(out, "      %.*s\n", nl ? (int)(nl - l) : (int)strlen(l), l);
				l = nl ? nl + 1 : NULL;
			}
		}
	}
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "recipe", st->recipe->name, "step", st->name,
			      "kind", st->kind->name, "status", status__word(s, o->mode));
	if (summary)
		json_object_set_new(j, "summary", json_string(summary));
	if (err)
		json_object_set_new(j, "error", json_string(err));
	if (diff.len)
		json_object_set_new(j, "diff", json_string(diff.ptr));
	json_array_append_new(res->json, j);
	buf_release(&diff);
	size_t *count[] = { &res->ok, &res->changed, &res->failed, &res->skipped };
	(*count[s])++;
}

static int step__when(struct run_ctx *ctx, const struct step *st, bool *run)
{
	struct buf w = BUF_INIT;
	*run = true;
	if (!st->when)
		return 0;
	int r = template_render(&w, &ctx->scope, st->recipe->path, st->when, st->when->value);
	if (!r)
		*run = template_truthy(w.ptr);
	buf_release(&w);
	return r;
}

static bool step__tagged(const struct step *st, const char *const *tags)
{
	if (!tags)
		return true;
	const struct ynode *t = st->tags;
	size_t n = !t ? 0 : t->type == YNODE_SEQ ? t->n : 1;
	for (size_t i = 0; i < n; i++) {
		const char *name = t->type == YNODE_SEQ ? t->items[i]->value : t->value;
		for (size_t k = 0; tags[k]; k++)
			if (!strcmp(name, tags[k]))
				return true;
	}
	return false;
}

/* Render, check, apply one step. Returns its status; *err set on failure. */
static enum step_status step__run(struct run_ctx *ctx, const struct step *st, struct change *ch,
				  struct buf *err, struct ynode **args_out)
{
	struct ynode *args = NULL;
	enum step_status s = ST_FAILED;
	bool run;
	int r;
	ctx->step_name = st->name;
	if ((r = step__when(ctx, st, &run)))
		goto fail;
	if (!run) {
		buf_adds(&ch->summary, "when is false");
		return ST_SKIPPED;
	}
	if ((r = template_render_node(&args, &ctx->scope, st->recipe->path, st->args)))
		goto fail;
	if ((r = args_validate(st->recipe->path, st->kind->name, args, st->kind->args)))
		goto fail;
	/* the kind's own rules again, on what the templates rendered to */
	if (st->kind->validate && (r = st->kind->validate(st->recipe->path, args)))
		goto fail;
	if (ctx->opts->mode == EXEC_VALIDATE) {
		s = ST_OK;
		goto out;
	}
	if (st->kind->is_verify && ctx->opts->mode == EXEC_PLAN) {
		buf_adds(&ch->summary, "verified during apply");
		s = ST_SKIPPED;
		goto out;
	}
	if ((r = st->kind->check(ctx, args, ch)))
		goto fail;
	if (ch->skipped) {
		s = ST_SKIPPED;
		goto out;
	}
	if (!ch->needed || ctx->opts->mode == EXEC_PLAN) {
		s = ch->needed ? ST_CHANGED : ST_OK;
		goto out;
	}
	r = st->kind->apply ? st->kind->apply(ctx, args, ch) : ctx_apply_content(ctx, ch);
	if (r)
		goto fail;
	s = ST_CHANGED;
	goto out;
fail:
	buf_adds(err, np_error_last());
	s = ST_FAILED;
out:
	/* the change borrows strings from args: the caller frees them after reporting */
	*args_out = args;
	return s;
}

static void notify__add(const struct step **queue, size_t *nq, const struct step *st)
{
	const struct ynode *n = st->notify;
	size_t cnt = !n ? 0 : n->type == YNODE_SEQ ? n->n : 1;
	for (size_t i = 0; i < cnt; i++) {
		const char *name = n->type == YNODE_SEQ ? n->items[i]->value : n->value;
		const struct recipe *r = st->recipe;
		for (size_t h = 0; h < r->nhandlers; h++) {
			if (strcmp(r->handlers[h].name, name))
				continue;
			size_t k = 0;
			while (k < *nq && queue[k] != &r->handlers[h])
				k++;
			if (k == *nq)
				queue[(*nq)++] = &r->handlers[h];
		}
	}
}

static void ctx__builtins(struct run_ctx *ctx, const struct recipe *r)
{
	struct buf cache = BUF_INIT;
	var_table_release(&ctx->builtins);
	/*
	 * cache is a path on the target, where steps download, unpack and build
	 * (fetch's own content-addressed store stays in the state dir). On the
	 * real root or a remote node that is the state dir's cache; under --root
	 * it is the same place inside the root, so an image root is self-contained.
	 */
	if (ctx->opts->root[0] || ctx->opts->host)
		buf_adds(&cache, "/var/lib/nodeprep/cache");
	else
		buf_addf(&cache, "%s/cache", ctx->opts->state_dir);
	var_table_set(&ctx->builtins, "cache", cache.ptr, "(built-in)");
	var_table_set(&ctx->builtins, "state_dir", ctx->opts->state_dir, "(built-in)");
	var_table_set(&ctx->builtins, "root", ctx->opts->root, "(built-in)");
	var_table_set(&ctx->builtins, "recipe_dir", r->dir, "(built-in)");
	buf_release(&cache);
}

/*
 * Ask a remote host, in a few round trips, for what the checks of
 * steps[0..n) will read (batch.h). Returns how many steps the answers
 * serve (at least 1, so the caller moves on).
 */
static size_t steps__prefetch(struct run_ctx *ctx, const struct step *steps, size_t n, bool filter)
{
	struct batch_step *bs = calloc(n + 1, sizeof(*bs));
	struct ynode **args = calloc(n + 1, sizeof(*args));
	size_t covered = 0;
	if (!bs || !args)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct step *st = &steps[i];
		bool run = true;
		bs[i].name = st->name;
		if (filter && !step__tagged(st, ctx->opts->tags))
			continue;
		ctx->step_name = st->name;
		if (step__when(ctx, st, &run) ||
		    (run && (template_render_node(&args[i], &ctx->scope, st->recipe->path, st->args) ||
			     args_validate(st->recipe->path, st->kind->name, args[i], st->kind->args)))) {
			bs[i].barrier = true; /* the step itself reports the error */
			break;
		}
		if (run) {
			bs[i].kind = st->kind;
			bs[i].args = args[i];
		}
	}
	if (batch_prefetch(ctx, bs, n, &covered))
		log_debug("batch: %s", np_error_last());
	for (size_t i = 0; i < n; i++)
		ynode_free(args[i]);
	free(args);
	free(bs);
	np_error_clear();
	return covered ? covered : 1;
}

/* Run a list of steps; handlers notified go to queue. Returns failures. */
static size_t steps__run(struct run_ctx *ctx, struct exec_result *res, const struct step *steps,
			 size_t n, const struct step **queue, size_t *nq, bool filter)
{
	/*
	 * On a remote host the checks are batched: up to the first step that
	 * changes something, and again after a step the batch could not check
	 * ahead. After a change the host is asked live (the cache is empty).
	 */
	bool batch = host_can_prefetch(ctx->host) && ctx->opts->mode != EXEC_VALIDATE, changed = false;
	size_t next_batch = 0;
	for (size_t i = 0; i < n; i++) {
		const struct step *st = &steps[i];
		struct change ch = CHANGE_INIT;
		struct buf err = BUF_INIT;
		if (batch && !changed && i == next_batch)
			next_batch = i + steps__prefetch(ctx, steps + i, n - i, filter);
		if (filter && !step__tagged(st, ctx->opts->tags)) {
			change_release(&ch);
			continue;
		}
		if (ctx->opts->mode == EXEC_APPLY && interrupt_requested()) {
			/* stopped between steps: nothing of this one was done */
			change_release(&ch);
			return 1;
		}
		struct ynode *args = NULL;
		enum step_status s = step__run(ctx, st, &ch, &err, &args);
		report__step(ctx->opts, res, st, s, &ch, s == ST_FAILED ? err.ptr : NULL);
		changed = changed || s == ST_CHANGED;
		if (s == ST_CHANGED && queue)
			notify__add(queue, nq, st);
		change_release(&ch);
		ynode_free(args);
		buf_release(&err);
		if (s == ST_FAILED && ctx->opts->mode != EXEC_VALIDATE)
			return 1;
	}
	return 0;
}

static int exec__recipe(struct run_ctx *ctx, struct exec_result *res, const struct recipe *r)
{
	const struct step **queue = calloc(r->nhandlers + 1, sizeof(*queue));
	size_t nq = 0;
	if (!queue)
		abort();
	ctx->scope.recipe = r;
	ctx__builtins(ctx, r);
	if (ctx->opts->out && ctx->opts->mode != EXEC_VALIDATE)
		fprintf(ctx->opts->out, "recipe %s%s%s\n", r->name, r->description ? ": " : "",
			r->description ? r->description : "");
	size_t failed = steps__run(ctx, res, r->steps, r->nsteps, queue, &nq, true);
	if (!failed && nq && !interrupt_requested()) {
		/* handlers run in notification order; each once */
		struct step *hs = calloc(nq, sizeof(*hs));
		if (!hs)
			abort();
		for (size_t i = 0; i < nq; i++)
			hs[i] = *queue[i];
		failed = steps__run(ctx, res, hs, nq, NULL, NULL, false);
		free(hs);
	}
	if (ctx->opts->mode == EXEC_VALIDATE && r->nhandlers)
		failed += steps__run(ctx, res, r->handlers, r->nhandlers, NULL, NULL, false);
	free(queue);
	return failed ? 1 : 0;
}

int exec_run(const struct recipe_set *set, const struct exec_opts *o, struct exec_result *res)
{
	struct run_ctx ctx = { 0 };
	int r = 0;
	memset(res, 0, sizeof(*res));
	res->json = json_array();
	ctx.opts = o;
	ctx.host = o->host ? o->host : host_local_new(o->root);
	ctx.facts = facts_new(ctx.host);
	ctx.scope.overrides = o->overrides;
	ctx.scope.builtins = &ctx.builtins;
	ctx.scope.facts = ctx.facts;
	if (o->mode == EXEC_APPLY && (r = journal_open(&ctx.journal, o->state_dir, o->root)))
		goto out;
	for (size_t i = 0; i < set->n && !r; i++)
		r = exec__recipe(&ctx, res, set->all[i]);
	if (o->mode == EXEC_VALIDATE && res->failed)
		r = 1;
	if (o->mode == EXEC_APPLY && interrupt_requested())
		res->interrupted = interrupt_signal();
out:
	res->journaled = journal_count(ctx.journal);
	journal_close(ctx.journal, r != 0,
		      res->interrupted ? interrupt_name(res->interrupted) : NULL);
	var_table_release(&ctx.builtins);
	facts_free(ctx.facts);
	if (!o->host)
		host_free(ctx.host);
	return r;
}

void exec_result_release(struct exec_result *res)
{
	json_decref(res->json);
	res->json = NULL;
}

char *exec_result_json(const struct exec_result *res, enum exec_mode mode)
{
	json_t *doc = json_pack("{s:s, s:O, s:{s:I, s:I, s:I, s:I}}", "mode",
				mode == EXEC_APPLY ? "apply" : mode == EXEC_PLAN ? "plan" : "validate",
				"steps", (json_t *)res->json, "summary", "ok", (json_int_t)res->ok,
				"changed", (json_int_t)res->changed, "failed", (json_int_t)res->failed,
				"skipped", (json_int_t)res->skipped);
	if (res->interrupted)
		json_object_set_new(doc, "interrupted", json_string(interrupt_name(res->interrupted)));
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return s;
}
