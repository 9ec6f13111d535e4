/* Fuzz target: the kubeconfig parser (contexts, clusters, users, base64 data). */
#include <stdint.h>

#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct kubeconfig kc;
	if (!kubeconfig_parse(&kc, "/nonexistent/fuzz-kubeconfig", (const char *)data, len, NULL))
		kubeconfig_release(&kc);
	return 0;
}
