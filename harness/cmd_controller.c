/*
 * cmd_controller.c: `crharness controller`, the command line of
 * controller.c. It parses, installs the SIGTERM/SIGINT handler the
 * controller polls, and maps the outcome to an exit code.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "controller.h"
#include "error.h"
#include "log.h"
#include "banned.h"

static const char controller_usage[] =
	"usage: crharness controller [options]\n\n"
	"Watches ContainerCheckpoint objects (harness/k8s/containercheckpoint-crd.yaml:\n"
	"spec.podName, spec.containerName) and checkpoints each new one's container\n"
	"through its node's kubelet (POST https://NODE:10250/checkpoint/NS/POD/CONTAINER\n"
	"with the kubelet client certificate). The object's status then says\n"
	"phase: Completed with location (the archive on the node), nodeName and\n"
	"completionTime, or phase: Failed with the reason in message. While it works\n"
	"on an object its phase is Running; objects left Running by a controller\n"
	"that stopped are taken over at start. Run one per cluster.\n\n"
	"It lists the objects, then watches them (?watch=true from the list's\n"
	"resourceVersion), so a new object is served at once. Each object settled is\n"
	"printed to stdout: 'NS/NAME Completed LOCATION' or 'NS/NAME Failed: REASON'.\n"
	"SIGTERM or SIGINT stops it: the watch ends at once, a checkpoint under way\n"
	"is finished and recorded first.\n\n"
	"options:\n"
	"  --kubeconfig FILE    the API server and credentials (default $KUBECONFIG,\n"
	"                       else /etc/kubernetes/admin.conf)\n"
	"  --context NAME       kubeconfig context (default: current-context)\n"
	"  -n, --namespace NS   watch only NS (default: all namespaces)\n"
	"  --crd GROUP/VERSION  the objects' API (default lpm.my.domain/v1)\n"
	"  --crd-plural NAME    their resource name (default containercheckpoints)\n"
	"  --kubelet-url URL    every checkpoint to this kubelet (default\n"
	"                       https://<pod's hostIP>:10250)\n"
	"  --kubelet-cert FILE  kubelet client certificate (default\n"
	"                       /etc/kubernetes/pki/apiserver-kubelet-client.crt)\n"
	"  --kubelet-key FILE   its key (default .../apiserver-kubelet-client.key)\n"
	"  --kubelet-ca FILE    CA of the kubelet's serving certificate (default\n"
	"                       /etc/kubernetes/pki/ca.crt)\n"
	"  --timeout S          checkpoint timeout passed to the kubelet (default 120)\n"
	"  --watch-timeout S    length of one watch before it is renewed (default 300)\n"
	"  --once               settle the objects pending now, then exit (no watch)\n"
	"  -v, --verbose        log every request\n\n"
	"exit status: 0 stopped by a signal, or --once settled everything (objects\n"
	"that ended Failed included); 1 --once could not read the objects or write a\n"
	"status; 2 bad usage, kubeconfig or kubelet credentials.\n";

static volatile sig_atomic_t controller_stop;

static void controller__on_signal(int sig)
{
	(void)sig;
	controller_stop = 1;
}

static int controller__int(const char *opt, const char *v, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (*end || n < 1 || n > 86400) {
		log_error("%s expects seconds (1..86400), got '%s'", opt, v);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int controller__parse(struct controller_opts *o, int argc, char **argv)
{
	const char *env = getenv("KUBECONFIG");
	o->kubeconfig = env && *env ? env : "/etc/kubernetes/admin.conf";
	o->group_version = "lpm.my.domain/v1";
	o->plural = "containercheckpoints";
	o->kubelet_cert = "/etc/kubernetes/pki/apiserver-kubelet-client.crt";
	o->kubelet_key = "/etc/kubernetes/pki/apiserver-kubelet-client.key";
	o->kubelet_ca = "/etc/kubernetes/pki/ca.crt";
	o->timeout_s = 120;
	o->watch_s = 300;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		static const char *const valued[] = { "--kubeconfig", "--context", "-n", "--namespace",
						      "--crd", "--crd-plural", "--kubelet-url", "--kubelet-cert",
						      "--kubelet-key", "--kubelet-ca", "--timeout",
						      "--watch-timeout", NULL };
		size_t k = 0;
		while (valued[k] && strcmp(a, valued[k]))
			k++;
		if (!strcmp(a, "--once")) {
			o->once = true;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			log_setup(LOG_DEBUG, stderr);
		} else if (valued[k]) {
			if (cmd_need_value(i, argc, a))
				return -1;
			const char *v = argv[++i];
			const char **dst[] = { &o->kubeconfig, &o->context, &o->ns, &o->ns, &o->group_version,
					       &o->plural, &o->kubelet_url, &o->kubelet_cert, &o->kubelet_key,
					       &o->kubelet_ca };
			if (k < sizeof(dst) / sizeof(dst[0]))
				*dst[k] = v;
			else if (controller__int(a, v, !strcmp(a, "--timeout") ? &o->timeout_s : &o->watch_s))
				return -1;
		} else {
			log_error("unexpected argument '%s'", a);
			return -1;
		}
	}
	if (!strchr(o->group_version, '/')) {
		log_error("--crd expects GROUP/VERSION, got '%s'", o->group_version);
		return -1;
	}
	return 0;
}

int cmd_controller(int argc, char **argv)
{
	struct controller_opts o = { 0 };
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(controller_usage, stdout);
			return EXIT_OK;
		}
	if (controller__parse(&o, argc, argv)) {
		fputs("run 'crharness controller --help' for the options\n", stderr);
		return EXIT_USAGE;
	}
	/* no SA_RESTART: a blocking wait returns and the controller sees the flag */
	struct sigaction sa = { 0 };
	sa.sa_handler = controller__on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int r = controller_run(&o, &controller_stop);
	if (r)
		log_error("%s", np_error_last());
	if (controller_stop)
		log_info("controller: stopped by a signal");
	return !r ? EXIT_OK : r == NP_EINVALID ? EXIT_USAGE : EXIT_FAILED;
}
