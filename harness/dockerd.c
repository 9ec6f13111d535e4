/*
 * dockerd.c: see dockerd.h. dockerd reads /etc/docker/daemon.json unless
 * told otherwise, and the host's file may name its own data root: the
 * private daemon always gets its own --config-file, and its own containerd
 * (dockerd.h says why).
 */
#include "dockerd.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <jansson.h>

#include "docker_api.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "banned.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int dockerd__config(const char *path, const char *runtime)
{
	json_t *j = json_object();
	if (runtime) {
		json_object_set_new(j, "runtimes",
				    json_pack("{s:{s:s}}", "crharness-runc", "path", runtime));
		json_object_set_new(j, "default-runtime", json_string("crharness-runc"));
	}
	char *text = json_dumps(j, JSON_INDENT(2));
	if (!text)
		abort();
	int r = fs_write_atomic(path, text, strlen(text), 0600, -1, -1);
	free(text);
	json_decref(j);
	return r;
}

static void dockerd__reap(struct dockerd *d);

/* containerd for this daemon only: root, state and sockets under DIR/containerd */
static int dockerd__containerd(struct dockerd *d, const char *const *env, char *addr, size_t n)
{
	char dir[600], cfgp[640], logp[640];
	struct buf cfg = BUF_INIT;
	int r;
	snprintf(dir, sizeof(dir), "%s/containerd", d->dir);
	snprintf(addr, n, "%s/containerd.sock", dir);
	snprintf(cfgp, sizeof(cfgp), "%s/config.toml", dir);
	snprintf(logp, sizeof(logp), "%s/containerd.log", dir);
	buf_addf(&cfg,
		 "# containerd of one private dockerd (crharness)\nversion = 2\nroot = \"%s/root\"\n"
		 "state = \"%s/state\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
		 "[grpc]\n  address = \"%s\"\n[ttrpc]\n  address = \"%s.ttrpc\"\n",
		 dir, dir, addr, addr);
	if ((r = fs_mkdir_p(dir, 0700)) || (r = fs_write_atomic(cfgp, cfg.ptr, cfg.len, 0600, -1, -1)))
		goto out;
	const char *argv[] = { "containerd", "--config", cfgp, NULL };
	d->ctrd = (struct spawn)SPAWN_INIT;
	d->ctrd.argv = argv;
	d->ctrd.env = env;
	r = spawn_start_logged(&d->ctrd, logp);
	d->ctrd.argv = NULL;
	if (r)
		goto out;
	d->ctrd_running = true;
	for (int i = 0; i < 200 && !fs_exists(addr); i++)
		sleep_ms(50);
	if (!fs_exists(addr))
		r = np_error_set("containerd for the private dockerd did not come up within 10 s (see %s)", logp);
out:
	buf_release(&cfg);
	return r;
}

