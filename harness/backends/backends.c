/*
 * backends.c: the table of runtimes. To add one: backends/<name>.c
 * exporting `const struct backend_ops backend_<name>`, and one row here.
 */
#include <string.h>

#include "backend.h"
#include "banned.h"

extern const struct backend_ops backend_runc, backend_containerd, backend_kubelet,
	backend_apiserver, backend_crd, backend_docker;

static const struct backend_ops *const backends[] = { &backend_runc, &backend_containerd,
						      &backend_kubelet, &backend_apiserver,
						      &backend_crd, &backend_docker };

const struct backend_ops *backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

void backend_list(struct buf *out)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		buf_addf(out, "%s%s", i ? ", " : "", backends[i]->name);
}
