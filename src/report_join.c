/* The second half of a report: visitors joined into persons through their
 * uid, each person's events sorted and deduplicated, then counted into
 * the experiment cells, the funnel and the attribution credit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"

#define NONE  0xffffffffu

/* One person's events, gathered from all of their visitors. */
typedef struct {
    rp_lists_t   l;
    double      *w;             /* attribution weights, by touch */
    size_t       w_cap;
} person_t;

/* A result experiment and what maps the read one onto it. */
typedef struct {
    size_t     out;             /* index in rp->exps, or NONE */
    size_t    *perm;            /* local variation -> result variation */
} exp_map_t;



static int
by_ts(const void *a, const void *b)
{
    const rp_item_t  *x = a, *y = b;

    if (x->ts != y->ts) {
        return x->ts < y->ts ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id;
}


static int
by_exp(const void *a, const void *b)
{
    const rp_expo_t  *x = a, *y = b;

    return x->exp < y->exp ? -1 : x->exp > y->exp;
}


/* qsort(), which may not be given NULL even for no elements. */
static void
sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1) {
        qsort(base, n, size, cmp);
    }
}


/* Appends a visitor's list starting at i to a person's vector. */
static int
gather_list(const rp_item_t *all, uint32_t i, rp_item_t **v, size_t *n,
    size_t *cap)
{
    rp_item_t  *x;

    for ( ; i != NONE; i = all[i].next) {
        x = RP_PUSH(*v, *n, *cap);
        if (x == NULL) {
            return -1;
        }
        *x = all[i];
    }
    return 0;
}


/* Gathers one visitor's lists onto the person's vectors. */
static int
gather(rp_t *p, person_t *ps, const rp_visitor_t *v)
{
    rp_lists_t  *l = &ps->l;
    rp_expo_t   *x;
    uint32_t     i;

    for (i = v->expo; i != NONE; i = p->all.expos[i].next) {
        x = RP_PUSH(l->expos, l->nexpos, l->expos_cap);
        if (x == NULL) {
            return -1;
        }
        *x = p->all.expos[i];
    }
    return gather_list(p->all.convs, v->conv, &l->convs, &l->nconvs,
                       &l->convs_cap)
           | gather_list(p->all.touches, v->touch, &l->touches, &l->ntouches,
                         &l->touches_cap);
}


/* Sorts by time and drops items whose id came before (a sink's replay):
 * the new count. */
static size_t
dedup(mkt_report_t *rp, rp_item_t *v, size_t n)
{
    size_t  i, k;

    sort(v, n, sizeof(rp_item_t), by_ts);
    for (i = 0, k = 0; i < n; i++) {
        if (k > 0 && v[i].id != 0 && v[i].id == v[k - 1].id) {
            rp->counts.duplicates++;
            continue;
        }
        v[k++] = v[i];
    }
    return k;
}


/* Sorts by time and drops events whose id was seen before (a sink's
 * replay); exposures merged per experiment. */
static void
normalise(mkt_report_t *rp, person_t *ps)
{
    size_t  i, n;

    ps->l.nconvs = dedup(rp, ps->l.convs, ps->l.nconvs);
    ps->l.ntouches = dedup(rp, ps->l.touches, ps->l.ntouches);

    sort(ps->l.expos, ps->l.nexpos, sizeof(rp_expo_t), by_exp);
    for (i = 0, n = 0; i < ps->l.nexpos; i++) {
        if (n > 0 && ps->l.expos[i].exp == ps->l.expos[n - 1].exp) {
            if (ps->l.expos[i].var != ps->l.expos[n - 1].var
                || ps->l.expos[i].multi)
            {
                ps->l.expos[n - 1].multi = 1;
            }
            if (ps->l.expos[i].ts < ps->l.expos[n - 1].ts) {
                ps->l.expos[n - 1].ts = ps->l.expos[i].ts;
            }
            continue;
        }
        ps->l.expos[n++] = ps->l.expos[i];
    }
    ps->l.nexpos = n;
}


/* Counts the funnel steps (goals 0, 1, ... in order, each at or after the
 * previous one) a person reaches from time start into out[]. */
