/* make bench-engine: the core in src/ without nginx, one operation at a
 * time: experiment decisions (mkt_experiments_eval) for the files given,
 * condition evaluation, cookie verification and loading a config.  Prints
 * markdown tables; tests/bench/engine/run.sh gives it its files.
 *
 *   engine EXPERIMENTS.json...   (written by tests/bench/experiments.pl)
 *
 * The last file is also the one loaded, and its visitor's sticky cookie
 * the one verified. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "b64url.h"
#include "condition.h"
#include "config.h"
#include "cookie.h"
#include "experiment.h"
#include "hmac.h"
#include "sticky.h"
#include "value.h"

#define SLICE_NS    50000000        /* one timed slice: 50 ms */
#define SLICES      10              /* a measurement: ~0.5 s */
#define NOW         1795430000      /* 2026-11-23, inside the files' runs */
#define IDS         256             /* new visitors taken in turn */
#define SECRET      "engine bench secret, 32 bytes.."

#define S(lit)  lit, sizeof(lit) - 1

typedef void (*op_pt)(void *data);

/* results land here, so the compiler cannot drop the work */
static volatile uint64_t  sink;

/* wall time and CPU time of every timed slice: how much of the time the
 * benchmark had a CPU (the rest went to the neighbours) */
static uint64_t  wall_total, cpu_total;


static uint64_t
clock_ns(clockid_t clock)
{
    struct timespec  ts;

    clock_gettime(clock, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}


/* the thread's CPU time: what an operation costs, not counting the time
 * other processes had the CPU */
static uint64_t
now_ns(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


/*
 * Operations per second of CPU time: the median of SLICES slices of
 * about SLICE_NS each.  On a shared machine a neighbour slowing the CPU
 * down for a moment (caches, the host) spoils a slice or two, not the
 * median.
 */
static double
rate(op_pt op, void *data)
{
    double    r[SLICES];
    size_t    i, s, n;
    uint64_t  t0, t, w0;

    /* calibrate: a batch of n operations takes about a slice */
    n = 1;
    for ( ;; ) {
        t0 = now_ns();
        for (i = 0; i < n; i++) {
            op(data);
        }
        t = now_ns() - t0;
        if (t >= SLICE_NS / 10) {
            break;
        }
        n *= 2;
    }
    n = (size_t) ((double) n * SLICE_NS / (double) t);
    if (n == 0) {
        n = 1;
    }

    for (s = 0; s < SLICES; s++) {
        w0 = clock_ns(CLOCK_MONOTONIC);
        t0 = now_ns();
        for (i = 0; i < n; i++) {
            op(data);
        }
        t = now_ns() - t0;
        wall_total += clock_ns(CLOCK_MONOTONIC) - w0;
        cpu_total += t;
        r[s] = (double) n * 1e9 / (double) (t ? t : 1);
    }

    qsort(r, SLICES, sizeof(double), cmp_double);
    return (r[SLICES / 2 - 1] + r[SLICES / 2]) / 2;
}


/* --- a request's attributes, as the glue builds them ------------------- */

typedef struct {
    char             vid[MKT_VID_LEN];
    mkt_val_pair_t   header[2];
    mkt_val_pair_t   pairs[10];
    mkt_val_t        obj;
} attrs_t;


static void
put(attrs_t *a, const char *key, mkt_val_t v)
{
    mkt_val_pair_t  *p = &a->pairs[a->obj.len++];

    p->key = key;
    p->key_len = strlen(key);
    p->val = v;
}


/* a desktop Chrome on www.example.com/index.html, visitor number i */
static void
attrs_init(attrs_t *a, unsigned i)
{
    unsigned char  raw[16];

    memset(a, 0, sizeof(*a));
    memset(raw, 0, sizeof(raw));
    raw[0] = (unsigned char) i;
    raw[1] = (unsigned char) (i >> 8);
    raw[15] = 0x5a;
    (void) mkt_b64url_encode(a->vid, raw, sizeof(raw));

    a->header[0].key = "accept-language";
    a->header[0].key_len = sizeof("accept-language") - 1;
    a->header[0].val = mkt_val_string(S("en-US,en;q=0.9"));
    a->header[1].key = "user-agent";
    a->header[1].key_len = sizeof("user-agent") - 1;
    a->header[1].val = mkt_val_string(S("Mozilla/5.0 (Windows NT 10.0; "
        "Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"));

    a->obj = mkt_val_object(a->pairs, 0);
    put(a, "id", mkt_val_string(a->vid, MKT_VID_LEN));
    put(a, "vid", mkt_val_string(a->vid, MKT_VID_LEN));
    put(a, "new", mkt_val_bool(0));
    put(a, "host", mkt_val_string(S("www.example.com")));
    put(a, "path", mkt_val_string(S("/index.html")));
    put(a, "device", mkt_val_string(S("desktop")));
    put(a, "browser", mkt_val_string(S("chrome")));
    put(a, "hour", mkt_val_number(11));
    put(a, "query", mkt_val_object(NULL, 0));
    put(a, "header", mkt_val_object(a->header, 2));
}


/* --- experiments -------------------------------------------------------- */

typedef struct {
    mkt_config_t      *cfg;
    mkt_request_t      req;
    attrs_t            attrs[IDS];
    mkt_sticky_t       sticky;
    mkt_exp_result_t  *out;
    size_t             next;
} eval_t;


/* a new visitor: no sticky cookie, every decision hashed and stored */
static void
op_eval_new(void *data)
{
    eval_t  *w = data;

    w->req.attributes = &w->attrs[w->next++ % IDS].obj;
    mkt_sticky_init(&w->sticky);
    sink += mkt_experiments_eval(w->cfg, &w->req, w->out);
}


/* the same visitor again, with the sticky state of its first request */
static void
op_eval_returning(void *data)
{
    eval_t  *w = data;

    sink += mkt_experiments_eval(w->cfg, &w->req, w->out);
}


static size_t
assigned(const mkt_exp_result_t *res, size_t n)
{
    size_t  i, in;

    for (in = 0, i = 0; i < n; i++) {
        in += res[i].variation >= 0;
    }
    return in;
}


static void
report_eval(eval_t *w, const char *visitor, op_pt op, size_t decided,
    double in)
{
    double  r;

    r = rate(op, w);
    printf("| %zu (%zu apply) | %s | %.1f | %.0f | %.0f | %.2f |\n",
           mkt_config_experiment_count(w->cfg), decided, visitor, in, r,
           r * in, 1e6 / r);
}


static char *
read_file(const char *path, size_t *len)
{
    FILE  *f;
    char  *buf;
    long   n;

    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
        perror(path);
        exit(1);
    }
    rewind(f);
    buf = malloc((size_t) n + 1);
    if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        perror(path);
        exit(1);
    }
    fclose(f);
    buf[n] = '\0';
    *len = (size_t) n;
    return buf;
}


