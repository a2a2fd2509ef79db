/* Reading events into per-visitor lists, then joining each person's
 * (visitors linked by a uid) exposures, conversions and touches: the
 * experiment cells, the funnel and the attribution credit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_event.h"
#include "report_int.h"

#define NONE  0xffffffffu


void
mkt_report_opts_init(mkt_report_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->from = INT64_MIN;
    o->to = INT64_MAX;
    o->lookback = 30 * MKT_REPORT_DAY_MS;
    o->half_life = 7 * MKT_REPORT_DAY_MS;
}


int
mkt_report_reserve(void **v, size_t *cap, size_t n, size_t sz)
{
    void    *p;
    size_t   c;

    if (n <= *cap) {
        return 0;
    }
    c = *cap ? *cap : 16;
    while (c < n) {
        c *= 2;
    }
    p = realloc(*v, c * sz);
    if (p == NULL) {
        return -1;
    }
    *v = p;
    *cap = c;
    return 0;
}


static size_t
intern(mkt_strtab_t *t, const char *s, size_t len)
{
    int  added;

    return mkt_strtab_add(t, s, len, &added);
}


/* An experiment as read: its variations as global indices, in local
 * order. */
static int
exp_add_var(rp_exp_t *e, uint32_t var, uint32_t *local)
{
    size_t     i;
    uint32_t  *v;

    for (i = 0; i < e->nvars; i++) {
        if (e->vars[i] == var) {
            *local = (uint32_t) i;
            return 0;
        }
    }
    v = RP_PUSH(e->vars, e->nvars, e->cap);
    if (v == NULL) {
        return -1;
    }
    *v = var;
    *local = (uint32_t) (e->nvars - 1);
    return 0;
}


static int
seed_from_config(rp_t *p)
{
    const mkt_config_t      *cfg = p->rp->opts.cfg;
    const mkt_experiment_t  *x;
    const mkt_str_t         *g;
    rp_exp_t                *e;
    size_t                   i, j, k;
    uint32_t                 local;

    if (cfg == NULL) {
        return 0;
    }

    for (i = 0; i < mkt_config_goal_count(cfg); i++) {
        g = mkt_config_goal(cfg, i);
        if (intern(&p->goals, g->data, g->len) == (size_t) -1) {
            return -1;
        }
    }

    for (i = 0; i < mkt_config_experiment_count(cfg); i++) {
        x = mkt_config_experiment(cfg, i);
        k = intern(&p->exp_names, x->key.data, x->key.len);
        if (k == (size_t) -1 || RP_PUSH(p->exps, p->nexps, p->exps_cap) == NULL)
        {
            return -1;
        }
        e = &p->exps[k];
        memset(e, 0, sizeof(*e));
        e->config = x;
        for (j = 0; j < x->nvariations; j++) {
            k = intern(&p->var_names, x->variations[j].data,
                       x->variations[j].len);
            if (k == (size_t) -1 || exp_add_var(e, (uint32_t) k, &local) != 0)
            {
                return -1;
            }
        }
    }
    return 0;
}


mkt_report_t *
mkt_report_create(const mkt_report_opts_t *opts)
{
    mkt_report_t  *rp;
    rp_t          *p;
    int            d;

    rp = calloc(1, sizeof(*rp));
    p = calloc(1, sizeof(*p));
    if (rp == NULL || p == NULL) {
        free(rp);
        free(p);
        return NULL;
    }
    rp->opts = *opts;
    rp->priv = p;
    p->rp = rp;

    mkt_strtab_init(&p->vids);
    mkt_strtab_init(&p->uids);
    mkt_strtab_init(&p->exp_names);
    mkt_strtab_init(&p->var_names);
    mkt_strtab_init(&p->goals);
    for (d = 0; d < MKT_DIMS; d++) {
        mkt_strtab_init(&p->dims[d]);
    }

    if (seed_from_config(p) != 0) {
        mkt_report_free(rp);
        return NULL;
    }
    return rp;
}


static void
free_results(mkt_report_t *rp)
{
    size_t  i;
    int     d;

    for (i = 0; i < rp->nexps; i++) {
        free(rp->exps[i].vars);
        free(rp->exps[i].weights);
        free(rp->exps[i].exposed);
        free(rp->exps[i].goals);
        free(rp->exps[i].cells);
        free(rp->exps[i].funnel);
    }
    free(rp->exps);
    free(rp->goals);
    free(rp->funnel);
    for (d = 0; d < MKT_DIMS; d++) {
        free(rp->credit[d]);
    }
}


