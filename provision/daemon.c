/*
 * daemon.c: see daemon.h. The checks are sh scripts run on the host so
 * that one implementation serves local and SSH hosts; each is one round
 * trip. "Alive" reads /proc/PID/stat: on these VMs PID 1 never reaps
 * orphans, so a daemon that died stays as a zombie and kill -0 would
 * still succeed on it.
 */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "error.h"
#include "host.h"
#include "spawn.h"
#include "banned.h"

/* alive PID: exists and is not a zombie; owned PIDFILE ARGV0: prints the pid */
static const char daemon__sh_lib[] =
	"alive() { s=$(sed 's/^.*) //' \"/proc/$1/stat\" 2>/dev/null | cut -c1);"
	" [ -n \"$s\" ] && [ \"$s\" != Z ] && [ \"$s\" != X ]; }\n"
	"owned() { p=$(cat \"$1\" 2>/dev/null) || return 1;"
	" case \"$p\" in ''|*[!0-9]*) return 1;; esac;"
	" alive \"$p\" || return 1;"
	" a=$(tr '\\0' '\\n' < \"/proc/$p/cmdline\" 2>/dev/null | head -n 1);"
	" [ \"$a\" = \"$2\" ] || return 1; echo \"$p\"; }\n";

static const char daemon__sh_status[] = "owned \"$1\" \"$2\" || exit 3\n";

static const char daemon__sh_start[] =
	"pidf=$1 log=$2 dir=$3; shift 3\n"
	"mkdir -p \"${pidf%/*}\" \"${log%/*}\" || exit 1\n"
	"cd \"$dir\" || exit 1\n"
	"printf '%s nodeprep: starting %s\\n' \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"$*\" >>\"$log\" || exit 1\n"
	"setsid \"$@\" </dev/null >>\"$log\" 2>&1 &\n"
	"p=$!\n"
	"echo $p >\"$pidf.tmp\" && mv -f \"$pidf.tmp\" \"$pidf\" || exit 1\n"
	/* the pid is the daemon once the forked shell has exec'd it: until
	 * then its argv[0] is sh's or setsid's, and a status check would take
	 * a starting daemon for a dead one */
	"i=0; while [ $i -lt 100 ] && alive $p; do\n"
	"  a=$(tr '\\0' '\\n' < /proc/$p/cmdline 2>/dev/null | head -n 1)\n"
	"  [ \"$a\" = \"$1\" ] && break; sleep 0.05; i=$((i + 1)); done\n";

static const char daemon__sh_stop[] =
	"p=$(owned \"$1\" \"$2\") || { rm -f \"$1\"; echo none; exit 0; }\n"
	"kill -TERM \"$p\" 2>/dev/null\n"
	"i=0; n=$(($3 * 10))\n"
	"while alive \"$p\" && [ $i -lt $n ]; do sleep 0.1; i=$((i + 1)); done\n"
	"if alive \"$p\"; then kill -KILL \"$p\" 2>/dev/null; i=0;"
	" while alive \"$p\" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; fi\n"
	"alive \"$p\" && { echo \"pid $p is still alive after SIGKILL\"; exit 1; }\n"
	"rm -f \"$1\"; echo stopped\n";

