/* The experiment engine (experiment.h): GrowthBook's run() for the
 * bucketing, wrapped in the config file's lifecycle. */
#include <string.h>

#include "b64url.h"
#include "condition_js.h"
#include "config_int.h"
#include "experiment.h"

#define FNV64_INIT   0xcbf29ce484222325ull
#define FNV64_PRIME  0x100000001b3ull
#define HOLDOUT_HASH_VERSION  2

static const char *const  reason_names[] = {
    "assigned", "sticky", "forced", "stopped_winner", "draft", "not_started",
    "ended", "host_mismatch", "path_mismatch", "condition_false", "holdout",
    "namespace", "filtered", "coverage", "no_hash_attribute",
    "bucket_version", "hash_version", "inactive", "no_tracking"
};


const char *
mkt_reason_name(mkt_reason_e r)
{
    return (unsigned) r < MKT_REASON_COUNT ? reason_names[r] : "unknown";
}


/* attributes[name], else the dotted path name through nested objects */
static const mkt_val_t *
attribute(const mkt_val_t *attrs, const char *name, size_t len)
{
    size_t            i, s;
    const mkt_val_t  *v;

    v = mkt_val_get(attrs, name, len);
    if (v != NULL || memchr(name, '.', len) == NULL) {
        return v;
    }

    v = attrs;
    for (s = 0, i = 0; i <= len && v != NULL; i++) {
        if (i == len || name[i] == '.') {
            v = mkt_val_get(v, name + s, i - s);
            s = i + 1;
        }
    }
    return v;
}


/* GrowthBook's `attributes[name] || ""` as the string hash() gets. */
static const char *
hash_string(const mkt_val_t *v, char *buf, size_t *len)
{
    size_t  n;

    if (v == NULL || !mkt_js_truthy(v)) {
        return NULL;
    }
    if (v->type == MKT_VAL_STRING) {
        *len = v->len;
        return v->u.str;
    }
    n = mkt_js_string_of(v, buf, MKT_HASH_VALUE_MAX);
    if (n == (size_t) -1 || n == 0) {       /* [] == "" in JavaScript */
        return NULL;
    }
    *len = n;
    return buf;
}


const char *
mkt_experiment_hash_value(const mkt_experiment_t *e, const mkt_val_t *attrs,
    char buf[MKT_HASH_VALUE_MAX], size_t *len, int *fallback)
{
    const char  *s;

    *fallback = 0;
    s = hash_string(attribute(attrs, e->hash_attribute.data,
                              e->hash_attribute.len), buf, len);
    if (s == NULL && e->fallback_attribute.len) {
        s = hash_string(attribute(attrs, e->fallback_attribute.data,
                                  e->fallback_attribute.len), buf, len);
        *fallback = s != NULL;
    }
    return s;
}


/* GrowthBook isFilteredOut() */
static int
filtered_out(const mkt_experiment_t *e, const mkt_val_t *attrs)
{
    char                 buf[MKT_HASH_VALUE_MAX];
    size_t               i, len;
    const char          *v;
    const mkt_filter_t  *f;

    for (i = 0; i < e->nfilters; i++) {
        f = &e->filters[i];
        v = hash_string(attribute(attrs, f->attribute.data, f->attribute.len),
                        buf, &len);
        if (v == NULL
            || !mkt_filter_passes(f->seed.data, f->seed.len, v, len,
                                  f->hash_version, f->ranges, f->nranges))
        {
            return 1;
        }
    }
    return 0;
}


static int
out(mkt_exp_result_t *r, mkt_reason_e reason)
{
    r->reason = reason;
    r->variation = -1;
    r->hash_used = 0;
    r->sticky = 0;
    r->exposure = 0;
    return -1;
}


static unsigned
variation_hash(const mkt_experiment_t *e, size_t i)
{
    if (e->variation_hashes != NULL) {
        return e->variation_hashes[i];
    }
    return mkt_sticky_variation_hash(e->variations[i].data,
                                     e->variations[i].len);
}


