/*
 * k8s_json.h: the parts of API server and kubelet answers crharness reads,
 * taken out of their JSON (jansson) with no trust in their shape: missing
 * fields, wrong types and non-JSON bodies give defaults or an error, never
 * a crash. Separate from the backend so it can be fuzzed.
 */
#ifndef NP_K8S_JSON_H
#define NP_K8S_JSON_H

#include "buf.h"

/** What a pod's status says: phase, node, and why its container waits. */
struct pod_state {
	char phase[32], host[64];
	char reason[64], message[300];
	long restarts; /* summed restartCount of its containers */
};

/** Fill ps from a GET pod answer; phase "Unknown" when there is none. */
void k8s_json_pod_state(struct pod_state *ps, const char *body);
/** The first archive of an {"items": [...]} checkpoint answer, appended to path. */
int k8s_json_items_path(struct buf *path, const char *body);
/**
 * A ContainerCheckpoint object's status: 1 and the location when
 * Completed, -1 and the message when Failed, 0 while neither.
 */
int k8s_json_crd_status(const char *body, struct buf *location, struct buf *message);

#endif