static mkt_config_t *
load(const char *path)
{
    mkt_config_t  *cfg;

    cfg = mkt_config_load(path, NULL, NULL);
    if (cfg == NULL) {
        fprintf(stderr, "engine: %s does not load (mkt lint %s)\n", path,
                path);
        exit(1);
    }
    return cfg;
}


static void
bench_experiments(const char *path, mkt_sticky_t *keep)
{
    size_t   n, i, in, all;
    eval_t  *w;

    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        exit(1);
    }
    w->cfg = load(path);
    w->out = calloc(mkt_config_candidates_max(w->cfg) + 1,
                    sizeof(mkt_exp_result_t));
    for (n = 0; n < IDS; n++) {
        attrs_init(&w->attrs[n], (unsigned) n);
    }
    w->req.host = "www.example.com";
    w->req.host_len = sizeof("www.example.com") - 1;
    w->req.path = "/index.html";
    w->req.path_len = sizeof("/index.html") - 1;
    w->req.now = NOW;
    w->req.sticky = &w->sticky;

    /* variations the new visitors get, on average */
    for (all = 0, i = IDS; i > 0; i--) {
        w->req.attributes = &w->attrs[i - 1].obj;
        mkt_sticky_init(&w->sticky);
        n = mkt_experiments_eval(w->cfg, &w->req, w->out);
        all += assigned(w->out, n);
    }

    /* the returning one is visitor 0, evaluated last: its sticky state */
    in = assigned(w->out, n);
    w->sticky.changed = 0;
    if (keep != NULL) {
        memcpy(keep, &w->sticky, sizeof(*keep));
    }

    report_eval(w, "returning", op_eval_returning, n, (double) in);
    report_eval(w, "new", op_eval_new, n, (double) all / IDS);

    free(w->out);
    mkt_config_free(w->cfg);
    free(w);
}


/* --- conditions ---------------------------------------------------------- */

typedef struct {
    mkt_cond_t       *cond;
    const mkt_val_t  *attrs;
} cond_t;


static void
op_cond(void *data)
{
    cond_t  *c = data;

    sink += (uint64_t) mkt_cond_eval(c->cond, c->attrs);
}


static void
bench_condition(const char *json, const mkt_val_t *attrs)
{
    char          err[256];
    double        r;
    cond_t        c;
    json_t       *j;
    json_error_t  jerr;

    j = json_loads(json, 0, &jerr);
    c.cond = j ? mkt_cond_compile(j, NULL, MKT_COND_STRICT, "condition", err,
                                  sizeof(err))
               : NULL;
    if (c.cond == NULL) {
        fprintf(stderr, "engine: condition %s does not compile\n", json);
        exit(1);
    }
    c.attrs = attrs;

    r = rate(op_cond, &c);
    printf("| condition `%s` (%s) | %.0f | %.3f |\n", json,
           mkt_cond_eval(c.cond, attrs) ? "true" : "false", r, 1e6 / r);

    mkt_cond_free(c.cond);
    json_decref(j);
}


/* --- cookies and loading ------------------------------------------------ */

