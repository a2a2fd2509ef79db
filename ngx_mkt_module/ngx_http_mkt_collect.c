/*
 * The mkt_collect beacon endpoint (DESIGN.md section 8): conversions from
 * pages as a GET (a pixel) or a POST of JSON events, checked by
 * src/beacon.c, refused whole with a JSON error, recorded through
 * ngx_http_mkt_conversion.c with the visitor of the cookies, never of the
 * body; CORS for the configured origins.
 */

#include "ngx_http_mkt_collect.h"

#include "beacon.h"


#define NGX_HTTP_MKT_COLLECT_BODY_MAX    (1024 * 1024)
#define NGX_HTTP_MKT_COLLECT_EVENTS_MAX  1000
#define NGX_HTTP_MKT_REFERER_MAX         4096   /* bytes of it read */
#define NGX_HTTP_MKT_CORS_MAX_AGE        "86400"


static ngx_int_t ngx_http_mkt_collect_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mkt_collect_post(ngx_http_request_t *r,
    ngx_http_mkt_collect_conf_t *cc);
static void ngx_http_mkt_collect_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_mkt_collect_record(ngx_http_request_t *r,
    mkt_beacon_event_t *events, size_t n, ngx_uint_t gif);
static ngx_int_t ngx_http_mkt_collect_too_large(ngx_http_request_t *r,
    ngx_http_mkt_collect_conf_t *cc);
static ngx_int_t ngx_http_mkt_collect_fail(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_mkt_counter_e counter, const char *fmt,
    ...);
static ngx_int_t ngx_http_mkt_collect_refuse(ngx_http_request_t *r,
    mkt_beacon_error_t *err);
static ngx_int_t ngx_http_mkt_collect_error(ngx_http_request_t *r,
    ngx_uint_t status, mkt_beacon_error_t *err);
static ngx_int_t ngx_http_mkt_collect_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, u_char *data, size_t len);
static ngx_uint_t ngx_http_mkt_collect_cors(ngx_http_request_t *r,
    ngx_http_mkt_collect_conf_t *cc);
static ngx_int_t ngx_http_mkt_collect_preflight(ngx_http_request_t *r,
    ngx_uint_t allowed);
static ngx_uint_t ngx_http_mkt_collect_type_ok(ngx_http_request_t *r);
static ngx_uint_t ngx_http_mkt_collect_wants_image(ngx_http_request_t *r);
static void ngx_http_mkt_collect_page(ngx_http_request_t *r,
    mkt_event_t *ev);


/* the 1x1 transparent GIF of ngx_http_empty_gif_module, 43 bytes */
static u_char  ngx_http_mkt_gif[] = {
    'G', 'I', 'F', '8', '9', 'a', 0x01, 0x00, 0x01, 0x00, 0x80, 0x01, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00,
    0x01, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
    0x02, 0x02, 0x4c, 0x01, 0x00, 0x3b
};


/* the counter of each refusal, in mkt_beacon_code_e order */
static ngx_http_mkt_counter_e  ngx_http_mkt_collect_reasons[] = {
    NGX_HTTP_MKT_C_collect_rejected,              /* MKT_BEACON_OK */
    NGX_HTTP_MKT_C_collect_rejected_too_large,
    NGX_HTTP_MKT_C_collect_rejected_malformed,
    NGX_HTTP_MKT_C_collect_rejected_not_events,
    NGX_HTTP_MKT_C_collect_rejected_too_many,
    NGX_HTTP_MKT_C_collect_rejected_unknown_goal,
    NGX_HTTP_MKT_C_collect_rejected_invalid
};


/* per worker: the events of one beacon, parsed and recorded in one run
 * of a handler */
static mkt_beacon_event_t  *ngx_http_mkt_collect_events;


/* --- configuration ------------------------------------------------------ */

/* The conversion glue's main conf, made by its first directive. */
ngx_http_mkt_collect_main_t *
ngx_http_mkt_collect_main(ngx_conf_t *cf)
{
    ngx_http_mkt_main_conf_t     *mcf;
    ngx_http_mkt_collect_main_t  *cm;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mkt_module);

    if (mcf->collect != NULL) {
        return mcf->collect;
    }

    cm = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_collect_main_t));
    if (cm == NULL) {
        return NULL;
    }

    cm->dedup_size = NGX_CONF_UNSET;
    cm->window = NGX_CONF_UNSET;

    if (ngx_array_init(&cm->collects, cf->pool, 2, sizeof(void *))
        != NGX_OK)
    {
        return NULL;
    }

    mcf->collect = cm;

    return cm;
}


