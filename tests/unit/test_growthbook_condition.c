/* GrowthBook conformance: drives every vendored case of the section
 * evalCondition through src/condition.c, compiled in lenient mode.
 * Usage: test_growthbook_condition [cases.json] */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "condition.h"
#include "value.h"

#include "gb_cases.h"

/* One case: 1 if it failed (printing why), 0 if it passed. */
static int
run_case(size_t i, json_t *c)
{
    const char  *name;
    mkt_cond_t  *cond;
    mkt_val_t   *attrs;
    json_t      *want, *groups;
    char         err[512];
    int          got;

    if (!json_is_array(c) || json_array_size(c) < 4
        || json_array_size(c) > 5
        || !json_is_string(json_array_get(c, 0))
        || !json_is_boolean(json_array_get(c, 3)))
    {
        print_error("evalCondition[%zu]: malformed case\n", i);
        return 1;
    }

    name = json_string_value(json_array_get(c, 0));
    want = json_array_get(c, 3);
    groups = json_array_get(c, 4);               /* savedGroups, or NULL */

    cond = mkt_cond_compile(json_array_get(c, 1), groups, MKT_COND_LENIENT,
                            "condition", err, sizeof(err));
    if (cond == NULL) {
        print_error("evalCondition[%zu] \"%s\": does not compile: %s\n", i,
                    name, err);
        return 1;
    }

    attrs = mkt_val_from_json(json_array_get(c, 2));
    if (attrs == NULL) {
        print_error("evalCondition[%zu] \"%s\": attributes not converted\n",
                    i, name);
        mkt_cond_free(cond);
        return 1;
    }

    got = mkt_cond_eval(cond, attrs);
    mkt_val_free(attrs);
    mkt_cond_free(cond);

    if (got != json_is_true(want)) {
        print_error("evalCondition[%zu] \"%s\": got %s, want %s\n", i, name,
                    got ? "true" : "false", got ? "false" : "true");
        return 1;
    }
    return 0;
}


/* [name, condition, attributes, expected, savedGroups?] */
static void
test_eval_condition_cases(void **state)
{
    json_t  *s, *c;
    size_t   i, failed = 0;

    s = section("evalCondition");

    json_array_foreach(s, i, c) {
        failed += run_case(i, c);
    }

    printf("evalCondition: %zu/%zu cases passed\n",
           json_array_size(s) - failed, json_array_size(s));
    if (failed) {
        fail_msg("evalCondition: %zu of %zu cases failed", failed,
                 json_array_size(s));
    }
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_condition_cases),
    };

    return gb_run(argc, argv, "growthbook conformance: conditions", tests,
                  sizeof(tests) / sizeof(tests[0]));
}