static void
funnel(const person_t *ps, int64_t start, size_t ngoals, double *out)
{
    size_t   k, i;
    int64_t  t;

    t = start;
    for (k = 0; k < ngoals; k++) {
        for (i = 0; i < ps->l.nconvs; i++) {
            if (ps->l.convs[i].key[RP_GOAL] == k && ps->l.convs[i].ts >= t) {
                break;
            }
        }
        if (i == ps->l.nconvs) {
            return;
        }
        out[k]++;
        t = ps->l.convs[i].ts;
    }
}


static void
count_experiments(mkt_report_t *rp, const person_t *ps, const exp_map_t *map)
{
    const rp_expo_t    *x;
    mkt_report_exp_t   *e;
    mkt_report_cell_t  *c;
    size_t              i, j, k, var;
    double              y, rev, pre;

    for (i = 0; i < ps->l.nexpos; i++) {
        x = &ps->l.expos[i];
        if (map[x->exp].out == NONE) {
            continue;
        }
        e = &rp->exps[map[x->exp].out];
        if (x->multi) {
            e->multi++;
            continue;
        }
        var = map[x->exp].perm[x->var];
        e->exposed[var]++;

        for (j = 0; j < e->ngoals; j++) {
            y = rev = pre = 0;
            for (k = 0; k < ps->l.nconvs; k++) {
                if (ps->l.convs[k].key[RP_GOAL] != e->goals[j]) {
                    continue;
                }
                if (ps->l.convs[k].ts >= x->ts) {
                    y = 1;
                    rev += ps->l.convs[k].value;
                } else {
                    pre++;
                }
            }
            c = &e->cells[var * e->ngoals + j];
            c->n++;
            c->x += y;
            c->rev += rev;
            c->rev2 += rev * rev;
            c->cx += pre;
            c->cxx += pre * pre;
            c->cxy += pre * y;
        }

        funnel(ps, x->ts, rp->ngoals, &e->funnel[var * rp->ngoals]);
    }
}


/* The weight of each touch in [lo, hi] under model m, for a conversion
 * after hi. */
static void
weights(const mkt_report_t *rp, const person_t *ps, size_t lo, size_t hi,
    mkt_report_model_e m, double *w)
{
    size_t   i, n;
    int64_t  newest;
    double   sum;

    n = hi - lo + 1;
    for (i = lo; i <= hi; i++) {
        w[i] = 0;
    }

    switch (m) {
    case MKT_MODEL_FIRST:
        w[lo] = 1;
        break;
    case MKT_MODEL_LAST:
        w[hi] = 1;
        break;
    case MKT_MODEL_LINEAR:
        for (i = lo; i <= hi; i++) {
            w[i] = 1.0 / n;
        }
        break;
    case MKT_MODEL_DECAY:
        /* 2^(-age/half-life) relative to the newest touch's: the same
         * shares, but the newest weighs 1, so the sum cannot underflow to
         * 0 when every touch is many half-lives old */
        newest = ps->l.touches[hi].ts;
        sum = 0;
        for (i = lo; i <= hi; i++) {
            w[i] = exp2(-(double) (newest - ps->l.touches[i].ts)
                        / (double) rp->opts.half_life);
            sum += w[i];
        }
        for (i = lo; i <= hi; i++) {
            w[i] /= sum;
        }
        break;
    default:
        if (n == 1) {
            w[lo] = 1;
        } else if (n == 2) {
            w[lo] = w[hi] = 0.5;
        } else {
            w[lo] = w[hi] = 0.4;
            for (i = lo + 1; i < hi; i++) {
                w[i] = 0.2 / (n - 2);
            }
        }
        break;
    }
}


