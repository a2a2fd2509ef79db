/* Unit tests of src/report.c and src/report_join.c: small hand-built event
 * sets with every expected number derived by hand (or by the Perl lines
 * quoted) beside it. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report.h"
#include "report_event.h"

#define assert_near(a, b, tol)  assert_true(fabs((a) - (b)) <= (tol))
#define DAY  MKT_REPORT_DAY_MS
#define HOUR 3600000LL

static const char  config_json[] =
    "{\"goals\": [\"signup\", \"purchase\"],"
    " \"experiments\": [{\"key\": \"exp\", \"variations\": [\"control\","
    " \"treat\"], \"weights\": [0.5, 0.5]}]}";


static mkt_report_t *
report(const mkt_report_opts_t *o, const char *const *lines, size_t n)
{
    mkt_report_t  *rp;
    size_t         i;

    rp = mkt_report_create(o);
    assert_non_null(rp);
    for (i = 0; i < n; i++) {
        assert_int_equal(mkt_report_add_line(rp, lines[i], strlen(lines[i])),
                         0);
    }
    assert_int_equal(mkt_report_finish(rp), 0);
    return rp;
}


static const mkt_report_credit_t *
credit(const mkt_report_t *rp, mkt_report_dim_e d, const char *name)
{
    size_t  i;

    for (i = 0; i < rp->ncredit[d]; i++) {
        if (rp->credit[d][i].name.len == strlen(name)
            && memcmp(rp->credit[d][i].name.data, name, strlen(name)) == 0)
        {
            return &rp->credit[d][i];
        }
    }
    fail_msg("no credit row %s", name);
    return NULL;
}


static void
test_parse_reads_the_members_it_uses_and_skips_the_rest(void **state)
{
    mkt_rev_t    ev;
    const char  *line = "{\"id\":\"01J\",\"ts\":1763870000123,"
        "\"type\":\"touch\",\"vid\":\"V\",\"x\":[{\"y\":[1,2,null]},true],"
        "\"lt\":{\"source\":\"baidu\",\"medium\":\"cpc\"},"
        "\"utm\":{\"source\":\"ignored\",\"campaign\":\"w\\u0034\\u0037\"},"
        "\"channel\":\"paid_search\",\"referrer\":\"www.baidu.com\"}";

    assert_int_equal(mkt_rev_parse(line, strlen(line), &ev), 0);
    assert_int_equal(ev.type, MKT_EVENT_TOUCH);
    assert_true(ev.ts == 1763870000123LL);
    assert_true(ev.id_hash == mkt_rev_hash("01J", 3));
    assert_memory_equal(ev.vid.data, "V", ev.vid.len);
    /* lt wins over utm; utm fills what lt left out */
    assert_int_equal(ev.source.len, 5);
    assert_memory_equal(ev.source.data, "baidu", 5);
    assert_int_equal(ev.campaign.len, 3);
    assert_memory_equal(ev.campaign.data, "w47", 3);
    assert_memory_equal(ev.channel.data, "paid_search", 11);
}


static void
test_parse_refuses_what_is_not_an_event(void **state)
{
    static const char *const  bad[] = {
        "", "   ", "[]", "{", "{\"ts\":1}", "{\"type\":\"touch\"}",
        "{\"ts\":\"1\",\"type\":\"touch\"}", "{\"ts\":1,\"type\":3}",
        "{\"ts\":1,\"type\":\"touch\"} x", "{\"ts\":1,\"type\":\"touch\",}",
        "{\"ts\":1,\"type\":\"touch\",\"vid\":7}", "{\"ts\":-5,\"type\":\"touch\"}",
        "{\"ts\":1,\"type\":\"conversion\",\"value\":\"12\"}",
        "{\"ts\":1,\"type\":\"touch\",\"vid\":\"\xff\"}",
    };
    mkt_rev_t                 ev;
    size_t                    i;
    const char               *line;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mkt_rev_parse(bad[i], strlen(bad[i]), &ev), -1);
    }
    /* another type is read, for the caller to skip */
    line = "{\"ts\":1,\"type\":\"pageview\"}";
    assert_int_equal(mkt_rev_parse(line, strlen(line), &ev), 0);
    assert_int_equal(ev.type, MKT_EVENT_TYPES);
}