/*
 * The fingerprints a sticky entry of e may carry for this visitor: fp[0]
 * of the value hashed on, fp[1] of the fallback attribute's value (else
 * fp[0]), as GrowthBook reads the documents of both.
 */
static void
sticky_fingerprints(const mkt_experiment_t *e, const mkt_val_t *attrs,
    const char *hv, size_t len, int fallback, unsigned fp[2])
{
    char              buf[MKT_HASH_VALUE_MAX];
    size_t            n;
    const char       *v;
    const mkt_str_t  *a;

    a = fallback ? &e->fallback_attribute : &e->hash_attribute;
    fp[0] = mkt_sticky_fingerprint(a->data, a->len, hv, len);
    fp[1] = fp[0];

    a = &e->fallback_attribute;
    if (!fallback && a->len) {
        v = hash_string(attribute(attrs, a->data, a->len), buf, &n);
        if (v != NULL) {
            fp[1] = mkt_sticky_fingerprint(a->data, a->len, v, n);
        }
    }
}


/*
 * What run() finds out about the visitor, kept for the next experiments
 * of the request: the value hashed on and the sticky fingerprints, for
 * those that hash on the same attributes (most hash on "id"; only values
 * that point into the attributes are kept), and the result of every
 * condition evaluated, by condition_id (equal conditions share one).
 */
#define GATHER_WORDS  ((MKT_CONFIG_EXPERIMENTS_MAX + 63) / 64)

typedef struct {
    uint64_t          cond_done[GATHER_WORDS];
    uint64_t          cond_true[GATHER_WORDS];
    const mkt_str_t  *attr;         /* NULL: nothing kept */
    const mkt_str_t  *fallback;
    const char       *hv;
    size_t            len;
    int               fallback_used;
    int               has_fp;
    unsigned          fp[2];
    int               has_hv_fnv;
    uint32_t          hv_fnv;       /* FNV-1a state after hv */
} memo_t;


/* the default "id" is one string for every experiment */
static int
same_str(const mkt_str_t *a, const mkt_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || a->data == b->data
               || memcmp(a->data, b->data, a->len) == 0);
}


static int
cond_holds(const mkt_experiment_t *e, const mkt_val_t *attrs, memo_t *m)
{
    int       v;
    uint32_t  w;
    uint64_t  bit;

    if (m == NULL) {
        return mkt_cond_eval(e->condition, attrs);
    }

    w = e->condition_id / 64;
    bit = (uint64_t) 1 << (e->condition_id % 64);

    if (m->cond_done[w] & bit) {
        return (m->cond_true[w] & bit) != 0;
    }

    v = mkt_cond_eval(e->condition, attrs);
    m->cond_done[w] |= bit;
    if (v) {
        m->cond_true[w] |= bit;
    }
    return v;
}


/* The FNV-1a state after the value hashed on, kept in the memo. */
static uint32_t
value_fnv(memo_t *m, const char *hv, size_t len)
{
    if (m == NULL || m->attr == NULL || m->hv != hv) {
        return mkt_fnv32a_utf16(MKT_FNV32A_INIT, hv, len);
    }
    if (!m->has_hv_fnv) {
        m->hv_fnv = mkt_fnv32a_utf16(MKT_FNV32A_INIT, hv, len);
        m->has_hv_fnv = 1;
    }
    return m->hv_fnv;
}


/* mkt_hash() of e's seed and hv, from the states kept: the seed's (made at
 * load) for version 2, the value's (once a request) for version 1. */
static double
hash_of(const mkt_experiment_t *e, const char *hv, size_t len, memo_t *m)
{
    if (e->hash_version == 1) {
        return mkt_hash_v1_end(mkt_fnv32a_utf16(value_fnv(m, hv, len),
                                                e->seed.data, e->seed.len));
    }
    if (e->hash_version == 2 && e->has_seed_fnv) {
        return mkt_hash_v2_end(mkt_fnv32a_utf16(e->seed_fnv, hv, len));
    }
    return mkt_hash(e->seed.data, e->seed.len, hv, len, e->hash_version);
}