static char *
ngx_http_mkt_collect_origins(ngx_conf_t *cf, ngx_http_mkt_collect_conf_t *cc,
    ngx_str_t *list)
{
    u_char     *p, *end, *next, *host;
    ngx_str_t  *o;

    if (cc->cors == NULL) {
        cc->cors = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (cc->cors == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    end = list->data + list->len;

    for (p = list->data; p < end; p = next + 1) {
        next = ngx_strlchr(p, end, ',');
        if (next == NULL) {
            next = end;
        }

        /* an origin as browsers send it: scheme://host[:port] */
        if (next - p > 7 && ngx_strncmp(p, "http://", 7) == 0) {
            host = p + 7;

        } else if (next - p > 8 && ngx_strncmp(p, "https://", 8) == 0) {
            host = p + 8;

        } else {
            goto invalid;
        }

        if (ngx_strlchr(host, next, '/') != NULL
            || ngx_strlchr(host, next, '@') != NULL)
        {
            goto invalid;
        }

        o = ngx_array_push(cc->cors);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }

        o->data = p;
        o->len = next - p;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid origin \"%*s\" in "
                       "\"cors=\": scheme://host[:port] expected",
                       next - p, p);
    return NGX_CONF_ERROR;
}


/* mkt_collect [max_body=16k] [max_events=50] [cors=ORIGIN[,ORIGIN] ...]
 *             [dedup=1m] [dedup_window=24h] */
char *
ngx_http_mkt_collect(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_loc_conf_t  *lcf = conf;

    char                          *rv;
    ssize_t                        size;
    ngx_int_t                      n;
    ngx_str_t                     *value, s;
    ngx_uint_t                     i;
    ngx_http_mkt_collect_conf_t   *cc, **pcc;
    ngx_http_mkt_collect_main_t   *cm;

    if (lcf->collect != NULL) {
        return "is duplicate";
    }

    cm = ngx_http_mkt_collect_main(cf);
    if (cm == NULL) {
        return NGX_CONF_ERROR;
    }

    cc = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_collect_conf_t));
    if (cc == NULL) {
        return NGX_CONF_ERROR;
    }

    cc->max_body = MKT_BEACON_BODY_DEFAULT;
    cc->max_events = MKT_BEACON_EVENTS_DEFAULT;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_body=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            size = ngx_parse_size(&s);
            if (size <= 0 || size > NGX_HTTP_MKT_COLLECT_BODY_MAX) {
                goto invalid;
            }

            cc->max_body = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_events=", 11) == 0) {
            n = ngx_atoi(value[i].data + 11, value[i].len - 11);
            if (n <= 0 || n > NGX_HTTP_MKT_COLLECT_EVENTS_MAX) {
                goto invalid;
            }

            cc->max_events = n;
            continue;
        }

        /* cors=ORIGIN[,ORIGIN...], and more origins after it */
        if (ngx_strncmp(value[i].data, "cors=", 5) == 0
            || (cc->cors != NULL
                && (ngx_strncmp(value[i].data, "http://", 7) == 0
                    || ngx_strncmp(value[i].data, "https://", 8) == 0)))
        {
            s = value[i];

            if (s.data[0] == 'c') {
                s.data += 5;
                s.len -= 5;
            }

            rv = ngx_http_mkt_collect_origins(cf, cc, &s);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "dedup=", 6) == 0
            || ngx_strncmp(value[i].data, "dedup_window=", 13) == 0)
        {
            rv = ngx_http_mkt_dedup_param(cf, cm, &value[i]);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        goto invalid;
    }

    cc->clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    cc->clcf->handler = ngx_http_mkt_collect_handler;

    pcc = ngx_array_push(&cm->collects);
    if (pcc == NULL) {
        return NGX_CONF_ERROR;
    }

    *pcc = cc;
    lcf->collect = cc;

    return NGX_CONF_OK;

invalid:

    return ngx_http_mkt_conf_invalid(cf, &value[i]);
}