/*
 * Experiment "exp", goals signup and purchase:
 *   v1  control, exposed 100, signup 200                  converts
 *   v2  control, exposed 100 and (later in the file) 50,  converts: the
 *       signup 60                                         first exposure
 *                                                         is 50
 *   v3  control, signup 10 then exposed 100               does not: before
 *                                                         exposure (X = 1)
 *   v4  treat, exposed 100, signup 150, purchase 160 (30) converts both
 *   v5  treat, exposed 100                                does not
 *   v6  exposed in control and in treat                   excluded
 *   v7a treat exposed 100 with uid u7; v7b (uid u7)       converts, through
 *       signup 300, twice with one id                     the uid, once
 * control: 3 visitors, 2 signups; treat: 3 visitors, 2 signups, 1 purchase
 * of 30.
 */
static const char *const  exp_lines[] = {
    "{\"ts\":100,\"type\":\"exposure\",\"vid\":\"v1\",\"exp\":\"exp\",\"var\":\"control\"}",
    "{\"ts\":200,\"type\":\"conversion\",\"vid\":\"v1\",\"goal\":\"signup\"}",
    "{\"ts\":100,\"type\":\"exposure\",\"vid\":\"v2\",\"exp\":\"exp\",\"var\":\"control\"}",
    "{\"ts\":60,\"type\":\"conversion\",\"vid\":\"v2\",\"goal\":\"signup\"}",
    "{\"ts\":50,\"type\":\"exposure\",\"vid\":\"v2\",\"exp\":\"exp\",\"var\":\"control\"}",
    "{\"ts\":10,\"type\":\"conversion\",\"vid\":\"v3\",\"goal\":\"signup\"}",
    "{\"ts\":100,\"type\":\"exposure\",\"vid\":\"v3\",\"exp\":\"exp\",\"var\":\"control\"}",
    "{\"ts\":100,\"type\":\"exposure\",\"vid\":\"v4\",\"exp\":\"exp\",\"var\":\"treat\"}",
    "{\"ts\":150,\"type\":\"conversion\",\"vid\":\"v4\",\"goal\":\"signup\"}",
    "{\"ts\":160,\"type\":\"conversion\",\"vid\":\"v4\",\"goal\":\"purchase\",\"value\":30.0}",
    "{\"ts\":100,\"type\":\"exposure\",\"vid\":\"v5\",\"exp\":\"exp\",\"var\":\"treat\"}",
    "{\"ts\":100,\"type\":\"exposure\",\"vid\":\"v6\",\"exp\":\"exp\",\"var\":\"treat\"}",
    "{\"ts\":110,\"type\":\"exposure\",\"vid\":\"v6\",\"exp\":\"exp\",\"var\":\"control\"}",
    "{\"ts\":100,\"type\":\"exposure\",\"vid\":\"v7a\",\"uid\":\"u7\",\"exp\":\"exp\",\"var\":\"treat\"}",
    "{\"id\":\"X\",\"ts\":300,\"type\":\"conversion\",\"vid\":\"v7b\",\"uid\":\"u7\",\"goal\":\"signup\"}",
    "{\"id\":\"X\",\"ts\":300,\"type\":\"conversion\",\"vid\":\"v7b\",\"uid\":\"u7\",\"goal\":\"signup\"}",
    "not json",
    "{\"ts\":100,\"type\":\"exposure\",\"exp\":\"exp\",\"var\":\"treat\"}",
    "{\"ts\":100,\"type\":\"pageview\",\"vid\":\"v1\"}",
};


static mkt_report_t *
exp_report(mkt_report_opts_t *o, mkt_config_t **cfg)
{
    *cfg = mkt_config_load_string("t.json", config_json, strlen(config_json),
                                  NULL, NULL);
    assert_non_null(*cfg);
    o->cfg = *cfg;
    return report(o, exp_lines, sizeof(exp_lines) / sizeof(exp_lines[0]));
}


