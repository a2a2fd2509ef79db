/* The report's reading state, shared by report.c (reading) and
 * report_join.c (joining and computing); not for other users. */
#ifndef MKT_REPORT_INT_H
#define MKT_REPORT_INT_H

#include "report.h"

/* Per visitor: heads of its lists (indices, 0xffffffff for none). */
typedef struct {
    uint32_t  uid;
    uint32_t  expo;
    uint32_t  conv;
    uint32_t  touch;
} rp_visitor_t;

#define RP_GOAL  0          /* key[RP_GOAL] of a conversion */

typedef struct {
    int64_t   ts;           /* first exposure */
    uint32_t  exp;
    uint32_t  var;          /* local to the experiment */
    uint32_t  next;
    uint32_t  multi;        /* seen in another variation too */
} rp_expo_t;

/* A conversion (key[0] its goal, value its value) or a touch (key[] its
 * channel, source and campaign by mkt_report_dim_e). */
typedef struct {
    int64_t   ts;
    uint64_t  id;           /* hash of "id", 0 when absent */
    double    value;
    uint32_t  key[MKT_DIMS];
    uint32_t  next;
} rp_item_t;

/* Exposures, conversions and touches: all of them as read (lists
 * threaded through next), or one person's as joined. */
typedef struct {
    rp_expo_t      *expos;
    size_t          nexpos, expos_cap;
    rp_item_t      *convs;
    size_t          nconvs, convs_cap;
    rp_item_t      *touches;
    size_t          ntouches, touches_cap;
} rp_lists_t;

/* Room in the vector *v of elements of size sz for n of them (doubling).
 * 0, or -1 when out of memory. */
int mkt_report_reserve(void **v, size_t *cap, size_t n, size_t sz);

/* A pointer to a new last element of vec (count n, capacity cap), NULL
 * when out of memory. */
#define RP_PUSH(vec, n, cap)                                                  \
    (mkt_report_reserve((void **) &(vec), &(cap), (n) + 1, sizeof(*(vec)))    \
     == 0 ? &(vec)[(n)++] : NULL)

typedef struct {
    const mkt_experiment_t  *config;    /* NULL: only in the events */
    uint32_t                *vars;      /* global variation indices */
    size_t                   nvars;
    size_t                   cap;
    uint64_t                 exposures;
} rp_exp_t;

typedef struct {
    mkt_report_t   *rp;
    mkt_strtab_t    vids;
    mkt_strtab_t    uids;
    mkt_strtab_t    exp_names;
    mkt_strtab_t    var_names;
    mkt_strtab_t    goals;
    mkt_strtab_t    dims[MKT_DIMS];

    rp_visitor_t   *visitors;       /* by vids index */
    size_t          nvisitors, visitors_cap;
    rp_lists_t      all;
    rp_exp_t       *exps;           /* by exp_names index */
    size_t          nexps, exps_cap;
} rp_t;

#endif
