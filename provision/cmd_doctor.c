/*
 * cmd_doctor.c: `nodeprep doctor`: is this node ready for C/R? One line per
 * check (ok / warn / fail) with the fix. The trial dump is the check that
 * matters most in VMs: CRIU dumps a sleeping process; if that hangs (no
 * hardware breakpoints in the VM) it is retried with CRIU_FAULT=130, and
 * the advice says to set it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "spawn.h"
#include "banned.h"

#define CGROUP2_MAGIC 0x63677270

struct doctor {
	int fails, warns;
	bool colour;
};

static void report(struct doctor *d, int level, const char *check, const char *detail, const char *fix)
{
	static const char *const word[] = { "ok  ", "warn", "FAIL" };
	static const char *const col[] = { C_GREEN, C_YELLOW, C_RED };
	d->warns += level == 1;
	d->fails += level == 2;
	printf("%s%s%s  %-22s %s", d->colour ? col[level] : "", word[level], d->colour ? C_RESET : "", check, detail);
	if (fix && level)
		printf("\n      fix: %s", fix);
	putchar('\n');
}

static int run(struct spawn *sp, const char *const *argv, const char *const *env, int timeout_ms)
{
	*sp = (struct spawn)SPAWN_INIT;
	sp->argv = argv;
	sp->env = env;
	sp->merge_err = true;
	sp->timeout_ms = timeout_ms;
	return spawn_run(sp);
}

static void first_line(char *out, size_t n, const char *text)
{
	snprintf(out, n, "%.*s", (int)strcspn(text, "\n"), text);
}

static void check_criu(struct doctor *d, const char *criu)
{
	struct spawn sp;
	char line[256];
	const char *ver[] = { criu, "--version", NULL }, *chk[] = { criu, "check", NULL };
	if (run(&sp, ver, NULL, 10000) || sp.status) {
		report(d, 2, "criu", "not found or does not run",
		       "build CRIU >= 4.1: nodeprep apply recipes/criu.yaml");
		spawn_release(&sp);
		return;
	}
	const char *v = strstr(sp.out.ptr, "Version: ");
	first_line(line, sizeof(line), v ? v + 9 : sp.out.ptr);
	bool old = v && strtol(v + 9, NULL, 10) < 4;
	report(d, old ? 2 : 0, "criu version", line,
	       "CRIU < 4.1 fails on new kernels (vdso bounds): build 4.1.1 with recipes/criu.yaml");
	spawn_release(&sp);
	const char *const env[] = { "CRIU_FAULT=130", NULL };
	int r = run(&sp, chk, env, 60000);
	first_line(line, sizeof(line), sp.out.ptr);
	report(d, r || sp.status ? 2 : 0, "criu check", r ? "did not finish" : line,
	       "see `criu check --all`; the kernel lacks a feature CRIU needs");
	spawn_release(&sp);
}

/* Dump a sleeping process, without and (if that hangs) with CRIU_FAULT=130. */
static void check_trial_dump(struct doctor *d, const char *criu)
{
	struct buf dir = BUF_INIT, pid = BUF_INIT;
	const char *sleeper[] = { "sleep", "600", NULL };
	struct spawn s = SPAWN_INIT, sp;
	s.argv = sleeper;
	s.new_session = true; /* its session leader must be inside its pid namespace */
	s.out_mode = s.err_mode = SPAWN_IO_NULL;
	if (fs_mkdtemp(&dir, "nodeprep-doctor") || spawn_start(&s)) {
		report(d, 2, "trial dump", "cannot start a test process", NULL);
		goto out;
	}
	buf_addf(&pid, "%ld", (long)s.pid);
	const char *dump[] = { criu, "dump", "-t", pid.ptr, "-D", dir.ptr, "--shell-job",
			       "--leave-running", NULL };
	const char *const fault[] = { "CRIU_FAULT=130", NULL };
	int r = run(&sp, dump, NULL, 20000);
	bool plain_ok = !r && !sp.status, hung = r == NP_ETIMEOUT;
	spawn_release(&sp);
	if (plain_ok) {
		report(d, 0, "trial dump", "a test process was dumped", NULL);
	} else {
		fs_remove_tree(dir.ptr);
		fs_mkdir_p(dir.ptr, 0700);
		r = run(&sp, dump, fault, 20000);
		bool fault_ok = !r && !sp.status;
		spawn_release(&sp);
		if (fault_ok)
			report(d, 1, "trial dump", hung ? "works only with CRIU_FAULT=130 (hung for 20 s without)"
						      : "works only with CRIU_FAULT=130 (fails without)",
			       "this VM has no hardware breakpoints: run CRIU's callers with CRIU_FAULT=130 "
			       "(crharness --criu-env CRIU_FAULT=130; containerd/CRI-O service environment)");
		else
			report(d, 2, "trial dump", "CRIU cannot dump a sleeping process, even with CRIU_FAULT=130",
			       "look at the dump log under a kept -D dir (criu dump -v4)");
	}
	spawn_stop(&s, SIGKILL, 1000);
out:
	spawn_release(&s);
	fs_remove_tree(dir.ptr);
	buf_release(&dir);
	buf_release(&pid);
}

