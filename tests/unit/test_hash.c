/* Unit tests of src/hash.c beyond the GrowthBook vectors: FNV-1a itself,
 * non-ASCII values, and the edges of ranges, rollouts and filters.
 * Expected hashes of non-ASCII text were computed with GrowthBook's
 * JavaScript hashFnv32a() under node. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "hash.h"

#define S(lit)  lit, sizeof(lit) - 1


/* cmocka's assert_near() works in float; these are doubles.  Hashes
 * are compared exactly (eps 0): k / 10000 is the same double as the
 * literal. */
#define assert_near(got, want, eps)  check_near(got, want, eps, __LINE__)

static void
check_near(double got, double want, double eps, int line)
{
    if (!(fabs(got - want) <= eps)) {
        fail_msg("line %d: got %.17g, want %.17g", line, got, want);
    }
}


/* Range ends are sums of products, so they may differ in the last bit. */
#define assert_range(r, s, e)                                                \
    do {                                                                      \
        check_near((r)->start, s, 1e-12, __LINE__);                           \
        check_near((r)->end, e, 1e-12, __LINE__);                             \
    } while (0)


/* --- FNV-1a --------------------------------------------------------------- */

static void
test_fnv32a_of_nothing_is_the_offset_basis(void **state)
{
    assert_int_equal(mkt_fnv32a(MKT_FNV32A_INIT, "", 0), 0x811c9dc5u);
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, NULL, 0), 0x811c9dc5u);
}


static void
test_fnv32a_matches_published_vectors(void **state)
{
    assert_int_equal(mkt_fnv32a(MKT_FNV32A_INIT, S("a")), 0xe40c292cu);
    assert_int_equal(mkt_fnv32a(MKT_FNV32A_INIT, S("foobar")), 0xbf9cf968u);
}


static void
test_fnv32a_in_pieces_equals_fnv32a_of_the_concatenation(void **state)
{
    uint32_t  h;

    h = mkt_fnv32a(MKT_FNV32A_INIT, S("foo"));
    h = mkt_fnv32a(h, S(""));
    h = mkt_fnv32a(h, S("bar"));
    assert_int_equal(h, mkt_fnv32a(MKT_FNV32A_INIT, S("foobar")));

    h = mkt_fnv32a_utf16(MKT_FNV32A_INIT, S("\xe7\x94\xa8\xe6\x88\xb7"));
    h = mkt_fnv32a_utf16(h, S("42"));
    assert_int_equal(h, mkt_fnv32a_utf16(MKT_FNV32A_INIT,
                                         S("\xe7\x94\xa8\xe6\x88\xb7" "42")));
}


static void
test_fnv32a_utf16_equals_fnv32a_for_ascii(void **state)
{
    static const char  s[] = "Vx3k9_aQ0bLrTt2mZpW8sA ~!@#$%^&*()\"";

    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, S(s)),
                     mkt_fnv32a(MKT_FNV32A_INIT, S(s)));
}


static void
test_fnv32a_utf16_hashes_a_bmp_character_as_one_code_unit(void **state)
{
    /* U+4E2D, 3 bytes of UTF-8 */
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, S("\xe4\xb8\xad")),
                     0x28619638u);
}


static void
test_fnv32a_utf16_hashes_an_astral_character_as_a_surrogate_pair(void **state)
{
    /* U+1F600, D83D DE00 in UTF-16 */
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT,
                                      S("\xf0\x9f\x98\x80")),
                     0xcb31c4b8u);
}


static void
test_fnv32a_utf16_hashes_an_invalid_byte_as_u_fffd(void **state)
{
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, S("\xff")),
                     0x77ae9e28u);
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, S("\xef\xbf\xbd")),
                     0x77ae9e28u);
}


static void
test_fnv32a_utf16_replaces_a_truncated_sequence_once(void **state)
{
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, S("\xe4\xb8" "a")),
                     0xb0e32cebu);
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, S("\xf0\x9f\x98")),
                     0x77ae9e28u);
}


