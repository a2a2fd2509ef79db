/* Unit tests of src/stats.c against values computed independently of it:
 * closed forms where the distribution has one, otherwise a Simpson
 * integration in Perl of the density (shown beside each value), never
 * through the code under test. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "stats.h"

#define assert_near(a, b, tol)  assert_true(fabs((a) - (b)) <= (tol))


static void
test_normal_quantile_and_cdf_are_inverse(void **state)
{
    /* the textbook 97.5% point of N(0, 1) */
    assert_near(mkt_stats_norm_quantile(0.975), 1.959963984540054, 1e-12);
    assert_near(mkt_stats_norm_quantile(0.025), -1.959963984540054, 1e-12);
    assert_near(mkt_stats_norm_quantile(0.5), 0, 1e-15);
    assert_near(mkt_stats_norm_cdf(1.959963984540054), 0.975, 1e-14);
    /* 1e-6 quantile, tabulated: -4.753424308822899 */
    assert_near(mkt_stats_norm_quantile(1e-6), -4.753424308822899, 1e-9);
}


static void
test_t_cdf_matches_the_closed_forms_of_1_and_2_degrees(void **state)
{
    /* df 1 (Cauchy): 1/2 + atan(t)/pi; df 2: 1/2 + t / (2 sqrt(2 + t^2)) */
    assert_near(mkt_stats_t_cdf(2, 1), 0.5 + atan(2) / M_PI, 1e-13);
    assert_near(mkt_stats_t_cdf(-2, 1), 0.5 - atan(2) / M_PI, 1e-13);
    assert_near(mkt_stats_t_cdf(1.5, 2), 0.8638034375544995, 1e-13);
}


static void
test_t_quantile_is_the_table_value(void **state)
{
    /* Perl: theta = atan(2.228138851986274 / sqrt(10)), upper tail =
     * int_theta^{pi/2} cos^9 / (2 int_0^{pi/2} cos^9) = 0.0249999999999995 */
    assert_near(mkt_stats_t_quantile(0.975, 10), 2.228138851986274, 1e-9);
    assert_near(mkt_stats_t_quantile(0.975, INFINITY), 1.959963984540054,
                1e-9);
}


static void
test_chi2_sf_matches_the_closed_forms_of_2_and_4_degrees(void **state)
{
    /* df 2: exp(-x/2); df 4: (1 + x/2) exp(-x/2) */
    assert_near(mkt_stats_chi2_sf(3, 2), exp(-1.5), 1e-14);
    assert_near(mkt_stats_chi2_sf(3, 4), 2.5 * exp(-1.5), 1e-14);
    assert_near(mkt_stats_chi2_sf(3.841458820694124, 1), 0.05, 1e-12);
    assert_near(mkt_stats_chi2_sf(0, 3), 1, 0);
}


static void
test_prop_test_of_100_in_1000_against_130_in_1000(void **state)
{
    mkt_stats_cmp_t  c;

    /* pooled p = 230/2000 = 0.115; z = 0.03 / sqrt(0.115 * 0.885 * 0.002)
     * = 2.10274060562211; p = 2 P(Z > z) by Simpson = 0.0354884504664717.
     * Interval: 0.03 +- 1.959964 sqrt(0.1*0.9/1000 + 0.13*0.87/1000);
     * relative: 0.3 +- 1.959964 sqrt(vt/pc^2 + pt^2 vc/pc^4). */
    mkt_stats_prop_test(100, 1000, 130, 1000, &c);
    assert_near(c.stat, 2.10274060562211, 1e-12);
    assert_near(c.p, 0.0354884504664717, 1e-12);
    assert_near(c.diff, 0.03, 1e-15);
    assert_near(c.diff_lo, 0.00206793443937637, 1e-12);
    assert_near(c.diff_hi, 0.0579320655606236, 1e-12);
    assert_near(c.rel, 0.3, 1e-14);
    assert_near(c.rel_lo, -0.0191793977135871, 1e-12);
    assert_near(c.rel_hi, 0.619179397713587, 1e-12);
}


static void
test_prop_test_with_no_conversions_is_not_significant(void **state)
{
    mkt_stats_cmp_t  c;

    mkt_stats_prop_test(0, 50, 0, 60, &c);
    assert_near(c.p, 1, 0);
    assert_true(isnan(c.rel));
}


