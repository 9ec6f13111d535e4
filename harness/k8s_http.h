/*
 * k8s_http.h: HTTPS requests to an API server or a kubelet with libcurl:
 * the CA, client certificate and key as in-memory PEM (curl blobs, so no
 * secret ever touches the disk), or a bearer token. TLS is always
 * verified. The token is never logged.
 */
#ifndef NP_K8S_HTTP_H
#define NP_K8S_HTTP_H

#include "buf.h"

struct k8s_tls {
	const struct buf *ca, *cert, *key; /* PEM, or NULL/empty */
	const char *token;                 /* or NULL */
};

/**
 * method url (with body as JSON when non-NULL). *status gets the HTTP code;
 * resp the body. Returns 0 when an HTTP answer came back (any code), else
 * an error naming the URL and curl's reason (TLS, refused, timeout).
 */
int k8s_request(const struct k8s_tls *t, const char *method, const char *url, const char *body,
		int timeout_s, long *status, struct buf *resp);

#endif