/* mkt_in_namespace() the same way */
static int
in_namespace(const mkt_experiment_t *e, const char *hv, size_t len,
    memo_t *m)
{
    double    n;
    uint32_t  h;

    h = mkt_fnv32a_utf16(value_fnv(m, hv, len), "__", 2);
    h = mkt_fnv32a_utf16(h, e->ns.data, e->ns.len);
    n = mkt_hash_v1_end(h);
    return n >= e->ns_start && n < e->ns_end;
}


static int
memo_of(const memo_t *m, const mkt_experiment_t *e)
{
    return m != NULL && m->attr != NULL
           && same_str(m->attr, &e->hash_attribute)
           && same_str(m->fallback, &e->fallback_attribute);
}


/* run() is inlined into the loop over the candidates: one stack frame a
 * request instead of one a candidate (about 40 instructions each). */
#if defined(__GNUC__)
#define MKT_INLINE  __inline__ __attribute__((always_inline))
#else
#define MKT_INLINE
#endif


/*
 * mkt_experiment_run().  Without bucket, a visitor kept by the sticky
 * cookie is not hashed: GrowthBook hashes then only to report the
 * result's bucket, which the request path never reads, and the hash is
 * most of the cost of a decision.  mkt explain (req->all) still gets it.
 */
static MKT_INLINE int
run(const mkt_config_t *cfg, const mkt_experiment_t *e,
    const mkt_val_t *attrs, mkt_sticky_t *sticky, mkt_exp_result_t *r,
    int bucket, memo_t *m)
{
    char                       buf[MKT_HASH_VALUE_MAX];
    int                        fallback, assigned, found, blocked;
    size_t                     len;
    double                     n;
    unsigned                   fp[2];
    const char                *hv;
    mkt_sticky_entry_t         set;
    const mkt_sticky_entry_t  *st;

    r->variation = -1;
    r->bucket = -1;
    r->hash_value = NULL;
    r->hash_value_len = 0;
    r->hash_used = r->sticky = r->forced = r->exposure = r->fallback = 0;

    if (e->nvariations < 2) {
        return out(r, MKT_REASON_INACTIVE);
    }

    if (memo_of(m, e)) {
        hv = m->hv;
        len = m->len;
        fallback = m->fallback_used;

    } else {
        hv = mkt_experiment_hash_value(e, attrs, buf, &len, &fallback);
        if (m != NULL) {
            m->attr = hv != buf ? &e->hash_attribute : NULL;
            m->fallback = &e->fallback_attribute;
            m->hv = hv;
            m->len = len;
            m->fallback_used = fallback;
            m->has_fp = 0;
            m->has_hv_fnv = 0;
        }
    }
    if (hv == NULL) {
        return out(r, MKT_REASON_NO_HASH_ATTRIBUTE);
    }
    r->fallback = (unsigned) fallback;
    if (hv != buf) {
        r->hash_value = hv;
        r->hash_value_len = len;
    }

    /* sticky bucketing: config experiments only (they have names), and
     * only an entry made for this visitor's values */
    found = 0;
    blocked = 0;
    st = NULL;
    fp[0] = fp[1] = 0;
    if (sticky != NULL && e->variations != NULL) {
        if (m != NULL && m->attr != NULL && m->has_fp) {
            fp[0] = m->fp[0];
            fp[1] = m->fp[1];
        } else {
            sticky_fingerprints(e, attrs, hv, len, fallback, fp);
            if (m != NULL && m->attr != NULL) {
                m->fp[0] = fp[0];
                m->fp[1] = fp[1];
                m->has_fp = 1;
            }
        }
        st = mkt_sticky_use(sticky, e->sticky_id);
        if (st != NULL && st->fingerprint != fp[0]
            && st->fingerprint != fp[1])
        {
            st = NULL;
        }
        if (st != NULL) {
            if (st->bucket_version < e->min_bucket_version) {
                blocked = 1;
            } else if (st->bucket_version == e->bucket_version
                       && st->variation < e->nvariations
                       && st->vhash == variation_hash(e, st->variation))
            {
                found = 1;      /* the same name, as GrowthBook keys it */
            }
        }
    }

    if (!found) {
        if (e->nfilters) {
            if (filtered_out(e, attrs)) {
                return out(r, MKT_REASON_FILTERED);
            }
        } else if (e->has_namespace && !in_namespace(e, hv, len, m)) {
            return out(r, MKT_REASON_NAMESPACE);
        }
    }

    if (e->condition != NULL && !cond_holds(e, attrs, m)) {
        return out(r, MKT_REASON_CONDITION_FALSE);
    }

    /* (a version mkt_hash() refuses is still reported as such) */
    if (found && !bucket && (e->hash_version == 1 || e->hash_version == 2)) {
        n = -1;                         /* not hashed */

    } else {
        n = hash_of(e, hv, len, m);
        if (n < 0) {
            return out(r, MKT_REASON_HASH_VERSION);
        }
    }
    r->bucket = n;

    if (blocked) {
        return out(r, MKT_REASON_BUCKET_VERSION);
    }

    assigned = found ? st->variation
                     : mkt_choose_variation(n, e->buckets, e->nvariations);
    if (assigned < 0) {
        return out(r, MKT_REASON_COVERAGE);
    }

    r->variation = assigned;
    r->reason = found ? MKT_REASON_STICKY : MKT_REASON_ASSIGNED;
    r->hash_used = 1;
    r->sticky = (unsigned) found;
    r->exposure = 1;

    if (sticky != NULL && e->variations != NULL && !found) {
        set.id = e->sticky_id;
        set.bucket_version = e->bucket_version;
        set.fingerprint = (uint16_t) fp[0];
        set.variation = (uint8_t) assigned;
        set.vhash = (uint16_t) variation_hash(e, (size_t) assigned);
        set.day = 0;
        set.used = 0;
        (void) mkt_sticky_set(sticky, cfg, &set);
    }

    return assigned;
}


