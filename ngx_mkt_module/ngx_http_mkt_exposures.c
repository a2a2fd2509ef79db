/*
 * Exposures counted per running experiment and variation in shared
 * memory, summed across workers, with a live sample-ratio-mismatch check
 * for mkt_status: a broken split shows at the edge within minutes.
 *
 * The zone's name carries a digest of what the counts mean (every running
 * experiment's key, variations, weights, coverage and bucketVersion): a
 * reload that keeps them keeps the counts, one that changes them starts
 * afresh, as a changed split must be judged on its own exposures.
 */

#include "ngx_http_mkt_module.h"

#include "hash.h"
#include "stats.h"


/* chi-square wants every expected count at least this large */
#define NGX_HTTP_MKT_SRM_MIN_EXPECTED  5
#define NGX_HTTP_MKT_SRM_ALPHA         0.001


struct ngx_http_mkt_exposures_s {
    ngx_shm_zone_t            *zone;
    ngx_uint_t                *offset;        /* per experiment: its first
                                               * counter, or NGX_MAX_INT_T
                                               * when not running */
    ngx_uint_t                 total;         /* counters */
};


static ngx_int_t ngx_http_mkt_exposures_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);


/*
 * One family per name, its lines together: the exposures counter of
 * mkt_status (unlabelled) and its breakdown share the name
 * mkt_exposures_total, so they are written here as one family.
 */
static ngx_str_t  ngx_http_mkt_exposures_help = ngx_string(
    "# HELP mkt_exposures_total First exposures of a visitor to a "
    "variation that day (counted with or without an event sink); "
    "labelled: per running experiment and variation\n"
    "# TYPE mkt_exposures_total counter\n");

static ngx_str_t  ngx_http_mkt_srm_p_help = ngx_string(
    "# HELP mkt_srm_p_value Sample-ratio-mismatch chi-square p-value "
    "against the weights (-1: too few exposures)\n"
    "# TYPE mkt_srm_p_value gauge\n");

static ngx_str_t  ngx_http_mkt_srm_mismatch_help = ngx_string(
    "# HELP mkt_srm_mismatch 1 when the SRM p-value is under 0.001\n"
    "# TYPE mkt_srm_mismatch gauge\n");


static uint32_t
ngx_http_mkt_exposures_digest(mkt_config_t *cfg)
{
    size_t                   i, j, n;
    uint32_t                 h;
    double                   w;
    const mkt_experiment_t  *e;

    h = MKT_FNV32A_INIT;
    n = mkt_config_experiment_count(cfg);

    for (i = 0; i < n; i++) {
        e = mkt_config_experiment(cfg, i);

        if (e->status != MKT_EXP_RUNNING) {
            continue;
        }

        h = mkt_fnv32a(h, e->key.data, e->key.len);
        h = mkt_fnv32a(h, "\0", 1);

        for (j = 0; j < e->nvariations; j++) {
            w = e->weights ? e->weights[j] : -1;
            h = mkt_fnv32a(h, e->variations[j].data,
                                  e->variations[j].len);
            h = mkt_fnv32a(h, &w, sizeof(double));
        }

        h = mkt_fnv32a(h, &e->coverage, sizeof(double));
        h = mkt_fnv32a(h, &e->bucket_version,
                              sizeof(uint32_t));
    }

    return h;
}


/* At configuration time, once the config is loaded. */
ngx_int_t
ngx_http_mkt_exposures_conf(ngx_conf_t *cf, ngx_http_mkt_main_conf_t *mcf)
{
    size_t                       i, n;
    ngx_str_t                    name;
    mkt_config_t                *cfg = mcf->config;
    const mkt_experiment_t      *e;
    ngx_http_mkt_exposures_t    *x;

    n = mkt_config_experiment_count(cfg);

    x = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_exposures_t));
    if (x == NULL) {
        return NGX_ERROR;
    }

    x->offset = ngx_palloc(cf->pool, (n + 1) * sizeof(ngx_uint_t));
    if (x->offset == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        e = mkt_config_experiment(cfg, i);

        if (e->status != MKT_EXP_RUNNING) {
            x->offset[i] = NGX_MAX_INT_T_VALUE;
            continue;
        }

        x->offset[i] = x->total;
        x->total += e->nvariations;
    }

    mcf->exposures = x;

    if (x->total == 0) {
        return NGX_OK;
    }

    name.data = ngx_pnalloc(cf->pool, sizeof("mkt_exposures_") + 8);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    name.len = ngx_sprintf(name.data, "mkt_exposures_%08xD",
                           ngx_http_mkt_exposures_digest(cfg))
               - name.data;

    x->zone = ngx_shared_memory_add(cf, &name,
                                    8 * ngx_pagesize
                                    + x->total * sizeof(ngx_atomic_t),
                                    &ngx_http_mkt_module);
    if (x->zone == NULL) {
        return NGX_ERROR;
    }

    if (x->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_ERROR;
    }

    x->zone->init = ngx_http_mkt_exposures_zone_init;
    x->zone->data = x;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_exposures_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mkt_exposures_t  *x = shm_zone->data;

    /* the same name: the same experiments, splits and counters */
    shm_zone->data = ngx_http_mkt_shm_calloc(shm_zone, data,
                                             x->total * sizeof(ngx_atomic_t));

    return shm_zone->data ? NGX_OK : NGX_ERROR;
}


