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

#endif
