/*
 * run.c: the scenario interpreter. A lane is one counter container walking
 * the scenario's steps; the first failing step ends the lane with a reason
 * naming the step and what went wrong. Whatever happens, every container a
 * lane created is stopped and deleted before run_scenario returns.
 *
 * "resumed" is the heart of it: after a restore the counter must move past
 * the value it had at checkpoint (it went on), must never be below it (no
 * restart from zero), and must not exceed what the elapsed time allows
 * (it did not run twice as fast, or come from another container).
 */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "counter.h"
#include "error.h"
#include "fsutil.h"
#include "interrupt.h"
#include "log.h"
#include "banned.h"

struct lane {
	const struct scenario *s;
	const struct backend_ops *ops;
	struct backend *b;
	const struct harness_opts *o;
	int index;
	struct container c, orig;
	bool has_orig;
	long before, after;
	long resumed_from;      /* the checkpoint value the last resume went on from, -1 none */
	long memory;            /* counter read from the last checkpoint's memory, -1 unread */
	double t_ckpt;          /* when the last checkpoint started */
	double ck_sum, rs_sum, downtime;
	int ck_n, rs_n;
	double last_ck;         /* duration of the last checkpoint */
	double cycles[64];      /* checkpoint+restore ms per completed cycle */
	int ncycles;
	long long archive;
	bool stopped_by_ckpt;   /* last checkpoint stopped the container */
	struct criu_stats stats;
	double start_sum, criu_dump_sum, criu_restore_sum, resume_sum;
	int start_n, criu_dump_n, criu_restore_n, resume_n;
	bool failed;
	bool interrupted;
	char reason[1024];
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static double tv_ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1000.0 + (double)tv->tv_usec / 1000.0;
}

/* Waits end early when the run is interrupted: the lane stops at its next step. */
static void sleep_ms(long ms)
{
	interrupt_sleep_ms(ms);
}

static long long du_bytes(const char *dir)
{
	long long total = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		char p[1024];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0)
			total += S_ISDIR(st.st_mode) ? du_bytes(p) : S_ISREG(st.st_mode) ? st.st_size : 0;
	}
	closedir(d);
	return total;
}

static int lane__checkpoint(struct lane *l, const struct sstep *st)
{
	char stats[700];
	int r;
	if (st->ck.leave_running && (r = l->ops->read_counter(l->b, &l->c, &l->before)))
		return r;
	l->t_ckpt = now_ms();
	r = l->ops->checkpoint(l->b, &l->c, &st->ck);
	double dt = now_ms() - l->t_ckpt;
	if (r)
		return r;
	l->ck_sum += dt;
	l->ck_n++;
	l->last_ck = dt;
	l->stopped_by_ckpt = !st->ck.leave_running;
	if (l->ops->collect && (r = l->ops->collect(l->b, &l->c)))
		return r;
	/* a stopped container's file holds exactly the value it was frozen at */
	if (!st->ck.leave_running && (r = l->ops->read_counter(l->b, &l->c, &l->before)))
		return r;
	l->archive = du_bytes(l->c.image);
	snprintf(stats, sizeof(stats), "%s/dump-work-%d/stats-dump", l->c.dir, l->c.generation);
	struct criu_stats one = { 0 };
	if (!criu_stats_read(&one, stats) && one.has_dump) {
		l->criu_dump_sum += (double)(one.freezing_time + one.frozen_time) / 1000;
		l->criu_dump_n++;
	}
	criu_stats_read(&l->stats, stats);
	return 0;
}

static int lane__restore(struct lane *l, const struct sstep *st)
{
	char stats[700];
	if (l->c.exists && st->rs.new_id && !l->has_orig) {
		/* leave-running: the original goes on beside the restored copy */
		l->orig = l->c;
		l->has_orig = true;
		l->c.exists = l->c.running = false;
	}
	if (st->rs.new_node && !l->ops->multi_node)
		return np_error_set("backend %s has no second node to restore on (new_node)", l->ops->name);
	double t0 = now_ms();
	int r = l->ops->restore(l->b, &l->c, &st->rs);
	double t1 = now_ms();
	if (r)
		return r;
	l->rs_sum += t1 - t0;
	l->rs_n++;
	if (l->ncycles < 64)
		l->cycles[l->ncycles++] = l->last_ck + (t1 - t0);
	if (l->stopped_by_ckpt && t1 - l->t_ckpt > l->downtime)
		l->downtime = t1 - l->t_ckpt;
	snprintf(stats, sizeof(stats), "%s/restore-work-%d/stats-restore", l->c.dir, l->c.generation);
	struct criu_stats one = { 0 };
	if (!criu_stats_read(&one, stats) && one.has_restore) {
		l->criu_restore_sum += (double)one.restore_time / 1000;
		l->criu_restore_n++;
	}
	criu_stats_read(&l->stats, stats);
	return 0;
}

