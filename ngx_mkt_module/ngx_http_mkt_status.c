/* Counters in a shared-memory zone, summed across workers, and the
 * mkt_status handler that reports them as JSON or Prometheus text. */

#include "ngx_http_mkt_module.h"


#define NGX_HTTP_MKT_STATUS_ZONE_SIZE  (64 * 1024)


static ngx_int_t ngx_http_mkt_status_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_mkt_status_handler(ngx_http_request_t *r);
static u_char *ngx_http_mkt_status_gauges(u_char *p, ngx_http_mkt_shctx_t *sh,
    ngx_uint_t prom);


#define NGX_HTTP_MKT_COUNTER_NAME(name, help)  ngx_string(#name),
#define NGX_HTTP_MKT_COUNTER_HELP(name, help)  ngx_string(help),

static ngx_str_t  ngx_http_mkt_counter_names[] = {
    NGX_HTTP_MKT_COUNTERS(NGX_HTTP_MKT_COUNTER_NAME)
};

static ngx_str_t  ngx_http_mkt_counter_help[] = {
    NGX_HTTP_MKT_COUNTERS(NGX_HTTP_MKT_COUNTER_HELP)
};


ngx_int_t
ngx_http_mkt_status_init_zone(ngx_conf_t *cf, ngx_http_mkt_main_conf_t *mcf)
{
    ngx_str_t  name = ngx_string("mkt_status");

    mcf->status_zone = ngx_shared_memory_add(cf, &name,
                                             NGX_HTTP_MKT_STATUS_ZONE_SIZE,
                                             &ngx_http_mkt_module);
    if (mcf->status_zone == NULL) {
        return NGX_ERROR;
    }

    if (mcf->status_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_ERROR;
    }

    mcf->status_zone->init = ngx_http_mkt_status_zone_init;
    mcf->status_zone->data = mcf;     /* for the init; then the counters */

    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_status_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mkt_main_conf_t  *mcf = shm_zone->data;

    /* counters live on across reloads, as Prometheus expects of them */
    shm_zone->data = ngx_http_mkt_shm_calloc(shm_zone, data,
                                             sizeof(ngx_http_mkt_shctx_t));
    if (shm_zone->data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_mkt_plugin_status_sync(shm_zone->data, mcf);

    return NGX_OK;
}


/*
 * The init of a zone holding one zeroed block: a zone reused on reload
 * (data) or already there keeps its block, a new one gets size bytes.
 * NULL when the slab pool cannot give them.
 */
void *
ngx_http_mkt_shm_calloc(ngx_shm_zone_t *shm_zone, void *data, size_t size)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        return data;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        return shpool->data;
    }

    shpool->data = ngx_slab_calloc(shpool, size);

    return shpool->data;
}


void
ngx_http_mkt_count(ngx_http_request_t *r, ngx_http_mkt_counter_e c)
{
    ngx_http_mkt_count_n(r, c, 1);
}


void
ngx_http_mkt_count_n(ngx_http_request_t *r, ngx_http_mkt_counter_e c,
    ngx_uint_t n)
{
    ngx_http_mkt_shctx_t      *sh;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    sh = mcf->status_zone->data;

    (void) ngx_atomic_fetch_add(&sh->counter[c], (ngx_atomic_int_t) n);
}


/* The same outside any request (Redis events), for this worker's cycle. */
void
ngx_http_mkt_count_worker(ngx_http_mkt_counter_e c)
{
    ngx_http_mkt_count_worker_n(c, 1);
}


void
ngx_http_mkt_count_worker_n(ngx_http_mkt_counter_e c, ngx_uint_t n)
{
    ngx_http_mkt_shctx_t      *sh;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_http_mkt_module);
    sh = mcf->status_zone->data;

    (void) ngx_atomic_fetch_add(&sh->counter[c], (ngx_atomic_int_t) n);
}


/*
 * This worker's slot of gauges, claimed by its pid: a free one, else one
 * left by a worker that died without releasing it.  NULL when all are
 * taken (the gauges then leave this worker out).
 */
ngx_http_mkt_gauges_t *
ngx_http_mkt_gauges_claim(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i, pass;
    ngx_atomic_uint_t          pid;
    ngx_http_mkt_gauges_t     *g;
    ngx_http_mkt_shctx_t      *sh;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);
    sh = mcf->status_zone->data;

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < NGX_HTTP_MKT_GAUGE_SLOTS; i++) {
            g = &sh->worker[i];
            pid = g->pid;

            if (pass == 1 && (pid == 0 || kill((pid_t) pid, 0) == 0
                              || ngx_errno != NGX_ESRCH))
            {
                continue;
            }

            if ((pass == 0 && pid != 0)
                || !ngx_atomic_cmp_set(&g->pid, pid, (ngx_atomic_uint_t)
                                                     ngx_pid))
            {
                continue;
            }

            g->redis_queue = 0;
            g->spool_oldest = 0;

            return g;
        }
    }

    return NULL;
}


void
ngx_http_mkt_gauges_release(ngx_http_mkt_gauges_t *g)
{
    g->redis_queue = 0;
    g->spool_oldest = 0;
    (void) ngx_atomic_cmp_set(&g->pid, (ngx_atomic_uint_t) ngx_pid, 0);
}


