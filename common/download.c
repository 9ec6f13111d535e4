/*
 * download.c: see download.h.
 */
#include "download.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "error.h"
#include "log.h"
#include "banned.h"

struct progress {
	const char *url;
	bool tty;
	curl_off_t resumed;
	double t0;
	double last;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void human(char out[16], double n)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB" };
	int i = 0;
	while (n >= 1024 && i < 3)
		n /= 1024, i++;
	snprintf(out, 16, i ? "%.1f %s" : "%.0f %s", n, u[i]);
}

static int progress__cb(void *p_, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
	struct progress *p = p_;
	(void)ut, (void)un;
	double t = now_s();
	if (!p->tty || t - p->last < 0.2)
		return 0;
	p->last = t;
	char a[16], b[16], rate[16];
	double bps = (double)now / (t - p->t0 > 0.001 ? t - p->t0 : 0.001);
	human(a, (double)(now + p->resumed));
	human(b, (double)(total + p->resumed));
	human(rate, bps);
	if (total > 0) {
		int pct = (int)(100.0 * (double)(now + p->resumed) / (double)(total + p->resumed));
		int eta = bps > 0 ? (int)((double)(total - now) / bps) : 0;
		fprintf(stderr, "\r  %3d%% %s / %s  %s/s  ETA %ds   ", pct, a, b, rate, eta);
	} else {
		fprintf(stderr, "\r  %s  %s/s   ", a, rate);
	}
	return 0;
}

static bool transient(CURLcode c, long http)
{
	if (c == CURLE_HTTP_RETURNED_ERROR)
		return http == 408 || http == 429 || http >= 500;
	return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_PARTIAL_FILE ||
	       c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING ||
	       c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_COULDNT_RESOLVE_PROXY;
}

/* One attempt; appends to partial from its current size. */
static CURLcode download__once(const char *url, const char *partial, const struct download_opts *o,
			       struct progress *pr, long *http, char err[CURL_ERROR_SIZE])
{
	struct stat st;
	curl_off_t have = stat(partial, &st) == 0 ? (curl_off_t)st.st_size : 0;
	FILE *f = fopen(partial, "ab");
	if (!f) {
		snprintf(err, CURL_ERROR_SIZE, "cannot write '%s': %s", partial, strerror(errno));
		return CURLE_WRITE_ERROR;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		fclose(f);
		snprintf(err, CURL_ERROR_SIZE, "cannot initialise libcurl");
		return CURLE_FAILED_INIT;
	}
	pr->resumed = have;
	pr->t0 = now_s();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	/* a redirect may never leave the web: https -> file:///etc/shadow is refused */
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer (under 1 KiB/s for 60 s) fails and is retried */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "nodeprep");
	if (have > 0)
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, have);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress__cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, pr);
	err[0] = 0;
	CURLcode rc = curl_easy_perform(c);
	*http = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http);
	if (fclose(f) && rc == CURLE_OK) {
		snprintf(err, CURL_ERROR_SIZE, "cannot write '%s'", partial);
		rc = CURLE_WRITE_ERROR;
	}
	curl_easy_cleanup(c);
	if (pr->tty)
		fputs("\r\033[K", stderr);
	return rc;
}

int download_to(const char *url, const char *partial, const struct download_opts *o)
{
	static const struct download_opts defaults = { NULL, -1, 0, false };
	char err[CURL_ERROR_SIZE];
	o = o ? o : &defaults;
	int retries = o->retries < 0 ? 3 : o->retries, delay = o->backoff_ms ? o->backoff_ms : 1000;
	struct progress pr = { url, !o->quiet && isatty(2), 0, 0, 0 };
	double t0 = now_s();
	for (int attempt = 0;; attempt++) {
		long http;
		CURLcode rc = download__once(url, partial, o, &pr, &http, err);
		if (rc == CURLE_OK) {
			struct stat st;
			char size[16];
			human(size, stat(partial, &st) == 0 ? (double)st.st_size : 0);
			if (!o->quiet)
				log_info("fetched %s (%s in %.1f s)", url, size, now_s() - t0);
			return 0;
		}
		if (rc == CURLE_RANGE_ERROR || (rc == CURLE_HTTP_RETURNED_ERROR && http == 416)) {
			/* the server cannot resume, or the partial is bad: start over */
			unlink(partial);
		} else if (!transient(rc, http) || attempt >= retries) {
			return np_error_set("cannot fetch '%s': %s", url,
					    err[0] ? err : curl_easy_strerror(rc));
		}
		if (attempt >= retries)
			return np_error_set("cannot fetch '%s': %s", url, err[0] ? err : curl_easy_strerror(rc));
		log_warn("fetch %s: %s; retrying in %d ms", url, err[0] ? err : curl_easy_strerror(rc), delay);
		struct timespec ts = { delay / 1000, (long)(delay % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		delay *= 2;
	}
}
