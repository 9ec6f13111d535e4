/*
 * ckpt_list.c: see ckpt_list.h.
 */
#include "ckpt_list.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "inspect.h"
#include "banned.h"

static bool is_archive(const char *name)
{
	static const char *const pats[] = { "*.tar", "*.tar.gz", "*.tgz", "*.tar.zst", "*.tar.xz",
					    "*.tar.bz2" };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (!fnmatch(pats[i], name, 0))
			return true;
	return false;
}

static long long dir_bytes(const char *dir)
{
	long long total = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	struct buf p = BUF_INIT;
	while (d && (de = readdir(d))) {
		struct stat st;
		buf_reset(&p);
		buf_addf(&p, "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.' && !lstat(p.ptr, &st) && S_ISREG(st.st_mode))
			total += st.st_size;
	}
	if (d)
		closedir(d);
	buf_release(&p);
	return total;
}

/* Docker keeps checkpoints in containers/ID/checkpoints/NAME; the name is in ID/config.v2.json. */
static void docker_names(struct checkpoint_info *ci, const char *path)
{
	const char *c = strstr(path, "/containers/"), *k;
	if (!c || !(k = strstr(c + 12, "/checkpoints/")) || k - (c + 12) < 12)
		return;
	struct buf cfg = BUF_INIT;
	buf_addf(&cfg, "%.*s/config.v2.json", (int)(k - path), path);
	json_t *j = json_load_file(cfg.ptr, 0, NULL);
	const char *name = json_string_value(json_object_get(j, "Name"));
	snprintf(ci->engine, sizeof(ci->engine), "Docker");
	if (name)
		snprintf(ci->name, sizeof(ci->name), "%s", name[0] == '/' ? name + 1 : name);
	else
		snprintf(ci->name, sizeof(ci->name), "%.12s", c + 12);
	json_decref(j);
	buf_release(&cfg);
}

static void iso_time(char out[32], time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ckpt_list_one(struct ckpt_found *fo, const char *path, const struct stat *st)
{
	struct checkpoint_info ci;
	char when[32];
	if (inspect_checkpoint(&ci, path)) {
		fo->skipped++;
		np_error_clear();
		return;
	}
	if (S_ISDIR(st->st_mode))
		docker_names(&ci, path);
	if (strstr(path, "/kubelet/checkpoints/") || strstr(path, "/kubelet/pod-checkpoints/")) {
		char e[48];
		snprintf(e, sizeof(e), "%s", ci.engine);
		snprintf(ci.engine, sizeof(ci.engine), "%.30s (kubelet)", e);
	}
	iso_time(when, st->st_mtime);
	json_array_append_new(fo->all, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "path", path,
						 "engine", ci.engine, "container", ci.name, "pod", ci.pod,
						 "namespace", ci.ns, "time",
						 ci.checkpointed[0] ? ci.checkpointed : when, "bytes",
						 (json_int_t)(S_ISDIR(st->st_mode) ? dir_bytes(path)
										  : st->st_size)));
	inspect_free(&ci);
}

static int list__walk(struct ckpt_found *fo, const char *dir, int depth)
{
	struct buf p = BUF_INIT, inv = BUF_INIT;
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return np_error_set("cannot read directory '%s': %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		buf_reset(&p);
		buf_addf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name);
		if (lstat(p.ptr, &st))
			continue;
		if (S_ISREG(st.st_mode) && is_archive(de->d_name)) {
			ckpt_list_one(fo, p.ptr, &st);
		} else if (S_ISDIR(st.st_mode)) {
			buf_reset(&inv);
			buf_addf(&inv, "%s/inventory.img", p.ptr);
			if (fs_exists(inv.ptr))
				ckpt_list_one(fo, p.ptr, &st);
			else if (depth < 4)
				list__walk(fo, p.ptr, depth + 1);
		}
	}
	closedir(d);
	buf_release(&p);
	buf_release(&inv);
	np_error_clear();
	return 0;
}

int ckpt_list_dir(struct ckpt_found *fo, const char *dir)
{
	return list__walk(fo, dir, 0);
}