static void
test_experiment_counts_first_exposures_and_later_conversions(void **state)
{
    mkt_report_opts_t   o;
    mkt_report_t       *rp;
    mkt_config_t       *cfg;
    mkt_report_exp_t   *e;

    mkt_report_opts_init(&o);
    rp = exp_report(&o, &cfg);

    assert_int_equal(rp->counts.lines, 19);
    assert_int_equal(rp->counts.malformed, 1);
    assert_int_equal(rp->counts.other_type, 1);
    assert_int_equal(rp->counts.anonymous, 1);
    assert_int_equal(rp->counts.exposures, 9);   /* not the anonymous one */
    assert_int_equal(rp->counts.conversions, 7);   /* the duplicate too */
    assert_int_equal(rp->counts.duplicates, 1);
    assert_int_equal(rp->counts.visitors, 8);     /* v1-v6, v7a, v7b */
    assert_int_equal(rp->counts.users, 1);
    assert_int_equal(rp->counts.persons, 7);

    assert_int_equal(rp->nexps, 1);
    e = &rp->exps[0];
    assert_int_equal(e->nvars, 2);
    assert_memory_equal(e->vars[0].data, "control", 7);
    assert_near(e->multi, 1, 0);
    assert_near(e->exposed[0], 3, 0);
    assert_near(e->exposed[1], 3, 0);
    assert_int_equal(e->ngoals, 2);

    /* signup */
    assert_near(e->cells[0].n, 3, 0);
    assert_near(e->cells[0].x, 2, 0);
    assert_near(e->cells[0].cx, 1, 0);      /* v3's signup before exposure */
    assert_near(e->cells[2].n, 3, 0);
    assert_near(e->cells[2].x, 2, 0);
    /* purchase */
    assert_near(e->cells[1].x, 0, 0);
    assert_near(e->cells[3].x, 1, 0);
    assert_near(e->cells[3].rev, 30, 0);
    assert_near(e->cells[3].rev2, 900, 0);

    /* the funnel after exposure: signup, then purchase */
    assert_near(e->funnel[0], 2, 0);
    assert_near(e->funnel[1], 0, 0);
    assert_near(e->funnel[2], 2, 0);
    assert_near(e->funnel[3], 1, 0);

    /* 3 and 3 exposed against 50/50: no mismatch */
    assert_near(e->srm_chi2, 0, 1e-12);
    assert_near(e->srm_p, 1, 1e-12);

    /* overall funnel of the 7 persons: signups v1 v2 v3 v4 u7, purchase
     * v4 */
    assert_near(rp->funnel_base, 7, 0);
    assert_near(rp->funnel[0], 5, 0);
    assert_near(rp->funnel[1], 1, 0);

    mkt_report_free(rp);
    mkt_config_free(cfg);
}


static void
test_cuped_uses_pre_exposure_conversions(void **state)
{
    mkt_report_opts_t   o;
    mkt_report_t       *rp;
    mkt_config_t       *cfg;
    mkt_report_cmp_t    c;

    /* signup, Y and X per visitor: control (1,0) (1,0) (0,1), treat (1,0)
     * (0,0) (1,0).  Perl, from the visitors' values: theta = Cov(X,Y) /
     * Var(X) over both arms = -0.8; Y - theta X per arm, difference of
     * means -0.266666666666667, standard error 0.339934634239519 (sample
     * variances / 3), 95% bounds -0.93292630687392, 0.399592973540587;
     * variance reduction 1 - 0.339934634239519^2 / plain = 0.48. */
    mkt_report_opts_init(&o);
    rp = exp_report(&o, &cfg);
    mkt_report_compare(rp, &rp->exps[0], 1, 0, &c);

    assert_near(c.rate, 2.0 / 3, 1e-15);
    assert_near(c.conv.diff, 0, 1e-15);
    assert_near(c.cuped_theta, -0.8, 1e-12);
    assert_near(c.cuped_diff, -0.266666666666667, 1e-12);
    assert_near(c.cuped_lo, -0.93292630687392, 1e-12);
    assert_near(c.cuped_hi, 0.399592973540587, 1e-12);
    assert_near(c.var_reduction, 0.48, 1e-12);
    assert_true(isnan(c.seq_lo));

    mkt_report_free(rp);
    mkt_config_free(cfg);
}


static void
test_goal_and_time_window_restrict_the_report(void **state)
{
    mkt_report_opts_t   o;
    mkt_report_t       *rp;
    mkt_config_t       *cfg;
    mkt_report_exp_t   *e;

    mkt_report_opts_init(&o);
    o.goal = "purchase";
    o.from = 50;
    o.to = 300;         /* drops v3's signup at 10 and u7's at 300 */
    rp = exp_report(&o, &cfg);

    assert_int_equal(rp->counts.out_of_range, 3);
    e = &rp->exps[0];
    assert_int_equal(e->ngoals, 1);
    assert_int_equal(e->goals[0], 1);
    assert_near(e->cells[0].x, 0, 0);
    assert_near(e->cells[1].x, 1, 0);
    assert_near(rp->attributed, 1, 0);      /* v4's purchase only */

    mkt_report_free(rp);
    mkt_config_free(cfg);
}