static int
attribute(mkt_report_t *rp, person_t *ps, size_t gsel, double **credit,
    const uint32_t *direct)
{
    const rp_item_t  *c;
    size_t            i, j, lo, hi;
    int               m, d;
    double           *cr;

    if (mkt_report_reserve((void **) &ps->w, &ps->w_cap, ps->l.ntouches + 1, sizeof(double))
        != 0)
    {
        return -1;
    }

    for (i = 0; i < ps->l.nconvs; i++) {
        c = &ps->l.convs[i];
        if (gsel != NONE && c->key[RP_GOAL] != gsel) {
            continue;
        }
        rp->attributed++;
        rp->attributed_rev += c->value;

        for (lo = 0; lo < ps->l.ntouches
             && ps->l.touches[lo].ts < c->ts - rp->opts.lookback; lo++)
        {
            /* skip touches before the window */
        }
        for (hi = lo; hi < ps->l.ntouches && ps->l.touches[hi].ts <= c->ts; hi++)
        {
            /* the window's touches are [lo, hi) */
        }

        for (m = 0; m < MKT_MODELS; m++) {
            if (hi == lo) {
                for (d = 0; d < MKT_DIMS; d++) {
                    cr = credit[d] + 2 * (direct[d] * MKT_MODELS + m);
                    cr[0] += 1;
                    cr[1] += c->value;
                }
                continue;
            }
            weights(rp, ps, lo, hi - 1, m, ps->w);
            for (j = lo; j < hi; j++) {
                for (d = 0; d < MKT_DIMS; d++) {
                    cr = credit[d]
                         + 2 * (ps->l.touches[j].key[d] * MKT_MODELS + m);
                    cr[0] += ps->w[j];
                    cr[1] += ps->w[j] * c->value;
                }
            }
        }
    }
    return 0;
}


static int
by_name(const void *a, const void *b)
{
    const mkt_str_t  *x = *(const mkt_str_t *const *) a;
    const mkt_str_t  *y = *(const mkt_str_t *const *) b;
    size_t            n;
    int               r;

    n = x->len < y->len ? x->len : y->len;
    r = memcmp(x->data, y->data, n);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}


/* The result experiments: those with exposures, variations of the config
 * first (control first), then others; without a config "control" first
 * and the rest by name. */
static int
build_experiments(mkt_report_t *rp, rp_t *p, exp_map_t *map, size_t gsel)
{
    const mkt_experiment_t  *cx;
    mkt_report_exp_t        *e;
    const mkt_str_t        **order, *ctl;
    rp_exp_t                *x;
    size_t                   i, j, k, n;

    rp->exps = calloc(p->nexps ? p->nexps : 1, sizeof(mkt_report_exp_t));
    if (rp->exps == NULL) {
        return -1;
    }

    for (i = 0; i < p->nexps; i++) {
        x = &p->exps[i];
        map[i].out = NONE;
        map[i].perm = NULL;
        if (x->exposures == 0) {
            continue;
        }
        map[i].out = rp->nexps;
        e = &rp->exps[rp->nexps++];
        cx = x->config;
        e->key = p->exp_names.strs[i];
        e->in_config = cx != NULL;
        e->nvars = n = x->nvars;
        e->nconfigured = cx ? cx->nvariations : n;

        e->vars = calloc(n, sizeof(mkt_str_t));
        e->weights = calloc(n, sizeof(double));
        e->exposed = calloc(n, sizeof(double));
        map[i].perm = calloc(n, sizeof(size_t));
        order = calloc(n, sizeof(mkt_str_t *));
        if (!e->vars || !e->weights || !e->exposed || !map[i].perm || !order)
        {
            free(order);
            return -1;
        }

        for (j = 0; j < n; j++) {
            order[j] = &p->var_names.strs[x->vars[j]];
        }
        if (cx == NULL) {
            sort(order, n, sizeof(mkt_str_t *), by_name);
            for (j = 0; j < n; j++) {
                if (order[j]->len == 7
                    && memcmp(order[j]->data, "control", 7) == 0)
                {
                    ctl = order[j];
                    memmove(order + 1, order, j * sizeof(mkt_str_t *));
                    order[0] = ctl;
                    break;
                }
            }
        }
        for (j = 0; j < n; j++) {
            e->vars[j] = *order[j];
            for (k = 0; k < n; k++) {
                if (&p->var_names.strs[x->vars[k]] == order[j]) {
                    map[i].perm[k] = j;
                }
            }
            if (j < e->nconfigured) {
                e->weights[j] = cx && cx->weights ? cx->weights[j]
                                                  : 1.0 / e->nconfigured;
            }
        }
        free(order);

        if (gsel != NONE) {
            e->ngoals = 1;
        } else if (cx != NULL && cx->ngoals > 0) {
            e->ngoals = cx->ngoals;
        } else {
            e->ngoals = rp->ngoals;
        }
        e->goals = calloc(e->ngoals ? e->ngoals : 1, sizeof(size_t));
        e->cells = calloc(n * (e->ngoals ? e->ngoals : 1),
                          sizeof(mkt_report_cell_t));
        e->funnel = calloc(n * (rp->ngoals ? rp->ngoals : 1), sizeof(double));
        if (!e->goals || !e->cells || !e->funnel) {
            return -1;
        }
        for (j = 0; j < e->ngoals; j++) {
            e->goals[j] = gsel != NONE ? gsel
                          : cx != NULL && cx->ngoals > 0 ? cx->goals[j] : j;
        }
    }
    return 0;
}


