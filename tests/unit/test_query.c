/* Unit tests of src/query.c: splitting a query string into pairs and
 * decoding their values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "query.h"


static void
test_next_returns_pairs_with_a_name_and_a_value(void **state)
{
    const char       *q = "a=1&=2&b=&c&&D=x=y";
    size_t            pos = 0;
    mkt_query_arg_t   a;

    assert_true(mkt_query_next(q, strlen(q), &pos, &a));
    assert_int_equal(a.name_len, 1);
    assert_memory_equal(a.name, "a", 1);
    assert_memory_equal(a.value, "1", a.value_len);

    assert_true(mkt_query_next(q, strlen(q), &pos, &a));
    assert_memory_equal(a.name, "D", a.name_len);
    assert_int_equal(a.value_len, 3);
    assert_memory_equal(a.value, "x=y", 3);

    assert_false(mkt_query_next(q, strlen(q), &pos, &a));
    assert_false(mkt_query_next(q, strlen(q), &pos, &a));
}


static void
test_next_ignores_a_pair_cut_by_the_bound(void **state)
{
    char             *q;
    size_t            pos = 0, n = MKT_QUERY_SCAN_MAX + 10;
    mkt_query_arg_t   a;

    q = malloc(n);
    assert_non_null(q);
    memset(q, 'x', n);
    memcpy(q, "a=1&b=", 6);

    assert_true(mkt_query_next(q, n, &pos, &a));
    assert_memory_equal(a.name, "a", a.name_len);
    assert_false(mkt_query_next(q, n, &pos, &a));
    free(q);
}


static void
test_names_match_ascii_case_insensitively(void **state)
{
    assert_true(mkt_query_name_is("GoAl", 4, "goal", 4));
    assert_false(mkt_query_name_is("goal", 4, "goals", 5));
    assert_false(mkt_query_name_is("go%61l", 6, "goal", 4));
}


static void
test_unescape_decodes_percent_and_plus_only(void **state)
{
    char        out[32];
    const char *s = "a+b%2B%e5%8f%8c%zz%4";
    size_t      n;

    n = mkt_query_unescape(out, s, strlen(s));
    assert_int_equal(n, 12);
    assert_memory_equal(out, "a b+\xe5\x8f\x8c%zz%4", n);

    n = mkt_query_unescape(out, "%00%0a", 6);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "\0\n", 2);
}


static void
test_value_is_decoded_cleaned_cut_and_trimmed(void **state)
{
    char    out[8];
    size_t  n;

    n = mkt_query_value(out, sizeof(out), "+%20a%01b%ff+", 13);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "ab\xef\xbf\xbd", n);

    n = mkt_query_value(out, 4, "%e5%8f%8c%e5%8f%8c", 18);
    assert_int_equal(n, 3);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_returns_pairs_with_a_name_and_a_value),
        cmocka_unit_test(test_next_ignores_a_pair_cut_by_the_bound),
        cmocka_unit_test(test_names_match_ascii_case_insensitively),
        cmocka_unit_test(test_unescape_decodes_percent_and_plus_only),
        cmocka_unit_test(test_value_is_decoded_cleaned_cut_and_trimmed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
