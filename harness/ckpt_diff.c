/*
 * ckpt_diff.c: see ckpt_diff.h. Processes are matched by pid (inside the
 * container's pid namespace, stable across checkpoints of one container),
 * open files by pid and fd, root fs files by path.
 */
#include "ckpt_diff.h"

#include <string.h>

#include "criu_mem.h"
#include "banned.h"

static const struct criu_file *file_by_id(const struct checkpoint_info *ci, unsigned id)
{
	for (size_t i = 0; i < ci->nfiles; i++)
		if (ci->files[i].id == id)
			return &ci->files[i];
	return NULL;
}

static const char *fd_what(const struct checkpoint_info *ci, size_t t, size_t k)
{
	const struct criu_file *f = file_by_id(ci, ci->tasks[t].fds[k].id);
	return f ? f->desc : criu_file_type_name(ci->tasks[t].fds[k].type);
}

static long fd_index(const struct checkpoint_info *ci, size_t t, unsigned fd)
{
	for (size_t k = 0; k < ci->tasks[t].nfds; k++)
		if (ci->tasks[t].fds[k].fd == fd)
			return (long)k;
	return -1;
}

/* All fds of task t as added or removed files (a process only one side has). */
static void all_fds(json_t *to, const struct checkpoint_info *ci, size_t t)
{
	for (size_t k = 0; k < ci->tasks[t].nfds; k++)
		json_array_append_new(to, json_pack("{s:i, s:i, s:s}", "pid", (int)ci->procs[t].pid, "fd",
						    (int)ci->tasks[t].fds[k].fd, "what", fd_what(ci, t, k)));
}

/* Processes only one side has are added/removed with their files; for the others, files compared. */
static void diff_procs(json_t *procs, json_t *files, const struct checkpoint_info *a,
		       const struct checkpoint_info *b)
{
	json_t *added = json_object_get(procs, "added"), *removed = json_object_get(procs, "removed");
	json_t *changed = json_object_get(procs, "changed");
	for (size_t i = 0; i < a->nprocs; i++) {
		long j = inspect_task_index(b, a->procs[i].pid);
		if (j < 0) {
			json_array_append_new(removed, json_pack("{s:i, s:s}", "pid", (int)a->procs[i].pid,
								 "comm", a->procs[i].comm));
			all_fds(json_object_get(files, "removed"), a, i);
			continue;
		}
		if (strcmp(a->procs[i].comm, b->procs[j].comm) || a->procs[i].ppid != b->procs[j].ppid)
			json_array_append_new(changed, json_pack("{s:i, s:s, s:s, s:i, s:i}", "pid",
								 (int)a->procs[i].pid, "comm_a", a->procs[i].comm,
								 "comm_b", b->procs[j].comm, "ppid_a",
								 (int)a->procs[i].ppid, "ppid_b", (int)b->procs[j].ppid));
		for (size_t k = 0; k < a->tasks[i].nfds; k++) {
			unsigned fd = a->tasks[i].fds[k].fd;
			long kb = fd_index(b, (size_t)j, fd);
			const char *wa = fd_what(a, i, k), *wb = kb >= 0 ? fd_what(b, (size_t)j, (size_t)kb) : NULL;
			if (!wb)
				json_array_append_new(json_object_get(files, "removed"),
						      json_pack("{s:i, s:i, s:s}", "pid", (int)a->procs[i].pid,
								"fd", (int)fd, "what", wa));
			else if (strcmp(wa, wb))
				json_array_append_new(json_object_get(files, "changed"),
						      json_pack("{s:i, s:i, s:s, s:s}", "pid", (int)a->procs[i].pid,
								"fd", (int)fd, "a", wa, "b", wb));
		}
		for (size_t k = 0; k < b->tasks[j].nfds; k++)
			if (fd_index(a, i, b->tasks[j].fds[k].fd) < 0)
				json_array_append_new(json_object_get(files, "added"),
						      json_pack("{s:i, s:i, s:s}", "pid", (int)b->procs[j].pid, "fd",
								(int)b->tasks[j].fds[k].fd, "what",
								fd_what(b, (size_t)j, k)));
	}
	for (size_t j = 0; j < b->nprocs; j++)
		if (inspect_task_index(a, b->procs[j].pid) < 0) {
			json_array_append_new(added, json_pack("{s:i, s:s}", "pid", (int)b->procs[j].pid, "comm",
							       b->procs[j].comm));
			all_fds(json_object_get(files, "added"), b, j);
		}
}