typedef struct {
    mkt_hmac_t    *hmac;
    const char    *value;
    size_t         len;
    mkt_sticky_t   sticky;
} cookie_t;


static void
op_vcookie(void *data)
{
    cookie_t       *c = data;
    mkt_visitor_t   v;

    sink += mkt_vcookie_decode(c->hmac, c->value, c->len, NOW, &v);
}


static void
op_sticky(void *data)
{
    cookie_t  *c = data;

    sink += mkt_sticky_decode(c->hmac, c->value, c->len, &c->sticky);
}


typedef struct {
    const char  *json;
    size_t       len;
} load_t;


static void
op_load(void *data)
{
    load_t        *l = data;
    mkt_config_t  *cfg;

    cfg = mkt_config_load_string("bench.json", l->json, l->len, NULL, NULL);
    if (cfg == NULL) {
        fprintf(stderr, "engine: the config does not load\n");
        exit(1);
    }
    sink += mkt_config_experiment_count(cfg);
    mkt_config_free(cfg);
}


static void
row(const char *what, op_pt op, void *data)
{
    double  r;

    r = rate(op, data);
    printf("| %s | %.0f | %.3f |\n", what, r, 1e6 / r);
}


int
main(int argc, char **argv)
{
    int            i;
    char           value[MKT_VCOOKIE_MAX], what[160];
    char           sb[MKT_STICKY_COOKIE_MAX];
    size_t         len;
    double         r;
    attrs_t       *a;
    load_t         l;
    cookie_t      *c;
    mkt_visitor_t  v;
    mkt_sticky_t  *largest;

    if (argc < 2) {
        fprintf(stderr, "usage: engine EXPERIMENTS.json...\n");
        return 2;
    }

    a = malloc(sizeof(*a));
    c = calloc(1, sizeof(*c));
    largest = calloc(1, sizeof(*largest));
    if (a == NULL || c == NULL || largest == NULL) {
        return 1;
    }
    attrs_init(a, 0);

    printf("| experiments (apply to the request) | visitor | variations"
           " given | evals/s | assignments/s | µs/eval |\n"
           "|---|---|--:|--:|--:|--:|\n");
    for (i = 1; i < argc; i++) {
        /* the last file's sticky state: the _mkt_sb cookie verified below */
        bench_experiments(argv[i], i == argc - 1 ? largest : NULL);
    }

    printf("\n| operation | per second | µs each |\n|---|--:|--:|\n");

    bench_condition("{\"device\": \"desktop\"}", &a->obj);
    bench_condition("{\"device\": {\"$in\": [\"mobile\", \"tablet\"]}}",
                    &a->obj);
    bench_condition("{\"query.utm_source\": \"newsletter\"}", &a->obj);
    bench_condition("{\"header.accept-language\": {\"$regex\": \"^en\"}}",
                    &a->obj);
    bench_condition("{\"$or\": [{\"query.utm_campaign\": {\"$exists\": "
                    "true}}, {\"device\": {\"$ne\": \"bot\"}}], "
                    "\"hour\": {\"$gte\": 9, \"$lt\": 18}}", &a->obj);

    c->hmac = mkt_hmac_create(SECRET, sizeof(SECRET) - 1);
    if (c->hmac == NULL) {
        return 1;
    }
    memcpy(v.vid, a->vid, MKT_VID_LEN);
    v.issued = NOW - 3600;
    c->len = mkt_vcookie_encode(c->hmac, &v, value);
    c->value = value;
    if (mkt_vcookie_decode(c->hmac, c->value, c->len, NOW, &v)
        != MKT_COOKIE_OK)
    {
        fprintf(stderr, "engine: the visitor cookie does not verify\n");
        return 1;
    }
    row("visitor cookie `_mkt` parse and verify (HMAC-SHA256)", op_vcookie,
        c);

    if (mkt_sticky_encode(c->hmac, largest, NULL, sb, &len) != 0 || len == 0
        || mkt_sticky_decode(c->hmac, sb, len, &c->sticky) != MKT_COOKIE_OK)
    {
        fprintf(stderr, "engine: the sticky cookie does not verify\n");
        return 1;
    }
    c->value = sb;
    c->len = len;
    snprintf(what, sizeof(what), "sticky cookie `_mkt_sb` parse and verify"
             " (%zu entries, %zu bytes)", largest->n, len);
    row(what, op_sticky, c);

    l.json = read_file(argv[argc - 1], &l.len);
    r = rate(op_load, &l);
    printf("| load `%s` (%zu bytes): mkt_config_load_string | %.1f"
           " | %.0f |\n", argv[argc - 1], l.len, r, 1e6 / r);

    printf("\nThe benchmark had its CPU %.0f %% of the time it measured.\n",
           wall_total ? 100.0 * (double) cpu_total / (double) wall_total
                      : 0.0);

    mkt_hmac_destroy(c->hmac);
    free((char *) l.json);
    free(largest);
    free(c);
    free(a);
    return 0;
}