int
mkt_experiment_run(const mkt_config_t *cfg, const mkt_experiment_t *e,
    const mkt_val_t *attrs, mkt_sticky_t *sticky, mkt_exp_result_t *r)
{
    return run(cfg, e, attrs, sticky, r, 1, NULL);
}


int
mkt_holdout_contains(const mkt_config_t *cfg, const mkt_val_t *attrs)
{
    char         buf[MKT_HASH_VALUE_MAX];
    size_t       len;
    const char  *id;

    if (!cfg->has_holdout) {
        return 0;
    }
    id = hash_string(attribute(attrs, "id", 2), buf, &len);
    if (id == NULL) {
        return 0;
    }
    return mkt_hash(cfg->holdout.key.data, cfg->holdout.key.len, id, len,
                    HOLDOUT_HASH_VERSION) < cfg->holdout.coverage;
}


/* What every experiment of one request shares, computed once. */
typedef struct {
    const char  *host;          /* lowercased into host_lc when it fits */
    size_t       host_len;
    int          host_lowered;
    int          indexed;       /* the candidates came from the index */
    const char  *path;
    size_t       path_len;
    int          ascii;         /* the path is ASCII */
    int          holdout;       /* -1: not known yet */
    memo_t       memo;          /* run()'s, across the experiments */
    char         host_lc[256];  /* match.host takes 253 bytes */
} shared_t;


static void
shared_host(shared_t *sh, const char *host, size_t len)
{
    size_t  i;
    char    c;

    sh->host = host;
    sh->host_len = len;
    sh->host_lowered = 0;

    if (host == NULL || len > sizeof(sh->host_lc)) {
        return;
    }
    for (i = 0; i < len; i++) {
        c = host[i];
        sh->host_lc[i] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
    }
    sh->host = sh->host_lc;
    sh->host_lowered = 1;
}


