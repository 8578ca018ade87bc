/*
 * testutil — shared helpers for the Check unit tests: running a suite,
 * parsing a message from a C string with \r written as '\r'.
 */
#ifndef SOLENT_TESTS_TESTUTIL_H
#define SOLENT_TESTS_TESTUTIL_H

#include <check.h>

#include "parsers/hl7.h"

/* Runs every test of s; returns the exit status for main(). */
int test_run(Suite *s);
/* Parses text with default options; fails the test (with the reason) on error. */
void test_parse_ok(struct hl7_msg *m, const char *text);
/* Parses text with default options; fails the test if it parses. */
void test_parse_err(struct hl7_msg *m, const char *text, struct hl7_err *err);
/* The decoded text at path in m, in a static buffer ("<absent>" when absent). */
const char *test_get(const struct hl7_msg *m, const char *path);

#endif