int dockerd_start(struct dockerd *d, const char *dir, const char *runtime, const char *const *env)
{
	char cfg[600], data[600], exec[600], host[620], pid[600], logp[600], caddr[640], copt[660];
	int r;
	memset(d, 0, sizeof(*d));
	d->proc = (struct spawn)SPAWN_INIT;
	d->ctrd = (struct spawn)SPAWN_INIT;
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	snprintf(d->sock, sizeof(d->sock), "%s/docker.sock", dir);
	snprintf(cfg, sizeof(cfg), "%s/daemon.json", dir);
	snprintf(data, sizeof(data), "--data-root=%s/data", dir);
	snprintf(exec, sizeof(exec), "--exec-root=%s/exec", dir);
	snprintf(host, sizeof(host), "--host=unix://%s", d->sock);
	snprintf(pid, sizeof(pid), "--pidfile=%s/docker.pid", dir);
	snprintf(logp, sizeof(logp), "%s/dockerd.log", dir);
	if ((r = fs_mkdir_p(dir, 0700)) || (r = dockerd__config(cfg, runtime)))
		return r;
	if ((r = dockerd__containerd(d, env, caddr, sizeof(caddr)))) {
		dockerd_stop(d);
		return r;
	}
	snprintf(copt, sizeof(copt), "--containerd=%s", caddr);
	const char *argv[] = { "dockerd", "--config-file", cfg, "--experimental", data, exec, host, pid,
			       copt, "--bridge=none", "--iptables=false", "--ip-masq=false",
			       "--userland-proxy=false", NULL };
	d->proc.argv = argv;
	d->proc.env = env;
	r = spawn_start_logged(&d->proc, logp);
	d->proc.argv = NULL; /* argv lives on this stack */
	if (r) {
		np_error_prefix("cannot start dockerd (Debian package docker.io)");
		dockerd_stop(d);
		return r;
	}
	d->running = true;
	for (int i = 0; i < 300; i++) {
		struct buf resp = BUF_INIT;
		if (fs_exists(d->sock) &&
		    !docker_api_request(d->sock, "GET", "/_ping", NULL, NULL, 0, 5, NULL, &resp)) {
			buf_release(&resp);
			log_debug("dockerd: private daemon up on %s after %d ms", d->sock, i * 100);
			return 0;
		}
		buf_release(&resp);
		int st;
		if (waitpid(d->proc.pid, &st, WNOHANG) == d->proc.pid) {
			/* it exited: its log says why (a socket or root already in use...) */
			d->running = false;
			spawn_release(&d->proc);
			dockerd_stop(d);
			return np_error_set("private dockerd exited at start (see %s)", logp);
		}
		sleep_ms(100);
	}
	r = np_error_set("private dockerd did not come up within 30 s (see %s)", logp);
	dockerd_stop(d);
	return r;
}

/* Shims of the daemon's containerd outlive it when it is killed. */
static void dockerd__reap(struct dockerd *d)
{
	char needle[620];
	snprintf(needle, sizeof(needle), "%s/", d->dir);
	DIR *pd = opendir("/proc");
	struct dirent *de;
	while (pd && (de = readdir(pd))) {
		char path[64];
		struct buf cmd = BUF_INIT;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		if (!fs_read_file(&cmd, path)) {
			for (size_t i = 0; i < cmd.len; i++)
				cmd.ptr[i] = cmd.ptr[i] ? cmd.ptr[i] : ' ';
			if (strstr(cmd.ptr, "containerd") && strstr(cmd.ptr, needle)) {
				kill((pid_t)strtol(de->d_name, NULL, 10), SIGKILL);
				log_warn("dockerd: killed leftover '%.100s'", cmd.ptr);
			}
		}
		buf_release(&cmd);
	}
	if (pd)
		closedir(pd);
	/* deepest first: /proc/self/mountinfo lists parents before children */
	struct buf mi = BUF_INIT;
	char *save = NULL, *mnts[512];
	size_t n = 0;
	if (!fs_read_file(&mi, "/proc/self/mountinfo"))
		for (char *line = strtok_r(mi.ptr, "\n", &save); line && n < 512;
		     line = strtok_r(NULL, "\n", &save)) {
			char mnt[1024];
			if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1 &&
			    !strncmp(mnt, d->dir, strlen(d->dir)) && (mnts[n] = strdup(mnt)))
				n++;
		}
	while (n--) {
		if (umount2(mnts[n], MNT_DETACH) == 0)
			log_debug("dockerd: detached %s", mnts[n]);
		free(mnts[n]);
	}
	buf_release(&mi);
}

void dockerd_stop(struct dockerd *d)
{
	if (!d->running && !d->ctrd_running)
		return;
	if (d->running)
		spawn_stop(&d->proc, SIGTERM, 15000);
	spawn_release(&d->proc);
	/* containerd after dockerd: dockerd asks it to delete its tasks on the way out */
	if (d->ctrd_running)
		spawn_stop(&d->ctrd, SIGTERM, 5000);
	spawn_release(&d->ctrd);
	dockerd__reap(d);
	d->running = d->ctrd_running = false;
}