static void
test_welch_test_of_two_small_samples(void **state)
{
    mkt_stats_cmp_t  c;

    /* control {1,2,3,4}: mean 2.5, var 5/3; treatment {2,4,6}: mean 4,
     * var 4.  se^2 = 5/12 + 4/3 = 1.75, t = 1.5 / sqrt(1.75) =
     * 1.13389341902768, df = 1.75^2 / ((5/12)^2/3 + (4/3)^2/2) =
     * 3.23471882640587.  p: Perl, theta = atan(t / sqrt(df)),
     * int_theta^{pi/2} cos^(df-1) / int_0^{pi/2} cos^(df-1) =
     * 0.333823700077512. */
    mkt_stats_welch_test(4, 10, 30, 3, 12, 56, &c);
    assert_near(c.diff, 1.5, 1e-14);
    assert_near(c.stat, 1.13389341902768, 1e-12);
    assert_near(c.df, 3.23471882640587, 1e-12);
    assert_near(c.p, 0.333823700077512, 1e-9);
    assert_near(c.rel, 0.6, 1e-14);
    /* the interval is symmetric about diff and its half-width over the
     * standard error is the t quantile, whose tail is 2.5% */
    assert_near((c.diff_hi - c.diff_lo) / 2 / sqrt(1.75),
                mkt_stats_t_quantile(0.975, c.df), 1e-9);
    assert_near(mkt_stats_t_cdf(-(c.diff_hi - c.diff) / sqrt(1.75), c.df),
                0.025, 1e-9);
}


static void
test_srm_chi_square(void **state)
{
    double  obs2[] = { 520, 480 }, w2[] = { 0.5, 0.5 };
    double  obs3[] = { 100, 120, 80 }, w3[] = { 1, 1, 1 };
    double  obs4[] = { 100, 300 }, w4[] = { 0.25, 0.75 };
    double  chi2, p;

    /* (20^2/500) * 2 = 1.6 with 1 degree: 2 P(Z > sqrt(1.6)) by Simpson
     * = 0.205903210732056 */
    p = mkt_stats_srm(obs2, w2, 2, &chi2);
    assert_near(chi2, 1.6, 1e-12);
    assert_near(p, 0.205903210731568, 1e-10);

    /* (0 + 400 + 400) / 100 = 8 with 2 degrees: exp(-4) */
    p = mkt_stats_srm(obs3, w3, 3, &chi2);
    assert_near(chi2, 8, 1e-12);
    assert_near(p, exp(-4), 1e-14);

    /* exactly the configured 25/75 split */
    p = mkt_stats_srm(obs4, w4, 2, &chi2);
    assert_near(chi2, 0, 1e-12);
    assert_near(p, 1, 1e-12);
}


static void
test_chance_to_beat_control_exact(void **state)
{
    /* A ~ Beta(1, 2), B ~ Beta(2, 1): P(B > A) = int_0^1 2b int_0^b
     * 2(1 - a) da db = int_0^1 (4b^2 - 2b^3) db = 4/3 - 1/2 = 5/6 */
    assert_near(mkt_stats_beat_control(0, 1, 1, 1), 5.0 / 6, 1e-12);
    assert_near(mkt_stats_beat_control(1, 1, 0, 1), 1.0 / 6, 1e-12);
    assert_near(mkt_stats_beat_control(10, 100, 10, 100), 0.5, 1e-12);
}


static void
test_chance_to_beat_control_large_counts_use_the_normal_approximation(
    void **state)
{
    double  p, m, v;

    /* 200000/1000000 vs 201000/1000000: posterior means
     * 200001/1000002, 201001/1000002, variances a b / ((a+b)^2 (a+b+1)) */
    p = mkt_stats_beat_control(200000, 1000000, 201000, 1000000);
    m = 201001.0 / 1000002 - 200001.0 / 1000002;
    v = 200001.0 * 800001 / (1000002.0 * 1000002 * 1000003)
        + 201001.0 * 799001 / (1000002.0 * 1000002 * 1000003);
    assert_near(p, 0.5 * erfc(-m / sqrt(v) / sqrt(2)), 1e-12);
    assert_true(p > 0.95);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_normal_quantile_and_cdf_are_inverse),
        cmocka_unit_test(test_t_cdf_matches_the_closed_forms_of_1_and_2_degrees),
        cmocka_unit_test(test_t_quantile_is_the_table_value),
        cmocka_unit_test(test_chi2_sf_matches_the_closed_forms_of_2_and_4_degrees),
        cmocka_unit_test(test_prop_test_of_100_in_1000_against_130_in_1000),
        cmocka_unit_test(test_prop_test_with_no_conversions_is_not_significant),
        cmocka_unit_test(test_welch_test_of_two_small_samples),
        cmocka_unit_test(test_srm_chi_square),
        cmocka_unit_test(test_chance_to_beat_control_exact),
        cmocka_unit_test(test_chance_to_beat_control_large_counts_use_the_normal_approximation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
