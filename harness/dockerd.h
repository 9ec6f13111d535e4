/*
 * dockerd.h: a private Docker daemon for one crharness run, so that
 * experimental mode (checkpoint/restore) never needs the machine's own
 * engine reconfigured or restarted. Everything it owns lives under one
 * directory: config, data root, exec root, socket, pid file, log, and the
 * containerd it runs on.
 *
 * That containerd is started here and named with --containerd: dockerd
 * 20.10 left to itself uses /run/containerd/containerd.sock whenever that
 * file exists (any containerd someone started on the machine, even a dead
 * one's socket) instead of supervising its own.
 */
#ifndef NP_DOCKERD_H
#define NP_DOCKERD_H

#include <stdbool.h>

#include "spawn.h"

struct dockerd {
	char dir[512];
	char sock[600];     /* DIR/docker.sock */
	struct spawn proc, ctrd;
	bool running, ctrd_running;
};

/**
 * Start `dockerd --experimental` under dir (created) with no bridge and no
 * iptables rules, so nothing clashes with another engine on the host.
 * runtime: a runc to use as the default runtime (a wrapper carrying the
 * CRIU path and environment), or NULL. env: extra environment. Waits up
 * to 30 s for the API to answer. On error d is stopped again.
 */
int dockerd_start(struct dockerd *d, const char *dir, const char *runtime, const char *const *env);

/**
 * Stop it (SIGTERM, then SIGKILL after 15 s), then kill shims still
 * serving its containerd and detach mounts left under its directory.
 * Idempotent; a never-started d is fine.
 */
void dockerd_stop(struct dockerd *d);

#endif