static void
test_fnv32a_utf16_replaces_every_byte_of_overlongs_and_surrogates(
    void **state)
{
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, S("\xc0\xaf")),
                     0x3c84024fu);
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, S("\xe0\x80\xaf")),
                     0xf75b5f36u);
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT, S("\xed\xa0\x80")),
                     0xf75b5f36u);
    assert_int_equal(mkt_fnv32a_utf16(MKT_FNV32A_INIT,
                                      S("\xf4\x90\x80\x80")),
                     0x303e1f91u);
}


/* --- hash() --------------------------------------------------------------- */

static void
test_hash_v1_hashes_value_then_seed_modulo_1000(void **state)
{
    assert_near(mkt_hash(S("hero-2026q4"), S("u42"), 1), 0.814, 0);
    assert_near(mkt_hash(S("hero-2026q4"),
                                S("Vx3k9_aQ0bLrTt2mZpW8sA"), 1), 0.317, 0);
}


static void
test_hash_v2_rehashes_the_decimal_of_seed_then_value_modulo_10000(
    void **state)
{
    assert_near(mkt_hash(S("hero-2026q4"), S("u42"), 2), 0.6647, 0);
    assert_near(mkt_hash(S("hero-2026q4"),
                                S("Vx3k9_aQ0bLrTt2mZpW8sA"), 2), 0.1633, 0);
}


static void
test_hash_of_chinese_seed_and_value_matches_the_javascript_sdk(void **state)
{
    /* seed "首页改版", value "用户42" */
    static const char  seed[] = "\xe9\xa6\x96\xe9\xa1\xb5"
                                "\xe6\x94\xb9\xe7\x89\x88";
    static const char  value[] = "\xe7\x94\xa8\xe6\x88\xb7" "42";

    assert_near(mkt_hash(S(seed), S(value), 1), 0.466, 0);
    assert_near(mkt_hash(S(seed), S(value), 2), 0.0264, 0);
}


static void
test_hash_of_emoji_seed_matches_the_javascript_sdk(void **state)
{
    assert_near(mkt_hash(S("emoji\xf0\x9f\x98\x80"), S("x"), 1),
                       0.614, 0);
    assert_near(mkt_hash(S("emoji\xf0\x9f\x98\x80"), S("x"), 2),
                       0.6322, 0);
}


static void
test_hash_of_unknown_version_is_negative(void **state)
{
    assert_true(mkt_hash(S("abc"), S("def"), 0) < 0);
    assert_true(mkt_hash(S("abc"), S("def"), 3) < 0);
    assert_true(mkt_hash(S("abc"), S("def"), -1) < 0);
    assert_true(mkt_hash(S("abc"), S("def"), 99) < 0);
}


static void
test_hash_stays_in_the_unit_interval(void **state)
{
    char    value[16];
    double  n1, n2;
    int     i, len;

    for (i = 0; i < 20000; i++) {
        len = 0;
        value[len++] = 'u';
        value[len++] = (char) ('0' + i / 10000 % 10);
        value[len++] = (char) ('0' + i / 1000 % 10);
        value[len++] = (char) ('0' + i / 100 % 10);
        value[len++] = (char) ('0' + i / 10 % 10);
        value[len++] = (char) ('0' + i % 10);

        n1 = mkt_hash(S("s"), value, (size_t) len, 1);
        n2 = mkt_hash(S("s"), value, (size_t) len, 2);
        assert_true(n1 >= 0 && n1 < 1);
        assert_true(n2 >= 0 && n2 < 1);
    }
}


/* --- namespaces ----------------------------------------------------------- */

static void
test_in_namespace_hashes_id_with_double_underscore_namespace(void **state)
{
    /* hash("__landing", "u42", 1) is 0.771 */
    assert_true(mkt_in_namespace(S("u42"), S("landing"), 0.771, 0.772));
    assert_false(mkt_in_namespace(S("u42"), S("landing"), 0, 0.771));
    assert_false(mkt_in_namespace(S("u42"), S("landing"), 0.772, 1));
}


/* --- weights and ranges --------------------------------------------------- */

