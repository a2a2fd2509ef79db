/* The synthetic event generator (src/report_gen.c) through the report:
 * a known uplift is found, an A/A test's p-values are uniform, CUPED
 * reduces variance when visitors differ.  Fixed seeds: deterministic, so
 * these cannot flake; the margins were chosen for any seed to pass with
 * overwhelming probability, not tuned to these. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report.h"
#include "report_gen.h"


static int
add(void *data, const char *line, size_t len)
{
    return mkt_report_add_line(data, line, len);
}


static mkt_report_t *
generate(const mkt_gen_opts_t *g)
{
    mkt_report_opts_t   o;
    mkt_report_t       *rp;

    mkt_report_opts_init(&o);
    rp = mkt_report_create(&o);
    assert_non_null(rp);
    assert_int_equal(mkt_gen_run(g, add, rp), 0);
    assert_int_equal(mkt_report_finish(rp), 0);
    assert_int_equal(rp->counts.malformed, 0);
    return rp;
}


static size_t
goal_index(const mkt_report_t *rp, const mkt_report_exp_t *e,
    const char *name)
{
    size_t  g;

    for (g = 0; g < e->ngoals; g++) {
        if (rp->goals[e->goals[g]].len == strlen(name)
            && memcmp(rp->goals[e->goals[g]].data, name, strlen(name)) == 0)
        {
            return g;
        }
    }
    fail_msg("no goal %s", name);
    return 0;
}


static void
test_generator_is_deterministic(void **state)
{
    mkt_gen_opts_t  g;
    mkt_report_t   *a, *b;

    mkt_gen_opts_init(&g);
    g.visitors = 2000;
    a = generate(&g);
    b = generate(&g);
    assert_int_equal(a->counts.lines, b->counts.lines);
    assert_memory_equal(a->exps[0].cells, b->exps[0].cells,
                        sizeof(mkt_report_cell_t) * 4);
    assert_int_equal(a->counts.persons, 2000);
    mkt_report_free(a);
    mkt_report_free(b);
}


static void
test_report_finds_a_known_uplift(void **state)
{
    mkt_gen_opts_t     g;
    mkt_report_t      *rp;
    mkt_report_exp_t  *e;
    mkt_report_cmp_t   c;
    size_t             k;

    /* 40000 visitors, 10% against 13%: the z statistic's expectation is
     * 0.03 / sqrt(0.1*0.9/20000 + 0.13*0.87/20000) = 9.4, so p < 1e-6
     * (z > 4.9) and a 95% interval around +30% */
    mkt_gen_opts_init(&g);
    g.visitors = 40000;
    g.uplift = 0.3;
    g.seed = 7;
    rp = generate(&g);

    assert_int_equal(rp->nexps, 1);
    e = &rp->exps[0];
    assert_memory_equal(e->key.data, "gen-exp", 7);
    assert_memory_equal(e->vars[0].data, "control", 7);
    assert_true(e->srm_p > 0.001);
    k = goal_index(rp, e, "signup");
    mkt_report_compare(rp, e, 1, k, &c);
    assert_true(c.conv.p < 1e-6);
    assert_true(c.conv.rel_lo < 0.3 && 0.3 < c.conv.rel_hi);
    assert_true(c.beat > 0.999);
    assert_true(c.conv.diff_lo > 0);
    mkt_report_free(rp);
}


static int
by_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


static void
test_aa_p_values_are_uniform(void **state)
{
    enum { RUNS = 200 };
    mkt_gen_opts_t     g;
    mkt_report_t      *rp;
    mkt_report_cmp_t   c;
    double             p[RUNS], d, below;
    int                i;

    /* 200 A/A experiments of 1000 visitors: the Kolmogorov-Smirnov
     * distance of their p-values to the uniform distribution stays under
     * 1.95 / sqrt(200) = 0.138 (the 0.1% critical value); the share
     * below 0.05 near 5% (binomial sd 1.5%) */
    mkt_gen_opts_init(&g);
    g.visitors = 1000;
    g.uplift = 0;
    for (i = 0; i < RUNS; i++) {
        g.seed = 1000 + (uint64_t) i;
        rp = generate(&g);
        mkt_report_compare(rp, &rp->exps[0], 1, 0, &c);
        p[i] = c.conv.p;
        mkt_report_free(rp);
    }

    qsort(p, RUNS, sizeof(double), by_double);
    d = 0;
    below = 0;
    for (i = 0; i < RUNS; i++) {
        d = fmax(d, fmax(fabs((i + 1.0) / RUNS - p[i]),
                         fabs((double) i / RUNS - p[i])));
        below += p[i] < 0.05;
    }
    print_message("A/A: KS distance %.4f, %.0f of %d below 0.05\n", d, below,
                  RUNS);
    assert_true(d < 0.138);
    assert_true(below / RUNS < 0.1);
}


static void
test_cuped_reduces_variance_when_visitors_differ(void **state)
{
    mkt_gen_opts_t     g;
    mkt_report_t      *rp;
    mkt_report_cmp_t   c;

    /* a wide spread of propensities makes the pre-exposure signup
     * predictive of the later one */
    mkt_gen_opts_init(&g);
    g.visitors = 20000;
    g.rate = 0.3;
    g.spread = 1.5;
    g.seed = 3;
    rp = generate(&g);
    mkt_report_compare(rp, &rp->exps[0], 1, 0, &c);
    print_message("CUPED: theta %.4f, variance reduction %.4f\n",
                  c.cuped_theta, c.var_reduction);
    assert_true(c.cuped_theta > 0);
    assert_true(c.var_reduction > 0.01);
    assert_true(c.cuped_hi - c.cuped_lo < c.conv.diff_hi - c.conv.diff_lo);
    mkt_report_free(rp);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_generator_is_deterministic),
        cmocka_unit_test(test_report_finds_a_known_uplift),
        cmocka_unit_test(test_aa_p_values_are_uniform),
        cmocka_unit_test(test_cuped_reduces_variance_when_visitors_differ),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