static int
by_last_touch(const void *a, const void *b)
{
    const mkt_report_credit_t  *x = a, *y = b;

    if (x->conv[MKT_MODEL_LAST] != y->conv[MKT_MODEL_LAST]) {
        return x->conv[MKT_MODEL_LAST] > y->conv[MKT_MODEL_LAST] ? -1 : 1;
    }
    return by_name(&(const mkt_str_t *) { &x->name },
                   &(const mkt_str_t *) { &y->name });
}


/* Credit tables: [value][model][conversions, revenue] into the result
 * rows, sorted; rows with no credit at all left out. */
static int
build_credit(mkt_report_t *rp, rp_t *p, double **credit)
{
    mkt_report_credit_t  *row;
    size_t                i, n;
    int                   d, m, any;

    for (d = 0; d < MKT_DIMS; d++) {
        rp->credit[d] = calloc(p->dims[d].n + 1, sizeof(mkt_report_credit_t));
        if (rp->credit[d] == NULL) {
            return -1;
        }
        n = 0;
        for (i = 0; i < p->dims[d].n; i++) {
            row = &rp->credit[d][n];
            any = 0;
            for (m = 0; m < MKT_MODELS; m++) {
                row->conv[m] = credit[d][2 * (i * MKT_MODELS + m)];
                row->rev[m] = credit[d][2 * (i * MKT_MODELS + m) + 1];
                any |= row->conv[m] != 0;
            }
            if (any) {
                row->name = p->dims[d].strs[i];
                n++;
            }
        }
        rp->ncredit[d] = n;
        sort(rp->credit[d], n, sizeof(mkt_report_credit_t), by_last_touch);
    }
    return 0;
}


static void
srm(mkt_report_exp_t *e)
{
    e->srm_p = 1;
    e->srm_chi2 = 0;
    if (e->nconfigured >= 2 && e->nconfigured <= e->nvars) {
        e->srm_p = mkt_stats_srm(e->exposed, e->weights, (int) e->nconfigured,
                                 &e->srm_chi2);
    }
}