static void
test_equal_weights_split_one_evenly(void **state)
{
    double  w[4];

    mkt_equal_weights(4, w);
    assert_near(w[0], 0.25, 0);
    assert_near(w[3], 0.25, 0);

    mkt_equal_weights(3, w);
    assert_near(w[1], 1.0 / 3, 0);
}


static void
test_bucket_ranges_with_full_coverage_tile_zero_to_one(void **state)
{
    static const double  w[] = {0.2, 0.3, 0.5};
    mkt_range_t          r[3];

    assert_int_equal(mkt_bucket_ranges(3, 1, w, 3, r), 3);
    assert_range(&r[0], 0, 0.2);
    assert_range(&r[1], 0.2, 0.5);
    assert_range(&r[2], 0.5, 1);
}


static void
test_bucket_ranges_with_zero_coverage_are_empty_and_choose_nothing(
    void **state)
{
    mkt_range_t  r[2];

    assert_int_equal(mkt_bucket_ranges(2, 0, NULL, 0, r), 2);
    assert_range(&r[0], 0, 0);
    assert_range(&r[1], 0.5, 0.5);
    assert_int_equal(mkt_choose_variation(0, r, 2), -1);
    assert_int_equal(mkt_choose_variation(0.5, r, 2), -1);
}


static void
test_bucket_ranges_with_partial_coverage_keep_each_start(void **state)
{
    static const double  w[] = {0.4, 0.6};
    mkt_range_t          r[2];

    mkt_bucket_ranges(2, 0.5, w, 2, r);
    assert_range(&r[0], 0, 0.2);
    assert_range(&r[1], 0.4, 0.7);
}


static void
test_bucket_ranges_clamp_coverage_to_zero_and_one(void **state)
{
    mkt_range_t  r[2];

    mkt_bucket_ranges(2, -0.2, NULL, 0, r);
    assert_range(&r[1], 0.5, 0.5);

    mkt_bucket_ranges(2, 1.5, NULL, 0, r);
    assert_range(&r[1], 0.5, 1);
}


static void
test_bucket_ranges_treat_nan_coverage_as_zero(void **state)
{
    mkt_range_t  r[2];

    mkt_bucket_ranges(2, NAN, NULL, 0, r);
    assert_range(&r[0], 0, 0);
    assert_range(&r[1], 0.5, 0.5);
}


static void
test_bucket_ranges_use_equal_weights_when_counts_differ(void **state)
{
    static const double  w[] = {0.4, 0.4, 0.2};
    mkt_range_t          r[4];

    mkt_bucket_ranges(4, 1, w, 3, r);
    assert_range(&r[0], 0, 0.25);
    assert_range(&r[3], 0.75, 1);
}


static void
test_bucket_ranges_accept_weights_summing_within_one_percent(void **state)
{
    static const double  w[] = {0.4, 0.59};
    mkt_range_t          r[2];

    mkt_bucket_ranges(2, 1, w, 2, r);
    assert_range(&r[1], 0.4, 0.99);
}


static void
test_bucket_ranges_use_equal_weights_when_sum_is_off(void **state)
{
    static const double  low[] = {0.4, 0.58};
    static const double  high[] = {0.5, 0.52};
    mkt_range_t          r[2];

    mkt_bucket_ranges(2, 1, low, 2, r);
    assert_range(&r[0], 0, 0.5);

    mkt_bucket_ranges(2, 1, high, 2, r);
    assert_range(&r[0], 0, 0.5);
}


static void
test_bucket_ranges_of_no_variations_are_none(void **state)
{
    mkt_range_t  r[1] = {{-1, -1}};

    assert_int_equal(mkt_bucket_ranges(0, 1, NULL, 0, r), 0);
    assert_range(&r[0], -1, -1);
}


/* --- chooseVariation ------------------------------------------------------ */

static void
test_choose_variation_of_no_ranges_is_minus_one(void **state)
{
    assert_int_equal(mkt_choose_variation(0.5, NULL, 0), -1);
}