static void
test_sequential_bounds_follow_the_normal_mixture(void **state)
{
    mkt_report_opts_t   o;
    mkt_report_t       *rp;
    mkt_report_exp_t    e;
    mkt_report_cell_t   cells[2];
    mkt_report_cmp_t    c;
    mkt_str_t           vars[2] = { { "a", 1 }, { "b", 1 } };

    /* 100/1000 against 130/1000, tuning 5000.  Perl: r2 = (-2 ln 0.05 +
     * ln(-2 ln 0.05 + 1)) / 5000, N = 2000, V = 0.1*0.9/1000 +
     * 0.13*0.87/1000, half-width sqrt(V N) sqrt(2 (N r2 + 1) / (N^2 r2)
     * ln(sqrt(N r2 + 1) / 0.05)) = 0.0445179621022678 */
    mkt_report_opts_init(&o);
    o.seq_tuning = 5000;
    rp = report(&o, NULL, 0);

    memset(&e, 0, sizeof(e));
    memset(cells, 0, sizeof(cells));
    e.nvars = 2;
    e.vars = vars;
    e.ngoals = 1;
    e.cells = cells;
    cells[0].n = 1000;
    cells[0].x = 100;
    cells[1].n = 1000;
    cells[1].x = 130;
    mkt_report_compare(rp, &e, 1, 0, &c);

    assert_near(c.seq_lo, -0.0145179621022678, 1e-12);
    assert_near(c.seq_hi, 0.0745179621022678, 1e-12);
    /* wider than the fixed-horizon interval */
    assert_true(c.seq_lo < c.conv.diff_lo && c.seq_hi > c.conv.diff_hi);

    mkt_report_free(rp);
}


/*
 * Journeys (purchase values in brackets), lookback 30 days, half-life 7:
 *   P1 a: paid_search/baidu/c1 day 0, organic_social/xhs/c2 day 2,
 *         email/news/c3 day 3, purchase day 4 [100]
 *   P2 b (uid u1): referral/blog day 0; c (uid u1): paid_search/baidu/c1
 *         day 1, purchase day 1 + 1 h [50]
 *   P3 d: email day 0, purchase day 40: outside the lookback: direct
 *   P4 e: purchase, no touch: direct
 *   P5 f: purchase day 1, touch day 2 (after it): direct
 * Time decay (Perl): weights 2^(-age / 7 days), normalised: P1 ages 4, 2,
 * 1 days: 0.280511687789399, 0.341947577579221, 0.37754073463138; P2 ages
 * 1 day 1 h, 1 h: 0.475264951182598, 0.524735048817402.
 */
