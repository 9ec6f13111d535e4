/*
 * docker_api.c: see docker_api.h.
 */
#include "docker_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "error.h"
#include "log.h"
#include "banned.h"

#define API "http://docker/v1.41"

const char *docker_api_socket(const char *host)
{
	if (!host || !*host)
		return NULL;
	if (!strncmp(host, "unix://", 7))
		return host + 7;
	return host[0] == '/' ? host : NULL;
}

static size_t docker__write(char *p, size_t size, size_t n, void *b)
{
	buf_add(b, p, size * n);
	return size * n;
}

/* The engine's {"message": "..."} or the first line of the body. */
static void docker__message(struct buf *out, const struct buf *resp)
{
	json_t *j = json_loadb(resp->ptr, resp->len, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	if (m)
		buf_adds(out, m);
	else
		buf_addf(out, "%.*s", (int)strcspn(resp->ptr, "\n"), resp->ptr);
	json_decref(j);
}

int docker_api_request(const char *sock, const char *method, const char *path, const char *ctype,
		       const void *body, size_t len, int timeout_s, long *status, struct buf *resp)
{
	char err[CURL_ERROR_SIZE] = "", hdr[128];
	struct curl_slist *h = NULL;
	struct buf url = BUF_INIT, msg = BUF_INIT;
	long code = 0;
	int r = 0;
	CURL *c = curl_easy_init();
	if (!c)
		return np_error_set("cannot initialise libcurl");
	buf_reset(resp);
	buf_addf(&url, API "%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url.ptr);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, docker__write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(timeout_s > 0 ? timeout_s : 30));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* scenario lanes are threads */
	if (body) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype ? ctype : "application/json");
		h = curl_slist_append(h, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	h = curl_slist_append(h, "Expect:"); /* the engine answers at once; no 1 s wait for 100 */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	log_debug("docker: %s %s (%s)", method, path, sock);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		r = np_error_setc(NP_ETIMEOUT, "docker %s %s: no answer within %d s", method, path,
				  timeout_s);
	else if (rc != CURLE_OK)
		r = np_error_set("docker %s %s: %s (is dockerd listening on '%s'?)", method, path,
				 err[0] ? err : curl_easy_strerror(rc), sock);
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (!r && (code < 200 || code > 299)) {
		docker__message(&msg, resp);
		r = np_error_setc(code == 404 ? NP_ENOTFOUND : NP_ERROR, "docker %s %s: %ld: %s", method,
				  path, code, msg.ptr);
	}
	if (status)
		*status = code;
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	buf_release(&url);
	buf_release(&msg);
	return r;
}

int docker_api_json(const char *sock, const char *method, const char *path, json_t *body,
		    int timeout_s, json_t **out)
{
	struct buf resp = BUF_INIT;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (body && !text)
		abort();
	int r = docker_api_request(sock, method, path, "application/json", text, text ? strlen(text) : 0,
				   timeout_s, NULL, &resp);
	if (out)
		*out = !r && resp.len ? json_loadb(resp.ptr, resp.len, 0, NULL) : NULL;
	free(text);
	buf_release(&resp);
	return r;
}
