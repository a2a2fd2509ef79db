/* GrowthBook conformance: drives every vendored case of the sections hash,
 * getBucketRange, chooseVariation, inNamespace and getEqualWeights through
 * src/hash.c.  Usage: test_growthbook_hash [cases.json] */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "hash.h"

#include "gb_cases.h"

/* Upstream's json.test.ts checks hash() exactly and floors ranges and
 * weights to 8 decimals; this is as strict and tolerates only the last bits
 * of the double arithmetic. */
#define EPSILON  1e-8

/* Enough for every vendored case; a longer case fails rather than
 * overflowing. */
#define MAX_VARIATIONS  64


static int
same_float(double got, double want)
{
    return fabs(got - want) < EPSILON;
}


/* A malformed case is a failure of the test data, reported like a mismatch
 * so that a damaged cases.json cannot pass silently. */
static int
malformed(const char *sect, size_t i)
{
    print_error("%s[%zu]: malformed case\n", sect, i);
    return 1;
}


static void
report(const char *sect, size_t total, size_t failed)
{
    printf("%s: %zu/%zu cases passed\n", sect, total - failed, total);
    if (failed) {
        fail_msg("%s: %zu of %zu cases failed", sect, failed, total);
    }
}


/* [lo, hi] pairs of a JSON array into out; the count, or -1. */
static long
json_ranges(json_t *a, mkt_range_t *out)
{
    json_t  *r;
    size_t   i;

    if (!json_is_array(a) || json_array_size(a) > MAX_VARIATIONS) {
        return -1;
    }

    json_array_foreach(a, i, r) {
        if (!json_is_array(r) || json_array_size(r) != 2
            || !json_is_number(json_array_get(r, 0))
            || !json_is_number(json_array_get(r, 1)))
        {
            return -1;
        }
        out[i].start = json_number_value(json_array_get(r, 0));
        out[i].end = json_number_value(json_array_get(r, 1));
    }

    return (long) json_array_size(a);
}


/* ["seed", "value", version, expected | null] */
static void
test_hash_cases(void **state)
{
    const char  *seed, *value;
    json_t      *s, *c, *want;
    size_t       i, failed = 0;
    double       got;
    int          version;

    s = section("hash");

    json_array_foreach(s, i, c) {
        if (!json_is_array(c) || json_array_size(c) != 4
            || !json_is_string(json_array_get(c, 0))
            || !json_is_string(json_array_get(c, 1))
            || !json_is_integer(json_array_get(c, 2)))
        {
            failed += malformed("hash", i);
            continue;
        }

        seed = json_string_value(json_array_get(c, 0));
        value = json_string_value(json_array_get(c, 1));
        version = (int) json_integer_value(json_array_get(c, 2));
        want = json_array_get(c, 3);

        got = mkt_hash(seed, json_string_length(json_array_get(c, 0)),
                       value, json_string_length(json_array_get(c, 1)),
                       version);

        if (json_is_null(want) ? got >= 0
            : !json_is_number(want)
              || !same_float(got, json_number_value(want)))
        {
            print_error("hash[%zu] (\"%s\", \"%s\", %d): got %.6f, "
                        "want %.6f%s\n", i, seed, value, version, got,
                        json_is_number(want) ? json_number_value(want) : -1,
                        json_is_null(want) ? " (null)" : "");
            failed++;
        }
    }

    report("hash", json_array_size(s), failed);
}


/* ["name", [numVariations, coverage, weights | null], [[lo, hi], ...]] */
static void
test_get_bucket_range_cases(void **state)
{
    mkt_range_t   want[MAX_VARIATIONS], got[MAX_VARIATIONS];
    const char   *name;
    json_t       *s, *c, *args, *jw, *x;
    double        weights[MAX_VARIATIONS], coverage;
    size_t        i, j, k, n, nw, failed = 0;
    long          nwant;
    int           ok;

    s = section("getBucketRange");

    json_array_foreach(s, i, c) {
        name = json_string_value(json_array_get(c, 0));
        args = json_array_get(c, 1);
        jw = json_array_get(args, 2);
        nwant = json_ranges(json_array_get(c, 2), want);

        if (name == NULL || json_array_size(args) != 3
            || !json_is_integer(json_array_get(args, 0))
            || json_integer_value(json_array_get(args, 0)) < 0
            || json_integer_value(json_array_get(args, 0)) > MAX_VARIATIONS
            || !json_is_number(json_array_get(args, 1))
            || !(json_is_null(jw) || json_is_array(jw))
            || json_array_size(jw) > MAX_VARIATIONS
            || nwant < 0)
        {
            failed += malformed("getBucketRange", i);
            continue;
        }

        n = (size_t) json_integer_value(json_array_get(args, 0));
        coverage = json_number_value(json_array_get(args, 1));

        ok = 1;
        nw = 0;
        json_array_foreach(jw, k, x) {
            ok = ok && json_is_number(x);
            weights[k] = json_number_value(x);
            nw++;
        }
        if (!ok) {
            failed += malformed("getBucketRange", i);
            continue;
        }

        n = mkt_bucket_ranges(n, coverage, json_is_null(jw) ? NULL : weights,
                              nw, got);

        ok = (long) n == nwant;
        for (j = 0; ok && j < n; j++) {
            ok = same_float(got[j].start, want[j].start)
                 && same_float(got[j].end, want[j].end);
        }

        if (!ok) {
            print_error("getBucketRange[%zu] \"%s\": got %zu ranges, "
                        "want %ld:\n", i, name, n, nwant);
            for (j = 0; j < n || j < (size_t) nwant; j++) {
                print_error("  got [%.9f, %.9f]  want [%.9f, %.9f]\n",
                            j < n ? got[j].start : NAN,
                            j < n ? got[j].end : NAN,
                            j < (size_t) nwant ? want[j].start : NAN,
                            j < (size_t) nwant ? want[j].end : NAN);
            }
            failed++;
        }
    }

    report("getBucketRange", json_array_size(s), failed);
}


