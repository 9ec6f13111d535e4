/*
 * main.c: runs every unit suite; check prints the closing summary line.
 */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(suite_ytree());
	srunner_add_suite(sr, suite_template());
	srunner_add_suite(sr, suite_spawn());
	srunner_add_suite(sr, suite_criu_stats());
	srunner_add_suite(sr, suite_edit());
	srunner_add_suite(sr, suite_scenario());
	srunner_add_suite(sr, suite_kubeconfig());
	srunner_add_suite(sr, suite_k8s_json());
	srunner_add_suite(sr, suite_runrec());
	srunner_add_suite(sr, suite_criu_mem());
	srunner_add_suite(sr, suite_jail());
	srunner_add_suite(sr, suite_host_cache());
	srunner_add_suite(sr, suite_mux_wire());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
