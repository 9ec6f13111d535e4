/*
 * docker_api.h: requests to a Docker Engine over its UNIX socket with
 * libcurl (CURLOPT_UNIX_SOCKET_PATH), JSON in and out with jansson. The
 * one place that turns curl's and the engine's errors into ours. The API
 * version is pinned to 1.41 (dockerd 20.10); newer engines still serve it.
 */
#ifndef NP_DOCKER_API_H
#define NP_DOCKER_API_H

#include <stddef.h>
#include <jansson.h>

#include "buf.h"

/** The socket path of a DOCKER_HOST-style value ("unix:///run/x.sock" or a path); NULL if not a UNIX socket. */
const char *docker_api_socket(const char *host);

/**
 * method path (e.g. "/containers/create?name=x") on the engine at sock.
 * body (len bytes, content type ctype) may be NULL. resp gets the body.
 * 0 on a 2xx answer; otherwise an error with the engine's own message:
 * NP_ENOTFOUND for 404, NP_ETIMEOUT when timeout_s passed, NP_ERROR else.
 * *status (may be NULL) gets the HTTP code (0 when none came).
 */
int docker_api_request(const char *sock, const char *method, const char *path, const char *ctype,
		       const void *body, size_t len, int timeout_s, long *status, struct buf *resp);

/** As docker_api_request with a JSON body (may be NULL); *out (may be NULL) the parsed answer, or NULL if not JSON. */
int docker_api_json(const char *sock, const char *method, const char *path, json_t *body,
		    int timeout_s, json_t **out);

#endif