static int
host_matches_any_case(const mkt_experiment_t *e, const char *host,
    size_t len)
{
    size_t  i, k;
    char    c;

    if (e->nhosts == 0) {
        return 1;
    }
    for (i = 0; i < e->nhosts; i++) {
        if (e->hosts[i].len != len) {
            continue;
        }
        for (k = 0; k < len; k++) {
            c = host[k];
            if (c >= 'A' && c <= 'Z') {
                c = (char) (c - 'A' + 'a');
            }
            if (c != e->hosts[i].data[k]) {
                break;
            }
        }
        if (k == len) {
            return 1;
        }
    }
    return 0;
}


/* match.host, stored lowercased */
static int
host_matches(const mkt_experiment_t *e, const shared_t *sh)
{
    size_t  i;

    if (e->nhosts == 0) {
        return 1;
    }
    if (!sh->host_lowered) {
        return host_matches_any_case(e, sh->host, sh->host_len);
    }
    for (i = 0; i < e->nhosts; i++) {
        if (e->hosts[i].len == sh->host_len
            && memcmp(e->hosts[i].data, sh->host, sh->host_len) == 0)
        {
            return 1;
        }
    }
    return 0;
}


/*
 * match.path.  Most are "^" and a literal ("^/landing/", "^/a\\.html$",
 * as the loader found in path_literal): then comparing bytes decides as
 * PCRE2 would for a path that is valid UTF-8 (an invalid one matches no
 * pattern): for an ASCII path.
 */
static int
path_matches(const mkt_experiment_t *e, const char *path, size_t len,
    int ascii)
{
    size_t  n;

    n = e->path_prefix.len;

    if (e->path_re != NULL && ascii && e->path_literal != 0) {
        return (e->path_literal == MKT_PATH_EXACT ? len == n : len >= n)
               && memcmp(path, e->path_prefix.data, n) == 0;
    }
    return mkt_cfg_path_matches(e, path, len);
}


static int
is_ascii(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] >= 0x80) {
            return 0;
        }
    }
    return 1;
}


static void
eval_one(const mkt_config_t *cfg, const mkt_request_t *req, uint32_t i,
    shared_t *sh, mkt_exp_result_t *r)
{
    size_t                   k;
    const mkt_experiment_t  *e = &cfg->exps[i];

    memset(r, 0, sizeof(*r));
    r->exp = i;
    r->variation = -1;
    r->bucket = -1;

    /*
     * The index offers an experiment only for its host (compared as
     * host_matches() does) and for paths starting with its path_prefix:
     * then only what the index does not compare is left to check.
     */
    if (sh->indexed) {
        if (sh->ascii && e->path_literal != 0) {
            if (e->path_literal == MKT_PATH_EXACT
                && sh->path_len != e->path_prefix.len)
            {
                r->reason = MKT_REASON_PATH_MISMATCH;
                return;
            }

        } else if (!mkt_cfg_path_matches(e, sh->path, sh->path_len)) {
            r->reason = MKT_REASON_PATH_MISMATCH;
            return;
        }

    } else {
        if (!host_matches(e, sh)) {
            r->reason = MKT_REASON_HOST_MISMATCH;
            return;
        }
        if (!path_matches(e, sh->path, sh->path_len, sh->ascii)) {
            r->reason = MKT_REASON_PATH_MISMATCH;
            return;
        }
    }

    /* QA forcing previews any status, schedule, audience and traffic,
     * but only where the experiment applies (host, path) */
    for (k = 0; k < req->nforced; k++) {
        if (req->forced[k].exp == i
            && req->forced[k].variation < e->nvariations)
        {
            r->variation = (int) req->forced[k].variation;
            r->reason = MKT_REASON_FORCED;
            r->forced = 1;
            return;
        }
    }

    if (e->status == MKT_EXP_DRAFT) {
        r->reason = MKT_REASON_DRAFT;
        return;
    }

    if (e->status == MKT_EXP_RUNNING) {
        if (req->now < e->start) {
            r->reason = MKT_REASON_NOT_STARTED;
            return;
        }
        if (req->now >= e->end) {
            r->reason = MKT_REASON_ENDED;
            return;
        }
    }

    /* tracking not permitted: the control, or a stopped experiment's
     * winner, hashed on nothing and stored nowhere */
    if (req->no_tracking) {
        r->variation = e->status == MKT_EXP_STOPPED ? e->winner : 0;
        r->reason = MKT_REASON_NO_TRACKING;
        return;
    }

    if (sh->holdout < 0) {
        sh->holdout = mkt_holdout_contains(cfg, req->attributes);
    }

    if (e->status == MKT_EXP_STOPPED) {
        /* the winner for the experiment's audience, whenever it ran */
        if (e->condition != NULL
            && !cond_holds(e, req->attributes, &sh->memo))
        {
            r->reason = MKT_REASON_CONDITION_FALSE;
        } else if (sh->holdout) {
            r->reason = MKT_REASON_HOLDOUT;
        } else {
            r->variation = e->winner;
            r->reason = MKT_REASON_STOPPED_WINNER;
        }
        return;
    }

    if (sh->holdout) {
        r->reason = MKT_REASON_HOLDOUT;
        return;
    }

    (void) run(cfg, e, req->attributes, req->sticky, r, req->all,
               &sh->memo);
}


