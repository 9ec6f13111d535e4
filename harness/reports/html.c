/*
 * html.c: one self-contained HTML page for people reading nightly runs:
 * no scripts, fonts or network. Summary, a table per scenario, and SVG
 * charts drawn here (checkpoint/restore time, archive size, and the trend
 * over earlier runs with regressions marked). The page is XHTML-clean
 * (every element closed, every input-derived text escaped) so it parses
 * as XML, which the tests check. SVGs scale with viewBox: phone or wide.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "history.h"
#include "report.h"
#include "banned.h"

#define W 640 /* chart width in SVG units */
static const char *const palette[] = { "#2563eb", "#d97706", "#059669", "#db2777",
				       "#7c3aed", "#0891b2", "#65a30d", "#dc2626" };

static const char css[] =
	"body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:12px;color:#111}"
	"h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
	".sum{display:flex;flex-wrap:wrap;gap:8px 24px}.sum div{min-width:140px}"
	".pass{color:#047857;font-weight:600}.fail{color:#b91c1c;font-weight:600}"
	".wrap{overflow-x:auto}table{border-collapse:collapse;width:100%}"
	"th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}td{overflow-wrap:anywhere}"
	"svg{width:100%;height:auto;max-width:900px}svg text{font:13px sans-serif}"
	".reg{background:#fee2e2}";

static void esc(FILE *f, const char *s)
{
	report_xml_escape(f, s ? s : "");
}

static void html__summary(FILE *f, const struct report_set *rs, size_t passed)
{
	fputs("<h1>crharness: checkpoint/restore on ", f);
	esc(f, rs->host);
	fputs("</h1>\n<div class=\"sum\">", f);
	fprintf(f, "<div><span class=\"%s\">%zu passed, %zu failed</span></div>",
		passed == rs->n ? "pass" : "fail", passed, rs->n - passed);
	if (rs->interrupted) {
		fputs("<div><span class=\"fail\">run interrupted by ", f);
		esc(f, rs->interrupted);
		fputs("</span></div>", f);
	}
	const char *k[] = { "Date", "Kernel", "Versions" }, *v[] = { rs->date, rs->kernel, rs->versions };
	for (int i = 0; i < 3; i++) {
		fprintf(f, "<div>%s: ", k[i]);
		esc(f, v[i] && *v[i] ? v[i] : "unknown");
		fputs("</div>", f);
	}
	fputs("</div>\n", f);
}

static void html__table(FILE *f, const struct report_set *rs)
{
	fputs("<h2>Scenarios</h2>\n<div class=\"wrap\"><table>\n<tr><th>Scenario</th><th>Backend</th>"
	      "<th>Status</th><th>Checkpoint ms</th><th>Restore ms</th><th>Downtime ms</th>"
	      "<th>Archive KiB</th><th>Counter</th><th>Reason</th></tr>\n", f);
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		struct buf why = BUF_INIT;
		char key[160];
		char counter[64];
		report_format_counter(counter, sizeof(counter), r, " &#8594; ");
		history_key(key, sizeof(key), r->backend, r->runtime);
		bool reg = history_regression(rs->history, r->name, key, r->passed,
					      r->checkpoint_ms, r->restore_ms, &why);
		fprintf(f, "<tr%s><td>", reg ? " class=\"reg\"" : "");
		esc(f, r->name);
		fputs("</td><td>", f);
		esc(f, r->backend);
		if (r->runtime[0]) {
			fputs("<br/><small>", f);
			esc(f, r->runtime);
			fputs("</small>", f);
		}
		fprintf(f, "</td><td class=\"%s\">%s</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f</td>"
			   "<td class=\"n\">%.1f</td><td class=\"n\">%.1f</td><td class=\"n\">%s</td><td>",
			r->passed ? "pass" : "fail",
			r->passed ? "passed" : r->interrupted ? "INTERRUPTED" : "FAILED", r->checkpoint_ms,
			r->restore_ms, r->downtime_ms, (double)r->archive_bytes / 1024, counter);
		esc(f, r->reason);
		if (reg) {
			fputs(r->reason[0] ? "<br/>" : "", f);
			fputs("<b>regression:</b> ", f);
			esc(f, why.ptr);
		}
		fputs("</td></tr>\n", f);
		buf_release(&why);
	}
	fputs("</table></div>\n", f);
}

static void label(FILE *f, const struct scenario_result *r)
{
	esc(f, r->name);
	fputs(" (", f);
	esc(f, r->runtime[0] ? r->runtime : r->backend);
	fputc(')', f);
}