static int lane__resumed(struct lane *l)
{
	long v = -1;
	double t0 = now_ms(), deadline = t0 + 5000;
	int r;
	/* wait until it has moved on at least one step past the checkpoint value */
	while ((r = l->ops->read_counter(l->b, &l->c, &v)) == 0 && v <= l->before &&
	       now_ms() < deadline)
		sleep_ms(l->s->interval_ms / 2 + 1);
	if (r)
		return r;
	if (interrupt_requested()) /* the wait was cut short: the counter had no time */
		return np_error_setc(NP_EINTR, "interrupted");
	l->resume_sum += now_ms() - t0;
	l->resume_n++;
	l->after = v;
	l->resumed_from = l->before;
	long allowed = l->before + (long)((now_ms() - l->t_ckpt) / (double)l->s->interval_ms) + 10;
	if (v < l->before)
		return np_error_set("counter went back from %ld to %ld: the restored process did not continue",
				    l->before, v);
	if (v == l->before)
		return np_error_set("counter stuck at %ld for 5 s after restore: the restored process is not running",
				    v);
	if (v > allowed)
		return np_error_set("counter jumped from %ld to %ld, more than the elapsed time allows (%ld)",
				    l->before, v, allowed);
	return 0;
}

/*
 * The value the checkpoint holds in memory must be the one logged before
 * it: a stopped container froze between two steps of its loop, so its
 * memory may be one step ahead of the file it last wrote; a running one
 * went on counting during the dump.
 */
static int lane__memory(struct lane *l)
{
	long v;
	if (!l->ck_n || !l->c.image[0])
		return np_error_set("memory: no checkpoint taken yet");
	int r = counter_read_memory(&v, l->c.image);
	if (r)
		return r;
	l->memory = v;
	long ahead = l->stopped_by_ckpt ? 1 : (long)(l->last_ck / (double)l->s->interval_ms) + 2;
	if (v < l->before || v > l->before + ahead)
		return np_error_set("the checkpoint's memory holds counter %ld, but %ld was logged before the "
				    "checkpoint (allowed %ld..%ld)", v, l->before, l->before, l->before + ahead);
	return 0;
}

static int lane__corrupt(struct lane *l, const char *file)
{
	char p[700];
	if (l->ops->corrupt)
		return l->ops->corrupt(l->b, &l->c, file);
	static const char junk[] = "this is not a CRIU image";
	snprintf(p, sizeof(p), "%s/%s", l->c.image, file);
	if (!fs_exists(p))
		return np_error_set("corrupt: no '%s' in the checkpoint", file);
	return fs_write_atomic(p, junk, sizeof(junk) - 1, 0600, -1, -1);
}

static int lane__check(struct lane *l, const struct sstep *st)
{
	bool run = false;
	char cmd[600];
	int r;
	switch (st->check) {
	case CHECK_RESUMED:
		return lane__resumed(l);
	case CHECK_MEMORY:
		return lane__memory(l);
	case CHECK_RUNNING:
	case CHECK_STOPPED:
		if ((r = l->ops->is_running(l->b, &l->c, &run)))
			return r;
		if (run != (st->check == CHECK_RUNNING))
			return np_error_set("container '%s' is %s", l->c.id, run ? "still running" : "not running");
		return 0;
	case CHECK_ORIGINAL_RUNNING:
		if (!l->has_orig)
			return np_error_set("original_running: no original container beside the restored one");
		if ((r = l->ops->is_running(l->b, &l->orig, &run)))
			return r;
		long a, b;
		if (!run)
			return np_error_set("the original container '%s' stopped", l->orig.id);
		if ((r = l->ops->read_counter(l->b, &l->orig, &a)))
			return r;
		sleep_ms(3 * l->s->interval_ms);
		if ((r = l->ops->read_counter(l->b, &l->orig, &b)))
			return r;
		return b > a ? 0 : np_error_set("the original container's counter stopped at %ld", b);
	case CHECK_EXISTS:
	case CHECK_ABSENT:
		snprintf(cmd, sizeof(cmd), "test %s -e '%s'", st->check == CHECK_EXISTS ? "" : "!", st->text);
		if ((r = l->ops->exec(l->b, &l->c, cmd)))
			np_error_prefix("'%s' should %s", st->text, st->check == CHECK_EXISTS ? "exist" : "be gone");
		return r;
	}
	return 0;
}

static const char *step_name(enum sstep_kind k)
{
	static const char *const n[] = { "start", "wait", "checkpoint", "restore", "exec",
					 "kill", "corrupt", "check", "repeat" };
	return n[k];
}

static int lane__steps(struct lane *l, const struct sstep *steps, size_t n);

