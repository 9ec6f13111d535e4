/*
 * batch.c: see batch.h. The recording host answers from the real host's
 * cache and notes every miss; a check that missed returns NP_EAGAIN (or
 * whatever it makes of it: its result is ignored either way) and is tried
 * again in the next round. Rounds end when a round asks nothing new: each
 * round is one host_prefetch, so a converged recipe of file, line and
 * verify steps costs two (the stats and contents, then the commands).
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exec.h"
#include "host.h"
#include "host_cache.h"
#include "log.h"
#include "spawn.h"
#include "step.h"
#include "banned.h"

#define BATCH_ROUNDS 6

struct recorder {
	struct host h;
	struct host *real;
	struct host_req *reqs; /* asked in this round */
	size_t n, alloc;
	struct buf asked;      /* keys asked in earlier rounds, "\n"-separated */
	bool allow_run;        /* earlier steps change nothing: commands may run ahead */
	bool missed, stuck;    /* for the step being checked */
};

static struct recorder *R(struct host *h)
{
	return (struct recorder *)h;
}

static char **strv__dup(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **out = calloc(n + 1, sizeof(*out));
	if (!out)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!(out[i] = strdup(v[i])))
			abort();
	return out;
}

static void strv__free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void req__release(struct host_req *q)
{
	free(q->path);
	strv__free(q->argv);
	strv__free(q->env);
	free(q->cwd);
	memset(q, 0, sizeof(*q));
}

static void req__key(struct buf *out, const struct host_req *q)
{
	struct spawn sp = SPAWN_INIT;
	if (!q->is_run) {
		buf_adds(out, q->path);
		return;
	}
	sp.argv = (const char *const *)q->argv;
	sp.env = (const char *const *)q->env;
	sp.cwd = q->cwd;
	host_cache_run_key(out, &sp);
}

enum note { NOTE_NEW, NOTE_DUP, NOTE_STUCK };

/* Note a miss. NOTE_NEW: the caller fills x->reqs[x->n] and counts it. */
static enum note rec__note(struct recorder *x, const char *key)
{
	struct buf k = BUF_INIT;
	enum note r = NOTE_NEW;
	x->missed = true;
	buf_addf(&k, "\n%s\n", key);
	if (x->asked.len && strstr(x->asked.ptr, k.ptr)) {
		/* asked in an earlier round and still unanswered: only live */
		x->stuck = true;
		r = NOTE_STUCK;
	}
	for (size_t i = 0; r == NOTE_NEW && i < x->n; i++) {
		struct buf kk = BUF_INIT;
		req__key(&kk, &x->reqs[i]);
		if (!strcmp(kk.ptr, key))
			r = NOTE_DUP;
		buf_release(&kk);
	}
	buf_release(&k);
	if (r != NOTE_NEW)
		return r;
	if (x->n == x->alloc) {
		x->alloc = x->alloc ? 2 * x->alloc : 32;
		x->reqs = realloc(x->reqs, x->alloc * sizeof(*x->reqs));
		if (!x->reqs)
			abort();
	}
	memset(&x->reqs[x->n], 0, sizeof(x->reqs[x->n]));
	return NOTE_NEW;
}

static int rec__path(struct recorder *x, const char *path)
{
	if (rec__note(x, path) == NOTE_NEW && (x->reqs[x->n++].path = strdup(path)) == NULL)
		abort();
	return NP_EAGAIN;
}

static int rec__read(struct host *h, const char *path, struct buf *out)
{
	int r = host_cache_read(R(h)->real->cache, path, out);
	return r != NP_EAGAIN ? r : rec__path(R(h), path);
}

static int rec__stat(struct host *h, const char *path, struct host_stat *st)
{
	if (!host_cache_stat(R(h)->real->cache, path, st))
		return 0;
	return rec__path(R(h), path);
}

static int rec__run(struct host *h, struct spawn *sp)
{
	struct recorder *x = R(h);
	struct buf key = BUF_INIT;
	if (!host_cache_run(x->real->cache, sp))
		return 0;
	if (!host_cache_run_key(&key, sp)) {
		x->stuck = true; /* input or streamed output: only live */
	} else if (!x->allow_run) {
		x->missed = true; /* asked again once the steps ahead are known */
	} else if (rec__note(x, key.ptr) == NOTE_NEW) {
		struct host_req *q = &x->reqs[x->n++];
		q->is_run = true;
		q->argv = strv__dup(sp->argv);
		q->env = strv__dup(sp->env);
		q->cwd = sp->cwd ? strdup(sp->cwd) : NULL;
		q->timeout_ms = sp->timeout_ms;
	}
	buf_release(&key);
	return NP_EAGAIN;
}