/* Horizontal bars: one row per result, nvals bars per row. */
static void html__bars(FILE *f, const char *title, const struct report_set *rs, int nvals,
		       double (*val)(const struct scenario_result *, int), const char *const *names,
		       const char *unit)
{
	double max = 0;
	int row = 14 * nvals + 10, top = 24, lw = 230;
	for (size_t i = 0; i < rs->n; i++)
		for (int k = 0; k < nvals; k++)
			max = fmax(max, val(&rs->r[i], k));
	max = max > 0 ? max : 1;
	int h = top + (int)rs->n * row + 10;
	fprintf(f, "<h2>%s</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		   "role=\"img\"><title>%s</title>\n", title, W, h, title);
	for (int k = 0; k < nvals; k++)
		fprintf(f, "<rect x=\"%d\" y=\"6\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" "
			   "y=\"15\">%s</text>\n", lw + k * 110, palette[k], lw + 14 + k * 110, names[k]);
	for (size_t i = 0; i < rs->n; i++) {
		int y = top + (int)i * row;
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", lw - 6, y + row / 2 + 2);
		label(f, &rs->r[i]);
		fputs("</text>\n", f);
		for (int k = 0; k < nvals; k++) {
			double v = val(&rs->r[i], k);
			double bw = v / max * (W - lw - 70);
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"12\" fill=\"%s\"/>"
				   "<text x=\"%.1f\" y=\"%d\">%.1f %s</text>\n", lw, y + 4 + 14 * k, bw,
				palette[k], lw + bw + 4, y + 14 + 14 * k, v, unit);
		}
	}
	fputs("</svg>\n", f);
}

static double times(const struct scenario_result *r, int k)
{
	return k ? r->restore_ms : r->checkpoint_ms;
}

static double size_kib(const struct scenario_result *r, int k)
{
	(void)k;
	return (double)r->archive_bytes / 1024;
}

/* One line per scenario/backend: checkpoint ms over the earlier runs plus this one. */
static void html__trend(FILE *f, const struct report_set *rs)
{
	const struct history *h = rs->history;
	if (!h || !h->n)
		return;
	size_t runs = h->n + 1;
	double max = 1;
	for (size_t i = 0; i < rs->n; i++) {
		max = fmax(max, rs->r[i].checkpoint_ms);
		char key[160];
		history_key(key, sizeof(key), rs->r[i].backend, rs->r[i].runtime);
		for (size_t j = 0; j < h->n; j++) {
			const struct hist_entry *e = history_find(&h->runs[j], rs->r[i].name, key);
			max = e ? fmax(max, e->checkpoint_ms) : max;
		}
	}
	int ch = 200, left = 50, legend = 18 * (int)rs->n;
	double dx = (double)(W - left - 20) / (double)(runs > 1 ? runs - 1 : 1);
	fprintf(f, "<h2>Checkpoint time over the last %zu runs</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
		   "viewBox=\"0 0 %d %d\" role=\"img\"><title>trend</title>\n", runs, W, ch + 46 + legend);
	fprintf(f, "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/><line x1=\"%d\" y1=\"%d\" "
		   "x2=\"%d\" y2=\"%d\" stroke=\"#999\"/><text x=\"4\" y=\"16\">%.0f ms</text><text x=\"4\" "
		   "y=\"%d\">0</text>\n", left, left, ch + 10, left, ch + 10, W - 10, ch + 10, max, ch + 10);
	fprintf(f, "<text x=\"%d\" y=\"%d\">", left, ch + 24);
	esc(f, h->runs[0].date);
	fprintf(f, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", W - 10, ch + 24);
	esc(f, rs->date);
	fputs("</text>\n", f);
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		const char *col = palette[i % 8];
		struct buf why = BUF_INIT;
		char key[160];
		history_key(key, sizeof(key), r->backend, r->runtime);
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
		for (size_t j = 0; j < runs; j++) {
			const struct hist_entry *e = j < h->n ? history_find(&h->runs[j], r->name, key) : NULL;
			/* a failed run has no meaningful time: the line skips it */
			double v = j < h->n ? (e && e->passed ? e->checkpoint_ms : -1)
					    : (r->passed ? r->checkpoint_ms : -1);
			if (v >= 0)
				fprintf(f, "%.1f,%.1f ", left + dx * (double)j, ch + 10 - v / max * ch);
		}
		fputs("\"/>\n", f);
		if (history_regression(h, r->name, key, r->passed, r->checkpoint_ms, r->restore_ms, &why))
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"none\" stroke=\"#dc2626\" "
				   "stroke-width=\"3\"/>\n", left + dx * (double)(runs - 1),
				ch + 10 - r->checkpoint_ms / max * ch);
		fprintf(f, "<rect x=\"%d\" y=\"%zu\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%zu\">",
			left, (size_t)ch + 36 + i * 18, col, left + 14, (size_t)ch + 45 + i * 18);
		label(f, r);
		if (why.len)
			fputs(" &#8212; regression (see the table)", f);
		fputs("</text>\n", f);
		buf_release(&why);
	}
	fputs("</svg>\n", f);
}