/*
 * The index offers candidates in no particular order; marking them in a
 * bitmap of the experiments and reading it back puts them in config order
 * in O(candidates + experiments / 64), without allocating.
 */
typedef struct {
    uint64_t  bits[GATHER_WORDS];
} gather_t;


static void
gather(void *data, uint32_t i)
{
    gather_t  *g = data;

    g->bits[i / 64] |= (uint64_t) 1 << (i % 64);
}


static unsigned
lowest_bit(uint64_t b)
{
#if defined(__GNUC__)
    return (unsigned) __builtin_ctzll(b);
#else
    unsigned  n;

    for (n = 0; !(b & 1); n++) {
        b >>= 1;
    }
    return n;
#endif
}


static size_t
gathered(const gather_t *g, size_t words, mkt_exp_result_t *out)
{
    size_t    w, n;
    uint64_t  b;

    n = 0;
    for (w = 0; w < words; w++) {
        for (b = g->bits[w]; b != 0; b &= b - 1) {
            out[n++].exp = (uint32_t) (w * 64 + lowest_bit(b));
        }
    }
    return n;
}


size_t
mkt_experiments_eval(const mkt_config_t *cfg, const mkt_request_t *req,
    mkt_exp_result_t *out)
{
    size_t    i, n, words;
    shared_t  sh;
    gather_t  g;

    if (req->all) {
        for (i = 0; i < cfg->nexps; i++) {
            out[i].exp = (uint32_t) i;
        }
        n = cfg->nexps;

    } else {
        /* the loader keeps nexps <= MKT_CONFIG_EXPERIMENTS_MAX */
        words = (cfg->nexps + 63) / 64;
        memset(g.bits, 0, words * sizeof(uint64_t));
        mkt_config_candidates(cfg, req->host, req->host_len, req->path,
                              req->path_len, gather, &g);
        n = gathered(&g, words, out);
    }

    shared_host(&sh, req->host, req->host_len);
    sh.indexed = !req->all;
    sh.path = req->path ? req->path : "";
    sh.path_len = req->path ? req->path_len : 0;
    sh.ascii = is_ascii(sh.path, sh.path_len);
    sh.holdout = -1;
    sh.memo.attr = NULL;
    words = (cfg->ncondition_ids + 63) / 64;
    memset(sh.memo.cond_done, 0, words * sizeof(uint64_t));
    memset(sh.memo.cond_true, 0, words * sizeof(uint64_t));

    for (i = 0; i < n; i++) {
        eval_one(cfg, req, out[i].exp, &sh, &out[i]);
    }

    return n;
}


