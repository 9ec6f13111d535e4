/*
 * k8s_http.c: see k8s_http.h.
 */
#include "k8s_http.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

#include "error.h"
#include "log.h"
#include "banned.h"

static size_t k8s__write(char *p, size_t size, size_t n, void *b)
{
	buf_add(b, p, size * n);
	return size * n;
}

static void k8s__blob(CURL *c, CURLoption opt, const struct buf *pem)
{
	if (!pem || !pem->len)
		return;
	struct curl_blob blob = { pem->ptr, pem->len, CURL_BLOB_COPY };
	curl_easy_setopt(c, opt, &blob);
}

int k8s_request(const struct k8s_tls *t, const char *method, const char *url, const char *body,
		int timeout_s, long *status, struct buf *resp)
{
	char err[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	struct buf auth = BUF_INIT;
	CURL *c = curl_easy_init();
	if (!c)
		return np_error_set("cannot initialise libcurl");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	/* plain http only to loopback: `kubectl proxy` holds the credentials there */
	bool proxy = !strncmp(url, "http://127.0.0.1:", 17) || !strncmp(url, "http://localhost:", 17);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, proxy ? "http" : "https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, k8s__write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(timeout_s > 0 ? timeout_s : 30));
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	k8s__blob(c, CURLOPT_CAINFO_BLOB, t->ca);
	k8s__blob(c, CURLOPT_SSLCERT_BLOB, t->cert);
	k8s__blob(c, CURLOPT_SSLKEY_BLOB, t->key);
	if (t->cert && t->cert->len) {
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (t->token && *t->token) {
		buf_addf(&auth, "Authorization: Bearer %s", t->token);
		h = curl_slist_append(h, auth.ptr);
	}
	h = curl_slist_append(h, "Accept: application/json");
	if (body) {
		h = curl_slist_append(h, strcmp(method, "PATCH") ? "Content-Type: application/json"
						 : "Content-Type: application/strategic-merge-patch+json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	log_debug("k8s: %s %s", method, url);
	CURLcode rc = curl_easy_perform(c);
	int r = 0;
	*status = 0;
	if (rc != CURLE_OK)
		r = np_error_set("%s %s: %s", method, url, err[0] ? err : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	memset(auth.ptr, 0, auth.len); /* holds the token */
	buf_release(&auth);
	return r;
}
