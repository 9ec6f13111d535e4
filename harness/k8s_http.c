/*
 * k8s_http.c: see k8s_http.h. One set-up (k8s__handle) for plain requests
 * and streams, so TLS and authentication are configured in one place.
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

/* A handle for method url with TLS and credentials set; headers go to *h
 * and the Authorization line (the token) to auth, which the caller wipes. */
static CURL *k8s__handle(const struct k8s_tls *t, const char *method, const char *url, char *err,
			 struct curl_slist **h, struct buf *auth)
{
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	/* plain http only to loopback: `kubectl proxy` holds the credentials there */
	bool proxy = !strncmp(url, "http://127.0.0.1:", 17) || !strncmp(url, "http://localhost:", 17);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, proxy ? "http" : "https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
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
		buf_addf(auth, "Authorization: Bearer %s", t->token);
		*h = curl_slist_append(*h, auth->ptr);
	}
	*h = curl_slist_append(*h, "Accept: application/json");
	log_debug("k8s: %s %s", method, url);
	return c;
}

int k8s_request_type(const struct k8s_tls *t, const char *method, const char *url, const char *body,
		     const char *content_type, int timeout_s, long *status, struct buf *resp)
{
	char err[CURL_ERROR_SIZE] = "", ct[128];
	struct curl_slist *h = NULL;
	struct buf auth = BUF_INIT;
	*status = 0;
	CURL *c = k8s__handle(t, method, url, err, &h, &auth);
	if (!c)
		return np_error_set("cannot initialise libcurl");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, k8s__write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(timeout_s > 0 ? timeout_s : 30));
	if (body) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		h = curl_slist_append(h, ct);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	CURLcode rc = curl_easy_perform(c);
	int r = 0;
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

int k8s_request(const struct k8s_tls *t, const char *method, const char *url, const char *body,
		int timeout_s, long *status, struct buf *resp)
{
	return k8s_request_type(t, method, url, body,
				strcmp(method, "PATCH") ? "application/json"
							: "application/strategic-merge-patch+json",
				timeout_s, status, resp);
}

struct k8s__stream {
	CURL *c;
	struct buf line, *errbody;
	k8s_line_fn fn;
	void *ctx;
	const volatile sig_atomic_t *stop;
	bool ended;   /* fn asked to stop */
	bool checked; /* code read */
	long code;
};

static size_t k8s__stream_write(char *p, size_t size, size_t n, void *arg)
{
	struct k8s__stream *s = arg;
	size_t len = size * n;
	if (!s->checked) {
		curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &s->code);
		s->checked = true;
	}
	if (s->code != 200) {
		buf_add(s->errbody, p, len);
		return len;
	}
	buf_add(&s->line, p, len);
	char *nl;
	while ((nl = memchr(s->line.ptr, '\n', s->line.len))) {
		size_t l = (size_t)(nl - s->line.ptr);
		*nl = '\0';
		int stop = l ? s->fn(s->ctx, s->line.ptr, l) : 0;
		size_t rest = s->line.len - l - 1;
		memmove(s->line.ptr, nl + 1, rest);
		buf_setlen(&s->line, rest);
		if (stop) {
			s->ended = true;
			return 0; /* curl ends the transfer (CURLE_WRITE_ERROR) */
		}
	}
	return len;
}

/* Called by curl at least once a second, also while no byte arrives. */
static int k8s__stream_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	const struct k8s__stream *s = arg;
	(void)a, (void)b, (void)c, (void)d;
	return s->stop && *s->stop;
}

int k8s_stream(const struct k8s_tls *t, const char *url, int timeout_s, k8s_line_fn fn, void *ctx,
	       const volatile sig_atomic_t *stop, long *status, struct buf *errbody)
{
	char err[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	struct buf auth = BUF_INIT;
	struct k8s__stream s = { NULL, BUF_INIT, errbody, fn, ctx, stop, false, false, 0 };
	*status = 0;
	CURL *c = k8s__handle(t, "GET", url, err, &h, &auth);
	if (!c)
		return np_error_set("cannot initialise libcurl");
	s.c = c;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, k8s__stream_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, k8s__stream_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(timeout_s > 0 ? timeout_s : 0));
	CURLcode rc = curl_easy_perform(c);
	int r = 0;
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && s.ended) ||
	    (rc == CURLE_ABORTED_BY_CALLBACK && stop && *stop))
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	else
		r = np_error_set("GET %s: %s", url, err[0] ? err : curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	memset(auth.ptr, 0, auth.len);
	buf_release(&auth);
	buf_release(&s.line);
	return r;
}
