/* `mkt report`: experiment results, funnel and channel attribution from
 * recorded events (DESIGN.md sections 8 and 9).  Events are added one
 * line at a time in any order; memory grows with visitors (and their
 * conversions and touches), not with events; mkt_report_finish() joins
 * each person's events and computes every number the output formats
 * print.  docs/report.md is the reference. */
#ifndef MKT_REPORT_H
#define MKT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "stats.h"
#include "strtab.h"

#define MKT_REPORT_DAY_MS  86400000LL

typedef struct {
    const mkt_config_t  *cfg;           /* NULL: experiments, variations
                                         * and goals from the events */
    const char          *goal;          /* NULL: every goal */
    int64_t              from;          /* ms, inclusive; INT64_MIN */
    int64_t              to;            /* ms, exclusive; INT64_MAX */
    int64_t              lookback;      /* ms; 30 days */
    int64_t              half_life;     /* ms; 7 days */
    double               seq_tuning;    /* --sequential: the sample size
                                         * the bound is tightest at; 0 off */
} mkt_report_opts_t;

/* Defaults above in o. */
void mkt_report_opts_init(mkt_report_opts_t *o);

/* The counters below, for printing them in order. */
#define MKT_REPORT_COUNTERS(X)                                                \
    X(lines) X(malformed) X(other_type) X(out_of_range) X(anonymous)          \
    X(exposures) X(conversions) X(touches) X(duplicates) X(visitors)          \
    X(users) X(persons)

typedef struct {
    uint64_t  lines;            /* read, blank ones included */
    uint64_t  malformed;        /* not an event: skipped */
    uint64_t  other_type;       /* an event of another type: skipped */
    uint64_t  out_of_range;     /* before --from or from --to on */
    uint64_t  anonymous;        /* no vid and no uid: skipped */
    uint64_t  exposures;
    uint64_t  conversions;
    uint64_t  touches;
    uint64_t  duplicates;       /* conversions and touches with an id
                                 * seen before for the same person */
    uint64_t  visitors;         /* distinct vids */
    uint64_t  users;            /* distinct uids */
    uint64_t  persons;          /* visitors joined through uids */
} mkt_report_counts_t;

/* One variation of an experiment for one goal. */
typedef struct {
    double  n;                  /* exposed visitors counted */
    double  x;                  /* of them, converting after exposure */
    double  rev, rev2;          /* revenue after exposure: sum over
                                 * visitors, sum of squares */
    double  cx, cxx, cxy;       /* CUPED covariate X, the visitor's
                                 * conversions of the goal before
                                 * exposure: sums of X, X^2, X*Y */
} mkt_report_cell_t;

typedef struct {
    mkt_str_t            key;
    int                  in_config;
    size_t               nvars;
    mkt_str_t           *vars;          /* variation 0 is the control */
    double              *weights;       /* configured, else equal */
    size_t               nconfigured;   /* variations of the config */
    double              *exposed;       /* by variation */
    double               multi;         /* in more than one variation:
                                         * excluded */
    size_t               ngoals;
    size_t              *goals;         /* report goal indices */
    mkt_report_cell_t   *cells;         /* [var * ngoals + goal] */
    double              *funnel;        /* [var * report ngoals + step] */
    double               srm_chi2;
    double               srm_p;         /* flag when < 0.001 */
} mkt_report_exp_t;

#define MKT_REPORT_SRM_ALPHA  0.001

typedef enum {
    MKT_MODEL_FIRST = 0,
    MKT_MODEL_LAST,
    MKT_MODEL_LINEAR,
    MKT_MODEL_DECAY,
    MKT_MODEL_POSITION,
    MKT_MODELS
} mkt_report_model_e;

typedef enum {
    MKT_DIM_CHANNEL = 0,
    MKT_DIM_SOURCE,
    MKT_DIM_CAMPAIGN,
    MKT_DIMS
} mkt_report_dim_e;

/* Credit of one channel, source or campaign under each model. */
typedef struct {
    mkt_str_t  name;
    double     conv[MKT_MODELS];
    double     rev[MKT_MODELS];
} mkt_report_credit_t;

/* The name given to conversions without a touch in the lookback
 * window, in every dimension. */
#define MKT_REPORT_DIRECT  "(direct)"

typedef struct mkt_report_s  mkt_report_t;

struct mkt_report_s {
    mkt_report_opts_t     opts;
    mkt_report_counts_t   counts;

    /* results, after mkt_report_finish() */
    size_t                ngoals;
    mkt_str_t            *goals;        /* config order, then as seen */
    size_t                nexps;
    mkt_report_exp_t     *exps;         /* config order, then as seen; only
                                         * those with exposures */
    double               *funnel;       /* [step]: persons reaching it */
    double                funnel_base;  /* persons with any event */
    mkt_report_credit_t  *credit[MKT_DIMS];
    size_t                ncredit[MKT_DIMS];    /* sorted by last-touch
                                                 * conversions, descending */
    double                attributed;   /* conversions credited */
    double                attributed_rev;
    size_t                memory;       /* peak bytes of the visitor
                                         * tables (approximately) */

    void                 *priv;
};

/* NULL when out of memory. */
mkt_report_t *mkt_report_create(const mkt_report_opts_t *opts);
void mkt_report_free(mkt_report_t *rp);

/* Adds one line (no newline needed; a trailing "\r" or "\n" is ignored).
 * 0, or -1 when out of memory (the line is lost; the report is still
 * consistent). */
int mkt_report_add_line(mkt_report_t *rp, const char *line, size_t len);

/* Joins and computes.  0, or -1 when out of memory. */
int mkt_report_finish(mkt_report_t *rp);

/* A variation against the control (variation 0) for one goal of an
 * experiment. */
typedef struct {
    double           rate;          /* x / n */
    double           rpv;           /* revenue per visitor */
    mkt_stats_cmp_t  conv;          /* two-proportion z-test */
    mkt_stats_cmp_t  rev;           /* Welch's t-test */
    double           beat;          /* chance to beat control */
    double           cuped_diff;    /* CUPED-adjusted rate difference */
    double           cuped_lo, cuped_hi, cuped_p;
    double           cuped_theta;
    double           var_reduction; /* 1 - Var(adjusted) / Var(plain) */
    double           seq_lo, seq_hi;    /* always-valid 95% bounds of the
                                         * rate difference; NaN when off */
} mkt_report_cmp_t;

void mkt_report_compare(const mkt_report_t *rp, const mkt_report_exp_t *e,
    size_t var, size_t goal, mkt_report_cmp_t *out);

const char *mkt_report_model_name(mkt_report_model_e m);
const char *mkt_report_dim_name(mkt_report_dim_e d);

/* Parses a time for --from and --to: unix milliseconds (13 or more
 * digits), unix seconds, "YYYY-MM-DD" or RFC 3339 "YYYY-MM-DDTHH:MM:SSZ".
 * 0, or -1. */
int mkt_report_parse_time(const char *s, int64_t *ms);

#endif