static int lane__step(struct lane *l, const struct sstep *st)
{
	switch (st->kind) {
	case SS_START: {
		double t0 = now_ms();
		int r = l->ops->start(l->b, &l->c);
		if (!r) {
			l->start_sum += now_ms() - t0;
			l->start_n++;
		}
		return r;
	}
	case SS_WAIT:
		return interrupt_sleep_ms(st->ms) ? np_error_setc(NP_EINTR, "interrupted") : 0;
	case SS_CHECKPOINT:
		return lane__checkpoint(l, st);
	case SS_RESTORE:
		return lane__restore(l, st);
	case SS_EXEC:
		return l->ops->exec(l->b, &l->c, st->text);
	case SS_KILL:
		return l->ops->kill(l->b, &l->c);
	case SS_CORRUPT:
		return lane__corrupt(l, st->text);
	case SS_CHECK:
		return lane__check(l, st);
	case SS_REPEAT:
		for (long i = 0; i < st->times; i++) {
			int r = lane__steps(l, st->sub, st->nsub);
			if (r)
				return r;
		}
		return 0;
	}
	return 0;
}

static int lane__steps(struct lane *l, const struct sstep *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* a stop request: no new step; the one in flight had its grace in spawn */
		bool ran = !interrupt_requested();
		int r = ran ? lane__step(l, &steps[i]) : NP_EINTR;
		if (r && interrupt_requested() && !l->failed) {
			/* whatever the step said, it ended because the run was stopped */
			snprintf(l->reason, sizeof(l->reason), "interrupted by %s %s %s:%zu (%s)%s%s",
				 interrupt_name(interrupt_signal()), ran ? "during" : "before",
				 l->s->path, steps[i].at.line, step_name(steps[i].kind),
				 r == NP_EINTR ? "" : ": ", r == NP_EINTR ? "" : np_error_last());
			l->interrupted = true;
		} else if (r && !l->failed) {
			snprintf(l->reason, sizeof(l->reason), "%s:%zu: %s: %s", l->s->path,
				 steps[i].at.line, step_name(steps[i].kind), np_error_last());
		}
		if (r) {
			l->failed = true;
			return r;
		}
	}
	return 0;
}

