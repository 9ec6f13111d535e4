/*
 * scenario.c: the scenario loader. Step forms:
 *   - start                      - wait: 500 (ms)
 *   - checkpoint: {leave_running, tcp_established, file_locks, image_dir}
 *   - restore: {new_id, new_bundle, new_node}
 *   - exec: "shell command"      - kill       - corrupt: inventory.img
 *   - check: resumed|running|stopped|original_running|memory
 *   - check: {exists: PATH} / {absent: PATH}
 *   - repeat: {times: N, steps: [...]}
 */
#include "scenario.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "banned.h"

static const char *const top_keys[] = { "scenario", "description", "containers", "interval_ms",
					"criu", "steps", NULL };

static bool in__set(const char *k, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(*set, k))
			return true;
	return false;
}

static int steps__parse(struct scenario *s, const struct ynode *list, struct sstep **out,
			size_t *n, int depth);

static int bool__field(struct scenario *s, const struct ynode *m, const char *k, bool *out)
{
	const struct ynode *v = ynode_get(m, k);
	if (v && ynode_bool(out, v))
		return ynode_error(s->path, v, "'%s' must be true or false", k);
	return 0;
}

static int fields__only(struct scenario *s, const struct ynode *m, const char *what,
			const char *const *allowed)
{
	if (m->type != YNODE_MAP)
		return ynode_error(s->path, m, "%s: expected a mapping", what);
	for (size_t i = 0; i < m->n; i++)
		if (!in__set(m->keys[i]->value, allowed))
			return ynode_error(s->path, m->keys[i], "%s: unknown field '%s'", what,
					   m->keys[i]->value);
	return 0;
}

static int step__checkpoint(struct scenario *s, const struct ynode *v, struct sstep *st)
{
	static const char *const ok[] = { "leave_running", "tcp_established", "file_locks",
					  "image_dir", NULL };
	int r = fields__only(s, v, "checkpoint", ok);
	if (!r)
		r = bool__field(s, v, "leave_running", &st->ck.leave_running);
	if (!r)
		r = bool__field(s, v, "tcp_established", &st->ck.tcp_established);
	if (!r)
		r = bool__field(s, v, "file_locks", &st->ck.file_locks);
	const struct ynode *d = ynode_get(v, "image_dir");
	if (!r && d && d->type != YNODE_SCALAR)
		r = ynode_error(s->path, d, "checkpoint: 'image_dir' must be a path");
	if (d)
		st->ck.image_dir = d->value;
	return r;
}

static int step__restore(struct scenario *s, const struct ynode *v, struct sstep *st)
{
	static const char *const ok[] = { "new_id", "new_bundle", "new_node", NULL };
	int r = fields__only(s, v, "restore", ok);
	if (!r)
		r = bool__field(s, v, "new_id", &st->rs.new_id);
	if (!r)
		r = bool__field(s, v, "new_bundle", &st->rs.new_bundle);
	if (!r)
		r = bool__field(s, v, "new_node", &st->rs.new_node);
	return r;
}

static int step__check(struct scenario *s, const struct ynode *v, struct sstep *st)
{
	static const char *const names[] = { "resumed", "running", "stopped", "original_running" };
	if (v->type == YNODE_SCALAR) {
		for (size_t i = 0; i < 4; i++)
			if (!strcmp(v->value, names[i]))
				return (st->check = (enum scheck)i), 0;
		if (!strcmp(v->value, "memory"))
			return (st->check = CHECK_MEMORY), 0;
		return ynode_error(s->path, v,
				   "check: unknown check '%s' (resumed, running, stopped, original_running, memory, {exists: PATH}, {absent: PATH})",
				   v->value);
	}
	static const char *const ok[] = { "exists", "absent", NULL };
	int r = fields__only(s, v, "check", ok);
	if (r)
		return r;
	if (v->n != 1 || v->items[0]->type != YNODE_SCALAR)
		return ynode_error(s->path, v, "check: give one of exists: PATH or absent: PATH");
	st->check = !strcmp(v->keys[0]->value, "exists") ? CHECK_EXISTS : CHECK_ABSENT;
	st->text = v->items[0]->value;
	return 0;
}

static int step__long(struct scenario *s, const struct ynode *v, const char *what, long *out)
{
	if (ynode_long(out, v) || *out < 0)
		return ynode_error(s->path, v, "%s: expected a non-negative integer", what);
	return 0;
}

static int step__repeat(struct scenario *s, const struct ynode *v, struct sstep *st, int depth)
{
	static const char *const ok[] = { "times", "steps", NULL };
	int r = fields__only(s, v, "repeat", ok);
	const struct ynode *t = ynode_get(v, "times"), *l = ynode_get(v, "steps");
	if (r)
		return r;
	if (!t || !l)
		return ynode_error(s->path, v, "repeat: needs 'times' and 'steps'");
	if ((r = step__long(s, t, "repeat: times", &st->times)))
		return r;
	return steps__parse(s, l, &st->sub, &st->nsub, depth + 1);
}