/* ["name", n, [[lo, hi], ...], expected index] */
static void
test_choose_variation_cases(void **state)
{
    mkt_range_t   ranges[MAX_VARIATIONS];
    const char   *name;
    json_t       *s, *c;
    size_t        i, failed = 0;
    long          nranges;
    int           got, want;

    s = section("chooseVariation");

    json_array_foreach(s, i, c) {
        name = json_string_value(json_array_get(c, 0));
        nranges = json_ranges(json_array_get(c, 2), ranges);

        if (name == NULL || !json_is_number(json_array_get(c, 1))
            || nranges < 0 || !json_is_integer(json_array_get(c, 3)))
        {
            failed += malformed("chooseVariation", i);
            continue;
        }

        want = (int) json_integer_value(json_array_get(c, 3));
        got = mkt_choose_variation(json_number_value(json_array_get(c, 1)),
                                   ranges, (size_t) nranges);

        if (got != want) {
            print_error("chooseVariation[%zu] \"%s\": got %d, want %d\n",
                        i, name, got, want);
            failed++;
        }
    }

    report("chooseVariation", json_array_size(s), failed);
}


/* ["name", "id", ["namespace", start, end], expected bool] */
static void
test_in_namespace_cases(void **state)
{
    const char  *name;
    json_t      *s, *c, *id, *ns;
    size_t       i, failed = 0;
    int          got, want;

    s = section("inNamespace");

    json_array_foreach(s, i, c) {
        name = json_string_value(json_array_get(c, 0));
        id = json_array_get(c, 1);
        ns = json_array_get(c, 2);

        if (name == NULL || !json_is_string(id)
            || json_array_size(ns) != 3
            || !json_is_string(json_array_get(ns, 0))
            || !json_is_number(json_array_get(ns, 1))
            || !json_is_number(json_array_get(ns, 2))
            || !json_is_boolean(json_array_get(c, 3)))
        {
            failed += malformed("inNamespace", i);
            continue;
        }

        want = json_is_true(json_array_get(c, 3));
        got = mkt_in_namespace(json_string_value(id), json_string_length(id),
                  json_string_value(json_array_get(ns, 0)),
                  json_string_length(json_array_get(ns, 0)),
                  json_number_value(json_array_get(ns, 1)),
                  json_number_value(json_array_get(ns, 2)));

        if (got != want) {
            print_error("inNamespace[%zu] \"%s\": got %s, want %s\n",
                        i, name, got ? "true" : "false",
                        want ? "true" : "false");
            failed++;
        }
    }

    report("inNamespace", json_array_size(s), failed);
}


/* [numVariations, [weights]] */
static void
test_get_equal_weights_cases(void **state)
{
    json_t     *s, *c, *jw;
    double      got[MAX_VARIATIONS];
    json_int_t  num;
    size_t      i, j, n, failed = 0;
    int         ok;

    s = section("getEqualWeights");

    json_array_foreach(s, i, c) {
        jw = json_array_get(c, 1);

        if (!json_is_integer(json_array_get(c, 0)) || !json_is_array(jw)
            || json_integer_value(json_array_get(c, 0)) > MAX_VARIATIONS)
        {
            failed += malformed("getEqualWeights", i);
            continue;
        }

        /* A count cannot be negative in C; GrowthBook's "fewer than 1
         * variation" gives no weights, as 0 does. */
        num = json_integer_value(json_array_get(c, 0));
        n = num < 0 ? 0 : (size_t) num;

        mkt_equal_weights(n, got);

        ok = json_array_size(jw) == n;
        for (j = 0; ok && j < n; j++) {
            ok = json_is_number(json_array_get(jw, j))
                 && same_float(got[j],
                               json_number_value(json_array_get(jw, j)));
        }

        if (!ok) {
            print_error("getEqualWeights[%zu] (%lld): got %zu weights of "
                        "%.9f, want %zu of %.9f\n", i, (long long) num, n,
                        n ? got[0] : 0.0, json_array_size(jw),
                        json_number_value(json_array_get(jw, 0)));
            failed++;
        }
    }

    report("getEqualWeights", json_array_size(s), failed);
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_cases),
        cmocka_unit_test(test_get_bucket_range_cases),
        cmocka_unit_test(test_choose_variation_cases),
        cmocka_unit_test(test_in_namespace_cases),
        cmocka_unit_test(test_get_equal_weights_cases),
    };

    return gb_run(argc, argv, "growthbook conformance", tests,
                  sizeof(tests) / sizeof(tests[0]));
}