static void
test_choose_variation_excludes_the_end_of_the_last_range(void **state)
{
    static const mkt_range_t  r[] = {{0, 0.5}, {0.5, 1}};

    assert_int_equal(mkt_choose_variation(0, r, 2), 0);
    assert_int_equal(mkt_choose_variation(0.5, r, 2), 1);
    assert_int_equal(mkt_choose_variation(1, r, 2), -1);
}


static void
test_choose_variation_prefers_the_first_overlapping_range(void **state)
{
    static const mkt_range_t  r[] = {{0, 0.6}, {0.4, 1}};

    assert_int_equal(mkt_choose_variation(0.5, r, 2), 0);
}


/* --- rollouts and filters ------------------------------------------------- */

static void
test_rollout_without_range_or_coverage_includes_everyone(void **state)
{
    assert_true(mkt_in_rollout(S("rollout"), S(""), 1, NULL, NULL));
}


static void
test_rollout_with_zero_coverage_excludes_a_zero_bucket(void **state)
{
    static const double  zero = 0, tenth = 0.1;

    /* hash("rollout", "u1684", 1) is exactly 0, and 0 <= 0 */
    assert_near(mkt_hash(S("rollout"), S("u1684"), 1), 0, 0);
    assert_false(mkt_in_rollout(S("rollout"), S("u1684"), 1, NULL, &zero));
    assert_true(mkt_in_rollout(S("rollout"), S("u1684"), 1, NULL, &tenth));
}


static void
test_rollout_excludes_an_empty_value(void **state)
{
    static const double       all = 1;
    static const mkt_range_t  r = {0, 1};

    assert_false(mkt_in_rollout(S("rollout"), S(""), 1, NULL, &all));
    assert_false(mkt_in_rollout(S("rollout"), S(""), 1, &r, NULL));
}


static void
test_rollout_coverage_includes_its_upper_bound(void **state)
{
    static const double  half = 0.5, below = 0.499;

    /* hash("rollout", "u221", 1) is exactly 0.5 */
    assert_true(mkt_in_rollout(S("rollout"), S("u221"), 1, NULL, &half));
    assert_false(mkt_in_rollout(S("rollout"), S("u221"), 1, NULL, &below));
}


static void
test_rollout_range_excludes_its_upper_bound(void **state)
{
    static const mkt_range_t  upto = {0, 0.5}, from = {0.5, 1};
    static const double       none = 0;

    assert_false(mkt_in_rollout(S("rollout"), S("u221"), 1, &upto, NULL));
    assert_true(mkt_in_rollout(S("rollout"), S("u221"), 1, &from, NULL));
    /* a range wins over a coverage, even a zero one */
    assert_true(mkt_in_rollout(S("rollout"), S("u221"), 1, &from, &none));
}


static void
test_rollout_version_defaults_to_1_and_unknown_excludes(void **state)
{
    static const mkt_range_t  half = {0.5, 0.501};

    assert_true(mkt_in_rollout(S("rollout"), S("u221"), 0, &half, NULL));
    assert_false(mkt_in_rollout(S("rollout"), S("u221"), 7, &half, NULL));
}


static void
test_filter_passes_a_value_in_any_of_its_ranges(void **state)
{
    /* hash("f", "u0", 2) is 0.2554 */
    static const mkt_range_t  miss[] = {{0, 0.2}, {0.3, 1}};
    static const mkt_range_t  hit[] = {{0, 0.2}, {0.25, 0.26}};

    assert_false(mkt_filter_passes(S("f"), S("u0"), 2, miss, 2));
    assert_true(mkt_filter_passes(S("f"), S("u0"), 2, hit, 2));
}


static void
test_filter_version_defaults_to_2(void **state)
{
    /* hash("f", "u18", 2) is 0.8741; with version 1 it would be 0.149 */
    static const mkt_range_t  v2[] = {{0.87, 0.88}};

    assert_true(mkt_filter_passes(S("f"), S("u18"), 0, v2, 1));
    assert_false(mkt_filter_passes(S("f"), S("u18"), 1, v2, 1));
}