void
ngx_http_mkt_exposures_count(ngx_http_request_t *r, ngx_uint_t exp,
    ngx_uint_t variation)
{
    ngx_atomic_t              *counts;
    ngx_http_mkt_exposures_t  *x;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    x = mcf->exposures;

    if (x == NULL || x->zone == NULL || x->offset[exp] == NGX_MAX_INT_T_VALUE)
    {
        return;
    }

    counts = x->zone->data;
    (void) ngx_atomic_fetch_add(&counts[x->offset[exp] + variation], 1);
}


/*
 * The p-value of Pearson's chi-square test of the counts against the
 * configured weights, or -1 while some expected count is under 5 (the
 * test is not valid yet).
 */
static double
ngx_http_mkt_srm_p(const mkt_experiment_t *e, ngx_atomic_t *counts)
{
    size_t  j;
    double  n, w, chi2;
    double  observed[MKT_EXP_VARIATIONS_MAX], weights[MKT_EXP_VARIATIONS_MAX];

    n = 0;
    w = 0;

    for (j = 0; j < e->nvariations; j++) {
        observed[j] = (double) counts[j];
        weights[j] = e->weights ? e->weights[j] : 1.0;
        n += observed[j];
        w += weights[j];
    }

    for (j = 0; j < e->nvariations; j++) {
        /* a variation of weight 0 takes no one: not a cell of the test */
        if (weights[j] > 0
            && n * weights[j] / w < NGX_HTTP_MKT_SRM_MIN_EXPECTED)
        {
            return -1;
        }
    }

    return mkt_stats_srm(observed, weights, (int) e->nvariations, &chi2);
}


/*
 * The Prometheus families of the exposures, each whole: the exposures
 * counter and its breakdown per running experiment and variation, the
 * SRM p-values, the SRM flags.
 */
static u_char *
ngx_http_mkt_exposures_prom(u_char *p, ngx_http_mkt_main_conf_t *mcf,
    double *srm_p)
{
    size_t                     i, j, n;
    ngx_atomic_t              *counts;
    const mkt_experiment_t    *e;
    ngx_http_mkt_shctx_t      *sh;
    ngx_http_mkt_exposures_t  *x;

    x = mcf->exposures;
    sh = mcf->status_zone->data;
    n = mkt_config_experiment_count(mcf->config);

    p = ngx_cpymem(p, ngx_http_mkt_exposures_help.data,
                   ngx_http_mkt_exposures_help.len);
    p = ngx_sprintf(p, "mkt_exposures_total %uA\n",
                    sh->counter[NGX_HTTP_MKT_C_exposures]);

    for (i = 0; i < n; i++) {
        if (x->offset[i] == NGX_MAX_INT_T_VALUE) {
            continue;
        }

        e = mkt_config_experiment(mcf->config, i);
        counts = (ngx_atomic_t *) x->zone->data + x->offset[i];

        for (j = 0; j < e->nvariations; j++) {
            p = ngx_sprintf(p, "mkt_exposures_total{experiment=\"%*s\","
                            "variation=\"%*s\"} %uA\n",
                            e->key.len, e->key.data,
                            e->variations[j].len, e->variations[j].data,
                            counts[j]);
        }
    }

    p = ngx_cpymem(p, ngx_http_mkt_srm_p_help.data,
                   ngx_http_mkt_srm_p_help.len);

    for (i = 0; i < n; i++) {
        if (x->offset[i] != NGX_MAX_INT_T_VALUE) {
            e = mkt_config_experiment(mcf->config, i);
            p = ngx_sprintf(p, "mkt_srm_p_value{experiment=\"%*s\"} %s%.6f\n",
                            e->key.len, e->key.data, srm_p[i] < 0 ? "-" : "",
                            srm_p[i] < 0 ? 1.0 : srm_p[i]);
        }
    }

    p = ngx_cpymem(p, ngx_http_mkt_srm_mismatch_help.data,
                   ngx_http_mkt_srm_mismatch_help.len);

    for (i = 0; i < n; i++) {
        if (x->offset[i] != NGX_MAX_INT_T_VALUE) {
            e = mkt_config_experiment(mcf->config, i);
            p = ngx_sprintf(p, "mkt_srm_mismatch{experiment=\"%*s\"} %d\n",
                            e->key.len, e->key.data,
                            srm_p[i] >= 0 && srm_p[i] < NGX_HTTP_MKT_SRM_ALPHA);
        }
    }

    return p;
}