int
mkt_report_finish(mkt_report_t *rp)
{
    rp_t        *p = rp->priv;
    person_t     ps;
    exp_map_t   *map;
    double      *credit[MKT_DIMS];
    uint32_t     direct[MKT_DIMS];
    size_t      *start, *order, npersons, i, j, k, gsel;
    int          d, rc;

    rc = -1;
    memset(&ps, 0, sizeof(ps));
    memset(credit, 0, sizeof(credit));
    map = NULL;
    start = order = NULL;

    rp->memory = mkt_strtab_memory(&p->vids) + mkt_strtab_memory(&p->uids)
                 + p->visitors_cap * sizeof(rp_visitor_t)
                 + p->all.expos_cap * sizeof(rp_expo_t)
                 + p->all.convs_cap * sizeof(rp_item_t)
                 + p->all.touches_cap * sizeof(rp_item_t);

    gsel = NONE;
    if (rp->opts.goal != NULL) {
        gsel = mkt_strtab_add(&p->goals, rp->opts.goal,
                              strlen(rp->opts.goal), &d);
        if (gsel == (size_t) -1) {
            return -1;
        }
    }

    rp->ngoals = p->goals.n;
    rp->goals = calloc(rp->ngoals + 1, sizeof(mkt_str_t));
    rp->funnel = calloc(rp->ngoals + 1, sizeof(double));
    map = calloc(p->nexps + 1, sizeof(exp_map_t));
    if (rp->goals == NULL || rp->funnel == NULL || map == NULL) {
        goto done;
    }
    if (rp->ngoals > 0) {
        memcpy(rp->goals, p->goals.strs, rp->ngoals * sizeof(mkt_str_t));
    }

    if (build_experiments(rp, p, map, gsel) != 0) {
        goto done;
    }

    for (d = 0; d < MKT_DIMS; d++) {
        direct[d] = (uint32_t) mkt_strtab_add(&p->dims[d], MKT_REPORT_DIRECT,
                                              sizeof(MKT_REPORT_DIRECT) - 1,
                                              &rc);
        credit[d] = calloc(p->dims[d].n * MKT_MODELS * 2, sizeof(double));
        if (direct[d] == NONE || credit[d] == NULL) {
            rc = -1;
            goto done;
        }
    }
    rc = -1;

    /* persons: each uid one, each visitor without a uid one; counting
     * sort of the visitors by person */
    npersons = p->uids.n;
    start = calloc(p->uids.n + p->nvisitors + 2, sizeof(size_t));
    order = calloc(p->nvisitors + 1, sizeof(size_t));
    if (start == NULL || order == NULL) {
        goto done;
    }
    for (i = 0; i < p->nvisitors; i++) {
        k = p->visitors[i].uid != NONE ? p->visitors[i].uid : npersons++;
        start[k + 1]++;
        order[i] = k;               /* the person, for now */
    }
    for (k = 0; k < npersons; k++) {
        start[k + 1] += start[k];
    }
    {
        size_t  *pos, *by_person;

        pos = malloc((npersons + 1) * sizeof(size_t));
        by_person = malloc((p->nvisitors + 1) * sizeof(size_t));
        if (pos == NULL || by_person == NULL) {
            free(pos);
            free(by_person);
            goto done;
        }
        memcpy(pos, start, (npersons + 1) * sizeof(size_t));
        for (i = 0; i < p->nvisitors; i++) {
            by_person[pos[order[i]]++] = i;
        }
        free(pos);
        free(order);
        order = by_person;
    }

    rp->counts.visitors = p->vids.n;
    rp->counts.users = p->uids.n;

    for (k = 0; k < npersons; k++) {
        if (start[k] == start[k + 1]) {
            continue;               /* a uid all of whose visitors ... */
        }
        ps.l.nexpos = ps.l.nconvs = ps.l.ntouches = 0;
        for (j = start[k]; j < start[k + 1]; j++) {
            if (gather(p, &ps, &p->visitors[order[j]]) != 0) {
                goto done;
            }
        }
        rp->counts.persons++;
        normalise(rp, &ps);
        count_experiments(rp, &ps, map);
        funnel(&ps, INT64_MIN, rp->ngoals, rp->funnel);
        if (attribute(rp, &ps, gsel, credit, direct) != 0) {
            goto done;
        }
    }
    rp->funnel_base = (double) rp->counts.persons;

    for (i = 0; i < rp->nexps; i++) {
        srm(&rp->exps[i]);
    }
    if (build_credit(rp, p, credit) != 0) {
        goto done;
    }
    rc = 0;

done:
    for (i = 0; map != NULL && i < p->nexps; i++) {
        free(map[i].perm);
    }
    free(map);
    free(start);
    free(order);
    free(ps.l.expos);
    free(ps.l.convs);
    free(ps.l.touches);
    free(ps.w);
    for (d = 0; d < MKT_DIMS; d++) {
        free(credit[d]);
    }
    return rc;
}


