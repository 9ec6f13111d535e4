/* k8s_json.c: see k8s_json.h. */
#include <stdio.h>
#include <stdlib.h>
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
	snprintf(ps->node, sizeof(ps->node), "%s", str_or(json_object_get(j, "spec"), "nodeName", ""));
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

static void cc__object(struct cc_object *o, json_t *j)
{
	json_t *m = json_object_get(j, "metadata"), *spec = json_object_get(j, "spec");
	memset(o, 0, sizeof(*o));
	snprintf(o->ns, sizeof(o->ns), "%s", str_or(m, "namespace", ""));
	snprintf(o->name, sizeof(o->name), "%s", str_or(m, "name", ""));
	snprintf(o->rv, sizeof(o->rv), "%s", str_or(m, "resourceVersion", ""));
	snprintf(o->phase, sizeof(o->phase), "%s", str_or(json_object_get(j, "status"), "phase", ""));
	snprintf(o->pod, sizeof(o->pod), "%s", str_or(spec, "podName", ""));
	snprintf(o->container, sizeof(o->container), "%s", str_or(spec, "containerName", ""));
}

int k8s_json_cc_list(const char *body, struct cc_object **items, size_t *n, char *rv, size_t rvlen)
{
	json_t *j = json_loads(body, 0, NULL), *list = json_object_get(j, "items");
	size_t i;
	*items = NULL;
	*n = 0;
	if (!json_is_array(list)) {
		json_decref(j);
		return np_error_set("not a list: %.200s", body);
	}
	snprintf(rv, rvlen, "%s", str_or(json_object_get(j, "metadata"), "resourceVersion", ""));
	if (json_array_size(list) && !(*items = calloc(json_array_size(list), sizeof(**items))))
		abort();
	for (i = 0; i < json_array_size(list); i++)
		cc__object(&(*items)[(*n)++], json_array_get(list, i));
	json_decref(j);
	return 0;
}

int k8s_json_watch_event(const char *line, char *type, size_t typelen, struct cc_object *obj, long *code)
{
	json_t *j = json_loads(line, 0, NULL), *o = json_object_get(j, "object");
	const char *t = json_string_value(json_object_get(j, "type"));
	int r = 0;
	memset(obj, 0, sizeof(*obj));
	*code = 0;
	if (!t || !json_is_object(o)) {
		r = np_error_set("not a watch event: %.200s", line);
	} else {
		snprintf(type, typelen, "%s", t);
		cc__object(obj, o);
		*code = (long)json_integer_value(json_object_get(o, "code"));
	}
	json_decref(j);
	return r;
}
