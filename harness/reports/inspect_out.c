/*
 * inspect_out.c: `crharness inspect` output, as text (checkpointctl-like)
 * or JSON (same fields, for scripts).
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "inspect.h"
#include "inspect_out.h"
#include "banned.h"

static void human(char out[32], long long n)
{
	if (n >= 1 << 20)
		snprintf(out, 32, "%.1f MiB", (double)n / (1 << 20));
	else if (n >= 1 << 10)
		snprintf(out, 32, "%.1f KiB", (double)n / (1 << 10));
	else
		snprintf(out, 32, "%lld B", n);
}

static void tree(FILE *f, const struct checkpoint_info *ci, const struct inspect_view *v,
		 unsigned ppid, int depth)
{
	for (size_t i = 0; i < ci->nprocs && depth < 32; i++)
		if (ci->procs[i].ppid == ppid && ci->procs[i].pid != ppid) {
			const struct inspect_task *t = &ci->tasks[i];
			fprintf(f, "  %*s%s%u %s", depth * 3, "", depth ? "└─ " : "", ci->procs[i].pid,
				ci->procs[i].comm[0] ? ci->procs[i].comm : "?");
			if (v->cmd)
				fprintf(f, "  [%s]", t->cmdline ? t->cmdline : "command line not in the pages");
			fputc('\n', f);
			for (const char *e = v->env ? t->env : NULL; e && *e;) {
				size_t n = strcspn(e, "\n");
				fprintf(f, "  %*s   env %.*s\n", depth * 3, "", (int)n, e);
				e += n + (e[n] == '\n');
			}
			tree(f, ci, v, ci->procs[i].pid, depth + 1);
		}
}

static const struct criu_file *file_by_id(const struct checkpoint_info *ci, unsigned id)
{
	for (size_t i = 0; i < ci->nfiles; i++)
		if (ci->files[i].id == id)
			return &ci->files[i];
	return NULL;
}

static void text_sections(FILE *f, const struct checkpoint_info *ci, const struct inspect_view *v)
{
	char holders[256];
	if (v->files) {
		fprintf(f, "  Open files\n    %-7s %-4s %-9s %s\n", "PID", "FD", "TYPE", "WHAT");
		for (size_t i = 0; i < ci->nprocs; i++)
			for (size_t k = 0; k < ci->tasks[i].nfds; k++) {
				const struct criu_fd *d = &ci->tasks[i].fds[k];
				const struct criu_file *cf = file_by_id(ci, d->id);
				fprintf(f, "    %-7u %-4u %-9s %s\n", ci->procs[i].pid, d->fd,
					criu_file_type_name(d->type), cf ? cf->desc : "?");
			}
	}
	if (v->sockets) {
		size_t n = 0;
		fprintf(f, "  Sockets\n");
		for (size_t i = 0; i < ci->nfiles; i++)
			if (ci->files[i].socket) {
				inspect_file_holders(holders, sizeof(holders), ci, ci->files[i].id);
				fprintf(f, "    %s  (pid:fd %s)\n", ci->files[i].desc, holders[0] ? holders : "-");
				n++;
			}
		if (!n)
			fprintf(f, "    (none)\n");
	}
	if (v->mounts) {
		fprintf(f, "  Mounts\n");
		for (size_t i = 0; i < ci->nmounts; i++)
			fprintf(f, "    %-28s %-8s %-16s %s\n", ci->mounts[i].mountpoint, ci->mounts[i].fstype,
				ci->mounts[i].source, ci->mounts[i].options);
	}
	if (v->network) {
		fprintf(f, "  Network        ");
		for (size_t i = 0; i < ci->nips; i++)
			fprintf(f, " %s", ci->ips[i]);
		fprintf(f, "%s\n", ci->nips ? "" : " (no network.status)");
	}
	if (v->stats && ci->stats.has_restore)
		fprintf(f, "  %-15s forking %llu us, restore %llu us, pages restored %llu, compared %llu,"
			" skipped cow %llu\n", "CRIU restore", ci->stats.forking_time,
			ci->stats.restore_time, ci->stats.pages_restored, ci->stats.pages_compared,
			ci->stats.pages_skipped_cow);
}

void inspect_print_text(FILE *f, const char *path, const struct checkpoint_info *ci,
			const struct inspect_view *view)
{
	char a[32], b[32], c[32];
	const char *v;
	fprintf(f, "%s\n", path);
	const struct { const char *k, *v; } rows[] = {
		{ "Engine", ci->engine }, { "Container", ci->name }, { "ID", ci->id },
		{ "Pod", ci->pod }, { "Namespace", ci->ns }, { "Image", ci->image },
		{ "Runtime", ci->runtime }, { "Created", ci->created },
		{ "Checkpointed", ci->checkpointed },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if ((v = rows[i].v) && *v)
			fprintf(f, "  %-15s %s\n", rows[i].k, v);
	human(a, ci->checkpoint_bytes);
	human(b, ci->pages_bytes);
	human(c, ci->rootfs_diff_bytes);
	fprintf(f, "  %-15s %s (memory pages %s, %llu pages)\n  %-15s %s\n", "Checkpoint size", a, b,
		(unsigned long long)ci->mem_pages, "Root fs diff", c);
	if (ci->stats.has_dump)
		fprintf(f, "  %-15s freezing %llu us, frozen %llu us, memdump %llu us, memwrite %llu us,"
			" pages scanned %llu, written %llu\n", "CRIU dump", ci->stats.freezing_time,
			ci->stats.frozen_time, ci->stats.memdump_time, ci->stats.memwrite_time,
			ci->stats.pages_scanned, ci->stats.pages_written);
	if (ci->nprocs) {
		fprintf(f, "  Process tree\n");
		tree(f, ci, view, 0, 0);
	}
	text_sections(f, ci, view);
	fprintf(f, "  Files          ");
	for (int i = 0; i < INSPECT_NKNOWN; i++)
		fprintf(f, " %s%s", ci->has[i] ? "+" : "-", inspect_known_files[i]);
	fputc('\n', f);
}

static json_t *json_lines(const char *s)
{
	json_t *a = json_array();
	for (const char *e = s; e && *e;) {
		size_t n = strcspn(e, "\n");
		json_array_append_new(a, json_stringn(e, n));
		e += n + (e[n] == '\n');
	}
	return a;
}

static json_t *json_proc(const struct checkpoint_info *ci, size_t i, const struct inspect_view *v)
{
	const struct inspect_task *t = &ci->tasks[i];
	json_t *p = json_pack("{s:i, s:i, s:i, s:i, s:i, s:s, s:I}", "pid", (int)ci->procs[i].pid,
			      "ppid", (int)ci->procs[i].ppid, "pgid", (int)ci->procs[i].pgid, "sid",
			      (int)ci->procs[i].sid, "threads", (int)ci->procs[i].threads, "comm",
			      ci->procs[i].comm, "memory_pages", (json_int_t)t->pm.present_pages);
	if (v->cmd)
		json_object_set_new(p, "cmdline", t->cmdline ? json_string(t->cmdline) : json_null());
	if (v->env)
		json_object_set_new(p, "env", t->env ? json_lines(t->env) : json_null());
	if (v->files) {
		json_t *fds = json_array();
		for (size_t k = 0; k < t->nfds; k++) {
			const struct criu_file *cf = file_by_id(ci, t->fds[k].id);
			json_array_append_new(fds, json_pack("{s:i, s:s, s:s}", "fd", (int)t->fds[k].fd, "type",
							     criu_file_type_name(t->fds[k].type), "what",
							     cf ? cf->desc : "?"));
		}
		json_object_set_new(p, "fds", fds);
	}
	return p;
}

static void json_sections(json_t *o, const struct checkpoint_info *ci, const struct inspect_view *v)
{
	char holders[256];
	if (v->sockets) {
		json_t *a = json_array();
		for (size_t i = 0; i < ci->nfiles; i++) {
			const struct criu_file *s = &ci->files[i];
			if (!s->socket)
				continue;
			inspect_file_holders(holders, sizeof(holders), ci, s->id);
			json_t *j = json_pack("{s:s, s:s, s:s}", "protocol", criu_sock_proto_name(s), "state",
					      criu_sock_state_name(s->state), "holders", holders);
			if (s->family == 1)
				json_object_set_new(j, "name", json_string(s->uname));
			else
				json_object_update_new(j, json_pack("{s:s, s:i, s:s, s:i}", "src", s->src,
								    "src_port", (int)s->src_port, "dst",
								    s->dst, "dst_port", (int)s->dst_port));
			json_array_append_new(a, j);
		}
		json_object_set_new(o, "sockets", a);
	}
	if (v->mounts) {
		json_t *a = json_array();
		for (size_t i = 0; i < ci->nmounts; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "mountpoint",
							   ci->mounts[i].mountpoint, "type", ci->mounts[i].fstype,
							   "source", ci->mounts[i].source, "options",
							   ci->mounts[i].options));
		json_object_set_new(o, "mounts", a);
	}
	if (v->network) {
		json_t *a = json_array();
		for (size_t i = 0; i < ci->nips; i++)
			json_array_append_new(a, json_string(ci->ips[i]));
		json_object_set_new(o, "network", json_pack("{s:o}", "ips", a));
	}
}

json_t *inspect_to_json(const char *path, const struct checkpoint_info *ci,
			const struct inspect_view *v)
{
	json_t *procs = json_array(), *files = json_object(), *o;
	for (size_t i = 0; i < ci->nprocs; i++)
		json_array_append_new(procs, json_proc(ci, i, v));
	for (int i = 0; i < INSPECT_NKNOWN; i++)
		json_object_set_new(files, inspect_known_files[i], json_boolean(ci->has[i]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
			 " s:I, s:I, s:I, s:o, s:o, s:o}",
			 "path", path, "engine", ci->engine, "name", ci->name, "id", ci->id,
			 "pod", ci->pod, "namespace", ci->ns, "image", ci->image,
			 "runtime", ci->runtime, "created", ci->created,
			 "checkpointed", ci->checkpointed,
			 "checkpoint_bytes", (json_int_t)ci->checkpoint_bytes,
			 "pages_bytes", (json_int_t)ci->pages_bytes,
			 "rootfs_diff_bytes", (json_int_t)ci->rootfs_diff_bytes,
			 "criu_stats", criu_stats_json(&ci->stats), "processes", procs, "files", files);
	json_object_set_new(o, "memory_pages", json_integer((json_int_t)ci->mem_pages));
	json_sections(o, ci, v);
	return o;
}
