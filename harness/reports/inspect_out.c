/*
 * inspect_out.c: `crharness inspect` output, as text (checkpointctl-like)
 * or JSON (same fields, for scripts).
 */
#include <stdio.h>
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

static void tree(FILE *f, const struct checkpoint_info *ci, unsigned ppid, int depth)
{
	for (size_t i = 0; i < ci->nprocs && depth < 32; i++)
		if (ci->procs[i].ppid == ppid && ci->procs[i].pid != ppid) {
			fprintf(f, "  %*s%s%u %s\n", depth * 3, "", depth ? "└─ " : "", ci->procs[i].pid,
				ci->procs[i].comm[0] ? ci->procs[i].comm : "?");
			tree(f, ci, ci->procs[i].pid, depth + 1);
		}
}

void inspect_print_text(FILE *f, const char *path, const struct checkpoint_info *ci)
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
	fprintf(f, "  %-15s %s (memory pages %s)\n  %-15s %s\n", "Checkpoint size", a, b,
		"Root fs diff", c);
	if (ci->stats.has_dump)
		fprintf(f, "  %-15s freezing %llu us, frozen %llu us, memdump %llu us, memwrite %llu us,"
			" pages scanned %llu, written %llu\n", "CRIU dump", ci->stats.freezing_time,
			ci->stats.frozen_time, ci->stats.memdump_time, ci->stats.memwrite_time,
			ci->stats.pages_scanned, ci->stats.pages_written);
	if (ci->nprocs) {
		fprintf(f, "  Process tree\n");
		tree(f, ci, 0, 0);
	}
	fprintf(f, "  Files          ");
	for (int i = 0; i < INSPECT_NKNOWN; i++)
		fprintf(f, " %s%s", ci->has[i] ? "+" : "-", inspect_known_files[i]);
	fputc('\n', f);
}

json_t *inspect_to_json(const char *path, const struct checkpoint_info *ci)
{
	json_t *procs = json_array(), *files = json_object();
	for (size_t i = 0; i < ci->nprocs; i++)
		json_array_append_new(procs, json_pack("{s:i, s:i, s:i, s:s}", "pid", (int)ci->procs[i].pid,
						       "ppid", (int)ci->procs[i].ppid, "threads",
						       (int)ci->procs[i].threads, "comm", ci->procs[i].comm));
	for (int i = 0; i < INSPECT_NKNOWN; i++)
		json_object_set_new(files, inspect_known_files[i], json_boolean(ci->has[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
			 " s:I, s:I, s:I, s:o, s:o, s:o}",
			 "path", path, "engine", ci->engine, "name", ci->name, "id", ci->id,
			 "pod", ci->pod, "namespace", ci->ns, "image", ci->image,
			 "runtime", ci->runtime, "created", ci->created,
			 "checkpointed", ci->checkpointed,
			 "checkpoint_bytes", (json_int_t)ci->checkpoint_bytes,
			 "pages_bytes", (json_int_t)ci->pages_bytes,
			 "rootfs_diff_bytes", (json_int_t)ci->rootfs_diff_bytes,
			 "criu_stats", criu_stats_json(&ci->stats), "processes", procs, "files", files);
}