/* CUPED (Deng et al. 2013) with theta pooled over both arms. */
static void
cuped(const mkt_report_cell_t *c, const mkt_report_cell_t *t,
    mkt_report_cmp_t *out)
{
    double  n, vx, cxy, theta, vc, vt, ac, at, se, se0, q;

    n = c->n + t->n;
    vx = mkt_stats_var(n, c->cx + t->cx, c->cxx + t->cxx);
    cxy = n < 2 ? 0 : ((c->cxy + t->cxy) - (c->cx + t->cx) * (c->x + t->x) / n)
                      / (n - 1);
    theta = vx > 0 ? cxy / vx : 0;
    out->cuped_theta = theta;

    if (c->n < 2 || t->n < 2) {
        out->cuped_diff = out->cuped_lo = out->cuped_hi = NAN;
        out->cuped_p = out->var_reduction = NAN;
        return;
    }

    /* Var(Y - theta X) = Var(Y) - 2 theta Cov(X, Y) + theta^2 Var(X),
     * within each arm (Y is 0 or 1, so the sum of Y^2 is x) */
#define ARM_VAR(a, adj)                                                       \
    (mkt_stats_var((a)->n, (a)->x, (a)->x)                                    \
     - (adj) * 2 * theta * ((a)->cxy - (a)->cx * (a)->x / (a)->n)             \
       / ((a)->n - 1)                                                         \
     + (adj) * theta * theta * mkt_stats_var((a)->n, (a)->cx, (a)->cxx))

    vc = ARM_VAR(c, 1) / c->n;
    vt = ARM_VAR(t, 1) / t->n;
    se0 = ARM_VAR(c, 0) / c->n + ARM_VAR(t, 0) / t->n;
#undef ARM_VAR

    ac = c->x / c->n - theta * c->cx / c->n;
    at = t->x / t->n - theta * t->cx / t->n;
    out->cuped_diff = at - ac;
    se = sqrt(vc + vt > 0 ? vc + vt : 0);
    q = mkt_stats_norm_quantile(0.975);
    out->cuped_lo = out->cuped_diff - q * se;
    out->cuped_hi = out->cuped_diff + q * se;
    out->cuped_p = se > 0 ? 2 * mkt_stats_norm_cdf(-fabs(out->cuped_diff / se))
                          : (out->cuped_diff == 0 ? 1 : 0);
    out->var_reduction = se0 > 0 ? 1 - (vc + vt) / se0 : 0;
}


/* The asymptotic confidence sequence of Waudby-Smith et al. (2023,
 * "Time-uniform central limit theory"), built on the normal mixture
 * boundary of Howard et al. (2021): with N the visitors of both arms and
 * V the variance of the difference,
 *   diff +- sqrt(V N) sqrt(2 (N r^2 + 1) / (N^2 r^2)
 *                          * log(sqrt(N r^2 + 1) / alpha)),
 * r^2 = (-2 log alpha + log(-2 log alpha + 1)) / tuning, which makes the
 * bound tightest when N reaches the tuning sample size. */
static void
sequential(double n, double v, double diff, double tuning,
    mkt_report_cmp_t *out)
{
    double  alpha, r2, hw;

    alpha = 0.05;
    r2 = (-2 * log(alpha) + log(-2 * log(alpha) + 1)) / tuning;
    hw = sqrt(v * n) * sqrt(2 * (n * r2 + 1) / (n * n * r2)
                            * log(sqrt(n * r2 + 1) / alpha));
    out->seq_lo = diff - hw;
    out->seq_hi = diff + hw;
}


void
mkt_report_compare(const mkt_report_t *rp, const mkt_report_exp_t *e,
    size_t var, size_t goal, mkt_report_cmp_t *out)
{
    const mkt_report_cell_t  *c, *t;
    double                    v;

    c = &e->cells[goal];
    t = &e->cells[var * e->ngoals + goal];

    out->rate = t->n > 0 ? t->x / t->n : NAN;
    out->rpv = t->n > 0 ? t->rev / t->n : NAN;
    mkt_stats_prop_test(c->x, c->n, t->x, t->n, &out->conv);
    mkt_stats_welch_test(c->n, c->rev, c->rev2, t->n, t->rev, t->rev2,
                         &out->rev);
    out->beat = c->n > 0 && t->n > 0
                ? mkt_stats_beat_control(c->x, c->n, t->x, t->n) : NAN;
    cuped(c, t, out);

    out->seq_lo = out->seq_hi = NAN;
    if (rp->opts.seq_tuning > 0 && c->n > 0 && t->n > 0) {
        v = (c->x / c->n) * (1 - c->x / c->n) / c->n
            + (t->x / t->n) * (1 - t->x / t->n) / t->n;
        sequential(c->n + t->n, v, out->conv.diff, rp->opts.seq_tuning, out);
    }
}