static void
test_attribution_models_on_hand_built_journeys(void **state)
{
    char                        lines[12][256];
    const char                 *p[12];
    mkt_report_opts_t           o;
    mkt_report_t               *rp;
    const mkt_report_credit_t  *c;
    size_t                      i;

#define TOUCH(i, vid, uid, ts, ch, src, camp)                                 \
    snprintf(lines[i], sizeof(lines[i]), "{\"ts\":%lld,\"type\":\"touch\","  \
             "\"vid\":\"%s\"%s%s%s,\"channel\":\"%s\",\"lt\":{\"source\":"    \
             "\"%s\"%s%s%s}}", (long long) (ts), vid, uid ? ",\"uid\":\"" : "",\
             uid ? uid : "", uid ? "\"" : "", ch, src,                        \
             camp ? ",\"campaign\":\"" : "", camp ? camp : "", camp ? "\"" : "")
#define BUY(i, vid, uid, ts, v)                                               \
    snprintf(lines[i], sizeof(lines[i]), "{\"ts\":%lld,\"type\":"            \
             "\"conversion\",\"vid\":\"%s\"%s%s%s,\"goal\":\"purchase\","     \
             "\"value\":%s}", (long long) (ts), vid,                          \
             uid ? ",\"uid\":\"" : "", uid ? uid : "", uid ? "\"" : "", v)

    TOUCH(0, "a", NULL, 0, "paid_search", "baidu", "c1");
    TOUCH(1, "a", NULL, 2 * DAY, "organic_social", "xhs", "c2");
    TOUCH(2, "a", NULL, 3 * DAY, "email", "news", "c3");
    BUY(3, "a", NULL, 4 * DAY, "100.0");
    TOUCH(4, "b", "u1", 0, "referral", "blog", NULL);
    TOUCH(5, "c", "u1", DAY, "paid_search", "baidu", "c1");
    BUY(6, "c", "u1", DAY + HOUR, "50.0");
    TOUCH(7, "d", NULL, 0, "email", "news", "c3");
    BUY(8, "d", NULL, 40 * DAY, "0.0");
    BUY(9, "e", NULL, DAY, "0.0");
    BUY(10, "f", NULL, DAY, "0.0");
    TOUCH(11, "f", NULL, 2 * DAY, "email", "news", "c3");
    for (i = 0; i < 12; i++) {
        p[i] = lines[i];
    }

    mkt_report_opts_init(&o);
    rp = report(&o, p, 12);
    assert_near(rp->attributed, 5, 0);
    assert_near(rp->attributed_rev, 150, 0);

    /* first, last, linear, time decay, position (40/20/40; 50/50 for two) */
    c = credit(rp, MKT_DIM_CHANNEL, "paid_search");
    assert_near(c->conv[MKT_MODEL_FIRST], 1, 1e-12);
    assert_near(c->conv[MKT_MODEL_LAST], 1, 1e-12);
    assert_near(c->conv[MKT_MODEL_LINEAR], 1.0 / 3 + 0.5, 1e-12);
    assert_near(c->conv[MKT_MODEL_DECAY],
                0.280511687789399 + 0.524735048817402, 1e-12);
    assert_near(c->conv[MKT_MODEL_POSITION], 0.4 + 0.5, 1e-12);
    assert_near(c->rev[MKT_MODEL_FIRST], 100, 1e-9);
    assert_near(c->rev[MKT_MODEL_LAST], 50, 1e-9);
    assert_near(c->rev[MKT_MODEL_LINEAR], 100.0 / 3 + 25, 1e-9);
    assert_near(c->rev[MKT_MODEL_DECAY],
                28.0511687789399 + 50 * 0.524735048817402, 1e-9);
    assert_near(c->rev[MKT_MODEL_POSITION], 65, 1e-9);

    c = credit(rp, MKT_DIM_CHANNEL, "organic_social");
    assert_near(c->conv[MKT_MODEL_FIRST], 0, 1e-12);
    assert_near(c->conv[MKT_MODEL_LAST], 0, 1e-12);
    assert_near(c->conv[MKT_MODEL_LINEAR], 1.0 / 3, 1e-12);
    assert_near(c->conv[MKT_MODEL_DECAY], 0.341947577579221, 1e-12);
    assert_near(c->conv[MKT_MODEL_POSITION], 0.2, 1e-12);

    c = credit(rp, MKT_DIM_CHANNEL, "email");
    assert_near(c->conv[MKT_MODEL_FIRST], 0, 1e-12);
    assert_near(c->conv[MKT_MODEL_LAST], 1, 1e-12);
    assert_near(c->conv[MKT_MODEL_LINEAR], 1.0 / 3, 1e-12);
    assert_near(c->conv[MKT_MODEL_DECAY], 0.37754073463138, 1e-12);
    assert_near(c->conv[MKT_MODEL_POSITION], 0.4, 1e-12);

    c = credit(rp, MKT_DIM_CHANNEL, "referral");
    assert_near(c->conv[MKT_MODEL_FIRST], 1, 1e-12);
    assert_near(c->conv[MKT_MODEL_LAST], 0, 1e-12);
    assert_near(c->conv[MKT_MODEL_LINEAR], 0.5, 1e-12);
    assert_near(c->conv[MKT_MODEL_DECAY], 0.475264951182598, 1e-12);
    assert_near(c->conv[MKT_MODEL_POSITION], 0.5, 1e-12);

    c = credit(rp, MKT_DIM_CHANNEL, MKT_REPORT_DIRECT);
    for (i = 0; i < MKT_MODELS; i++) {
        assert_near(c->conv[i], 3, 1e-12);
    }

    /* the same touches by source and by campaign */
    c = credit(rp, MKT_DIM_SOURCE, "baidu");
    assert_near(c->conv[MKT_MODEL_POSITION], 0.9, 1e-12);
    c = credit(rp, MKT_DIM_CAMPAIGN, "(none)");     /* the referral's */
    assert_near(c->conv[MKT_MODEL_FIRST], 1, 1e-12);
    assert_int_equal(rp->ncredit[MKT_DIM_CHANNEL], 5);

    /* sorted by last-touch conversions: (direct) 3, then email and
     * paid_search 1 by name */
    assert_memory_equal(rp->credit[MKT_DIM_CHANNEL][0].name.data,
                        "(direct)", 8);
    assert_memory_equal(rp->credit[MKT_DIM_CHANNEL][1].name.data, "email", 5);
    mkt_report_free(rp);

    /* a 2-day lookback leaves P1 only its day-2 and day-3 touches */
    o.lookback = 2 * DAY;
    rp = report(&o, p, 12);
    c = credit(rp, MKT_DIM_CHANNEL, "organic_social");
    assert_near(c->conv[MKT_MODEL_FIRST], 1, 1e-12);
    assert_near(c->conv[MKT_MODEL_POSITION], 0.5, 1e-12);
    mkt_report_free(rp);
#undef TOUCH
#undef BUY
}


