/* Shared by the GrowthBook conformance programs: finding and loading the
 * vendored cases.json and its sections.  Include after cmocka.h. */
#ifndef MKT_TEST_GB_CASES_H
#define MKT_TEST_GB_CASES_H

#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>

#define GB_CASES_REL  "conformance/growthbook/cases.json"

static const char  *cases_path;
static json_t      *cases;


/* The array of one section, failing the test if it is absent or empty. */
static json_t *
section(const char *name)
{
    json_t  *s;

    s = json_object_get(cases, name);
    if (!json_is_array(s) || json_array_size(s) == 0) {
        fail_msg("%s: section \"%s\" is missing or empty", cases_path, name);
    }

    return s;
}


static int
load_cases(void **state)
{
    json_error_t  err;

    cases = json_load_file(cases_path, 0, &err);
    if (cases == NULL) {
        fprintf(stderr, "%s:%d:%d: %s\n", cases_path, err.line, err.column,
                err.text);
        return -1;
    }

    return 0;
}


static int
free_cases(void **state)
{
    json_decref(cases);
    cases = NULL;
    return 0;
}


/*
 * Runs a group over cases.json found as argv[1], else under $MKT_TESTS_DIR,
 * else at the path from the repo root where `make unit` runs the tests.
 */
static int
gb_run(int argc, char **argv, const char *name,
    const struct CMUnitTest *tests, size_t n)
{
    static char  buf[4096];
    const char  *dir;

    dir = getenv("MKT_TESTS_DIR");

    if (argc > 1) {
        cases_path = argv[1];

    } else if (dir != NULL && dir[0] != '\0') {
        if (snprintf(buf, sizeof(buf), "%s/%s", dir, GB_CASES_REL)
            >= (int) sizeof(buf))
        {
            fprintf(stderr, "MKT_TESTS_DIR is too long\n");
            return 1;
        }
        cases_path = buf;

    } else {
        cases_path = "tests/" GB_CASES_REL;
    }

    return _cmocka_run_group_tests(name, tests, n, load_cases, free_cases);
}

#endif