/*
 * From merge_loc_conf, for an mkt_collect location and for the "if"
 * blocks that inherit it (merged before postconfiguration, they would
 * keep the smaller buffer): a body buffer that holds max_body, as a body
 * nginx writes to a temp file is refused.  A chunked body read in several
 * pieces keeps its chunk framing in the buffer too: a quarter more, as
 * nginx itself allows a Content-Length body.
 */
void
ngx_http_mkt_collect_buffer(ngx_http_core_loc_conf_t *clcf,
    ngx_http_mkt_collect_conf_t *cc)
{
    size_t  size;

    size = cc->max_body + cc->max_body / 4;

    if (clcf->client_body_buffer_size < size) {
        clcf->client_body_buffer_size = size;
    }
}


/*
 * From postconfiguration, with every location merged: the events buffer
 * of the largest max_events, the dedup zone, and mkt_conversion.
 */
ngx_int_t
ngx_http_mkt_collect_init(ngx_conf_t *cf, ngx_http_mkt_main_conf_t *mcf)
{
    ngx_uint_t                      i;
    ngx_http_mkt_collect_conf_t   **cc;
    ngx_http_mkt_collect_main_t    *cm;

    cm = mcf->collect;

    if (cm == NULL) {
        return NGX_OK;
    }

    cc = cm->collects.elts;

    for (i = 0; i < cm->collects.nelts; i++) {
        cm->max_events = ngx_max(cm->max_events, cc[i]->max_events);
    }

    if (mcf->sinks == NULL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "mkt_collect and mkt_conversion record nothing without "
                      "an event sink (mkt_events_log): beacons will be "
                      "answered 503");
    }

    if (ngx_http_mkt_dedup_init(cf, cm, mcf->hmac) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mkt_conversion_init(cf, mcf);
}