/* Touches many half-lives old: 2^-age underflows to 0 for every one of
 * them, but their shares are relative, so they still sum to 1. */
static void
test_time_decay_credits_touches_many_half_lives_old(void **state)
{
    static const char *const  lines[] = {
        "{\"ts\":0,\"type\":\"touch\",\"vid\":\"a\","
        "\"channel\":\"paid_search\",\"lt\":{\"source\":\"baidu\"}}",
        "{\"ts\":3600000,\"type\":\"touch\",\"vid\":\"a\","
        "\"channel\":\"email\",\"lt\":{\"source\":\"news\"}}",
        "{\"ts\":1728000000,\"type\":\"conversion\",\"vid\":\"a\","
        "\"goal\":\"purchase\",\"value\":10.0}"
    };
    mkt_report_opts_t           o;
    mkt_report_t               *rp;
    const mkt_report_credit_t  *c;

    /* 20 days with a half-life of 0.01 day: 2000 half-lives */
    mkt_report_opts_init(&o);
    o.half_life = DAY / 100;
    rp = report(&o, lines, 3);

    /* the newer by an hour, 25/6 half-lives: 1 / (1 + 2^(-25/6)) */
    c = credit(rp, MKT_DIM_CHANNEL, "email");
    assert_near(c->conv[MKT_MODEL_DECAY], 0.9472557, 1e-6);
    assert_near(c->rev[MKT_MODEL_DECAY], 9.472557, 1e-5);
    c = credit(rp, MKT_DIM_CHANNEL, "paid_search");
    assert_near(c->conv[MKT_MODEL_DECAY], 0.0527443, 1e-6);
    mkt_report_free(rp);
}


static void
test_parse_time_takes_ms_seconds_dates_and_rfc3339(void **state)
{
    int64_t  t;

    assert_int_equal(mkt_report_parse_time("1763870000123", &t), 0);
    assert_true(t == 1763870000123LL);
    assert_int_equal(mkt_report_parse_time("1763870000", &t), 0);
    assert_true(t == 1763870000000LL);
    /* 2026-11-01: 20758 days after 1970-01-01 (date -u -d 2026-11-01 +%s
     * = 1793491200) */
    assert_int_equal(mkt_report_parse_time("2026-11-01", &t), 0);
    assert_true(t == 1793491200000LL);
    assert_int_equal(mkt_report_parse_time("2026-11-01T01:00:00Z", &t), 0);
    assert_true(t == 1793494800000LL);
    assert_int_equal(mkt_report_parse_time("yesterday", &t), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_reads_the_members_it_uses_and_skips_the_rest),
        cmocka_unit_test(test_parse_refuses_what_is_not_an_event),
        cmocka_unit_test(test_experiment_counts_first_exposures_and_later_conversions),
        cmocka_unit_test(test_cuped_uses_pre_exposure_conversions),
        cmocka_unit_test(test_goal_and_time_window_restrict_the_report),
        cmocka_unit_test(test_sequential_bounds_follow_the_normal_mixture),
        cmocka_unit_test(test_attribution_models_on_hand_built_journeys),
        cmocka_unit_test(test_time_decay_credits_touches_many_half_lives_old),
        cmocka_unit_test(test_parse_time_takes_ms_seconds_dates_and_rfc3339),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
