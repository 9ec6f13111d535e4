/*
 * host_cache.c: see host_cache.h. A flat array searched linearly: a run
 * holds one entry per managed path and guard command (tens to a few
 * hundred), and the array is emptied at the first change anyway.
 */
#include "host_cache.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "host.h"
#include "spawn.h"
#include "banned.h"

enum entry_type { ENTRY_PATH, ENTRY_RUN };

struct entry {
	enum entry_type type;
	char *key;            /* a path, or a command's key */
	struct host_stat st;  /* ENTRY_PATH */
	bool has_content;
	struct buf data;      /* content, or a command's stdout */
	struct buf err;       /* a command's stderr */
	int status;
};

struct host_cache {
	struct entry *e;
	size_t n, alloc;
};

struct host_cache *host_cache_new(void)
{
	struct host_cache *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	return c;
}

void host_cache_clear(struct host_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].key);
		buf_release(&c->e[i].data);
		buf_release(&c->e[i].err);
	}
	c->n = 0;
}

void host_cache_free(struct host_cache *c)
{
	if (!c)
		return;
	host_cache_clear(c);
	free(c->e);
	free(c);
}

size_t host_cache_count(const struct host_cache *c)
{
	return c ? c->n : 0;
}

void host_cache_each(const struct host_cache *c, void (*fn)(void *arg, const struct host_cache_item *it),
		     void *arg)
{
	for (size_t i = 0; c && i < c->n; i++) {
		const struct entry *e = &c->e[i];
		struct host_cache_item it = { e->type == ENTRY_RUN, e->key, &e->st, e->has_content,
					      &e->data, &e->err, e->status };
		fn(arg, &it);
	}
}

static struct entry *cache__find(struct host_cache *c, enum entry_type t, const char *key)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->e[i].type == t && !strcmp(c->e[i].key, key))
			return &c->e[i];
	return NULL;
}

/* The entry for key, emptied (a later answer replaces an earlier one). */
static struct entry *cache__slot(struct host_cache *c, enum entry_type t, const char *key)
{
	struct entry *e = cache__find(c, t, key);
	if (e) {
		buf_reset(&e->data);
		buf_reset(&e->err);
		return e;
	}
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 32;
		c->e = realloc(c->e, c->alloc * sizeof(*c->e));
		if (!c->e)
			abort();
	}
	e = &c->e[c->n++];
	memset(e, 0, sizeof(*e));
	e->type = t;
	e->key = strdup(key);
	buf_init(&e->data);
	buf_init(&e->err);
	if (!e->key)
		abort();
	return e;
}

bool host_cache_run_key(struct buf *out, const struct spawn *sp)
{
	bool plain = sp->out_mode == SPAWN_IO_CAPTURE || sp->out_mode == SPAWN_IO_NULL;
	bool plain_err = sp->merge_err || sp->err_mode == SPAWN_IO_CAPTURE || sp->err_mode == SPAWN_IO_NULL;
	if (sp->input || !plain || !plain_err)
		return false;
	/* NUL-free text with unambiguous separators: argv, then env, then cwd */
	for (const char *const *a = sp->argv; *a; a++) {
		buf_add_shquoted(out, *a);
		buf_addch(out, ' ');
	}
	buf_adds(out, "| env");
	for (const char *const *e = sp->env; e && *e; e++) {
		buf_addch(out, ' ');
		buf_add_shquoted(out, *e);
	}
	buf_adds(out, " | cwd ");
	buf_add_shquoted(out, sp->cwd ? sp->cwd : "");
	return true;
}

void host_cache_put_path(struct host_cache *c, const char *path, const struct host_stat *st,
			 const void *content, size_t len, bool has_content)
{
	struct entry *e = cache__slot(c, ENTRY_PATH, path);
	e->st = *st;
	e->has_content = has_content;
	if (has_content)
		buf_add(&e->data, content, len);
}

void host_cache_put_run(struct host_cache *c, const char *key, int status, const void *out,
			size_t out_len, const void *err, size_t err_len)
{
	struct entry *e = cache__slot(c, ENTRY_RUN, key);
	e->status = status;
	buf_add(&e->data, out, out_len);
	buf_add(&e->err, err, err_len);
}

void host_cache_note_stat(struct host_cache *c, const char *path, const struct host_stat *st)
{
	if (c && !cache__find(c, ENTRY_PATH, path))
		host_cache_put_path(c, path, st, NULL, 0, false);
}

void host_cache_note_content(struct host_cache *c, const char *path, const void *data, size_t len)
{
	struct entry *e = cache__find(c, ENTRY_PATH, path);
	if (!e || !e->st.exists || e->has_content)
		return;
	e->has_content = true;
	buf_add(&e->data, data, len);
}

int host_cache_stat(struct host_cache *c, const char *path, struct host_stat *out)
{
	struct entry *e = cache__find(c, ENTRY_PATH, path);
	if (!e)
		return NP_EAGAIN;
	*out = e->st;
	return 0;
}

int host_cache_read(struct host_cache *c, const char *path, struct buf *out)
{
	struct entry *e = cache__find(c, ENTRY_PATH, path);
	if (e && !e->st.exists)
		return np_error_setc(NP_ENOTFOUND, "cannot open '%s': no such file", path);
	if (!e || !e->has_content)
		return NP_EAGAIN;
	buf_add(out, e->data.ptr, e->data.len);
	return 0;
}

int host_cache_run(struct host_cache *c, struct spawn *sp)
{
	struct buf key = BUF_INIT;
	struct entry *e = NULL;
	if (c && c->n && host_cache_run_key(&key, sp))
		e = cache__find(c, ENTRY_RUN, key.ptr);
	buf_release(&key);
	if (!e)
		return NP_EAGAIN;
	if (sp->out_mode == SPAWN_IO_CAPTURE)
		buf_add(&sp->out, e->data.ptr, e->data.len);
	if (sp->merge_err && sp->out_mode == SPAWN_IO_CAPTURE)
		buf_add(&sp->out, e->err.ptr, e->err.len);
	else if (!sp->merge_err && sp->err_mode == SPAWN_IO_CAPTURE)
		buf_add(&sp->err, e->err.ptr, e->err.len);
	sp->status = e->status;
	return 0;
}