void
mkt_report_free(mkt_report_t *rp)
{
    rp_t    *p;
    size_t   i;
    int      d;

    if (rp == NULL) {
        return;
    }
    p = rp->priv;
    free_results(rp);

    mkt_strtab_free(&p->vids);
    mkt_strtab_free(&p->uids);
    mkt_strtab_free(&p->exp_names);
    mkt_strtab_free(&p->var_names);
    mkt_strtab_free(&p->goals);
    for (d = 0; d < MKT_DIMS; d++) {
        mkt_strtab_free(&p->dims[d]);
    }
    for (i = 0; i < p->nexps; i++) {
        free(p->exps[i].vars);
    }
    free(p->exps);
    free(p->visitors);
    free(p->all.expos);
    free(p->all.convs);
    free(p->all.touches);
    free(p);
    free(rp);
}


/* The visitor of an event: by vid, else by uid alone (a server-side
 * event without a cookie), as the pseudo-vid "\1" UID. */
static rp_visitor_t *
visitor_of(rp_t *p, const mkt_rev_t *ev)
{
    char           key[MKT_REV_STR_MAX + 1];
    const char    *s;
    size_t         len, i, u;
    rp_visitor_t  *v;
    int            added;

    if (ev->vid.len > 0) {
        s = ev->vid.data;
        len = ev->vid.len;
    } else {
        key[0] = '\1';
        memcpy(key + 1, ev->uid.data, ev->uid.len);
        s = key;
        len = ev->uid.len + 1;
    }

    i = mkt_strtab_add(&p->vids, s, len, &added);
    if (i == (size_t) -1) {
        return NULL;
    }
    if (added) {
        v = RP_PUSH(p->visitors, p->nvisitors, p->visitors_cap);
        if (v == NULL) {
            return NULL;
        }
        v->uid = v->expo = v->conv = v->touch = NONE;
    }
    v = &p->visitors[i];

    if (ev->uid.len > 0 && v->uid == NONE) {
        u = intern(&p->uids, ev->uid.data, ev->uid.len);
        if (u == (size_t) -1) {
            return NULL;
        }
        v->uid = (uint32_t) u;
    }
    return v;
}


static int
add_exposure(rp_t *p, rp_visitor_t *v, const mkt_rev_t *ev)
{
    size_t      k;
    uint32_t    i, var;
    rp_expo_t  *x;
    rp_exp_t   *e;

    k = intern(&p->exp_names, ev->exp.data, ev->exp.len);
    if (k == (size_t) -1) {
        return -1;
    }
    if (k == p->nexps) {
        e = RP_PUSH(p->exps, p->nexps, p->exps_cap);
        if (e == NULL) {
            return -1;
        }
        memset(e, 0, sizeof(*e));
    }
    e = &p->exps[k];

    i = (uint32_t) intern(&p->var_names, ev->var.data, ev->var.len);
    if (i == NONE || exp_add_var(e, i, &var) != 0) {
        return -1;
    }
    e->exposures++;

    for (i = v->expo; i != NONE; i = p->all.expos[i].next) {
        x = &p->all.expos[i];
        if (x->exp == k) {
            if (x->var != var) {
                x->multi = 1;
            }
            if (ev->ts < x->ts) {
                x->ts = ev->ts;
            }
            return 0;
        }
    }

    x = RP_PUSH(p->all.expos, p->all.nexpos, p->all.expos_cap);
    if (x == NULL) {
        return -1;
    }
    x->ts = ev->ts;
    x->exp = (uint32_t) k;
    x->var = var;
    x->multi = 0;
    x->next = v->expo;
    v->expo = (uint32_t) (p->all.nexpos - 1);
    return 0;
}


