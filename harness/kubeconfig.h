/*
 * kubeconfig.h: the parts of a kubeconfig a client needs, parsed with
 * libyaml (ytree): the context (current-context or a named one), its
 * cluster's server and CA, and its user's client certificate/key or token.
 * *-data fields are base64 (decoded here); file fields are read relative to
 * the kubeconfig's directory, as kubectl does.
 */
#ifndef NP_KUBECONFIG_H
#define NP_KUBECONFIG_H

#include "buf.h"

struct kubeconfig {
	char server[512];
	struct buf ca, cert, key; /* PEM; empty when not set */
	char token[4096];
	char ns[128];             /* the context's namespace, or "default" */
};

/** Load path for context (NULL: current-context). NP_EINVALID with FILE:LINE:COL. */
int kubeconfig_load(struct kubeconfig *kc, const char *path, const char *context);
/** Parse from memory (name is used in messages). */
int kubeconfig_parse(struct kubeconfig *kc, const char *name, const char *text, size_t len,
		     const char *context);
void kubeconfig_release(struct kubeconfig *kc);

#endif
