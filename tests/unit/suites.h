/*
 * suites.h: one check Suite per module; main.c runs them all.
 */
#ifndef NP_TEST_SUITES_H
#define NP_TEST_SUITES_H

#include <check.h>

Suite *suite_ytree(void);
Suite *suite_template(void);
Suite *suite_spawn(void);
Suite *suite_criu_stats(void);
Suite *suite_edit(void);
Suite *suite_scenario(void);
Suite *suite_kubeconfig(void);
Suite *suite_k8s_json(void);
Suite *suite_runrec(void);
Suite *suite_criu_mem(void);
Suite *suite_jail(void);
Suite *suite_host_cache(void);
Suite *suite_mux_wire(void);

#endif
