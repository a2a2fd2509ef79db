/* Distribution functions (normal, Student's t, chi-square through the
 * incomplete beta and gamma functions) and the tests of an experiment
 * report.  The special functions follow Numerical Recipes (3rd ed.,
 * sections 6.2 and 6.4): a series or a continued fraction by Lentz's
 * method, each where it converges fast. */
#include <math.h>
#include <stddef.h>

#include "stats.h"

#define EPS     1e-15
#define TINY    1e-300
#define ITMAX   1000


double
mkt_stats_norm_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}


/* Acklam's rational approximation (relative error 1.15e-9), then one
 * Halley step on erfc, which makes it exact to double precision. */
double
mkt_stats_norm_quantile(double p)
{
    static const double  a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
        -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
        2.506628277459239e+00 };
    static const double  b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
        -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
    static const double  c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
        -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
        2.938163982698783e+00 };
    static const double  d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
        2.445134137142996e+00, 3.754408661907416e+00 };
    double               q, r, x, e, u;

    if (!(p > 0 && p < 1)) {
        return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
    }

    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q
             + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q
              + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        q = p - 0.5;
        r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r
             + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r
             + b[4]) * r + 1);
    }

    e = mkt_stats_norm_cdf(x) - p;
    u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}


/* A denominator of Lentz's method kept away from 0. */
static double
nz(double v)
{
    return fabs(v) < TINY ? TINY : v;
}


/* The continued fraction of I_x(a, b) (NR 6.4.5). */
static double
betacf(double a, double b, double x)
{
    double  aa, c, d, del, h, qab, qam, qap;
    int     m, m2;

    qab = a + b;
    qap = a + 1;
    qam = a - 1;
    c = 1;
    d = 1 / nz(1 - qab * x / qap);
    h = d;

    for (m = 1; m <= ITMAX; m++) {
        m2 = 2 * m;
        aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 / nz(1 + aa * d);
        c = nz(1 + aa / c);
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 / nz(1 + aa * d);
        c = nz(1 + aa / c);
        del = d * c;
        h *= del;
        if (fabs(del - 1) < EPS) {
            break;
        }
    }
    return h;
}


double
mkt_stats_beta_inc(double a, double b, double x)
{
    double  bt;

    if (x <= 0) {
        return 0;
    }
    if (x >= 1) {
        return 1;
    }

    bt = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x)
             + b * log1p(-x));

    if (x < (a + 1) / (a + b + 2)) {
        return bt * betacf(a, b, x) / a;
    }
    return 1 - bt * betacf(b, a, 1 - x) / b;
}


double
mkt_stats_gamma_q(double s, double x)
{
    double  sum, del, ap, b, c, d, h, an;
    int     i;

    if (x <= 0) {
        return 1;
    }

    if (x < s + 1) {
        /* the series of P(s, x) (NR 6.2.5) */
        ap = s;
        sum = del = 1 / s;
        for (i = 0; i < ITMAX; i++) {
            ap++;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * EPS) {
                break;
            }
        }
        return 1 - sum * exp(-x + s * log(x) - lgamma(s));
    }

    /* the continued fraction of Q(s, x) (NR 6.2.7) */
    b = x + 1 - s;
    c = 1 / TINY;
    d = 1 / b;
    h = d;
    for (i = 1; i <= ITMAX; i++) {
        an = -i * (i - s);
        b += 2;
        d = 1 / nz(an * d + b);
        c = nz(b + an / c);
        del = d * c;
        h *= del;
        if (fabs(del - 1) < EPS) {
            break;
        }
    }
    return exp(-x + s * log(x) - lgamma(s)) * h;
}


double
mkt_stats_t_cdf(double t, double df)
{
    double  tail;

    if (isinf(df)) {
        return mkt_stats_norm_cdf(t);
    }
    tail = 0.5 * mkt_stats_beta_inc(df / 2, 0.5, df / (df + t * t));
    return t > 0 ? 1 - tail : tail;
}


/* Bisection on the CDF: 200 halvings of [-1e6, 1e6] reach double
 * precision, and the report asks for a handful of quantiles. */
