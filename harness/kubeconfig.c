/*
 * kubeconfig.c: see kubeconfig.h.
 */
#include "kubeconfig.h"

#include <stdbool.h>
#include <string.h>
#include <openssl/evp.h>

#include "error.h"
#include "fsutil.h"
#include "ytree.h"
#include "banned.h"

/* The entry of a named list (clusters, users, contexts) with that name. */
static const struct ynode *kc__named(const struct ynode *doc, const char *list, const char *name,
				     const char *field)
{
	const struct ynode *l = ynode_get(doc, list);
	for (size_t i = 0; l && l->type == YNODE_SEQ && i < l->n; i++) {
		const struct ynode *n = ynode_get(l->items[i], "name");
		if (n && n->value && !strcmp(n->value, name)) {
			const struct ynode *f = ynode_get(l->items[i], field);
			return f && f->type == YNODE_MAP ? f : NULL;
		}
	}
	return NULL;
}

static int kc__b64(struct buf *out, const char *file, const struct ynode *v)
{
	size_t len = strlen(v->value);
	buf_grow(out, len);
	int n = EVP_DecodeBlock((unsigned char *)out->ptr + out->len, (const unsigned char *)v->value, (int)len);
	if (n < 0)
		return ynode_error(file, v, "not valid base64");
	/* EVP_DecodeBlock counts padding as zero bytes */
	while (len && v->value[len - 1] == '=' && n > 0)
		len--, n--;
	buf_setlen(out, out->len + (size_t)n);
	return 0;
}

/* A PEM from FIELD-data (base64) or FIELD (a file, relative to the kubeconfig). */
static int kc__pem(struct buf *out, const char *file, const struct ynode *m, const char *field)
{
	char data[128];
	snprintf(data, sizeof(data), "%s-data", field);
	const struct ynode *v = ynode_get(m, data);
	if (v && v->value)
		return kc__b64(out, file, v);
	if (!(v = ynode_get(m, field)) || !v->value)
		return 0;
	struct buf path = BUF_INIT;
	if (v->value[0] != '/') {
		fs_dirname(&path, file);
		buf_addch(&path, '/');
	}
	buf_adds(&path, v->value);
	/* a certificate or key is a few KiB: a device or a wrong huge file is refused, not read */
	int r = fs_read_file_max(out, path.ptr, 1u << 20);
	if (r)
		r = ynode_error(file, v, "%s: %s", field, np_error_last());
	buf_release(&path);
	return r;
}

int kubeconfig_parse(struct kubeconfig *kc, const char *name, const char *text, size_t len,
		     const char *context)
{
	struct ynode *doc = NULL;
	memset(kc, 0, sizeof(*kc));
	buf_init(&kc->ca);
	buf_init(&kc->cert);
	buf_init(&kc->key);
	int r = ytree_parse(&doc, name, text, len);
	if (r)
		return r;
	const struct ynode *cur = ynode_get(doc, "current-context");
	const char *ctxname = context ? context : cur && cur->value ? cur->value : NULL;
	const struct ynode *ctx, *cl, *user, *v;
	if (!ctxname) {
		r = ynode_error(name, doc, "no current-context (pass --context)");
		goto out;
	}
	if (!(ctx = kc__named(doc, "contexts", ctxname, "context"))) {
		r = ynode_error(name, doc, "no context '%s'", ctxname);
		goto out;
	}
	const struct ynode *cn = ynode_get(ctx, "cluster"), *un = ynode_get(ctx, "user");
	if (!cn || !cn->value || !(cl = kc__named(doc, "clusters", cn->value, "cluster"))) {
		r = ynode_error(name, cn ? cn : ctx, "context '%s' names no known cluster", ctxname);
		goto out;
	}
	if (!(v = ynode_get(cl, "server")) || !v->value ||
	    (strncmp(v->value, "https://", 8) && strncmp(v->value, "http://127.0.0.1:", 17))) {
		r = ynode_error(name, v ? v : cl, "cluster '%s' needs an https:// server (or http://127.0.0.1:PORT of kubectl proxy)", cn->value);
		goto out;
	}
	snprintf(kc->server, sizeof(kc->server), "%s", v->value);
	v = ynode_get(ctx, "namespace");
	snprintf(kc->ns, sizeof(kc->ns), "%s", v && v->value ? v->value : "default");
	if ((r = kc__pem(&kc->ca, name, cl, "certificate-authority")))
		goto out;
	user = un && un->value ? kc__named(doc, "users", un->value, "user") : NULL;
	if (user) {
		if ((r = kc__pem(&kc->cert, name, user, "client-certificate")) ||
		    (r = kc__pem(&kc->key, name, user, "client-key")))
			goto out;
		if ((v = ynode_get(user, "token")) && v->value)
			snprintf(kc->token, sizeof(kc->token), "%s", v->value);
	}
	/* through `kubectl proxy` (http on loopback) the proxy authenticates */
	bool proxied = !strncmp(kc->server, "http://", 7);
	if (!proxied && !kc->token[0] && (!kc->cert.len || !kc->key.len))
		r = ynode_error(name, ctx, "context '%s': its user has neither a client certificate+key nor a token",
				ctxname);
out:
	ynode_free(doc);
	if (r)
		kubeconfig_release(kc);
	return r;
}

int kubeconfig_load(struct kubeconfig *kc, const char *path, const char *context)
{
	struct buf text = BUF_INIT;
	int r = fs_read_file(&text, path);
	if (!r)
		r = kubeconfig_parse(kc, path, text.ptr, text.len, context);
	buf_release(&text);
	return r;
}

void kubeconfig_release(struct kubeconfig *kc)
{
	buf_release(&kc->ca);
	buf_release(&kc->cert);
	buf_release(&kc->key);
	memset(kc->token, 0, sizeof(kc->token)); /* a secret: do not leave it around */
}