const mkt_exp_result_t *
mkt_experiments_find(const mkt_exp_result_t *res, size_t n, uint32_t exp)
{
    size_t  lo, hi, mid;

    lo = 0;
    hi = n;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (res[mid].exp < exp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && res[lo].exp == exp ? &res[lo] : NULL;
}


size_t
mkt_experiments_format(const mkt_config_t *cfg, const mkt_exp_result_t *res,
    size_t n, char *out, size_t cap)
{
    size_t                   i, len, need;
    const mkt_str_t         *v;
    const mkt_experiment_t  *e;

    len = 0;
    for (i = 0; i < n; i++) {
        if (res[i].variation < 0 || res[i].exp >= cfg->nexps) {
            continue;
        }
        e = &cfg->exps[res[i].exp];
        v = &e->variations[res[i].variation];
        need = (len ? 1 : 0) + e->key.len + 1 + v->len;
        if (len + need > cap) {
            break;
        }
        if (len) {
            out[len++] = ',';
        }
        memcpy(out + len, e->key.data, e->key.len);
        len += e->key.len;
        out[len++] = ':';
        memcpy(out + len, v->data, v->len);
        len += v->len;
    }
    return len;
}


static uint64_t
fnv64(uint64_t h, const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        h = (h ^ (unsigned char) s[i]) * FNV64_PRIME;
    }
    return h;
}


size_t
mkt_experiments_cache_key(const mkt_config_t *cfg,
    const mkt_exp_result_t *res, size_t n, char *out)
{
    return mkt_decisions_cache_key(cfg, res, n, NULL, out);
}


size_t
mkt_decisions_cache_key(const mkt_config_t *cfg, const mkt_exp_result_t *res,
    size_t n, const mkt_slot_result_t *slots, char *out)
{
    size_t                   i, count;
    uint64_t                 h;
    unsigned char            raw[8];
    const mkt_slot_t        *s;
    const mkt_experiment_t  *e;
    const mkt_str_t         *v;

    h = FNV64_INIT;
    count = 0;

    for (i = 0; i < n; i++) {
        if (res[i].variation < 0 || res[i].exp >= cfg->nexps) {
            continue;
        }
        e = &cfg->exps[res[i].exp];
        v = &e->variations[res[i].variation];
        /* NUL never occurs in keys and names: the pairs cannot blur */
        h = fnv64(h, e->key.data, e->key.len);
        h = fnv64(h, "", 1);
        h = fnv64(h, v->data, v->len);
        h = fnv64(h, "", 1);
        count++;
    }

    /* slots on their default leave the key as it would be without them */
    for (i = 0; slots && i < cfg->nslots; i++) {
        s = &cfg->slots[i];
        if (slots[i].variant == s->default_variant) {
            continue;
        }
        v = &s->variants[slots[i].variant];
        h = fnv64(h, "\1", 1);
        h = fnv64(h, s->key.data, s->key.len);
        h = fnv64(h, "", 1);
        h = fnv64(h, v->data, v->len);
        h = fnv64(h, "", 1);
        count++;
    }

    if (count == 0) {
        return 0;
    }

    for (i = 0; i < 8; i++) {
        raw[i] = (unsigned char) (h >> (56 - 8 * i));
    }
    return mkt_b64url_encode(out, raw, sizeof(raw));
}


/* --- slots ----------------------------------------------------------------- */