/* A check that tries to change the host is not a check: stop there. */
static int rec__change(struct recorder *x)
{
	x->stuck = true;
	return np_error_setc(NP_EAGAIN, "a check tried to change the host");
}

static int rec__write(struct host *h, const char *p, const void *d, size_t l, int m, int u, int g)
{
	(void)p, (void)d, (void)l, (void)m, (void)u, (void)g;
	return rec__change(R(h));
}

static int rec__mkdir(struct host *h, const char *p, int m)
{
	(void)p, (void)m;
	return rec__change(R(h));
}

static int rec__remove(struct host *h, const char *p)
{
	(void)p;
	return rec__change(R(h));
}

static int rec__chmod_chown(struct host *h, const char *p, int m, int u, int g)
{
	(void)p, (void)m, (void)u, (void)g;
	return rec__change(R(h));
}

static void rec__free(struct host *h)
{
	(void)h;
}

static const struct host_ops recorder_ops = {
	rec__read, rec__write, rec__stat, rec__mkdir, rec__remove, rec__remove,
	rec__chmod_chown, rec__run, rec__free, NULL,
};

enum step_state { ST_PENDING, ST_DONE, ST_CHANGES, ST_STOP };

/* Check one step against the recorder; what is known about it now. */
static enum step_state batch__check(struct run_ctx *ctx, struct recorder *x, const struct batch_step *s)
{
	struct change ch = CHANGE_INIT;
	x->missed = x->stuck = false;
	ctx->step_name = s->name;
	int r = s->kind->check(ctx, s->args, &ch);
	bool needed = ch.needed && !ch.skipped;
	change_release(&ch);
	if (x->stuck)
		return ST_STOP;
	if (x->missed)
		return ST_PENDING;
	if (r)
		return ST_STOP; /* it fails: the live run reports it */
	return needed ? ST_CHANGES : ST_DONE;
}

int batch_prefetch(struct run_ctx *ctx, const struct batch_step *steps, size_t n, size_t *covered)
{
	struct recorder *x = calloc(1, sizeof(*x));
	struct host *real = ctx->host;
	enum step_state *state = calloc(n + 1, sizeof(*state));
	size_t limit = n, rounds = 0, asked = 0, batches = 0;
	int r = 0;
	if (!state || !x)
		abort();
	x->h.ops = &recorder_ops;
	x->h.root = real->root;
	x->h.name = real->name;
	x->real = real;
	buf_init(&x->asked);
	if (!real->cache)
		real->cache = host_cache_new();
	for (size_t i = 0; i < n; i++) {
		if (steps[i].barrier || (steps[i].kind && !steps[i].kind->batchable)) {
			limit = i;
			break;
		}
		if (!steps[i].kind || (steps[i].kind->is_verify && ctx->opts->mode == EXEC_PLAN))
			state[i] = ST_DONE;
	}
	ctx->host = &x->h;
	for (; rounds < BATCH_ROUNDS; rounds++) {
		/* commands run ahead only while every step before is known to change nothing */
		x->allow_run = true;
		for (size_t i = 0; i < limit; i++) {
			if (state[i] != ST_PENDING)
				continue;
			state[i] = batch__check(ctx, x, &steps[i]);
			if (state[i] == ST_CHANGES)
				limit = i + 1;
			else if (state[i] == ST_STOP)
				limit = i;
			else if (state[i] == ST_PENDING && !steps[i].kind->is_verify)
				x->allow_run = false;
		}
		if (!x->n)
			break;
		ctx->host = real;
		r = host_prefetch(real, x->reqs, x->n);
		ctx->host = &x->h;
		asked += x->n;
		batches++;
		for (size_t i = 0; i < x->n; i++) {
			struct buf k = BUF_INIT;
			req__key(&k, &x->reqs[i]);
			buf_addf(&x->asked, "\n%s\n", k.ptr);
			buf_release(&k);
			req__release(&x->reqs[i]);
		}
		x->n = 0;
		if (r)
			break;
	}
	ctx->host = real;
	/* steps still pending at the end are checked live; the answers serve up to limit */
	size_t served = 0;
	while (served < limit && state[served] != ST_STOP)
		served++;
	*covered = served;
	log_debug("%s: batch: %zu round trip%s, %zu question%s, %zu answers held, %zu of %zu steps covered",
		  real->name, batches, batches == 1 ? "" : "s", asked, asked == 1 ? "" : "s",
		  host_cache_count(real->cache), served, n);
	for (size_t i = 0; i < x->n; i++)
		req__release(&x->reqs[i]);
	free(x->reqs);
	buf_release(&x->asked);
	free(state);
	free(x);
	return r;
}
