/*
 * controller.h: the ContainerCheckpoint controller behind `crharness
 * controller`. It keeps every ContainerCheckpoint object (a CRD, by
 * default lpm.my.domain/v1, harness/k8s/containercheckpoint-crd.yaml) in
 * step with reality: a new object's pod container is checkpointed through
 * its node's kubelet API and the object's status says how it went:
 *   status.phase Running   (claimed; a checkpoint is under way)
 *                Completed (status.location: the archive on the node,
 *                           status.nodeName, status.completionTime)
 *                Failed    (status.message: the reason, in the words of
 *                           kubelet_api.h)
 *
 * It lists the objects, then watches them from the list's
 * resourceVersion (see controller.c for why a watch and not a poll).
 * One controller per cluster: there is no leader election, and objects
 * left Running by a controller that died are taken over on the next list.
 */
#ifndef NP_CONTROLLER_H
#define NP_CONTROLLER_H

#include <signal.h>
#include <stdbool.h>

struct controller_opts {
	const char *kubeconfig, *context;
	const char *ns;                   /* NULL: all namespaces */
	const char *group_version;        /* e.g. lpm.my.domain/v1 */
	const char *plural;               /* e.g. containercheckpoints */
	const char *kubelet_url;          /* NULL: https://<pod's hostIP>:10250 */
	const char *kubelet_cert, *kubelet_key, *kubelet_ca;
	int timeout_s;                    /* passed to the kubelet */
	int watch_s;                      /* server-side length of one watch */
	bool once;                        /* list, settle what is pending, return */
};

/**
 * Run until *stop is set (a SIGTERM handler sets it; checked at least once
 * a second while idle; a checkpoint under way is finished first, so its
 * object's status stays true), or, with once, until the objects pending
 * at the list have a final status. Each object settled is written to
 * stdout as "NS/NAME Completed LOCATION" or "NS/NAME Failed: REASON".
 * Returns 0; NP_EINVALID for a bad kubeconfig or unreadable kubelet
 * credentials; an error when (with once) the API server could not be
 * read or a status not written. Without once, API server errors are
 * logged and retried.
 */
int controller_run(const struct controller_opts *o, const volatile sig_atomic_t *stop);

#endif
