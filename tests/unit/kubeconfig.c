/* Unit tests for harness/kubeconfig.c. */
#include <string.h>

#include "error.h"
#include "kubeconfig.h"
#include "suites.h"

static const char good[] =
	"apiVersion: v1\ncurrent-context: a\nclusters:\n"
	"  - name: k\n    cluster: { server: \"https://10.0.0.1:6443\", certificate-authority-data: aGVsbG8= }\n"
	"users:\n  - name: tok\n    user: { token: s3cr3t }\n"
	"  - name: cert\n    user: { client-certificate-data: Y2VydA==, client-key-data: a2V5 }\n"
	"contexts:\n  - name: a\n    context: { cluster: k, user: tok }\n"
	"  - name: b\n    context: { cluster: k, user: cert, namespace: cr }\n";

START_TEST(test_kubeconfig__contexts)
{
	struct kubeconfig kc;
	ck_assert_int_eq(kubeconfig_parse(&kc, "kc", good, strlen(good), NULL), 0);
	ck_assert_str_eq(kc.server, "https://10.0.0.1:6443");
	ck_assert_str_eq(kc.token, "s3cr3t");
	ck_assert_str_eq(kc.ns, "default");
	ck_assert_int_eq(kc.ca.len, 5);
	ck_assert(!memcmp(kc.ca.ptr, "hello", 5));
	kubeconfig_release(&kc);
	ck_assert_int_eq(kubeconfig_parse(&kc, "kc", good, strlen(good), "b"), 0);
	ck_assert_str_eq(kc.ns, "cr");
	ck_assert_int_eq(kc.cert.len, 4);
	ck_assert_int_eq(kc.key.len, 3);
	ck_assert(!memcmp(kc.key.ptr, "key", 3));
	kubeconfig_release(&kc);
}
END_TEST

START_TEST(test_kubeconfig__errors)
{
	struct kubeconfig kc;
	ck_assert_int_eq(kubeconfig_parse(&kc, "kc", good, strlen(good), "nope"), NP_EINVALID);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "no context 'nope'"));
	const char http[] = "current-context: a\nclusters: [{name: k, cluster: {server: \"http://x\"}}]\n"
			    "contexts: [{name: a, context: {cluster: k, user: u}}]\n";
	ck_assert_int_eq(kubeconfig_parse(&kc, "kc", http, strlen(http), NULL), NP_EINVALID);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "https://"));
	const char nouser[] = "current-context: a\nclusters: [{name: k, cluster: {server: \"https://x\"}}]\n"
			      "contexts: [{name: a, context: {cluster: k, user: u}}]\n";
	ck_assert_int_eq(kubeconfig_parse(&kc, "kc", nouser, strlen(nouser), NULL), NP_EINVALID);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "neither a client certificate"));
	ck_assert_int_eq(kubeconfig_parse(&kc, "kc", "a: [", 4, NULL), NP_EINVALID);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "kc:"));
	/* a file that never ends is refused at once (the fuzzer's /dev/zero) */
	const char endless[] = "current-context: a\nclusters: [{name: k, cluster: {server: \"https://x\"}}]\n"
			       "users: [{name: u, user: {client-certificate: /dev/zero, client-key: /dev/zero}}]\n"
			       "contexts: [{name: a, context: {cluster: k, user: u}}]\n";
	ck_assert_int_ne(kubeconfig_parse(&kc, "kc", endless, strlen(endless), NULL), 0);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "client-certificate: '/dev/zero' is larger than 1 MiB"));
}
END_TEST

Suite *suite_kubeconfig(void)
{
	Suite *s = suite_create("kubeconfig");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_kubeconfig__contexts);
	tcase_add_test(tc, test_kubeconfig__errors);
	suite_add_tcase(s, tc);
	return s;
}
