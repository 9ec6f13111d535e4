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
	char phase[32], host[64], node[254]; /* status.phase, status.hostIP, spec.nodeName */
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

/** A ContainerCheckpoint object as the controller sees it. */
struct cc_object {
	char ns[254], name[254], rv[32];
	char phase[32];              /* status.phase, "" when new */
	char pod[254], container[64]; /* spec.podName, spec.containerName */
};

/**
 * The objects of a list answer ({"metadata": {"resourceVersion"}, "items"}):
 * *items (free() it) and *n; the list's resourceVersion into rv.
 * An error when the body is not such a list.
 */
int k8s_json_cc_list(const char *body, struct cc_object **items, size_t *n, char *rv, size_t rvlen);

/**
 * One watch event line {"type", "object"}: type (ADDED, MODIFIED, DELETED,
 * BOOKMARK, ERROR) and the object; for ERROR, *code is the Status's code
 * (410: the resourceVersion is too old, list again). An error when the
 * line is not an event.
 */
int k8s_json_watch_event(const char *line, char *type, size_t typelen, struct cc_object *obj, long *code);

#endif