static void
test_filter_excludes_empty_value_and_unknown_version(void **state)
{
    static const mkt_range_t  all[] = {{0, 1}};

    assert_false(mkt_filter_passes(S("f"), S(""), 2, all, 1));
    assert_false(mkt_filter_passes(S("f"), S("u0"), 5, all, 1));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv32a_of_nothing_is_the_offset_basis),
        cmocka_unit_test(test_fnv32a_matches_published_vectors),
        cmocka_unit_test(
            test_fnv32a_in_pieces_equals_fnv32a_of_the_concatenation),
        cmocka_unit_test(test_fnv32a_utf16_equals_fnv32a_for_ascii),
        cmocka_unit_test(
            test_fnv32a_utf16_hashes_a_bmp_character_as_one_code_unit),
        cmocka_unit_test(
            test_fnv32a_utf16_hashes_an_astral_character_as_a_surrogate_pair),
        cmocka_unit_test(test_fnv32a_utf16_hashes_an_invalid_byte_as_u_fffd),
        cmocka_unit_test(
            test_fnv32a_utf16_replaces_a_truncated_sequence_once),
        cmocka_unit_test(
            test_fnv32a_utf16_replaces_every_byte_of_overlongs_and_surrogates),
        cmocka_unit_test(test_hash_v1_hashes_value_then_seed_modulo_1000),
        cmocka_unit_test(
            test_hash_v2_rehashes_the_decimal_of_seed_then_value_modulo_10000),
        cmocka_unit_test(
            test_hash_of_chinese_seed_and_value_matches_the_javascript_sdk),
        cmocka_unit_test(test_hash_of_emoji_seed_matches_the_javascript_sdk),
        cmocka_unit_test(test_hash_of_unknown_version_is_negative),
        cmocka_unit_test(test_hash_stays_in_the_unit_interval),
        cmocka_unit_test(
            test_in_namespace_hashes_id_with_double_underscore_namespace),
        cmocka_unit_test(test_equal_weights_split_one_evenly),
        cmocka_unit_test(
            test_bucket_ranges_with_full_coverage_tile_zero_to_one),
        cmocka_unit_test(
            test_bucket_ranges_with_zero_coverage_are_empty_and_choose_nothing),
        cmocka_unit_test(
            test_bucket_ranges_with_partial_coverage_keep_each_start),
        cmocka_unit_test(test_bucket_ranges_clamp_coverage_to_zero_and_one),
        cmocka_unit_test(test_bucket_ranges_treat_nan_coverage_as_zero),
        cmocka_unit_test(
            test_bucket_ranges_use_equal_weights_when_counts_differ),
        cmocka_unit_test(
            test_bucket_ranges_accept_weights_summing_within_one_percent),
        cmocka_unit_test(test_bucket_ranges_use_equal_weights_when_sum_is_off),
        cmocka_unit_test(test_bucket_ranges_of_no_variations_are_none),
        cmocka_unit_test(test_choose_variation_of_no_ranges_is_minus_one),
        cmocka_unit_test(
            test_choose_variation_excludes_the_end_of_the_last_range),
        cmocka_unit_test(
            test_choose_variation_prefers_the_first_overlapping_range),
        cmocka_unit_test(
            test_rollout_without_range_or_coverage_includes_everyone),
        cmocka_unit_test(
            test_rollout_with_zero_coverage_excludes_a_zero_bucket),
        cmocka_unit_test(test_rollout_excludes_an_empty_value),
        cmocka_unit_test(test_rollout_coverage_includes_its_upper_bound),
        cmocka_unit_test(test_rollout_range_excludes_its_upper_bound),
        cmocka_unit_test(
            test_rollout_version_defaults_to_1_and_unknown_excludes),
        cmocka_unit_test(test_filter_passes_a_value_in_any_of_its_ranges),
        cmocka_unit_test(test_filter_version_defaults_to_2),
        cmocka_unit_test(test_filter_excludes_empty_value_and_unknown_version),
    };

    return cmocka_run_group_tests_name("hash", tests, NULL, NULL);
}