static void check_tools(struct doctor *d)
{
	struct spawn sp;
	char line[256];
	const char *ipt[] = { "iptables-restore", "--version", NULL };
	int r = run(&sp, ipt, NULL, 10000);
	first_line(line, sizeof(line), sp.out.ptr);
	report(d, r || sp.status ? 2 : 0, "iptables-restore", r ? "not found" : line,
	       "apt-get install iptables (CRIU locks a container's network with it)");
	spawn_release(&sp);
	const char *runc[] = { "runc", "checkpoint", "--help", NULL };
	r = run(&sp, runc, NULL, 10000);
	report(d, r || sp.status || !strstr(sp.out.ptr, "image-path") ? 2 : 0, "runc checkpoint",
	       r ? "runc not found" : sp.status ? "runc has no checkpoint command" : "supported",
	       "install runc, or build it with the criu build tag: recipes/runc-criu.yaml");
	spawn_release(&sp);
	struct statfs fs;
	bool v2 = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_MAGIC;
	report(d, 0, "cgroup", v2 ? "v2 (unified)" : "v1 or hybrid", NULL);
	struct utsname u;
	if (uname(&u) == 0)
		report(d, 0, "kernel", u.release, NULL);
}

/*
 * CRIU probes the kernel's features at every start unless it can load
 * /run/criu.kdat, and it saves that cache only on a tmpfs (so a reboot
 * drops it) and only if no criu.kdat.tmp is left from a killed run. The
 * probe makes a network namespace and a veth pair each time: ~0.1 s alone,
 * and seconds when many dumps start at once (the kernel serialises them).
 */
static void check_kdat(struct doctor *d, const char *root)
{
	struct buf run = BUF_INIT, kdat = BUF_INIT, tmp = BUF_INIT;
	struct statfs fs;
	buf_addf(&run, "%s/run", root);
	buf_addf(&kdat, "%s/criu.kdat", run.ptr);
	buf_addf(&tmp, "%s/criu.kdat.tmp", run.ptr);
	bool tmpfs = statfs(run.ptr, &fs) == 0 && fs.f_type == 0x01021994; /* TMPFS_MAGIC */
	if (fs_exists(kdat.ptr))
		report(d, 0, "criu kernel cache", "/run/criu.kdat present", NULL);
	else if (!tmpfs)
		report(d, 1, "criu kernel cache",
		       "/run is not a tmpfs: CRIU cannot keep /run/criu.kdat and probes the kernel at every "
		       "dump and restore (a netns and a veth each time, serialised between concurrent dumps)",
		       "mount a tmpfs on /run at boot, as systemd does (mount -t tmpfs -o mode=755 tmpfs /run, "
		       "before services start)");
	else if (fs_exists(tmp.ptr))
		report(d, 1, "criu kernel cache",
		       "a stale /run/criu.kdat.tmp (left by a killed criu) stops CRIU from saving its cache",
		       "rm /run/criu.kdat.tmp");
	else
		report(d, 0, "criu kernel cache", "/run is a tmpfs: CRIU saves its cache at its next run", NULL);
	buf_release(&run);
	buf_release(&kdat);
	buf_release(&tmp);
}

static void check_runtime_config(struct doctor *d, const char *root)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	buf_addf(&path, "%s/etc/crio/crio.conf.d", root);
	if (fs_is_dir(path.ptr)) {
		buf_reset(&path);
		buf_addf(&path, "%s/etc/crio/crio.conf.d/10-criu.conf", root);
		bool on = !fs_read_file(&text, path.ptr) && strstr(text.ptr, "enable_criu_support = true");
		report(d, on ? 0 : 1, "CRI-O C/R", on ? "enable_criu_support = true" : "not enabled",
		       "nodeprep apply recipes/crio-criu.yaml");
	}
	buf_reset(&path);
	buf_reset(&text);
	buf_addf(&path, "%s/var/lib/kubelet/config.yaml", root);
	if (!fs_read_file(&text, path.ptr)) {
		bool on = strstr(text.ptr, "ContainerCheckpoint: true") != NULL;
		report(d, on ? 0 : 1, "kubelet gate", on ? "ContainerCheckpoint: true" : "ContainerCheckpoint not set",
		       "nodeprep apply recipes/kubelet-checkpoint.yaml");
	}
	buf_release(&path);
	buf_release(&text);
}

int cmd_doctor(struct cli_opts *o)
{
	struct doctor d = { 0, 0, log_use_colour(stdout) };
	const char *criu = fs_exists("/usr/local/sbin/criu") ? "/usr/local/sbin/criu" : "criu";
	check_criu(&d, criu);
	check_trial_dump(&d, criu);
	check_tools(&d);
	check_kdat(&d, o->root);
	check_runtime_config(&d, o->root);
	printf("%d failed, %d warnings\n", d.fails, d.warns);
	return d.fails ? EXIT_FAILED : EXIT_OK;
}