static int step__parse(struct scenario *s, const struct ynode *n, struct sstep *st, int depth)
{
	const char *k;
	const struct ynode *v = NULL;
	st->at = n->start;
	if (n->type == YNODE_SCALAR) {
		k = n->value;
	} else if (n->type == YNODE_MAP && n->n == 1) {
		k = n->keys[0]->value;
		v = n->items[0];
	} else {
		return ynode_error(s->path, n, "a step is a name or a one-key mapping");
	}
	static const char *const kinds[] = { "start", "wait", "checkpoint", "restore", "exec",
					     "kill", "corrupt", "check", "repeat" };
	size_t i = 0;
	while (i < 9 && strcmp(kinds[i], k))
		i++;
	if (i == 9)
		return ynode_error(s->path, n, "unknown step '%s' (start, wait, checkpoint, restore, exec, kill, corrupt, check, repeat)", k);
	st->kind = (enum sstep_kind)i;
	bool needs_value = st->kind == SS_WAIT || st->kind == SS_EXEC || st->kind == SS_CORRUPT ||
			   st->kind == SS_CHECK || st->kind == SS_REPEAT;
	if (needs_value && !v)
		return ynode_error(s->path, n, "step '%s' needs a value", k);
	switch (st->kind) {
	case SS_WAIT:
		return step__long(s, v, "wait", &st->ms);
	case SS_CHECKPOINT:
		return v ? step__checkpoint(s, v, st) : 0;
	case SS_RESTORE:
		return v ? step__restore(s, v, st) : 0;
	case SS_EXEC:
	case SS_CORRUPT:
		if (v->type != YNODE_SCALAR)
			return ynode_error(s->path, v, "%s: expected a string", k);
		st->text = v->value;
		return 0;
	case SS_CHECK:
		return step__check(s, v, st);
	case SS_REPEAT:
		return step__repeat(s, v, st, depth);
	default:
		if (v)
			return ynode_error(s->path, v, "step '%s' takes no value", k);
		return 0;
	}
}

static int steps__parse(struct scenario *s, const struct ynode *list, struct sstep **out,
			size_t *n, int depth)
{
	if (list->type != YNODE_SEQ)
		return ynode_error(s->path, list, "'steps' must be a list");
	if (depth > 4)
		return ynode_error(s->path, list, "repeat nested too deeply");
	*out = calloc(list->n ? list->n : 1, sizeof(**out));
	if (!*out)
		abort();
	for (size_t i = 0; i < list->n; i++) {
		int r = step__parse(s, list->items[i], &(*out)[i], depth);
		*n = i + 1;
		if (r)
			return r;
	}
	return 0;
}

static int scenario__fields(struct scenario *s)
{
	const struct ynode *d = s->doc, *v;
	if (d->type != YNODE_MAP)
		return ynode_error(s->path, d, "a scenario must be a mapping with 'scenario' and 'steps'");
	for (size_t i = 0; i < d->n; i++)
		if (!in__set(d->keys[i]->value, top_keys))
			return ynode_error(s->path, d->keys[i], "unknown key '%s' (expected scenario, description, containers, interval_ms, criu, steps)",
					   d->keys[i]->value);
	if (!(v = ynode_get(d, "scenario")) || v->type != YNODE_SCALAR)
		return ynode_error(s->path, v ? v : d, "'scenario' (the name) is required and must be a string");
	s->name = v->value;
	if ((v = ynode_get(d, "description")))
		s->description = v->value;
	s->containers = 1;
	s->interval_ms = 100;
	int r = 0;
	if ((v = ynode_get(d, "containers")) && (r = step__long(s, v, "containers", &s->containers)))
		return r;
	if (s->containers < 1 || s->containers > 256)
		return ynode_error(s->path, v, "containers: between 1 and 256");
	if ((v = ynode_get(d, "interval_ms")) && (r = step__long(s, v, "interval_ms", &s->interval_ms)))
		return r;
	if (s->interval_ms < 10)
		return ynode_error(s->path, v, "interval_ms: at least 10");
	if ((v = ynode_get(d, "criu")))
		s->criu = v->value;
	if (!(v = ynode_get(d, "steps")))
		return ynode_error(s->path, d, "missing required key 'steps'");
	return steps__parse(s, v, &s->steps, &s->nsteps, 0);
}

int scenario_load(struct scenario **out, const char *path)
{
	struct scenario *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->path = strdup(path);
	int r = ytree_load_file(&s->doc, path);
	if (!r)
		r = scenario__fields(s);
	if (r) {
		scenario_free(s);
		s = NULL;
	}
	*out = s;
	return r;
}

static void steps__free(struct sstep *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		steps__free(st[i].sub, st[i].nsub);
	free(st);
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	steps__free(s->steps, s->nsteps);
	ynode_free(s->doc);
	free(s->path);
	free(s);
}
