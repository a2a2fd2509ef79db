/* Synthetic events with a known truth, for testing `mkt report` and for
 * `mkt gen`: visitors arriving through channels, exposed to one
 * experiment, converting with a known rate and a known relative uplift in
 * every treatment.  Deterministic: the same options give the same bytes. */
#ifndef MKT_REPORT_GEN_H
#define MKT_REPORT_GEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t     seed;
    uint64_t     visitors;
    const char  *exp;               /* experiment key */
    unsigned     nvars;             /* 2 to 8: "control", "v1", ... */
    double       rate;              /* P(signup after exposure), control */
    double       uplift;            /* relative, of every treatment */
    double       purchase_rate;     /* P(purchase | signup) */
    double       value;             /* mean purchase value */
    double       spread;            /* sd of the log of each visitor's
                                     * propensity (lognormal, mean 1);
                                     * what CUPED can explain */
    int64_t      start;             /* ms of the first arrival */
    double       days;              /* arrivals spread over this */
} mkt_gen_opts_t;

void mkt_gen_opts_init(mkt_gen_opts_t *o);

/* Called with each event line (no newline). */
typedef int (*mkt_gen_out_pt)(void *data, const char *line, size_t len);

/* Generates o->visitors visitors' events, each visitor's in time order.
 * 0, or what out returned when not 0, or -1 for bad options. */
int mkt_gen_run(const mkt_gen_opts_t *o, mkt_gen_out_pt out, void *data);

#endif