static void *lane__main(void *arg)
{
	struct lane *l = arg;
	snprintf(l->c.base, sizeof(l->c.base), "crh-%ld-%.40s-%d", (long)getpid(), l->s->name, l->index);
	snprintf(l->c.id, sizeof(l->c.id), "%s", l->c.base);
	snprintf(l->c.dir, sizeof(l->c.dir), "%s/%s", l->o->work_dir, l->c.base);
	if (fs_mkdir_p(l->c.dir, 0700)) {
		l->failed = true;
		snprintf(l->reason, sizeof(l->reason), "%s", np_error_last());
		return NULL;
	}
	lane__steps(l, l->s->steps, l->s->nsteps);
	/* cleanup whatever the outcome; a failure here is a failure too */
	struct container *cs[] = { &l->c, l->has_orig ? &l->orig : NULL };
	for (int i = 0; i < 2; i++)
		if (cs[i] && l->ops->stop(l->b, cs[i]) && !l->failed) {
			l->failed = true;
			snprintf(l->reason, sizeof(l->reason), "cleanup: %s", np_error_last());
		}
	return NULL;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* p50/p99 of the checkpoint+restore cycles of all lanes (nearest rank). */
static void result__percentiles(struct scenario_result *res, const struct lane *lanes, long n)
{
	double *all = calloc((size_t)n * 64 + 1, sizeof(*all));
	size_t k = 0;
	if (!all)
		abort();
	for (long i = 0; i < n; i++)
		for (int j = 0; j < lanes[i].ncycles; j++)
			all[k++] = lanes[i].cycles[j];
	if (k) {
		qsort(all, k, sizeof(*all), dbl_cmp);
		res->cycle_p50_ms = all[(k - 1) / 2];
		res->cycle_p99_ms = all[(size_t)((double)(k - 1) * 0.99 + 0.5)];
	}
	free(all);
}

static double mean(double sum, int n)
{
	return n ? sum / n : 0;
}

static void result__phases(struct run_phases *p, const struct lane *lanes, long n)
{
	double s[6] = { 0 };
	int k[6] = { 0 };
	for (long i = 0; i < n; i++) {
		const struct lane *l = &lanes[i];
		const double v[6] = { l->start_sum, l->ck_sum, l->criu_dump_sum, l->rs_sum, l->criu_restore_sum,
				      l->resume_sum };
		const int c[6] = { l->start_n, l->ck_n, l->criu_dump_n, l->rs_n, l->criu_restore_n, l->resume_n };
		for (int j = 0; j < 6; j++) {
			s[j] += v[j];
			k[j] += c[j];
		}
	}
	p->start_ms = mean(s[0], k[0]);
	p->checkpoint_ms = mean(s[1], k[1]);
	p->criu_dump_ms = mean(s[2], k[2]);
	p->restore_ms = mean(s[3], k[3]);
	p->criu_restore_ms = mean(s[4], k[4]);
	p->resume_wait_ms = mean(s[5], k[5]);
}

static void result__collect(struct scenario_result *res, struct lane *lanes, long n)
{
	result__percentiles(res, lanes, n);
	result__phases(&res->phases, lanes, n);
	int ck_n = 0, rs_n = 0;
	double ck = 0, rs = 0;
	res->passed = true;
	for (long i = 0; i < n; i++) {
		struct lane *l = &lanes[i];
		if (l->failed && res->passed) {
			res->passed = false;
			snprintf(res->reason, sizeof(res->reason), "%s", l->reason);
		}
		if (l->interrupted && !res->interrupted) {
			/* the interruption is the story, whatever else a lane said */
			res->interrupted = true;
			snprintf(res->reason, sizeof(res->reason), "%s", l->reason);
		}
		ck += l->ck_sum;
		ck_n += l->ck_n;
		rs += l->rs_sum;
		rs_n += l->rs_n;
		if (l->downtime > res->downtime_ms)
			res->downtime_ms = l->downtime;
		if (l->archive > res->archive_bytes)
			res->archive_bytes = l->archive;
		if (i == 0) {
			/* a pair that belongs together: a later checkpoint moves
			 * 'before' on, but 'after' is the last resume's */
			res->counter_before = l->resumed_from >= 0 ? l->resumed_from : l->before;
			res->counter_after = l->after;
			res->counter_memory = l->memory;
			res->stats = l->stats;
		}
	}
	res->checkpoint_ms = ck_n ? ck / ck_n : 0;
	res->restore_ms = rs_n ? rs / rs_n : 0;
	res->cycles = ck_n;
}

void run_scenario(struct scenario_result *res, const struct scenario *s,
		  const struct backend_ops *ops, const struct harness_opts *o)
{
	struct harness_opts lo = *o;
	struct lane *lanes = calloc((size_t)s->containers, sizeof(*lanes));
	pthread_t *th = calloc((size_t)s->containers, sizeof(*th));
	struct backend *b = NULL;
	struct rusage ru0, ru1;
	double t0 = now_ms();
	getrusage(RUSAGE_CHILDREN, &ru0);
	memset(res, 0, sizeof(*res));
	res->counter_memory = -1;
	res->counter_after = -1;
	snprintf(res->name, sizeof(res->name), "%s", s->name);
	snprintf(res->backend, sizeof(res->backend), "%s", ops->name);
	res->containers = s->containers;
	if (!lanes || !th)
		abort();
	lo.interval_ms = (int)s->interval_ms;
	if (s->criu)
		lo.criu = s->criu;
	if (ops->open(&b, &lo)) {
		res->interrupted = interrupt_requested();
		if (res->interrupted)
			snprintf(res->reason, sizeof(res->reason), "interrupted by %s while starting backend %s",
				 interrupt_name(interrupt_signal()), ops->name);
		else
			snprintf(res->reason, sizeof(res->reason), "backend %s: %s", ops->name, np_error_last());
		goto out;
	}
	if (ops->version) {
		struct buf v = BUF_INIT;
		if (!ops->version(b, &v))
			snprintf(res->runtime, sizeof(res->runtime), "%s", v.ptr);
		buf_release(&v);
	}
	bool *threaded = calloc((size_t)s->containers, sizeof(*threaded));
	if (!threaded)
		abort();
	for (long i = 0; i < s->containers; i++) {
		lanes[i] = (struct lane){ .s = s, .ops = ops, .b = b, .o = &lo, .index = (int)i,
				       .memory = -1, .resumed_from = -1, .after = -1 };
		/* one lane needs no thread; a thread that cannot start runs inline */
		threaded[i] = s->containers > 1 && !pthread_create(&th[i], NULL, lane__main, &lanes[i]);
		if (!threaded[i])
			lane__main(&lanes[i]);
	}
	for (long i = 0; i < s->containers; i++)
		if (threaded[i])
			pthread_join(th[i], NULL);
	free(threaded);
	result__collect(res, lanes, s->containers);
	ops->close(b);
out:
	res->wall_ms = now_ms() - t0;
	getrusage(RUSAGE_CHILDREN, &ru1);
	res->phases.cpu_ms = tv_ms(&ru1.ru_utime) + tv_ms(&ru1.ru_stime) - tv_ms(&ru0.ru_utime) -
			     tv_ms(&ru0.ru_stime);
	res->phases.cpu_per_cycle_ms = res->cycles ? res->phases.cpu_ms / res->cycles : 0;
	free(lanes);
	free(th);
}
