/*
 * k8s_http.h: HTTPS requests to an API server or a kubelet with libcurl:
 * the CA, client certificate and key as in-memory PEM (curl blobs, so no
 * secret ever touches the disk), or a bearer token. TLS is always
 * verified. The token is never logged.
 */
#ifndef NP_K8S_HTTP_H
#define NP_K8S_HTTP_H

#include <signal.h>
#include <stddef.h>

#include "buf.h"

struct k8s_tls {
	const struct buf *ca, *cert, *key; /* PEM, or NULL/empty */
	const char *token;                 /* or NULL */
};

/**
 * method url (with body as JSON when non-NULL). *status gets the HTTP code;
 * resp the body. Returns 0 when an HTTP answer came back (any code), else
 * an error naming the URL and curl's reason (TLS, refused, timeout).
 * A PATCH body is a strategic merge patch (core objects).
 */
int k8s_request(const struct k8s_tls *t, const char *method, const char *url, const char *body,
		int timeout_s, long *status, struct buf *resp);

/**
 * The same with the body's Content-Type given, e.g.
 * "application/merge-patch+json" for custom resources, which do not
 * take strategic merge patches.
 */
int k8s_request_type(const struct k8s_tls *t, const char *method, const char *url, const char *body,
		     const char *content_type, int timeout_s, long *status, struct buf *resp);

/**
 * Called with each complete line of a streamed answer (a watch sends one
 * JSON event per line), NUL-terminated, without its newline. Return 0 to
 * go on, non-zero to end the stream early (k8s_stream then returns 0).
 */
typedef int (*k8s_line_fn)(void *ctx, const char *line, size_t len);

/**
 * GET url and hand each line of the answer to fn as it arrives, until the
 * server ends it, timeout_s passes (0: no limit), fn asks to stop, or
 * *stop becomes non-zero (checked at least once a second: a signal
 * handler sets it). *status gets the HTTP code; the body of an answer
 * other than 200 goes to errbody instead of fn. Returns 0 in all those
 * cases; an error when the connection failed or broke.
 */
int k8s_stream(const struct k8s_tls *t, const char *url, int timeout_s, k8s_line_fn fn, void *ctx,
	       const volatile sig_atomic_t *stop, long *status, struct buf *errbody);

#endif