char *
ngx_http_mkt_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_loc_conf_t  *lcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mkt_status_handler;

    /* never tracked, even under "mkt on" (see the merge of loc confs) */
    lcf->status = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mkt_status_handler(ngx_http_request_t *r)
{
    size_t                     size;
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_str_t                  format;
    ngx_uint_t                 i, prom;
    ngx_buf_t                 *x;
    ngx_chain_t                out[3];
    ngx_http_mkt_shctx_t      *sh;
    ngx_http_mkt_main_conf_t  *mcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    prom = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            prom = 1;

        } else if (format.len != 4
                   || ngx_strncmp(format.data, "json", 4) != 0)
        {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    sh = mcf->status_zone->data;

    size = sizeof("{\"version\":\"" NGX_HTTP_MKT_VERSION "\"}\n") + 512
           + ngx_http_mkt_plugin_status_size(mcf);

    for (i = 0; i < NGX_HTTP_MKT_NCOUNTERS; i++) {
        size += sizeof("# HELP mkt_ \n# TYPE mkt__total counter\n"
                       "mkt__total \n") - 1
                + 3 * ngx_http_mkt_counter_names[i].len
                + ngx_http_mkt_counter_help[i].len + NGX_ATOMIC_T_LEN;
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* per experiment and variation, and the SRM check */
    x = ngx_http_mkt_exposures_status(r, prom);

    if (prom) {
        for (i = 0; i < NGX_HTTP_MKT_NCOUNTERS; i++) {
            if (x != NULL && i == NGX_HTTP_MKT_C_exposures) {
                /* written with its breakdown, as one family */
                continue;
            }

            b->last = ngx_sprintf(b->last,
                                  "# HELP mkt_%V_total %V\n"
                                  "# TYPE mkt_%V_total counter\n"
                                  "mkt_%V_total %uA\n",
                                  &ngx_http_mkt_counter_names[i],
                                  &ngx_http_mkt_counter_help[i],
                                  &ngx_http_mkt_counter_names[i],
                                  &ngx_http_mkt_counter_names[i],
                                  sh->counter[i]);
        }

        b->last = ngx_http_mkt_plugin_status(b->last, sh, mcf, 1);
        b->last = ngx_http_mkt_status_gauges(b->last, sh, 1);

        ngx_str_set(&r->headers_out.content_type,
                    "text/plain; version=0.0.4; charset=utf-8");

    } else {
        b->last = ngx_cpymem(b->last, "{\"version\":\"" NGX_HTTP_MKT_VERSION
                             "\"", sizeof("{\"version\":\""
                                          NGX_HTTP_MKT_VERSION "\"") - 1);

        for (i = 0; i < NGX_HTTP_MKT_NCOUNTERS; i++) {
            b->last = ngx_sprintf(b->last, ",\"%V\":%uA",
                                  &ngx_http_mkt_counter_names[i],
                                  sh->counter[i]);
        }

        b->last = ngx_http_mkt_plugin_status(b->last, sh, mcf, 0);
        b->last = ngx_http_mkt_status_gauges(b->last, sh, 0);

        ngx_str_set(&r->headers_out.content_type, "application/json");
    }

    out[0].buf = b;
    out[0].next = NULL;

    if (x != NULL) {
        out[0].next = &out[1];
        out[1].buf = x;
        out[1].next = NULL;
        b = x;
    }

    if (!prom) {
        /* closes the object in the last buffer; room was left for it */
        *b->last++ = '}';
        *b->last++ = '\n';
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = out[0].buf->last - out[0].buf->pos
                                      + (x ? x->last - x->pos : 0);

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out[0]);
}


/*
 * The gauges over the live workers' slots: events queued in memory for
 * Redis (summed) and the age of the oldest event waiting in a spool file
 * (the oldest of all).  A slot whose worker died is skipped.
 */
static u_char *
ngx_http_mkt_status_gauges(u_char *p, ngx_http_mkt_shctx_t *sh,
    ngx_uint_t prom)
{
    ngx_uint_t              i;
    ngx_msec_t              age;
    ngx_time_t             *tp;
    ngx_atomic_uint_t       queue, oldest, pid, ms, now;
    ngx_http_mkt_gauges_t  *g;

    queue = 0;
    oldest = 0;

    for (i = 0; i < NGX_HTTP_MKT_GAUGE_SLOTS; i++) {
        g = &sh->worker[i];
        pid = g->pid;

        if (pid == 0
            || (kill((pid_t) pid, 0) == -1 && ngx_errno == NGX_ESRCH))
        {
            continue;
        }

        queue += g->redis_queue;
        ms = g->spool_oldest;

        if (ms && (oldest == 0 || ms < oldest)) {
            oldest = ms;
        }
    }

    tp = ngx_timeofday();
    now = (ngx_atomic_uint_t) tp->sec * 1000 + tp->msec;
    age = (oldest && now > oldest) ? (ngx_msec_t) (now - oldest) : 0;

    if (prom) {
        return ngx_sprintf(p,
                   "# HELP mkt_events_redis_queue Events in the Redis "
                   "sink's memory queues, all workers\n"
                   "# TYPE mkt_events_redis_queue gauge\n"
                   "mkt_events_redis_queue %uA\n"
                   "# HELP mkt_events_spool_oldest_age_seconds Age of the "
                   "oldest event waiting in a spool file, 0 when none\n"
                   "# TYPE mkt_events_spool_oldest_age_seconds gauge\n"
                   "mkt_events_spool_oldest_age_seconds %M.%03M\n",
                   queue, age / 1000, age % 1000);
    }

    return ngx_sprintf(p, ",\"events_redis_queue\":%uA"
                       ",\"events_spool_oldest_age_ms\":%M", queue, age);
}
