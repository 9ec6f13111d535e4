/*
 * kubelet_api.h: the kubelet's checkpoint API (KEP-2008), shared by the
 * kubelet backend and `crharness controller`:
 *   POST https://NODE:10250/checkpoint/{ns}/{pod}/{container}?timeout=S
 * with a client certificate the kubelet trusts (kubeadm's
 * apiserver-kubelet-client). Its answers, good or bad, are read in one
 * place so both callers report them in the same words.
 */
#ifndef NP_KUBELET_API_H
#define NP_KUBELET_API_H

#include "buf.h"
#include "k8s_http.h"

/**
 * Checkpoint container ctr of pod ns/pod on the kubelet at base_url
 * (https://HOST:10250) and append the archive path the kubelet names to
 * path. timeout_s is passed to the kubelet (0: its default). Errors say
 * what the kubelet's answer means: gate off, unknown pod, refused
 * certificate, the runtimes' known failures (kubelet_api_explain).
 */
int kubelet_api_checkpoint(struct buf *path, const struct k8s_tls *t, const char *base_url,
			   const char *ns, const char *pod, const char *ctr, int timeout_s);

/** Set the error for a kubelet answer other than 200 (status st, body). */
int kubelet_api_explain(long st, const char *body, const char *ns, const char *pod, const char *ctr);

#endif