/* Run `sh -c LIB+script sh args...` on h; *status gets the exit code. */
static int daemon__sh(struct host *h, const char *script, const char *const *args,
		      const char *const *env, struct buf *out, int *status)
{
	const char *argv[64];
	size_t n = 0;
	struct buf code = BUF_INIT;
	struct spawn sp = SPAWN_INIT;
	int r;
	buf_adds(&code, daemon__sh_lib);
	buf_adds(&code, script);
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = code.ptr;
	argv[n++] = "sh";
	for (size_t i = 0; args && args[i]; i++) {
		if (n + 1 >= sizeof(argv) / sizeof(argv[0])) {
			r = np_error_setc(NP_EINVALID, "daemon command has too many arguments");
			goto out;
		}
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	sp.argv = argv;
	sp.env = env;
	sp.merge_err = true;
	sp.timeout_ms = 120000;
	if ((r = host_run(h, &sp)))
		goto out;
	*status = sp.status;
	if (out)
		buf_add(out, sp.out.ptr ? sp.out.ptr : "", sp.out.len);
	r = 0;
out:
	spawn_release(&sp);
	buf_release(&code);
	return r;
}

int daemon_status(struct host *h, const char *pid_file, const char *argv0, bool *running,
		  long *pid)
{
	const char *args[] = { pid_file, argv0, NULL };
	struct buf out = BUF_INIT;
	int st, r;
	*running = false;
	*pid = 0;
	if ((r = daemon__sh(h, daemon__sh_status, args, NULL, &out, &st)))
		goto out;
	if (st == 0) {
		*running = true;
		*pid = strtol(out.ptr, NULL, 10);
	} else if (st != 3) {
		r = np_error_set("cannot check daemon '%s' (status %d): %s", pid_file, st, out.ptr);
	}
out:
	buf_release(&out);
	return r;
}

void daemon_log_tail(struct host *h, const char *log_file, int n, struct buf *out)
{
	struct buf lines = BUF_INIT;
	char num[16];
	int st;
	snprintf(num, sizeof(num), "%d", n);
	const char *args[] = { num, log_file, NULL };
	if (!daemon__sh(h, "tail -n \"$1\" \"$2\" 2>/dev/null\n", args, NULL, &lines, &st) && st == 0)
		buf_add(out, lines.ptr ? lines.ptr : "", lines.len);
	buf_release(&lines);
}

/* One readiness probe: 1 ready, 0 not yet, <0 error. */
static int daemon__probe(struct host *h, const struct daemon_spec *d)
{
	struct spawn sp = SPAWN_INIT;
	const char *curl[] = { "curl", "-fsSk", "-o", "/dev/null", "--max-time", "5", d->ready_url, NULL };
	int r;
	sp.argv = d->ready ? d->ready : curl;
	sp.merge_err = true;
	sp.timeout_ms = 30000;
	r = host_run(h, &sp);
	if (r == NP_ETIMEOUT)
		r = 0, sp.status = 1;
	if (!r)
		r = sp.status == 0;
	spawn_release(&sp);
	return r;
}

static void daemon__sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static long daemon__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int daemon_start(struct host *h, const struct daemon_spec *d)
{
	const char *args[64];
	size_t n = 0;
	struct buf out = BUF_INIT, tail = BUF_INIT;
	int st, r;
	bool running = false;
	long pid = 0;
	args[n++] = d->pid_file;
	args[n++] = d->log_file;
	args[n++] = d->cwd ? d->cwd : "/";
	for (size_t i = 0; d->argv[i]; i++) {
		if (n + 1 >= sizeof(args) / sizeof(args[0]))
			return np_error_setc(NP_EINVALID, "daemon command has too many arguments");
		args[n++] = d->argv[i];
	}
	args[n] = NULL;
	if ((r = daemon_spec_save(h, d)))
		goto out;
	if ((r = daemon__sh(h, daemon__sh_start, args, d->env, &out, &st)))
		goto out;
	if (st != 0) {
		r = np_error_set("cannot start '%s' (status %d): %s", d->argv[0], st, out.ptr);
		goto out;
	}
	long deadline = daemon__now_ms() + 1000L * (d->ready_timeout_s > 0 ? d->ready_timeout_s : 60);
	bool probe = d->ready || d->ready_url;
	for (int round = 0;; round++) {
		/* with no probe, "ready" means it is still there after a short while */
		if (!probe)
			daemon__sleep_ms(500);
		if ((r = daemon_status(h, d->pid_file, d->argv[0], &running, &pid)))
			goto out;
		if (!running) {
			daemon_log_tail(h, d->log_file, 20, &tail);
			r = np_error_set("'%s' exited while starting; last lines of '%s':\n%s", d->argv[0],
					 d->log_file, tail.ptr ? tail.ptr : "");
			goto out;
		}
		if (!probe)
			break;
		if ((r = daemon__probe(h, d)) < 0)
			goto fail;
		if (r == 1)
			break;
		if (daemon__now_ms() > deadline) {
			daemon_log_tail(h, d->log_file, 20, &tail);
			r = np_error_set("'%s' (pid %ld) not ready after %d s (probe: %s); last lines of '%s':\n%s",
					 d->argv[0], pid, d->ready_timeout_s > 0 ? d->ready_timeout_s : 60,
					 d->ready ? d->ready[0] : d->ready_url, d->log_file,
					 tail.ptr ? tail.ptr : "");
			goto fail;
		}
		daemon__sleep_ms(round < 10 ? 200 : 500);
	}
	r = 0;
	goto out;
fail:
	/* not left half-started: the error stays the one above */
	{
		struct buf keep = BUF_INIT;
		buf_adds(&keep, np_error_last());
		daemon_stop(h, d->pid_file, d->argv[0], 10, NULL);
		r = np_error_set("%s", keep.ptr);
		buf_release(&keep);
	}
out:
	buf_release(&out);
	buf_release(&tail);
	return r;
}

int daemon_stop(struct host *h, const char *pid_file, const char *argv0, int timeout_s,
		bool *was_running)
{
	char secs[16];
	struct buf out = BUF_INIT;
	int st, r;
	snprintf(secs, sizeof(secs), "%d", timeout_s > 0 ? timeout_s : 30);
	const char *args[] = { pid_file, argv0, secs, NULL };
	if ((r = daemon__sh(h, daemon__sh_stop, args, NULL, &out, &st)))
		goto out;
	buf_rtrim(&out);
	if (st != 0) {
		r = np_error_set("cannot stop '%s' (pid file '%s'): %s", argv0, pid_file, out.ptr);
		goto out;
	}
	if (was_running)
		*was_running = !strcmp(out.ptr, "stopped");
out:
	buf_release(&out);
	return r;
}

static json_t *daemon__strv(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void daemon__spec_path(struct buf *out, const char *pid_file)
{
	buf_addf(out, "%s.json", pid_file);
}

int daemon_spec_save(struct host *h, const struct daemon_spec *d)
{
	struct buf path = BUF_INIT;
	json_t *o = json_pack("{s:o, s:o, s:s, s:s, s:i}", "argv", daemon__strv(d->argv), "env",
			      daemon__strv(d->env), "cwd", d->cwd ? d->cwd : "/", "log_file",
			      d->log_file, "ready_timeout", d->ready_timeout_s);
	char *text = NULL;
	const char *dirs[] = { d->pid_file, d->log_file, NULL };
	int r, st;
	if ((r = daemon__sh(h, "mkdir -p \"${1%/*}\" \"${2%/*}\"\n", dirs, NULL, NULL, &st)))
		goto out;
	if (st != 0) {
		r = np_error_set("cannot create the directories of '%s' and '%s'", d->pid_file,
				 d->log_file);
		goto out;
	}
	if (d->ready)
		json_object_set_new(o, "ready", daemon__strv(d->ready));
	if (d->ready_url)
		json_object_set_new(o, "ready_url", json_string(d->ready_url));
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	daemon__spec_path(&path, d->pid_file);
	r = host_write_file(h, path.ptr, text, strlen(text), 0600, -1, -1);
out:
	free(text);
	json_decref(o);
	buf_release(&path);
	return r;
}

static const char **daemon__strv_load(json_t *a)
{
	size_t n = json_array_size(a);
	const char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(a, i));
	return v;
}

int daemon_spec_load(struct host *h, const char *pid_file, struct daemon_saved *out)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	json_t *o = NULL;
	int r;
	memset(out, 0, sizeof(*out));
	daemon__spec_path(&path, pid_file);
	if ((r = host_read_file(h, path.ptr, &text)))
		goto out;
	o = json_loadb(text.ptr, text.len, 0, NULL);
	json_t *argv = o ? json_object_get(o, "argv") : NULL;
	if (!json_is_array(argv) || !json_array_size(argv) ||
	    !json_is_string(json_array_get(argv, 0))) {
		r = np_error_set("'%s' is not a daemon record nodeprep wrote", path.ptr);
		goto out;
	}
	out->json = o;
	o = NULL;
	json_t *j = out->json;
	out->argv = daemon__strv_load(argv);
	out->env = daemon__strv_load(json_object_get(j, "env"));
	if (json_object_get(j, "ready"))
		out->ready = daemon__strv_load(json_object_get(j, "ready"));
	out->d.argv = out->argv;
	out->d.env = out->env;
	out->d.cwd = json_string_value(json_object_get(j, "cwd"));
	out->d.pid_file = pid_file;
	out->d.log_file = json_string_value(json_object_get(j, "log_file"));
	if (!out->d.log_file)
		out->d.log_file = "/dev/null";
	out->d.ready = out->ready;
	out->d.ready_url = json_string_value(json_object_get(j, "ready_url"));
	out->d.ready_timeout_s = (int)json_integer_value(json_object_get(j, "ready_timeout"));
	r = 0;
out:
	json_decref(o);
	buf_release(&path);
	buf_release(&text);
	return r;
}

void daemon_saved_release(struct daemon_saved *s)
{
	free(s->argv);
	free(s->env);
	free(s->ready);
	json_decref(s->json);
	memset(s, 0, sizeof(*s));
}

static bool daemon__strv_differ(const char *const *a, const char *const *b)
{
	size_t i = 0;
	for (; a && b && a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return true;
	return (a && a[i]) != (b && b[i]);
}

bool daemon_spec_differs(const struct daemon_spec *a, const struct daemon_spec *b)
{
	return daemon__strv_differ(a->argv, b->argv) || daemon__strv_differ(a->env, b->env) ||
	       strcmp(a->cwd ? a->cwd : "/", b->cwd ? b->cwd : "/");
}
