/*
 * host_cache.h: what a host answered in a batch (provision/batch.c), kept
 * until the host may have changed. A converged run over SSH asks the node
 * once for the stat and content of every managed path and the output of
 * every guard and verify command, then the steps' checks read the answers
 * here instead of paying a round trip each. host.c consults the cache for
 * stat, read and run, and empties it before any change (a write, mkdir,
 * remove, chmod, or a command that was not cached), so an answer is never
 * used after something on the host may have moved: a step after a changed
 * one sees the host itself, as without the cache.
 */
#ifndef NP_HOST_CACHE_H
#define NP_HOST_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct host_stat;
struct spawn;
struct host_cache;

struct host_cache *host_cache_new(void);
/** Accepts NULL. */
void host_cache_free(struct host_cache *c);
/** Forget every answer (the host may have changed). */
void host_cache_clear(struct host_cache *c);

/**
 * The cache key of a command: argv, env and cwd. False when the command
 * cannot be batched (it reads input, or streams its output to a file
 * descriptor): such a command always runs on the host.
 */
bool host_cache_run_key(struct buf *out, const struct spawn *sp);

/** Remember path's stat; content (len bytes) only when has_content. */
void host_cache_put_path(struct host_cache *c, const char *path, const struct host_stat *st,
			 const void *content, size_t len, bool has_content);
/** Remember a command's result (key from host_cache_run_key). */
void host_cache_put_run(struct host_cache *c, const char *key, int status, const void *out,
			size_t out_len, const void *err, size_t err_len);

/** Keep a live stat's answer too (unless one is held): a step's journal asks again right away. */
void host_cache_note_stat(struct host_cache *c, const char *path, const struct host_stat *st);
/** Keep a live read's answer, when the path's stat is held. */
void host_cache_note_content(struct host_cache *c, const char *path, const void *data, size_t len);

/** 0 and *out filled when known; NP_EAGAIN when not in the cache. */
int host_cache_stat(struct host_cache *c, const char *path, struct host_stat *out);
/** 0 and content appended; NP_ENOTFOUND when known to be missing; NP_EAGAIN when not known. */
int host_cache_read(struct host_cache *c, const char *path, struct buf *out);
/** 0 and sp's status and output filled as if it ran; NP_EAGAIN when not known. */
int host_cache_run(struct host_cache *c, struct spawn *sp);
/** One answer held, as host_cache_each shows it (borrowed). */
struct host_cache_item {
	bool is_run;
	const char *key;            /* a path, or a command's key */
	const struct host_stat *st; /* a path's stat */
	bool has_content;
	const struct buf *data;     /* content, or a command's stdout */
	const struct buf *err;      /* a command's stderr */
	int status;
};
/**
 * Call fn for every answer held, in the order they came: the ssh-master
 * (mux.h) hands what its host fetched to the client's cache this way.
 */
void host_cache_each(const struct host_cache *c, void (*fn)(void *arg, const struct host_cache_item *it),
		     void *arg);
/** Entries held (for tests and debug output). */
size_t host_cache_count(const struct host_cache *c);

#endif