static json_t *diff_memory(const struct checkpoint_info *a, const struct checkpoint_info *b)
{
	json_t *per = json_array();
	for (size_t i = 0; i < a->nprocs; i++) {
		long j = inspect_task_index(b, a->procs[i].pid);
		uint64_t pa = a->tasks[i].pm.present_pages, pb = j >= 0 ? b->tasks[j].pm.present_pages : 0;
		json_array_append_new(per, json_pack("{s:i, s:I, s:I}", "pid", (int)a->procs[i].pid, "pages_a",
						     (json_int_t)pa, "pages_b", (json_int_t)pb));
	}
	for (size_t j = 0; j < b->nprocs; j++)
		if (inspect_task_index(a, b->procs[j].pid) < 0)
			json_array_append_new(per, json_pack("{s:i, s:I, s:I}", "pid", (int)b->procs[j].pid,
							     "pages_a", (json_int_t)0, "pages_b",
							     (json_int_t)b->tasks[j].pm.present_pages));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "pages_a", (json_int_t)a->mem_pages,
			 "pages_b", (json_int_t)b->mem_pages, "bytes_a",
			 (json_int_t)(a->mem_pages * CRIU_PAGE_SIZE), "bytes_b",
			 (json_int_t)(b->mem_pages * CRIU_PAGE_SIZE), "pages_image_bytes_a",
			 (json_int_t)a->pages_bytes, "pages_image_bytes_b", (json_int_t)b->pages_bytes,
			 "per_process", per);
}

static const struct inspect_entry *entry(const struct checkpoint_info *ci, const char *name)
{
	for (size_t i = 0; i < ci->nrootfs; i++)
		if (!strcmp(ci->rootfs[i].name, name))
			return &ci->rootfs[i];
	return NULL;
}

static bool listed(char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

static json_t *diff_rootfs(const struct checkpoint_info *a, const struct checkpoint_info *b)
{
	json_t *o = json_pack("{s:b, s:b, s:[], s:[], s:[], s:[], s:[]}", "listed_a", a->rootfs_listed,
			      "listed_b", b->rootfs_listed, "added", "removed", "changed",
			      "deleted_added", "deleted_removed");
	for (size_t i = 0; i < b->nrootfs; i++) {
		const struct inspect_entry *e = entry(a, b->rootfs[i].name);
		if (!e)
			json_array_append_new(json_object_get(o, "added"),
					      json_pack("{s:s, s:I}", "path", b->rootfs[i].name, "size",
							(json_int_t)b->rootfs[i].size));
		else if (e->size != b->rootfs[i].size || e->mtime != b->rootfs[i].mtime ||
			 e->mode != b->rootfs[i].mode)
			json_array_append_new(json_object_get(o, "changed"),
					      json_pack("{s:s, s:I, s:I}", "path", e->name, "size_a",
							(json_int_t)e->size, "size_b", (json_int_t)b->rootfs[i].size));
	}
	for (size_t i = 0; i < a->nrootfs; i++)
		if (!entry(b, a->rootfs[i].name))
			json_array_append_new(json_object_get(o, "removed"),
					      json_pack("{s:s, s:I}", "path", a->rootfs[i].name, "size",
							(json_int_t)a->rootfs[i].size));
	for (size_t i = 0; i < b->ndeleted; i++)
		if (!listed(a->deleted, a->ndeleted, b->deleted[i]))
			json_array_append_new(json_object_get(o, "deleted_added"), json_string(b->deleted[i]));
	for (size_t i = 0; i < a->ndeleted; i++)
		if (!listed(b->deleted, b->ndeleted, a->deleted[i]))
			json_array_append_new(json_object_get(o, "deleted_removed"), json_string(a->deleted[i]));
	return o;
}

json_t *ckpt_diff(const char *pa, const struct checkpoint_info *a, const char *pb,
		  const struct checkpoint_info *b)
{
	json_t *procs = json_pack("{s:[], s:[], s:[]}", "added", "removed", "changed");
	json_t *files = json_pack("{s:[], s:[], s:[]}", "added", "removed", "changed");
	diff_procs(procs, files, a, b);
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "a", pa, "b", pb, "engine_a", a->engine,
			 "engine_b", b->engine, "processes", procs, "files", files, "memory",
			 diff_memory(a, b), "rootfs", diff_rootfs(a, b));
}