void
mkt_slots_choose(const mkt_config_t *cfg, const mkt_val_t *attrs,
    int holdout, const mkt_exp_result_t *res, size_t n,
    mkt_slot_result_t *out)
{
    size_t                   i, k;
    const mkt_slot_t        *s;
    mkt_slot_result_t       *o;
    const mkt_experiment_t  *e;

    for (i = 0; i < cfg->nslots; i++) {
        s = &cfg->slots[i];
        o = &out[i];
        o->variant = s->default_variant;
        o->rule = -1;
        o->exp = -1;
        o->reason = MKT_SLOT_DEFAULT;

        if (holdout) {
            o->reason = MKT_SLOT_HOLDOUT;
            continue;
        }

        for (k = 0; k < s->nrules; k++) {
            if (attrs && mkt_cond_eval(s->rules[k].cond, attrs)) {
                o->variant = s->rules[k].variant;
                o->rule = (int) k;
                o->reason = MKT_SLOT_RULE;
                break;
            }
        }
    }

    /* an experiment on a slot: its control sees the default, so that the
     * lift of personalisation itself is measured */
    for (k = 0; cfg->nslot_exps != 0 && k < n; k++) {
        if (res[k].variation < 0 || res[k].exp >= cfg->nexps) {
            continue;
        }
        e = &cfg->exps[res[k].exp];
        if (e->slot < 0) {
            continue;
        }
        o = &out[e->slot];
        o->exp = (int) res[k].exp;
        if (res[k].variation == 0 && o->reason != MKT_SLOT_HOLDOUT) {
            o->variant = cfg->slots[e->slot].default_variant;
            o->rule = -1;
            o->reason = MKT_SLOT_CONTROL;
        }
    }
}


const char *
mkt_slot_reason_name(mkt_slot_reason_e r)
{
    static const char *const  names[] = {
        "default", "rule", "holdout", "experiment_control", "plugin",
        "no_tracking"
    };

    return (size_t) r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}


static int
parse_index(const char *s, size_t len, size_t *out)
{
    size_t  i, v;

    if (len == 0 || len > 3 || (len > 1 && s[0] == '0')) {
        return 0;
    }
    v = 0;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (size_t) (s[i] - '0');
    }
    *out = v;
    return 1;
}


static void
force_pair(const mkt_config_t *cfg, const char *key, size_t klen,
    const char *var, size_t vlen, mkt_force_t *out, size_t *n)
{
    int                      k;
    size_t                   v, j;
    const mkt_experiment_t  *e;

    k = mkt_config_find_experiment(cfg, key, klen);
    if (k < 0) {
        return;
    }
    e = &cfg->exps[k];

    for (v = 0; v < e->nvariations; v++) {
        if (e->variations[v].len == vlen
            && memcmp(e->variations[v].data, var, vlen) == 0)
        {
            break;
        }
    }
    if (v == e->nvariations
        && (!parse_index(var, vlen, &v) || v >= e->nvariations))
    {
        return;
    }

    /* a later pair for the same experiment wins */
    for (j = 0; j < *n; j++) {
        if (out[j].exp == (uint32_t) k) {
            out[j].variation = (uint32_t) v;
            return;
        }
    }
    if (*n < MKT_FORCE_MAX) {
        out[*n].exp = (uint32_t) k;
        out[*n].variation = (uint32_t) v;
        (*n)++;
    }
}


size_t
mkt_force_parse(const mkt_config_t *cfg, const char *s, size_t len,
    mkt_force_t out[MKT_FORCE_MAX])
{
    char         buf[MKT_FORCE_INPUT_MAX];
    size_t       i, o, n, start;
    const char  *colon;

    if (len > MKT_FORCE_INPUT_MAX) {
        len = MKT_FORCE_INPUT_MAX;
    }

    /* %3A and %2C as ":" and "," when the caller did not decode */
    for (i = 0, o = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && s[i + 1] == '3'
            && (s[i + 2] | 0x20) == 'a')
        {
            buf[o++] = ':';
            i += 2;
        } else if (s[i] == '%' && i + 2 < len && s[i + 1] == '2'
                   && (s[i + 2] | 0x20) == 'c')
        {
            buf[o++] = ',';
            i += 2;
        } else {
            buf[o++] = s[i];
        }
    }

    n = 0;
    start = 0;
    for (i = 0; i <= o; i++) {
        if (i < o && buf[i] != ',') {
            continue;
        }
        colon = memchr(buf + start, ':', i - start);
        if (colon != NULL) {
            force_pair(cfg, buf + start, (size_t) (colon - buf) - start,
                       colon + 1, i - (size_t) (colon - buf) - 1, out, &n);
        }
        start = i + 1;
    }

    return n;
}
