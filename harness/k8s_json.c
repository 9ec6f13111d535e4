/* k8s_json.c: see k8s_json.h. */
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "error.h"
#include "k8s_json.h"
#include "banned.h"

static const char *str_or(json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : def;
}

void k8s_json_pod_state(struct pod_state *ps, const char *body)
{
	json_t *j = json_loads(body, 0, NULL), *s = json_object_get(j, "status"), *cs;
	size_t i;
	memset(ps, 0, sizeof(*ps));
	snprintf(ps->phase, sizeof(ps->phase), "%s", str_or(s, "phase", "Unknown"));
	snprintf(ps->host, sizeof(ps->host), "%s", str_or(s, "hostIP", ""));
	json_array_foreach(json_object_get(s, "containerStatuses"), i, cs) {
		json_t *w = json_object_get(json_object_get(cs, "state"), "waiting");
		ps->restarts += (long)json_integer_value(json_object_get(cs, "restartCount"));
		if (json_string_value(json_object_get(w, "reason"))) {
			snprintf(ps->reason, sizeof(ps->reason), "%s", str_or(w, "reason", ""));
			snprintf(ps->message, sizeof(ps->message), "%s", str_or(w, "message", ""));
		}
	}
	json_decref(j);
}

int k8s_json_items_path(struct buf *path, const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *p = json_string_value(json_array_get(json_object_get(j, "items"), 0));
	int r = p ? (buf_adds(path, p), 0) : np_error_set("the answer names no archive: %.200s", body);
	json_decref(j);
	return r;
}

int k8s_json_crd_status(const char *body, struct buf *location, struct buf *message)
{
	json_t *j = json_loads(body, 0, NULL), *status = json_object_get(j, "status");
	const char *phase = str_or(status, "phase", "");
	int r = !strcmp(phase, "Completed") ? 1 : !strcmp(phase, "Failed") ? -1 : 0;
	if (r)
		buf_adds(message, str_or(status, "message", "(no message)"));
	if (r == 1)
		buf_adds(location, str_or(status, "location", ""));
	json_decref(j);
	return r;
}
