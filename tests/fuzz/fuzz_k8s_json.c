/* Fuzz target: what crharness reads from API server and kubelet answers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *body = malloc(len + 1);
	struct pod_state ps;
	struct buf a = BUF_INIT, b = BUF_INIT;
	if (!body)
		return 0;
	memcpy(body, data, len);
	body[len] = '\0';
	k8s_json_pod_state(&ps, body);
	k8s_json_items_path(&a, body);
	k8s_json_crd_status(body, &a, &b);
	struct cc_object *items = NULL, ev;
	size_t n;
	char rv[32], type[16];
	long code;
	if (!k8s_json_cc_list(body, &items, &n, rv, sizeof(rv)))
		free(items);
	k8s_json_watch_event(body, type, sizeof(type), &ev, &code);
	buf_release(&a);
	buf_release(&b);
	free(body);
	return 0;
}