/*
 * Where each scenario's downtime went, from CRIU's own stats of its last
 * cycle: a dump bar (freezing, memdump, memwrite, the rest of the frozen
 * time) and a restore bar (forking, the rest of the restore), with what
 * neither accounts for (the runtime and the harness) at the end of the
 * restore bar. memdump and memwrite are parts of the frozen time, so the
 * frozen segment is what is left of it.
 */
static void html__downtime(FILE *f, const struct report_set *rs)
{
	static const char *const names[] = { "freezing", "memdump", "memwrite", "frozen (other)",
					      "restore forking", "restore (other)", "runtime + harness" };
	size_t n = 0;
	double max = 1;
	int top = 44, row = 42, lw = 230, bw = W - lw - 90;
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].stats.has_dump) {
			const struct criu_stats *st = &rs->r[i].stats;
			n++;
			max = fmax(max, rs->r[i].downtime_ms);
			max = fmax(max, (double)(st->freezing_time + st->frozen_time) / 1000);
			max = fmax(max, (double)st->restore_time / 1000);
		}
	if (!n)
		return;
	fprintf(f, "<h2>Where downtime goes (CRIU's stats, last cycle)</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
		   "viewBox=\"0 0 %d %d\" role=\"img\"><title>downtime breakdown</title>\n", W, top + (int)n * row + 10);
	for (int k = 0; k < 7; k++)
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" "
			   "y=\"%d\">%s</text>\n", 10 + (k % 4) * 155, 4 + (k / 4) * 16, palette[k],
			24 + (k % 4) * 155, 13 + (k / 4) * 16, names[k]);
	size_t row_i = 0;
	for (size_t i = 0; i < rs->n; i++) {
		const struct scenario_result *r = &rs->r[i];
		const struct criu_stats *st = &r->stats;
		if (!st->has_dump)
			continue;
		double fz = (double)st->frozen_time / 1000, md = (double)st->memdump_time / 1000,
		       mw = (double)st->memwrite_time / 1000, fk = (double)st->forking_time / 1000,
		       rt = (double)st->restore_time / 1000;
		double dump[4] = { (double)st->freezing_time / 1000, md, mw, fmax(0, fz - md - mw) };
		double rest[3] = { st->has_restore ? fk : 0, st->has_restore ? fmax(0, rt - fk) : 0, 0 };
		rest[2] = fmax(0, r->downtime_ms - (dump[0] + fz + rest[0] + rest[1]));
		int y = top + (int)row_i++ * row;
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", lw - 6, y + 12);
		label(f, r);
		fprintf(f, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">downtime %.0f ms</text>\n", lw - 6,
			y + 30, r->downtime_ms);
		for (int bar = 0; bar < 2; bar++) {
			const double *seg = bar ? rest : dump;
			int nseg = bar ? 3 : 4;
			double x = lw;
			for (int k = 0; k < nseg; k++) {
				double w = seg[k] / max * bw;
				if (w <= 0)
					continue;
				fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\">"
					   "<title>%s %.1f ms</title></rect>\n", x, y + bar * 19, w,
					palette[bar ? 4 + k : k], names[bar ? 4 + k : k], seg[k]);
				x += w;
			}
			fprintf(f, "<text x=\"%.1f\" y=\"%d\">%s %.1f ms</text>\n", x + 4, y + 13 + bar * 19,
				bar ? "restore" : "dump", bar ? rest[0] + rest[1] + rest[2] : dump[0] + fz);
		}
	}
	fputs("</svg>\n", f);
}

int report_html(FILE *f, const struct report_set *rs)
{
	static const char *const tnames[] = { "checkpoint", "restore" }, *const snames[] = { "archive" };
	size_t passed = 0;
	for (size_t i = 0; i < rs->n; i++)
		passed += rs->r[i].passed;
	fprintf(f, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>"
		   "<meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width, "
		   "initial-scale=1\"/><title>crharness %zu/%zu passed</title><style>%s</style></head>\n<body>\n",
		passed, rs->n, css);
	html__summary(f, rs, passed);
	html__table(f, rs);
	html__bars(f, "Checkpoint and restore time", rs, 2, times, tnames, "ms");
	html__downtime(f, rs);
	html__bars(f, "Checkpoint size", rs, 1, size_kib, snames, "KiB");
	html__trend(f, rs);
	fputs("</body>\n</html>\n", f);
	return ferror(f) ? -1 : 0;
}
