/*
 * report.c: the report format table and shared helpers.
 */
#include <string.h>

#include "error.h"
#include "report.h"
#include "banned.h"

static const struct {
	const char *name;
	int (*write)(FILE *f, const struct report_set *rs);
} formats[] = {
	{ "table", report_table },
	{ "json", report_json },
	{ "junit", report_junit },
	{ "tap", report_tap },
	{ "html", report_html },
};

int report_write(const char *format, FILE *f, const struct report_set *rs)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(formats[i].name, format))
			return formats[i].write(f, rs);
	return np_error_setc(NP_EINVALID, "unknown report format '%s' (table, json, junit, tap, html)", format);
}

void report_format_counter(char *out, size_t n, const struct scenario_result *r, const char *arrow)
{
	if (r->counter_after < 0)
		snprintf(out, n, "%ld", r->counter_before);
	else
		snprintf(out, n, "%ld%s%ld", r->counter_before, arrow, r->counter_after);
}

void report_xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			/* XML 1.0 forbids most control characters even escaped */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}