static int
add_conversion(rp_t *p, rp_visitor_t *v, const mkt_rev_t *ev)
{
    size_t      g;
    rp_item_t  *c;

    g = intern(&p->goals, ev->goal.data, ev->goal.len);
    c = g == (size_t) -1 ? NULL : RP_PUSH(p->all.convs, p->all.nconvs, p->all.convs_cap);
    if (c == NULL) {
        return -1;
    }
    memset(c, 0, sizeof(*c));
    c->ts = ev->ts;
    c->id = ev->id_hash;
    c->value = ev->has_value && isfinite(ev->value) ? ev->value : 0;
    c->key[RP_GOAL] = (uint32_t) g;
    c->next = v->conv;
    v->conv = (uint32_t) (p->all.nconvs - 1);
    return 0;
}


static int
add_touch(rp_t *p, rp_visitor_t *v, const mkt_rev_t *ev)
{
    const mkt_rev_str_t  *s[MKT_DIMS];
    rp_item_t           *t;
    size_t                k;
    int                   d;

    s[MKT_DIM_CHANNEL] = &ev->channel;
    s[MKT_DIM_SOURCE] = &ev->source;
    s[MKT_DIM_CAMPAIGN] = &ev->campaign;

    t = RP_PUSH(p->all.touches, p->all.ntouches, p->all.touches_cap);
    if (t == NULL) {
        return -1;
    }
    for (d = 0; d < MKT_DIMS; d++) {
        k = s[d]->len > 0 ? intern(&p->dims[d], s[d]->data, s[d]->len)
                          : intern(&p->dims[d], "(none)", 6);
        if (k == (size_t) -1) {
            p->all.ntouches--;
            return -1;
        }
        t->key[d] = (uint32_t) k;
    }
    t->ts = ev->ts;
    t->id = ev->id_hash;
    t->value = 0;
    t->next = v->touch;
    v->touch = (uint32_t) (p->all.ntouches - 1);
    return 0;
}


int
mkt_report_add_line(mkt_report_t *rp, const char *line, size_t len)
{
    rp_t           *p = rp->priv;
    rp_visitor_t   *v;
    mkt_rev_t       ev;

    rp->counts.lines++;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }

    if (mkt_rev_parse(line, len, &ev) != 0
        || (ev.type == MKT_EVENT_EXPOSURE
            && (ev.exp.len == 0 || ev.var.len == 0))
        || (ev.type == MKT_EVENT_CONVERSION && ev.goal.len == 0))
    {
        rp->counts.malformed++;
        return 0;
    }
    if (ev.type == MKT_EVENT_TYPES) {
        rp->counts.other_type++;
        return 0;
    }
    if (ev.ts < rp->opts.from || ev.ts >= rp->opts.to) {
        rp->counts.out_of_range++;
        return 0;
    }
    if (ev.vid.len == 0 && ev.uid.len == 0) {
        rp->counts.anonymous++;
        return 0;
    }

    v = visitor_of(p, &ev);
    if (v == NULL) {
        return -1;
    }

    switch (ev.type) {
    case MKT_EVENT_EXPOSURE:
        rp->counts.exposures++;
        return add_exposure(p, v, &ev);
    case MKT_EVENT_CONVERSION:
        rp->counts.conversions++;
        return add_conversion(p, v, &ev);
    default:
        rp->counts.touches++;
        return add_touch(p, v, &ev);
    }
}


const char *
mkt_report_model_name(mkt_report_model_e m)
{
    static const char *const  names[] = {
        "first_touch", "last_touch", "linear", "time_decay", "position"
    };

    return m < MKT_MODELS ? names[m] : "";
}


const char *
mkt_report_dim_name(mkt_report_dim_e d)
{
    static const char *const  names[] = { "channel", "source", "campaign" };

    return d < MKT_DIMS ? names[d] : "";
}


int
mkt_report_parse_time(const char *s, int64_t *ms)
{
    char     buf[32];
    char    *end;
    size_t   len;
    int64_t  v, sec;

    len = strlen(s);
    if (len > 0 && strspn(s, "0123456789") == len && len <= 16) {
        v = strtoll(s, &end, 10);
        *ms = len >= 13 ? v : v * 1000;
        return 0;
    }
    if (len == 10 && len + 10 < sizeof(buf)) {
        memcpy(buf, s, len);
        memcpy(buf + len, "T00:00:00Z", 11);
        s = buf;
        len += 10;
    }
    if (mkt_config_parse_time(s, len, &sec) != 0) {
        return -1;
    }
    *ms = sec * 1000;
    return 0;
}
