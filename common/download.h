/*
 * download.h: HTTP(S)/file downloads through libcurl, as nodeprep needs
 * them: into a partial file that a later attempt resumes (Range), retries
 * with exponential backoff on transient failures, proxies from the usual
 * environment variables (libcurl's own handling), TLS verification always
 * on (an extra CA file may be given), redirects only to http/https (never
 * https -> file), and a progress bar on a TTY or one line otherwise.
 */
#ifndef NP_DOWNLOAD_H
#define NP_DOWNLOAD_H

#include <stdbool.h>

struct download_opts {
	const char *ca_file;  /* extra trust anchor (PEM), or NULL */
	int retries;          /* further attempts after the first; < 0: 3 */
	int backoff_ms;       /* first retry delay, doubled each time; 0: 1000 */
	bool quiet;           /* no progress output */
};

/**
 * Download url, appending to partial (resuming what is there). On success
 * partial holds the whole body. HTTP errors (>= 400) are not retried,
 * except 408/429/5xx. The error names the URL and curl's reason.
 */
int download_to(const char *url, const char *partial, const struct download_opts *o);

#endif