/*
 * The "experiments" member of the JSON status (with a leading comma), or
 * the Prometheus families of the exposures (the exposures counter
 * included): per running experiment, exposures per variation, the SRM
 * p-value and flag.  NULL when no experiment is counted.
 */
ngx_buf_t *
ngx_http_mkt_exposures_status(ngx_http_request_t *r, ngx_uint_t prom)
{
    size_t                     i, j, n, size;
    double                     p, *srm_p;
    ngx_buf_t                 *b;
    mkt_config_t              *cfg;
    ngx_atomic_t              *counts;
    const mkt_experiment_t    *e;
    ngx_http_mkt_exposures_t  *x;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    x = mcf->exposures;
    cfg = mcf->config;

    if (x == NULL || x->zone == NULL) {
        return NULL;
    }

    n = mkt_config_experiment_count(cfg);

    /* keys and names are at most 64 bytes of [A-Za-z0-9_.-]: no escaping */
    size = sizeof(",\"experiments\":{}}\n") + ngx_http_mkt_exposures_help.len
           + ngx_http_mkt_srm_p_help.len + ngx_http_mkt_srm_mismatch_help.len
           + sizeof("mkt_exposures_total \n") + NGX_ATOMIC_T_LEN
           + x->total * (sizeof("mkt_exposures_total{experiment=\"\","
                                "variation=\"\"} \n") + 128
                         + NGX_ATOMIC_T_LEN)
           + n * (sizeof("mkt_srm_p_value{experiment=\"\"} 0.000000\n"
                         "mkt_srm_mismatch{experiment=\"\"} 0\n") + 128);

    b = ngx_create_temp_buf(r->pool, size);
    srm_p = ngx_palloc(r->pool, (n ? n : 1) * sizeof(double));
    if (b == NULL || srm_p == NULL) {
        return NULL;
    }

    /* each p-value once: the flag must agree with the value shown */
    for (i = 0; i < n; i++) {
        if (x->offset[i] != NGX_MAX_INT_T_VALUE) {
            srm_p[i] = ngx_http_mkt_srm_p(mkt_config_experiment(cfg, i),
                                          (ngx_atomic_t *) x->zone->data
                                          + x->offset[i]);
        }
    }

    if (prom) {
        b->last = ngx_http_mkt_exposures_prom(b->last, mcf, srm_p);
        return b;
    }

    b->last = ngx_cpymem(b->last, ",\"experiments\":{",
                         sizeof(",\"experiments\":{") - 1);

    for (i = 0; i < n; i++) {
        if (x->offset[i] == NGX_MAX_INT_T_VALUE) {
            continue;
        }

        e = mkt_config_experiment(cfg, i);
        counts = (ngx_atomic_t *) x->zone->data + x->offset[i];
        p = srm_p[i];

        b->last = ngx_sprintf(b->last, "%s\"%*s\":{\"exposures\":{",
                              b->last[-1] == '{' ? "" : ",",
                              e->key.len, e->key.data);

        for (j = 0; j < e->nvariations; j++) {
            b->last = ngx_sprintf(b->last, "%s\"%*s\":%uA", j ? "," : "",
                                  e->variations[j].len,
                                  e->variations[j].data, counts[j]);
        }

        if (p < 0) {
            b->last = ngx_sprintf(b->last, "},\"srm_p\":null,"
                                  "\"srm\":false}");

        } else {
            b->last = ngx_sprintf(b->last, "},\"srm_p\":%.6f,\"srm\":%s}",
                                  p, p < NGX_HTTP_MKT_SRM_ALPHA ? "true"
                                                                : "false");
        }
    }

    *b->last++ = '}';

    return b;
}