double
mkt_stats_t_quantile(double p, double df)
{
    double  lo, hi, mid;
    int     i;

    if (!(p > 0 && p < 1)) {
        return NAN;
    }

    lo = -1e6;
    hi = 1e6;
    for (i = 0; i < 200 && hi - lo > 1e-13 * (1 + fabs(lo)); i++) {
        mid = (lo + hi) / 2;
        if (mkt_stats_t_cdf(mid, df) < p) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return (lo + hi) / 2;
}


double
mkt_stats_chi2_sf(double x, double k)
{
    return mkt_stats_gamma_q(k / 2, x / 2);
}


double
mkt_stats_var(double n, double sum, double sumsq)
{
    double  v;

    if (n < 2) {
        return 0;
    }
    v = (sumsq - sum * sum / n) / (n - 1);
    return v > 0 ? v : 0;
}


/* The relative uplift mt / mc - 1 and its delta-method bounds, from the
 * arm means and the variances of those means. */
static void
relative(double mc, double vc, double mt, double vt, double q,
    mkt_stats_cmp_t *out)
{
    double  se;

    if (mc == 0) {
        out->rel = out->rel_lo = out->rel_hi = NAN;
        return;
    }
    out->rel = mt / mc - 1;
    se = sqrt(vt / (mc * mc) + mt * mt * vc / (mc * mc * mc * mc));
    out->rel_lo = out->rel - q * se;
    out->rel_hi = out->rel + q * se;
}


void
mkt_stats_prop_test(double xc, double nc, double xt, double nt,
    mkt_stats_cmp_t *out)
{
    double  pc, pt, pp, se0, vc, vt, q;

    out->df = 0;
    if (nc < 1 || nt < 1) {
        out->diff = out->diff_lo = out->diff_hi = out->stat = out->p = NAN;
        out->rel = out->rel_lo = out->rel_hi = NAN;
        return;
    }

    q = mkt_stats_norm_quantile(0.975);
    pc = xc / nc;
    pt = xt / nt;
    vc = pc * (1 - pc) / nc;
    vt = pt * (1 - pt) / nt;

    out->diff = pt - pc;
    out->diff_lo = out->diff - q * sqrt(vc + vt);
    out->diff_hi = out->diff + q * sqrt(vc + vt);

    pp = (xc + xt) / (nc + nt);
    se0 = sqrt(pp * (1 - pp) * (1 / nc + 1 / nt));
    if (se0 > 0) {
        out->stat = out->diff / se0;
        out->p = 2 * mkt_stats_norm_cdf(-fabs(out->stat));
    } else {
        out->stat = 0;
        out->p = 1;
    }

    relative(pc, vc, pt, vt, q, out);
}


void
mkt_stats_welch_test(double nc, double sc, double ssc, double nt,
    double st, double sst, mkt_stats_cmp_t *out)
{
    double  mc, mt, vc, vt, se2, q;

    if (nc < 2 || nt < 2) {
        out->diff = out->diff_lo = out->diff_hi = out->stat = out->p = NAN;
        out->rel = out->rel_lo = out->rel_hi = NAN;
        out->df = 0;
        return;
    }

    mc = sc / nc;
    mt = st / nt;
    vc = mkt_stats_var(nc, sc, ssc) / nc;
    vt = mkt_stats_var(nt, st, sst) / nt;
    se2 = vc + vt;

    out->diff = mt - mc;
    if (se2 <= 0) {
        out->diff_lo = out->diff_hi = out->diff;
        out->stat = 0;
        out->df = nc + nt - 2;
        out->p = out->diff == 0 ? 1 : 0;
        out->rel = mc != 0 ? mt / mc - 1 : NAN;
        out->rel_lo = out->rel_hi = out->rel;
        return;
    }

    /* Welch-Satterthwaite */
    out->df = se2 * se2 / (vc * vc / (nc - 1) + vt * vt / (nt - 1));
    out->stat = out->diff / sqrt(se2);
    out->p = 2 * mkt_stats_t_cdf(-fabs(out->stat), out->df);

    q = mkt_stats_t_quantile(0.975, out->df);
    out->diff_lo = out->diff - q * sqrt(se2);
    out->diff_hi = out->diff + q * sqrt(se2);
    relative(mc, vc, mt, vt, q, out);
}


double
mkt_stats_srm(const double *observed, const double *weights, int k,
    double *chi2)
{
    double  n, w, e, x;
    int     i;

    n = 0;
    w = 0;
    for (i = 0; i < k; i++) {
        n += observed[i];
        w += weights[i];
    }

    x = 0;
    for (i = 0; i < k; i++) {
        e = n * weights[i] / w;
        if (e > 0) {
            x += (observed[i] - e) * (observed[i] - e) / e;
        }
    }

    *chi2 = x;
    if (k < 2 || n == 0) {
        return 1;
    }
    return mkt_stats_chi2_sf(x, k - 1);
}


/* P(B > A) for A ~ Beta(aa, ba), B ~ Beta(ab, bb), integer ab (Evan
 * Miller, "Formulas for Bayesian A/B testing", 2015):
 *   sum_{i=0}^{ab-1} B(aa+i, ba+bb) / ((bb+i) B(1+i, bb) B(aa, ba)). */
static double
beat_exact(double aa, double ba, double ab, double bb)
{
    double  sum, lb;
    long    i;

    lb = lgamma(aa) + lgamma(ba) - lgamma(aa + ba);
    sum = 0;
    for (i = 0; i < (long) ab; i++) {
        sum += exp(lgamma(aa + i) + lgamma(ba + bb) - lgamma(aa + i + ba + bb)
                   - log(bb + i)
                   - (lgamma(1 + i) + lgamma(bb) - lgamma(1 + i + bb))
                   - lb);
    }
    return sum;
}


double
mkt_stats_beat_control(double xc, double nc, double xt, double nt)
{
    double  ac, bc, at, bt, mc, mt, vc, vt;

    ac = 1 + xc;
    bc = 1 + nc - xc;
    at = 1 + xt;
    bt = 1 + nt - xt;

    if (xt <= 100000 && xt <= xc) {
        return beat_exact(ac, bc, at, bt);
    }
    if (xc <= 100000) {
        return 1 - beat_exact(at, bt, ac, bc);
    }

    mc = ac / (ac + bc);
    mt = at / (at + bt);
    vc = ac * bc / ((ac + bc) * (ac + bc) * (ac + bc + 1));
    vt = at * bt / ((at + bt) * (at + bt) * (at + bt + 1));
    return mkt_stats_norm_cdf((mt - mc) / sqrt(vc + vt));
}
