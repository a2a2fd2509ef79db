/* Statistics for `mkt report`: distribution functions and the tests an
 * experiment report makes (two-proportion z-test, Welch's t-test, a
 * chi-square goodness of fit, Bayesian chance to beat control).  Pure
 * functions of counts and sums; docs/report.md gives each formula. */
#ifndef MKT_STATS_H
#define MKT_STATS_H

#include <stdint.h>

/* Standard normal CDF, and its inverse for 0 < p < 1. */
double mkt_stats_norm_cdf(double z);
double mkt_stats_norm_quantile(double p);

/* Regularized incomplete beta I_x(a, b) and regularized upper incomplete
 * gamma Q(s, x). */
double mkt_stats_beta_inc(double a, double b, double x);
double mkt_stats_gamma_q(double s, double x);

/* Student's t: P(T <= t) with df degrees of freedom, and the quantile. */
double mkt_stats_t_cdf(double t, double df);
double mkt_stats_t_quantile(double p, double df);

/* P(X >= x) for X chi-square with k degrees of freedom. */
double mkt_stats_chi2_sf(double x, double k);

/*
 * A comparison of a treatment with a control.  diff is treatment minus
 * control (absolute), rel the relative uplift diff / control, both with
 * 95% confidence bounds (rel by the delta method); p two-sided.  NaN
 * where undefined (a control mean of 0, fewer than 2 visitors).
 */
typedef struct {
    double  diff, diff_lo, diff_hi;
    double  rel, rel_lo, rel_hi;
    double  stat;           /* z or t */
    double  df;             /* Welch's degrees of freedom; 0 for z */
    double  p;
} mkt_stats_cmp_t;

/* Two-proportion z-test: x converting of n in each arm (pooled standard
 * error for the p-value, unpooled for the interval). */
void mkt_stats_prop_test(double xc, double nc, double xt, double nt,
    mkt_stats_cmp_t *out);

/* Welch's t-test on means from n, sum and sum of squares of each arm. */
void mkt_stats_welch_test(double nc, double sc, double ssc, double nt,
    double st, double sst, mkt_stats_cmp_t *out);

/* Pearson's chi-square of observed counts against expected shares (any
 * positive weights, normalised here): the statistic in *chi2, and
 * P(X >= chi2) with k - 1 degrees of freedom returned. */
double mkt_stats_srm(const double *observed, const double *weights,
    int k, double *chi2);

/* P(pt > pc) with pt ~ Beta(1 + xt, 1 + nt - xt), pc likewise (uniform
 * priors): exact sum when the smaller count is up to 100000, else the
 * normal approximation of the two posteriors. */
double mkt_stats_beat_control(double xc, double nc, double xt, double nt);

/* Mean and (sample) variance of n values from their sum and sum of
 * squares; variance 0 when n < 2. */
double mkt_stats_var(double n, double sum, double sumsq);

#endif