static void print_list(FILE *f, const json_t *arr, char mark, const char *fmt_keys)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		fprintf(f, "  %c", mark);
		if (json_is_string(v)) {
			fprintf(f, " %s\n", json_string_value(v));
			continue;
		}
		/* the keys to show, space-separated, in order */
		char keys[128];
		snprintf(keys, sizeof(keys), "%s", fmt_keys);
		for (char *k = keys, *sp; k && *k; k = sp) {
			sp = strchr(k, ' ');
			if (sp)
				*sp++ = 0;
			json_t *x = json_object_get(v, k);
			if (json_is_integer(x))
				fprintf(f, " %s %lld", k, (long long)json_integer_value(x));
			else if (json_is_string(x))
				fprintf(f, " %s %s", k, json_string_value(x));
		}
		fputc('\n', f);
	}
}

void ckpt_diff_print(FILE *f, const json_t *d)
{
	const json_t *p = json_object_get(d, "processes"), *fl = json_object_get(d, "files");
	const json_t *m = json_object_get(d, "memory"), *r = json_object_get(d, "rootfs");
	fprintf(f, "a: %s\nb: %s\n", json_string_value(json_object_get(d, "a")),
		json_string_value(json_object_get(d, "b")));
	fprintf(f, "Processes\n");
	print_list(f, json_object_get(p, "added"), '+', "pid comm");
	print_list(f, json_object_get(p, "removed"), '-', "pid comm");
	print_list(f, json_object_get(p, "changed"), '~', "pid comm_a comm_b ppid_a ppid_b");
	fprintf(f, "Open files\n");
	print_list(f, json_object_get(fl, "added"), '+', "pid fd what");
	print_list(f, json_object_get(fl, "removed"), '-', "pid fd what");
	print_list(f, json_object_get(fl, "changed"), '~', "pid fd a b");
	long long pa = json_integer_value(json_object_get(m, "pages_a"));
	long long pb = json_integer_value(json_object_get(m, "pages_b"));
	fprintf(f, "Memory pages\n  %lld -> %lld pages (%+lld), %lld -> %lld bytes (%+lld)\n", pa, pb, pb - pa,
		pa * CRIU_PAGE_SIZE, pb * CRIU_PAGE_SIZE, (pb - pa) * (long long)CRIU_PAGE_SIZE);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(m, "per_process"), i, v) {
		fprintf(f, "  pid %lld: %lld -> %lld pages\n",
			(long long)json_integer_value(json_object_get(v, "pid")),
			(long long)json_integer_value(json_object_get(v, "pages_a")),
			(long long)json_integer_value(json_object_get(v, "pages_b")));
	}
	fprintf(f, "Root fs changes\n");
	if (!json_is_true(json_object_get(r, "listed_a")) && !json_is_true(json_object_get(r, "listed_b")))
		fprintf(f, "  (neither checkpoint carries a root fs diff)\n");
	print_list(f, json_object_get(r, "added"), '+', "path size");
	print_list(f, json_object_get(r, "removed"), '-', "path size");
	print_list(f, json_object_get(r, "changed"), '~', "path size_a size_b");
	print_list(f, json_object_get(r, "deleted_added"), 'x', "");
	print_list(f, json_object_get(r, "deleted_removed"), 'o', "");
}