ngx_int_t
ngx_http_mkt_collect_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);

    if (mcf == NULL || mcf->collect == NULL || mcf->collect->max_events == 0)
    {
        return NGX_OK;
    }

    ngx_http_mkt_collect_events = ngx_palloc(cycle->pool,
                                             mcf->collect->max_events
                                             * sizeof(mkt_beacon_event_t));
    if (ngx_http_mkt_collect_events == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* --- the beacon endpoint ------------------------------------------------ */

static ngx_int_t
ngx_http_mkt_collect_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_uint_t                    allowed;
    mkt_beacon_error_t            err;
    ngx_http_mkt_loc_conf_t      *lcf;
    ngx_http_mkt_main_conf_t     *mcf;
    ngx_http_mkt_collect_conf_t  *cc;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mkt_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    cc = lcf->collect;

    if (cc == NULL) {
        /* not reached: "if" and "limit_except" blocks inherit it */
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_collect_requests);

    /* a pixel cached by the browser or a proxy is a conversion lost */
    if (ngx_http_mkt_header_out(r, "Cache-Control",
                                (u_char *) "no-store", 8)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    allowed = cc->cors ? ngx_http_mkt_collect_cors(r, cc) : 0;

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_mkt_collect_post(r, cc);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (r->method == NGX_HTTP_GET) {
        if (mkt_beacon_parse_query(mcf->config, (char *) r->args.data,
                                   r->args.len, ngx_http_mkt_collect_events,
                                   &err)
            != MKT_BEACON_OK)
        {
            return ngx_http_mkt_collect_refuse(r, &err);
        }

        return ngx_http_mkt_collect_record(r, ngx_http_mkt_collect_events, 1,
                                           ngx_http_mkt_collect_wants_image(r));
    }

    if (r->method == NGX_HTTP_OPTIONS && cc->cors) {
        return ngx_http_mkt_collect_preflight(r, allowed);
    }

    if (cc->cors) {
        rc = ngx_http_mkt_header_out(r, "Allow",
                                     (u_char *) "GET, POST, OPTIONS", 18);
    } else {
        rc = ngx_http_mkt_header_out(r, "Allow", (u_char *) "GET, POST", 9);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mkt_collect_fail(r, NGX_HTTP_NOT_ALLOWED,
                                     NGX_HTTP_MKT_C_collect_not_allowed,
                                     "method not allowed");
}


static ngx_int_t
ngx_http_mkt_collect_post(ngx_http_request_t *r,
    ngx_http_mkt_collect_conf_t *cc)
{
    ngx_int_t  rc;

    if (!ngx_http_mkt_collect_type_ok(r)
        || r->headers_in.content_length_n > (off_t) cc->max_body)
    {
        /*
         * Refused unread: no "100 Continue" asks for the body, as for
         * nginx's own 413, and the connection closes after the answer: a
         * client not asked may never send it and send its next request
         * instead, which the discarding would eat.
         */
        if (r->headers_in.expect != NULL) {
            r->expect_tested = 1;
            r->keepalive = 0;
        }

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        if (!ngx_http_mkt_collect_type_ok(r)) {
            return ngx_http_mkt_collect_fail(r, NGX_HTTP_BAD_REQUEST,
                       NGX_HTTP_MKT_C_collect_rejected_content_type,
                       "content type must be application/json or "
                       "text/plain");
        }

        return ngx_http_mkt_collect_too_large(r, cc);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_mkt_collect_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* The body read: in memory, as the buffer was made max_body large; a body
 * nginx had to write to a file is over max_body (chunked). */
static void
ngx_http_mkt_collect_body(ngx_http_request_t *r)
{
    u_char                       *p, *data;
    size_t                        len, n;
    ngx_chain_t                  *cl;
    mkt_beacon_error_t            err;
    ngx_http_request_body_t      *rb;
    ngx_http_mkt_loc_conf_t      *lcf;
    ngx_http_mkt_main_conf_t     *mcf;
    ngx_http_mkt_collect_conf_t  *cc;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mkt_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    cc = lcf->collect;
    rb = r->request_body;

    if (cc == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    len = 0;

    for (cl = rb ? rb->bufs : NULL; cl; cl = cl->next) {
        if (cl->buf->in_file || len > cc->max_body) {
            len = cc->max_body + 1;
            break;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    if ((rb && rb->temp_file) || len > cc->max_body) {
        ngx_http_finalize_request(r, ngx_http_mkt_collect_too_large(r, cc));
        return;
    }

    /* a chunked body may end in an empty buffer with no memory */
    if (len == 0) {
        data = (u_char *) "";

    } else if (rb->bufs->next == NULL) {
        data = rb->bufs->buf->pos;

    } else {
        data = ngx_pnalloc(r->pool, len);
        if (data == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        for (p = data, cl = rb->bufs; cl; cl = cl->next) {
            if (cl->buf->last != cl->buf->pos) {
                p = ngx_cpymem(p, cl->buf->pos,
                               cl->buf->last - cl->buf->pos);
            }
        }
    }

    if (mkt_beacon_parse_json(mcf->config, (char *) data, len, cc->max_body,
                              ngx_http_mkt_collect_events, cc->max_events,
                              &n, &err)
        != MKT_BEACON_OK)
    {
        ngx_http_finalize_request(r, ngx_http_mkt_collect_refuse(r, &err));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_mkt_collect_record(
                                     r, ngx_http_mkt_collect_events, n, 0));
}


/*
 * Records checked conversions and answers: 204 (or the GIF), or 503 when
 * an event could not be stored: the client may send it again, and
 * conversions with an order recorded before it are then deduplicated.
 */
static ngx_int_t
ngx_http_mkt_collect_record(ngx_http_request_t *r,
    mkt_beacon_event_t *events, size_t n, ngx_uint_t gif)
{
    size_t               i;
    mkt_event_t          base;
    ngx_http_mkt_ctx_t  *ctx;
    ngx_str_t            type = ngx_string("image/gif");

    ctx = ngx_http_mkt_conversion_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mkt_conversion_base(r, ctx, 1, &base);
    ngx_http_mkt_collect_page(r, &base);

    for (i = 0; i < n; i++) {
        if (ngx_http_mkt_conversion_record(r, &base, &events[i])
            == NGX_ERROR)
        {
            return ngx_http_mkt_collect_fail(r,
                       NGX_HTTP_SERVICE_UNAVAILABLE,
                       NGX_HTTP_MKT_C_collect_unacknowledged,
                       "events could not be stored: retry later");
        }
    }

    if (gif) {
        return ngx_http_mkt_collect_send(r, NGX_HTTP_OK, &type,
                                         ngx_http_mkt_gif,
                                         sizeof(ngx_http_mkt_gif));
    }

    return ngx_http_mkt_collect_send(r, NGX_HTTP_NO_CONTENT, NULL, NULL, 0);
}


/* The text of src/beacon.c for a body over max_body. */
static ngx_int_t
ngx_http_mkt_collect_too_large(ngx_http_request_t *r,
    ngx_http_mkt_collect_conf_t *cc)
{
    return ngx_http_mkt_collect_fail(r, NGX_HTTP_BAD_REQUEST,
               NGX_HTTP_MKT_C_collect_rejected_too_large,
               "body larger than %uz bytes", cc->max_body);
}


/* A refusal of the glue's own (no event): status, JSON error, counted. */
static ngx_int_t
ngx_http_mkt_collect_fail(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_mkt_counter_e counter, const char *fmt, ...)
{
    u_char              *p;
    va_list              args;
    mkt_beacon_error_t   err;

    va_start(args, fmt);
    p = ngx_vslprintf((u_char *) err.message,
                      (u_char *) err.message + MKT_BEACON_ERROR_MAX - 1,
                      fmt, args);
    va_end(args);

    *p = '\0';
    err.code = MKT_BEACON_OK;
    err.event = -1;
    err.offset = 0;

    if (status == NGX_HTTP_BAD_REQUEST) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_collect_rejected);
    }

    ngx_http_mkt_count(r, counter);

    return ngx_http_mkt_collect_error(r, status, &err);
}


/* A beacon the parser refused: 400, counted by its reason. */
static ngx_int_t
ngx_http_mkt_collect_refuse(ngx_http_request_t *r, mkt_beacon_error_t *err)
{
    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_collect_rejected);
    ngx_http_mkt_count(r, ngx_http_mkt_collect_reasons[err->code]);

    return ngx_http_mkt_collect_error(r, NGX_HTTP_BAD_REQUEST, err);
}


/* {"error":"...","event":N} (mkt_beacon_error_json) with this status. */
static ngx_int_t
ngx_http_mkt_collect_error(ngx_http_request_t *r, ngx_uint_t status,
    mkt_beacon_error_t *err)
{
    u_char     *buf;
    size_t      len;
    ngx_str_t   type = ngx_string("application/json");

    buf = ngx_pnalloc(r->pool, MKT_BEACON_ERROR_JSON_MAX);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = mkt_beacon_error_json(err, (char *) buf, MKT_BEACON_ERROR_JSON_MAX);

    return ngx_http_mkt_collect_send(r, status, &type, buf, len);
}


static ngx_int_t
ngx_http_mkt_collect_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *data, size_t len)
{
    ngx_http_complex_value_t  cv;

    ngx_memzero(&cv, sizeof(ngx_http_complex_value_t));
    cv.value.data = data;
    cv.value.len = len;

    return ngx_http_send_response(r, status, type, &cv);
}


/*
 * CORS for the cors= origins: the response may be read by a page of a
 * listed origin, with the cookies (they are the identity).  Other
 * origins get no CORS headers and their browser hides the response; a
 * simple request (a text/plain POST, a GET) is still recorded: CORS
 * guards reading, not sending, and SameSite cookies decide whose
 * identity a cross-site request carries.  1 for a listed origin.
 */
static ngx_uint_t
ngx_http_mkt_collect_cors(ngx_http_request_t *r,
    ngx_http_mkt_collect_conf_t *cc)
{
    ngx_str_t        *o;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    if (ngx_http_mkt_header_out(r, "Vary", (u_char *) "Origin", 6)
        != NGX_OK)
    {
        return 0;
    }

    h = ngx_http_mkt_header_in(r, (u_char *) "Origin", 6);
    if (h == NULL) {
        return 0;
    }

    o = cc->cors->elts;

    for (i = 0; i < cc->cors->nelts; i++) {
        if (o[i].len == h->value.len
            && ngx_strncasecmp(o[i].data, h->value.data, o[i].len) == 0)
        {
            break;
        }
    }

    if (i == cc->cors->nelts
        || ngx_http_mkt_header_out(r, "Access-Control-Allow-Origin",
                                   h->value.data, h->value.len)
           != NGX_OK
        || ngx_http_mkt_header_out(r, "Access-Control-Allow-Credentials",
                                   (u_char *) "true", 4)
           != NGX_OK)
    {
        return 0;
    }

    return 1;
}


/* OPTIONS with cors=: 204, and for a listed origin what it may send. */
static ngx_int_t
ngx_http_mkt_collect_preflight(ngx_http_request_t *r, ngx_uint_t allowed)
{
    if (ngx_http_mkt_header_out(r, "Allow",
                                (u_char *) "GET, POST, OPTIONS", 18)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (allowed
        && (ngx_http_mkt_header_out(r, "Access-Control-Allow-Methods",
                                    (u_char *) "GET, POST", 9)
            != NGX_OK
            || ngx_http_mkt_header_out(r, "Access-Control-Allow-Headers",
                                       (u_char *) "Content-Type", 12)
               != NGX_OK
            || ngx_http_mkt_header_out(r, "Access-Control-Max-Age",
                   (u_char *) NGX_HTTP_MKT_CORS_MAX_AGE,
                   sizeof(NGX_HTTP_MKT_CORS_MAX_AGE) - 1)
               != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mkt_collect_send(r, NGX_HTTP_NO_CONTENT, NULL, NULL, 0);
}


/* application/json or text/plain, any parameters ("; charset=UTF-8"). */
static ngx_uint_t
ngx_http_mkt_collect_type_ok(ngx_http_request_t *r)
{
    u_char           *p, *end;
    size_t            len;
    ngx_table_elt_t  *h;

    h = r->headers_in.content_type;
    if (h == NULL) {
        return 0;
    }

    end = h->value.data + h->value.len;
    p = ngx_strlchr(h->value.data, end, ';');
    if (p == NULL) {
        p = end;
    }

    while (p > h->value.data && (p[-1] == ' ' || p[-1] == '\t')) {
        p--;
    }

    len = p - h->value.data;

    return (len == 16
            && ngx_strncasecmp(h->value.data, (u_char *) "application/json",
                               16) == 0)
           || (len == 10
               && ngx_strncasecmp(h->value.data, (u_char *) "text/plain",
                                  10) == 0);
}


/*
 * An <img>: the first media range the client accepts is an image type
 * (image/gif, image/avif, the image wildcard), as browsers send for
 * images; fetch() and sendBeacon() send the any-type wildcard.
 */
static ngx_uint_t
ngx_http_mkt_collect_wants_image(ngx_http_request_t *r)
{
    u_char           *p, *end;
    ngx_table_elt_t  *h;

    h = ngx_http_mkt_header_in(r, (u_char *) "Accept", 6);
    if (h == NULL) {
        return 0;
    }

    p = h->value.data;
    end = p + h->value.len;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return end - p >= 6 && ngx_strncasecmp(p, (u_char *) "image/", 6) == 0;
}


/*
 * The page a beacon reports: host and path of its Referer (an http or
 * https URL whose host is valid), else the beacon's own, as
 * ngx_http_mkt_event_from_request() set them.  The path is
 * percent-decoded, without query or fragment, as $uri would be.
 */
static void
ngx_http_mkt_collect_page(ngx_http_request_t *r, mkt_event_t *ev)
{
    u_char           *p, *end, *auth, *at, *host, *path, *dst;
    size_t            n;
    ngx_table_elt_t  *h;

    h = r->headers_in.referer;
    if (h == NULL) {
        return;
    }

    p = h->value.data;
    end = p + ngx_min(h->value.len, NGX_HTTP_MKT_REFERER_MAX);

    if (end - p > 7 && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0) {
        auth = p + 7;

    } else if (end - p > 8
               && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0)
    {
        auth = p + 8;

    } else {
        return;
    }

    for (p = auth; p < end && *p != '/' && *p != '?' && *p != '#'; p++) {
        /* void */
    }

    /* userinfo@host: not part of the host */
    for (at = p; at > auth && at[-1] != '@'; at--) {
        /* void */
    }

    host = ngx_pnalloc(r->pool, MKT_HOST_MAX);
    if (host == NULL) {
        return;
    }

    n = mkt_host_normalize((char *) at, p - at, (char *) host);
    if (n == 0) {
        return;
    }

    ev->host.data = (char *) host;
    ev->host.len = n;

    for (path = p; p < end && *p != '?' && *p != '#'; p++) {
        /* void */
    }

    if (p == path) {
        ev->path.data = "/";
        ev->path.len = 1;
        return;
    }

    dst = ngx_pnalloc(r->pool, p - path);
    if (dst == NULL) {
        return;
    }

    ev->path.data = (char *) dst;
    ngx_unescape_uri(&dst, &path, p - path, 0);
    ev->path.len = dst - (u_char *) ev->path.data;
}


