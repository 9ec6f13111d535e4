/* kubelet_api.c: see kubelet_api.h. */
#include "kubelet_api.h"

#include <string.h>

#include "error.h"
#include "k8s_json.h"
#include "banned.h"

int kubelet_api_explain(long st, const char *body, const char *ns, const char *pod, const char *ctr)
{
	/* the route is only registered with the gate on: a bare mux 404 */
	if (st == 404 && strstr(body, "404 page not found"))
		return np_error_set("404: the kubelet has no /checkpoint route: the ContainerCheckpoint feature gate is off");
	if (st == 404 && strstr(body, "timeout"))
		return np_error_set("404: the kubelet could not parse the timeout parameter: %.200s", body);
	if (st == 404)
		return np_error_set("404: the kubelet does not know pod '%s/%s' container '%s': %.200s", ns, pod, ctr,
				    body);
	if (st == 401 || st == 403)
		return np_error_set("%ld: the kubelet refused the client certificate (check --kubelet-cert/--kubelet-key): %.200s",
				    st, body);
	if (st == 500 && (strstr(body, "CheckpointContainer not implemented") ||
			  strstr(body, "unknown method CheckpointContainer")))
		return np_error_set("500: the container runtime does not implement CheckpointContainer "
				    "(containerd >= 2.0 or CRI-O with C/R support needed): %.300s", body);
	if (st == 500 && strstr(body, "checkpoint/restore support not available"))
		return np_error_set("500: the runtime has checkpoint/restore switched off "
				    "(CRI-O: enable_criu_support = true, see recipes/crio-criu.yaml): %.300s", body);
	if (st == 500 && strstr(body, "CRIU binary not found or too old"))
		return np_error_set("500: CRIU is missing or too old on the node (build 4.1.1: recipes/criu.yaml): %.300s",
				    body);
	return np_error_set("HTTP %ld from the kubelet: %.300s", st, body);
}

int kubelet_api_checkpoint(struct buf *path, const struct k8s_tls *t, const char *base_url,
			   const char *ns, const char *pod, const char *ctr, int timeout_s)
{
	struct buf url = BUF_INIT, resp = BUF_INIT;
	long st;
	buf_addf(&url, "%s/checkpoint/%s/%s/%s", base_url, ns, pod, ctr);
	if (timeout_s > 0)
		buf_addf(&url, "?timeout=%d", timeout_s);
	int r = 0;
	if (!t->cert || !t->cert->len || !t->key || !t->key->len)
		r = np_error_set("no kubelet client certificate/key (--kubelet-cert, --kubelet-key)");
	/* the kubelet may take its whole timeout; give it 30 s more to answer */
	if (!r && !(r = k8s_request(t, "POST", url.ptr, NULL, (timeout_s > 0 ? timeout_s : 120) + 30, &st, &resp)))
		r = st == 200 ? k8s_json_items_path(path, resp.ptr) : kubelet_api_explain(st, resp.ptr, ns, pod, ctr);
	buf_release(&url);
	buf_release(&resp);
	return r;
}
