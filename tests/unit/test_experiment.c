/* Unit tests of src/experiment.c: every reason a request gets (or does not
 * get) a variation, QA forcing, stopped winners, sticky buckets and bucket
 * versions, distributions over synthetic ids, and the variable helpers.
 * Expected hashes were computed with an independent Python FNV-1a. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "experiment.h"

/*
 * Counting allocations: glibc's malloc is wrapped (not under ASan, which
 * owns malloc), so a test can show the request path allocates nothing.
 */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS  0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_ALLOCS  0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS  1
#endif

#if COUNT_ALLOCS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);

static int     counting;
static size_t  allocations;

void *
malloc(size_t n)
{
    allocations += counting;
    return __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
    allocations += counting;
    return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
    allocations += counting;
    return __libc_realloc(p, n);
}
#endif

#define S(lit)   lit, sizeof(lit) - 1
#define NOW      1793491200             /* 2026-11-01T00:00:00Z */
#define IDS      10000

/* a config of one experiment "my-test" with the given extra fields */
#define ONE(fields)                                                           \
    "{\"experiments\": [{\"key\": \"my-test\", "                              \
    "\"variations\": [\"v0\", \"v1\"]" fields "}]}"

typedef struct {
    mkt_val_pair_t  pairs[4];
    mkt_val_t       obj;
} attrs_t;


static mkt_config_t *
config(const char *json)
{
    mkt_config_t  *cfg;

    cfg = mkt_config_load_string("t.json", json, strlen(json), NULL, NULL);
    if (cfg == NULL) {
        fail_msg("config does not load: %s", json);
    }
    return cfg;
}


static void
pair(attrs_t *a, const char *key, const char *val)
{
    mkt_val_pair_t  *p = &a->pairs[a->obj.len++];

    p->key = key;
    p->key_len = strlen(key);
    p->val = mkt_val_string(val, strlen(val));
    a->obj.u.pairs = a->pairs;
}


static const mkt_val_t *
with_id(attrs_t *a, const char *id)
{
    memset(a, 0, sizeof(*a));
    a->obj = mkt_val_object(a->pairs, 0);
    if (id != NULL) {
        pair(a, "id", id);
    }
    return &a->obj;
}


typedef struct {
    const mkt_val_t    *attrs;
    const char         *host;
    const char         *path;
    int64_t             now;
    mkt_sticky_t       *sticky;
    const mkt_force_t  *forced;
    size_t              nforced;
} req_t;


/* Every experiment of cfg for one request; returns result 0. */
static mkt_exp_result_t
decide(const mkt_config_t *cfg, const req_t *q, mkt_exp_result_t *all)
{
    mkt_exp_result_t  own[8];
    mkt_request_t     r;

    memset(&r, 0, sizeof(r));
    r.attributes = q->attrs;
    r.host = q->host ? q->host : "www.example.com";
    r.host_len = strlen(r.host);
    r.path = q->path ? q->path : "/";
    r.path_len = strlen(r.path);
    r.now = q->now ? q->now : NOW;
    r.sticky = q->sticky;
    r.forced = q->forced;
    r.nforced = q->nforced;
    r.all = 1;

    if (all == NULL) {
        assert_true(mkt_config_experiment_count(cfg) <= 8);
        all = own;
    }
    assert_int_equal(mkt_experiments_eval(cfg, &r, all),
                     mkt_config_experiment_count(cfg));
    return all[0];
}


static mkt_exp_result_t
decide_id(const char *json, const char *id)
{
    attrs_t           a;
    req_t             q;
    mkt_config_t     *cfg;
    mkt_exp_result_t  r;

    memset(&q, 0, sizeof(q));
    q.attrs = with_id(&a, id);
    cfg = config(json);
    r = decide(cfg, &q, NULL);
    mkt_config_free(cfg);
    return r;
}


/* --- reasons ------------------------------------------------------------ */

static void
test_assigned_by_hash_as_growthbook(void **state)
{
    mkt_exp_result_t  r;

    /* GrowthBook "default weights - 1": hash("my-test", "1", 1) = 0.969 */
    r = decide_id(ONE(""), "1");
    assert_int_equal(r.variation, 1);
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
    assert_true(r.hash_used && r.exposure && !r.sticky && !r.forced);
    assert_true(r.bucket == 0.969);
    assert_int_equal(r.hash_value_len, 1);
    assert_memory_equal(r.hash_value, "1", 1);
    assert_string_equal(mkt_reason_name(r.reason), "assigned");
}


static void
test_draft_is_out(void **state)
{
    mkt_exp_result_t  r;

    r = decide_id(ONE(", \"status\": \"draft\""), "1");
    assert_int_equal(r.variation, -1);
    assert_int_equal(r.reason, MKT_REASON_DRAFT);
}


static void
test_schedule_start_is_inclusive(void **state)
{
    mkt_exp_result_t  r;

    r = decide_id(ONE(", \"start\": \"2026-11-01T00:00:01Z\""), "1");
    assert_int_equal(r.reason, MKT_REASON_NOT_STARTED);
    r = decide_id(ONE(", \"start\": \"2026-11-01T00:00:00Z\""), "1");
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
}


static void
test_schedule_end_is_exclusive(void **state)
{
    mkt_exp_result_t  r;

    r = decide_id(ONE(", \"end\": \"2026-11-01T00:00:00Z\""), "1");
    assert_int_equal(r.reason, MKT_REASON_ENDED);
    assert_int_equal(r.variation, -1);
    r = decide_id(ONE(", \"end\": \"2026-11-01T00:00:01Z\""), "1");
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
}


static void
test_host_and_path_must_match(void **state)
{
    char              long_host[300];
    attrs_t           a;
    req_t             q;
    mkt_config_t     *cfg;

    cfg = config(ONE(", \"match\": {\"host\": \"www.example.com\", "
                     "\"path\": \"^/landing/\"}"));
    memset(&q, 0, sizeof(q));
    q.attrs = with_id(&a, "1");

    q.path = "/landing/a";
    assert_int_equal(decide(cfg, &q, NULL).reason, MKT_REASON_ASSIGNED);
    q.host = "WWW.EXAMPLE.COM";
    assert_int_equal(decide(cfg, &q, NULL).reason, MKT_REASON_ASSIGNED);
    q.host = "shop.example.com";
    assert_int_equal(decide(cfg, &q, NULL).reason, MKT_REASON_HOST_MISMATCH);
    memset(long_host, 'W', sizeof(long_host) - 1);
    long_host[sizeof(long_host) - 1] = '\0';
    q.host = long_host;
    assert_int_equal(decide(cfg, &q, NULL).reason, MKT_REASON_HOST_MISMATCH);
    q.host = NULL;
    q.path = "/shop";
    assert_int_equal(decide(cfg, &q, NULL).reason, MKT_REASON_PATH_MISMATCH);
    mkt_config_free(cfg);
}


/* The reason of a one-experiment config for a path; the request path
 * (through the index) agrees with deciding every experiment. */
static mkt_reason_e
path_reason(const mkt_config_t *cfg, const char *path, size_t len)
{
    size_t            n;
    attrs_t           a;
    mkt_reason_e      reason;
    mkt_request_t     r;
    mkt_exp_result_t  res[1];

    memset(&r, 0, sizeof(r));
    r.attributes = with_id(&a, "1");
    r.path = path;
    r.path_len = len;
    r.now = NOW;
    r.all = 1;
    assert_int_equal(mkt_experiments_eval(cfg, &r, res), 1);
    reason = res[0].reason;

    r.all = 0;
    n = mkt_experiments_eval(cfg, &r, res);
    assert_int_equal(n ? res[0].reason : MKT_REASON_PATH_MISMATCH, reason);
    return reason;
}


static void
test_literal_match_path_decides_as_its_regex(void **state)
{
    mkt_config_t  *cfg;

    /* "^" and a literal: compared as bytes, with the regex's answers */
    cfg = config(ONE(", \"match\": {\"path\": \"^/landing/\"}"));
    assert_int_equal(path_reason(cfg, S("/landing/")), MKT_REASON_ASSIGNED);
    assert_int_equal(path_reason(cfg, S("/landing/a?b")),
                     MKT_REASON_ASSIGNED);
    assert_int_equal(path_reason(cfg, S("/landing")),
                     MKT_REASON_PATH_MISMATCH);
    assert_int_equal(path_reason(cfg, S("/Landing/")),
                     MKT_REASON_PATH_MISMATCH);
    assert_int_equal(path_reason(cfg, S("/x\n/landing/")),
                     MKT_REASON_PATH_MISMATCH);
    assert_int_equal(path_reason(cfg, S("/landing/\xc3\xa9")),
                     MKT_REASON_ASSIGNED);
    /* PCRE2 matches no path that is not UTF-8 */
    assert_int_equal(path_reason(cfg, S("/landing/\xff")),
                     MKT_REASON_PATH_MISMATCH);
    mkt_config_free(cfg);

    cfg = config(ONE(", \"match\": {\"path\": \"^/\u00e9t\u00e9/\"}"));
    assert_int_equal(path_reason(cfg, S("/\xc3\xa9t\xc3\xa9/a")),
                     MKT_REASON_ASSIGNED);
    assert_int_equal(path_reason(cfg, S("/\xc3\xa9t\xc3\xa9")),
                     MKT_REASON_PATH_MISMATCH);
    mkt_config_free(cfg);

    /* "^", a literal with escaped punctuation and "$": the whole path */
    cfg = config(ONE(", \"match\": {\"path\": \"^/a\\\\.b$\"}"));
    assert_int_equal(mkt_config_experiment(cfg, 0)->path_literal,
                     MKT_PATH_EXACT);
    assert_int_equal(path_reason(cfg, S("/a.b")), MKT_REASON_ASSIGNED);
    assert_int_equal(path_reason(cfg, S("/a.b/")), MKT_REASON_PATH_MISMATCH);
    assert_int_equal(path_reason(cfg, S("/axb")), MKT_REASON_PATH_MISMATCH);
    assert_int_equal(path_reason(cfg, S("/a.")), MKT_REASON_PATH_MISMATCH);
    /* "$" is the very end only (PCRE2_DOLLAR_ENDONLY) */
    assert_int_equal(path_reason(cfg, S("/a.b\n")), MKT_REASON_PATH_MISMATCH);
    assert_int_equal(path_reason(cfg, S("/a.b\xc3\xa9")),
                     MKT_REASON_PATH_MISMATCH);
    mkt_config_free(cfg);

    /* an escaped "$" is a literal one */
    cfg = config(ONE(", \"match\": {\"path\": \"^/a\\\\$\"}"));
    assert_int_equal(mkt_config_experiment(cfg, 0)->path_literal,
                     MKT_PATH_PREFIX);
    assert_int_equal(path_reason(cfg, S("/a$/x")), MKT_REASON_ASSIGNED);
    assert_int_equal(path_reason(cfg, S("/a")), MKT_REASON_PATH_MISMATCH);
    mkt_config_free(cfg);

    /* more than a literal: the regex decides */
    cfg = config(ONE(", \"match\": {\"path\": \"^/ab*$\"}"));
    assert_int_equal(mkt_config_experiment(cfg, 0)->path_literal, 0);
    assert_int_equal(path_reason(cfg, S("/a")), MKT_REASON_ASSIGNED);
    assert_int_equal(path_reason(cfg, S("/abb")), MKT_REASON_ASSIGNED);
    assert_int_equal(path_reason(cfg, S("/ab/")), MKT_REASON_PATH_MISMATCH);
    mkt_config_free(cfg);

    cfg = config(ONE(", \"match\": {\"path\": \"^/a$$\"}"));
    assert_int_equal(mkt_config_experiment(cfg, 0)->path_literal, 0);
    assert_int_equal(path_reason(cfg, S("/a")), MKT_REASON_ASSIGNED);
    mkt_config_free(cfg);

    cfg = config(ONE(", \"match\": {\"path\": \"^/a.b\"}"));
    assert_int_equal(mkt_config_experiment(cfg, 0)->path_literal, 0);
    assert_int_equal(path_reason(cfg, S("/axb")), MKT_REASON_ASSIGNED);
    mkt_config_free(cfg);
}


/* Experiments of one request that hash on other attributes than the one
 * before them get their own values and fingerprints: the same decisions
 * and sticky entries as deciding each alone. */
static void
test_experiments_hashing_on_other_attributes_decide_as_alone(void **state)
{
    size_t             i;
    attrs_t            a;
    req_t              q;
    mkt_config_t      *cfg;
    mkt_sticky_t       together, alone;
    mkt_exp_result_t   all[5], one;
    const mkt_sticky_entry_t  *e1, *e2;

    cfg = config("{\"experiments\": ["
        "{\"key\": \"a\", \"variations\": [\"v0\", \"v1\", \"v2\"]},"
        "{\"key\": \"b\", \"variations\": [\"v0\", \"v1\", \"v2\"],"
        " \"hashAttribute\": \"company\"},"
        "{\"key\": \"c\", \"variations\": [\"v0\", \"v1\", \"v2\"],"
        " \"hashAttribute\": \"uid\", \"fallbackAttribute\": \"id\"},"
        "{\"key\": \"d\", \"variations\": [\"v0\", \"v1\", \"v2\"],"
        " \"hashAttribute\": \"uid\", \"fallbackAttribute\": \"company\"},"
        "{\"key\": \"e\", \"variations\": [\"v0\", \"v1\", \"v2\"],"
        " \"hashAttribute\": \"missing\"}]}");
    memset(&q, 0, sizeof(q));
    q.attrs = with_id(&a, "visitor-7");
    pair(&a, "company", "acme");
    mkt_sticky_init(&together);
    q.sticky = &together;
    (void) decide(cfg, &q, all);

    for (i = 0; i < 5; i++) {
        mkt_sticky_init(&alone);
        (void) mkt_experiment_run(cfg, mkt_config_experiment(cfg, i),
                                  q.attrs, &alone, &one);
        assert_int_equal(all[i].variation, one.variation);
        assert_int_equal(all[i].reason, one.reason);
        assert_int_equal(all[i].fallback, one.fallback);
        assert_int_equal(all[i].hash_value_len, one.hash_value_len);
        e1 = mkt_sticky_find(&together,
                             mkt_config_experiment(cfg, i)->sticky_id);
        e2 = mkt_sticky_find(&alone,
                             mkt_config_experiment(cfg, i)->sticky_id);
        assert_int_equal(e1 == NULL, e2 == NULL);
        if (e1 != NULL) {
            assert_int_equal(e1->fingerprint, e2->fingerprint);
            assert_int_equal(e1->variation, e2->variation);
        }
    }
    assert_int_equal(all[1].hash_value_len, 4);         /* "acme" */
    assert_int_equal(all[2].fallback, 1);
    assert_int_equal(all[3].fallback, 1);
    assert_memory_equal(all[3].hash_value, "acme", 4);
    assert_int_equal(all[4].reason, MKT_REASON_NO_HASH_ATTRIBUTE);
    assert_int_equal(together.n, 4);

    /* returning: every decision from the cookie, as stored */
    q.sticky = &together;
    together.changed = 0;
    (void) decide(cfg, &q, all);
    for (i = 0; i < 4; i++) {
        assert_int_equal(all[i].reason, MKT_REASON_STICKY);
    }
    assert_int_equal(together.changed, 0);
    mkt_config_free(cfg);
}


/* Equal conditions share an id, evaluated once a request; others, even
 * a literal object with its keys in another order, do not. */
static void
test_equal_conditions_are_evaluated_once(void **state)
{
    size_t             i, d;
    attrs_t            a;
    req_t              q;
    mkt_config_t      *cfg;
    mkt_exp_result_t   all[5], one;
    const char        *devices[] = { "mobile", "desktop" };

    cfg = config("{\"experiments\": ["
        "{\"key\": \"a\", \"variations\": [\"v0\", \"v1\"],"
        " \"condition\": {\"device\": \"mobile\"}},"
        "{\"key\": \"b\", \"variations\": [\"v0\", \"v1\"],"
        " \"condition\": {\"device\": \"mobile\"}},"
        "{\"key\": \"c\", \"variations\": [\"v0\", \"v1\"],"
        " \"condition\": {\"device\": {\"$ne\": \"mobile\"}}},"
        "{\"key\": \"d\", \"variations\": [\"v0\", \"v1\"],"
        " \"condition\": {\"o\": {\"x\": 1, \"y\": 2}}},"
        "{\"key\": \"e\", \"variations\": [\"v0\", \"v1\"],"
        " \"condition\": {\"o\": {\"y\": 2, \"x\": 1}}}]}");
    assert_int_equal(mkt_config_experiment(cfg, 0)->condition_id,
                     mkt_config_experiment(cfg, 1)->condition_id);
    assert_int_not_equal(mkt_config_experiment(cfg, 0)->condition_id,
                         mkt_config_experiment(cfg, 2)->condition_id);
    assert_int_not_equal(mkt_config_experiment(cfg, 3)->condition_id,
                         mkt_config_experiment(cfg, 4)->condition_id);

    for (d = 0; d < 2; d++) {
        memset(&q, 0, sizeof(q));
        q.attrs = with_id(&a, "visitor-7");
        pair(&a, "device", devices[d]);
        (void) decide(cfg, &q, all);

        for (i = 0; i < 5; i++) {
            (void) mkt_experiment_run(cfg, mkt_config_experiment(cfg, i),
                                      q.attrs, NULL, &one);
            assert_int_equal(all[i].reason, one.reason);
            assert_int_equal(all[i].variation, one.variation);
        }
        assert_int_equal(all[0].reason, d == 0 ? MKT_REASON_ASSIGNED
                                               : MKT_REASON_CONDITION_FALSE);
        assert_int_equal(all[1].reason, all[0].reason);
        assert_int_equal(all[2].reason, d == 1 ? MKT_REASON_ASSIGNED
                                               : MKT_REASON_CONDITION_FALSE);
        assert_int_equal(all[3].reason, MKT_REASON_CONDITION_FALSE);
    }
    mkt_config_free(cfg);
}


/* Hashes from the states kept (the seed's at load, the visitor's value
 * once a request) are GrowthBook's, as mkt_hash() and mkt_in_namespace()
 * compute them from scratch, for ASCII and non-ASCII seeds and values. */
static void
test_hashes_from_kept_states_are_growthbooks(void **state)
{
    size_t             i, k;
    attrs_t            a;
    req_t              q;
    mkt_config_t      *cfg;
    mkt_exp_result_t   all[4];
    const mkt_experiment_t  *e;
    const char        *ids[] = { "1", "visitor-7", "\xe5\xb0\x8f\xe7\xba\xa2",
                                 "\xf0\x9f\x98\x80x" };

    cfg = config("{\"experiments\": ["
        "{\"key\": \"a\", \"variations\": [\"v0\", \"v1\"],"
        " \"hashVersion\": 1},"
        "{\"key\": \"b\", \"variations\": [\"v0\", \"v1\"],"
        " \"hashVersion\": 2, \"seed\": \"s\\u00e9ed\"},"
        "{\"key\": \"c\", \"variations\": [\"v0\", \"v1\"],"
        " \"hashVersion\": 1, \"namespace\": [\"n\\u00e9\", 0, 0.5]},"
        "{\"key\": \"d\", \"variations\": [\"v0\", \"v1\"],"
        " \"hashVersion\": 2, \"namespace\": [\"n\\u00e9\", 0.5, 1]}]}");

    for (k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
        memset(&q, 0, sizeof(q));
        q.attrs = with_id(&a, ids[k]);
        (void) decide(cfg, &q, all);

        for (i = 0; i < 4; i++) {
            e = mkt_config_experiment(cfg, i);
            if (mkt_in_namespace(ids[k], strlen(ids[k]), e->ns.data,
                                 e->ns.len, e->ns_start, e->ns_end)
                || !e->has_namespace)
            {
                assert_true(all[i].bucket
                            == mkt_hash(e->seed.data, e->seed.len, ids[k],
                                        strlen(ids[k]), e->hash_version));
            } else {
                assert_int_equal(all[i].reason, MKT_REASON_NAMESPACE);
            }
        }
        /* the two halves of one namespace: exactly one takes the id */
        assert_int_equal((all[2].reason == MKT_REASON_NAMESPACE)
                         + (all[3].reason == MKT_REASON_NAMESPACE), 1);
    }
    mkt_config_free(cfg);
}


static void
test_condition_false_is_out(void **state)
{
    attrs_t           a;
    req_t             q;
    mkt_config_t     *cfg;

    cfg = config(ONE(", \"condition\": {\"device\": \"mobile\"}"));
    memset(&q, 0, sizeof(q));
    q.attrs = with_id(&a, "1");
    assert_int_equal(decide(cfg, &q, NULL).reason,
                     MKT_REASON_CONDITION_FALSE);
    pair(&a, "device", "mobile");
    assert_int_equal(decide(cfg, &q, NULL).reason, MKT_REASON_ASSIGNED);
    mkt_config_free(cfg);
}


static void
test_holdout_excludes_from_every_experiment(void **state)
{
    mkt_exp_result_t  r;

    r = decide_id("{\"holdout\": {\"key\": \"h\", \"coverage\": 1},"
                  "\"experiments\": [{\"key\": \"my-test\", "
                  "\"variations\": [\"v0\", \"v1\"]}]}", "1");
    assert_int_equal(r.reason, MKT_REASON_HOLDOUT);
    r = decide_id("{\"holdout\": {\"key\": \"h\", \"coverage\": 0},"
                  "\"experiments\": [{\"key\": \"my-test\", "
                  "\"variations\": [\"v0\", \"v1\"]}]}", "1");
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
}


static void
test_namespace_excludes_ids_outside_its_range(void **state)
{
    mkt_exp_result_t  r;

    /* GrowthBook inNamespace("1", ["namespace1", 0, 0.4]) is false */
    r = decide_id(ONE(", \"namespace\": [\"namespace1\", 0, 0.4]"), "1");
    assert_int_equal(r.reason, MKT_REASON_NAMESPACE);
    r = decide_id(ONE(", \"namespace\": [\"namespace1\", 0.4, 1]"), "1");
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
}


static void
test_filters_exclude_as_growthbook(void **state)
{
    mkt_exp_result_t  r;

    /* GrowthBook "Filtered, excluded": id hashes outside [0.6, 0.8) */
    r = decide_id(ONE(", \"filters\": [{\"seed\": \"seed\", "
                      "\"ranges\": [[0, 0.1], [0.2, 0.4]]}, "
                      "{\"seed\": \"seed\", \"ranges\": [[0.6, 0.8]]}]"),
                  "1");
    assert_int_equal(r.reason, MKT_REASON_FILTERED);
}


static void
test_coverage_excludes_with_the_bucket_known(void **state)
{
    mkt_exp_result_t  r;

    /* GrowthBook "coverage - 1" */
    r = decide_id(ONE(", \"coverage\": 0.4"), "1");
    assert_int_equal(r.reason, MKT_REASON_COVERAGE);
    assert_int_equal(r.variation, -1);
    assert_true(r.bucket == 0.969);
    assert_false(r.exposure);
}


static void
test_no_hash_attribute_is_out(void **state)
{
    mkt_exp_result_t  r;

    r = decide_id(ONE(""), NULL);
    assert_int_equal(r.reason, MKT_REASON_NO_HASH_ATTRIBUTE);
    r = decide_id(ONE(""), "");
    assert_int_equal(r.reason, MKT_REASON_NO_HASH_ATTRIBUTE);
}


static void
test_fallback_attribute_hashes_when_the_first_is_missing(void **state)
{
    mkt_exp_result_t  r;

    r = decide_id(ONE(", \"hashAttribute\": \"uid\", "
                      "\"fallbackAttribute\": \"id\""), "1");
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
    assert_int_equal(r.variation, 1);
    assert_true(r.fallback);
}


static void
test_dotted_hash_attribute_reads_nested_objects(void **state)
{
    attrs_t           a, geo;
    req_t             q;
    mkt_config_t     *cfg;
    mkt_exp_result_t  r;

    cfg = config(ONE(", \"hashAttribute\": \"geo.city\""));
    memset(&q, 0, sizeof(q));
    with_id(&geo, NULL);
    pair(&geo, "city", "1");
    q.attrs = with_id(&a, NULL);
    a.pairs[0].key = "geo";
    a.pairs[0].key_len = 3;
    a.pairs[0].val = geo.obj;
    a.obj.len = 1;
    a.obj.u.pairs = a.pairs;

    r = decide(cfg, &q, NULL);
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
    assert_true(r.bucket == 0.969);
    mkt_config_free(cfg);
}


static void
test_sticky_visitor_is_not_hashed_on_the_request_path(void **state)
{
    attrs_t           a;
    mkt_sticky_t      st;
    mkt_request_t     r;
    mkt_config_t     *cfg;
    mkt_exp_result_t  res[1];

    cfg = config(ONE(""));
    mkt_sticky_init(&st);
    memset(&r, 0, sizeof(r));
    r.attributes = with_id(&a, "1");
    r.now = NOW;
    r.sticky = &st;

    /* first visit: hashed (0.969: v1) and stored */
    assert_int_equal(mkt_experiments_eval(cfg, &r, res), 1);
    assert_int_equal(res[0].reason, MKT_REASON_ASSIGNED);
    assert_true(res[0].bucket == 0.969);

    /* returning: the stored decision, its bucket not computed */
    assert_int_equal(mkt_experiments_eval(cfg, &r, res), 1);
    assert_int_equal(res[0].reason, MKT_REASON_STICKY);
    assert_int_equal(res[0].variation, 1);
    assert_true(res[0].hash_used && res[0].sticky && res[0].exposure);
    assert_true(res[0].bucket == -1);

    /* mkt explain (every experiment) still shows it */
    r.all = 1;
    assert_int_equal(mkt_experiments_eval(cfg, &r, res), 1);
    assert_int_equal(res[0].reason, MKT_REASON_STICKY);
    assert_true(res[0].bucket == 0.969);
    mkt_config_free(cfg);
}


/* --- forcing ------------------------------------------------------------ */

static void
test_forced_variation_wins_without_exposure_or_sticky(void **state)
{
    attrs_t           a;
    req_t             q;
    mkt_force_t       f[MKT_FORCE_MAX];
    mkt_sticky_t      st;
    mkt_config_t     *cfg;
    mkt_exp_result_t  r;

    cfg = config(ONE(", \"coverage\": 0"));
    memset(&q, 0, sizeof(q));
    mkt_sticky_init(&st);
    q.attrs = with_id(&a, "1");
    q.sticky = &st;
    q.forced = f;
    q.nforced = mkt_force_parse(cfg, S("my-test:v0"), f);
    assert_int_equal(q.nforced, 1);

    r = decide(cfg, &q, NULL);
    assert_int_equal(r.variation, 0);
    assert_int_equal(r.reason, MKT_REASON_FORCED);
    assert_true(r.forced && !r.exposure && !r.hash_used);
    assert_int_equal(st.n, 0);
    mkt_config_free(cfg);
}


static void
test_forcing_previews_a_draft_but_not_off_its_pages(void **state)
{
    attrs_t           a;
    req_t             q;
    mkt_force_t       f[MKT_FORCE_MAX];
    mkt_config_t     *cfg;

    cfg = config(ONE(", \"status\": \"draft\", \"match\": "
                     "{\"path\": \"^/landing/\"}"));
    memset(&q, 0, sizeof(q));
    q.attrs = with_id(&a, "1");
    q.forced = f;
    q.nforced = mkt_force_parse(cfg, S("my-test:1"), f);

    q.path = "/landing/";
    assert_int_equal(decide(cfg, &q, NULL).reason, MKT_REASON_FORCED);
    assert_int_equal(decide(cfg, &q, NULL).variation, 1);
    q.path = "/";
    assert_int_equal(decide(cfg, &q, NULL).reason, MKT_REASON_PATH_MISMATCH);
    mkt_config_free(cfg);
}


static void
test_force_parse_reads_names_indexes_and_encoded_separators(void **state)
{
    mkt_force_t    f[MKT_FORCE_MAX];
    mkt_config_t  *cfg;

    cfg = config("{\"experiments\": ["
                 "{\"key\": \"a\", \"variations\": [\"x\", \"y\"]},"
                 "{\"key\": \"b-c\", \"variations\": [\"x\", \"y\", \"z\"]}"
                 "]}");

    assert_int_equal(mkt_force_parse(cfg, S("b-c:z,a:1"), f), 2);
    assert_int_equal(f[0].exp, 1);
    assert_int_equal(f[0].variation, 2);
    assert_int_equal(f[1].exp, 0);
    assert_int_equal(f[1].variation, 1);

    assert_int_equal(mkt_force_parse(cfg, S("a%3Ay%2cb-c%3a0"), f), 2);
    assert_int_equal(f[0].variation, 1);
    assert_int_equal(f[1].variation, 0);

    /* unknown experiments and variations are skipped; the last pair for
     * an experiment wins */
    assert_int_equal(mkt_force_parse(cfg, S("zz:x,a:q,a:5,a,:x,a:x,a:y"), f),
                     1);
    assert_int_equal(f[0].exp, 0);
    assert_int_equal(f[0].variation, 1);
    assert_int_equal(mkt_force_parse(cfg, S(""), f), 0);
    mkt_config_free(cfg);
}


static void
test_force_parse_is_bounded(void **state)
{
    char           in[2048], key[16];
    size_t         n, i;
    mkt_force_t    f[MKT_FORCE_MAX];
    mkt_config_t  *cfg;
    char           json[4096];

    n = (size_t) sprintf(json, "{\"experiments\": [");
    for (i = 0; i < 20; i++) {
        n += (size_t) sprintf(json + n, "%s{\"key\": \"e%zu\", "
                              "\"variations\": [\"x\", \"y\"]}",
                              i ? "," : "", i);
    }
    strcpy(json + n, "]}");
    cfg = config(json);

    n = 0;
    for (i = 0; i < 20; i++) {
        n += (size_t) sprintf(in + n, "%se%zu:y", i ? "," : "", i);
    }
    assert_int_equal(mkt_force_parse(cfg, in, n, f), MKT_FORCE_MAX);

    /* past MKT_FORCE_INPUT_MAX bytes nothing is read */
    memset(in, ',', sizeof(in));
    sprintf(key, "e3:y");
    memcpy(in + MKT_FORCE_INPUT_MAX - 2, key, 4);
    assert_int_equal(mkt_force_parse(cfg, in, sizeof(in), f), 0);
    mkt_config_free(cfg);
}


/* --- stopped ------------------------------------------------------------ */

static void
test_stopped_gives_everyone_the_winner_without_exposure(void **state)
{
    attrs_t           a;
    req_t             q;
    mkt_sticky_t      st;
    mkt_config_t     *cfg;
    mkt_exp_result_t  r;

    cfg = config(ONE(", \"status\": \"stopped\", \"winner\": \"v0\", "
                     "\"coverage\": 0, \"end\": \"2026-01-01T00:00:00Z\""));
    memset(&q, 0, sizeof(q));
    mkt_sticky_init(&st);
    q.attrs = with_id(&a, NULL);
    q.sticky = &st;

    r = decide(cfg, &q, NULL);
    assert_int_equal(r.variation, 0);
    assert_int_equal(r.reason, MKT_REASON_STOPPED_WINNER);
    assert_true(!r.exposure && !r.hash_used);
    assert_int_equal(st.n, 0);
    mkt_config_free(cfg);
}


static void
test_stopped_still_targets_its_audience(void **state)
{
    mkt_exp_result_t  r;

    r = decide_id(ONE(", \"status\": \"stopped\", \"winner\": \"v1\", "
                      "\"condition\": {\"device\": \"mobile\"}"), "1");
    assert_int_equal(r.reason, MKT_REASON_CONDITION_FALSE);
    assert_int_equal(r.variation, -1);
}


/* --- distributions over synthetic ids ----------------------------------- */

static void
count_variations(const char *json, size_t *counts, size_t nv)
{
    char              id[32];
    size_t            i;
    attrs_t           a;
    req_t             q;
    mkt_config_t     *cfg;
    mkt_exp_result_t  r;

    cfg = config(json);
    memset(&q, 0, sizeof(q));
    memset(counts, 0, nv * sizeof(size_t));

    for (i = 0; i < IDS; i++) {
        snprintf(id, sizeof(id), "visitor-%zu", i);
        q.attrs = with_id(&a, id);
        r = decide(cfg, &q, NULL);
        assert_true(r.variation >= 0 && (size_t) r.variation < nv);
        counts[r.variation]++;
    }
    mkt_config_free(cfg);
}


static void
check_share(size_t got, double want, double tolerance)
{
    double  share = (double) got / IDS;

    if (share < want - tolerance || share > want + tolerance) {
        fail_msg("share %.4f, expected %.2f +- %.2f", share, want, tolerance);
    }
}


static void
test_fifty_fifty_lands_within_two_percent(void **state)
{
    size_t  c[2];

    count_variations(ONE(", \"hashVersion\": 2"), c, 2);
    check_share(c[0], 0.5, 0.02);
    check_share(c[1], 0.5, 0.02);
    count_variations(ONE(", \"hashVersion\": 1"), c, 2);
    check_share(c[0], 0.5, 0.02);
    check_share(c[1], 0.5, 0.02);
}


static void
test_twenty_thirty_fifty_lands_within_two_percent(void **state)
{
    size_t  c[3];

    count_variations("{\"experiments\": [{\"key\": \"split\", "
                     "\"hashVersion\": 2, \"variations\": [\"a\", \"b\", "
                     "\"c\"], \"weights\": [0.2, 0.3, 0.5]}]}", c, 3);
    check_share(c[0], 0.2, 0.02);
    check_share(c[1], 0.3, 0.02);
    check_share(c[2], 0.5, 0.02);
}


static void
test_namespaced_pair_is_mutually_exclusive(void **state)
{
    char              id[32];
    size_t            i, in0, in1;
    attrs_t           a;
    req_t             q;
    mkt_config_t     *cfg;
    mkt_exp_result_t  res[2];

    cfg = config("{\"experiments\": ["
                 "{\"key\": \"left\", \"variations\": [\"a\", \"b\"], "
                 "\"namespace\": [\"checkout\", 0, 0.5]},"
                 "{\"key\": \"right\", \"variations\": [\"a\", \"b\"], "
                 "\"namespace\": [\"checkout\", 0.5, 1]}]}");
    memset(&q, 0, sizeof(q));
    in0 = in1 = 0;

    for (i = 0; i < IDS; i++) {
        snprintf(id, sizeof(id), "visitor-%zu", i);
        q.attrs = with_id(&a, id);
        (void) decide(cfg, &q, res);
        if (res[0].variation >= 0 && res[1].variation >= 0) {
            fail_msg("%s is in both", id);
        }
        if (res[0].variation < 0 && res[1].variation < 0) {
            fail_msg("%s is in neither", id);
        }
        in0 += res[0].variation >= 0;
        in1 += res[1].variation >= 0;
    }

    check_share(in0, 0.5, 0.02);
    check_share(in1, 0.5, 0.02);
    mkt_config_free(cfg);
}


static void
test_holdout_share_is_within_one_percent(void **state)
{
    char           id[32];
    size_t         i, held;
    attrs_t        a;
    mkt_config_t  *cfg;

    cfg = config("{\"holdout\": {\"key\": \"global-holdout\", "
                 "\"coverage\": 0.05}}");
    held = 0;
    for (i = 0; i < IDS; i++) {
        snprintf(id, sizeof(id), "visitor-%zu", i);
        held += (size_t) mkt_holdout_contains(cfg, with_id(&a, id));
    }
    check_share(held, 0.05, 0.01);
    assert_int_equal(mkt_holdout_contains(cfg, with_id(&a, NULL)), 0);
    mkt_config_free(cfg);
}


/* --- variables ---------------------------------------------------------- */

static const char  two_json[] =
    "{\"experiments\": ["
    "{\"key\": \"my-test\", \"variations\": [\"v0\", \"v1\"]},"
    "{\"key\": \"other\", \"variations\": [\"x\", \"y\"], "
    "\"match\": {\"path\": \"^/other/\"}}]}";


static void
test_experiments_variable_lists_assignments_in_config_order(void **state)
{
    char              buf[64];
    size_t            n;
    attrs_t           a;
    req_t             q;
    mkt_config_t     *cfg;
    mkt_exp_result_t  res[2];

    cfg = config(two_json);
    memset(&q, 0, sizeof(q));
    q.attrs = with_id(&a, "1");
    q.path = "/other/x";
    (void) decide(cfg, &q, res);

    n = mkt_experiments_format(cfg, res, 2, buf,
                               mkt_config_experiments_str_max(cfg));
    assert_true(n <= mkt_config_experiments_str_max(cfg));
    assert_int_equal(n, strlen("my-test:v1,other:x"));
    assert_memory_equal(buf, "my-test:v1,other:x", n);

    q.path = "/";
    (void) decide(cfg, &q, res);
    n = mkt_experiments_format(cfg, res, 2, buf, sizeof(buf));
    assert_int_equal(n, strlen("my-test:v1"));
    assert_memory_equal(buf, "my-test:v1", n);
    mkt_config_free(cfg);
}


static void
test_cache_key_follows_the_decisions(void **state)
{
    char              k1[MKT_CACHE_KEY_LEN], k2[MKT_CACHE_KEY_LEN];
    attrs_t           a;
    req_t             q;
    mkt_config_t     *cfg;
    mkt_exp_result_t  res[2];

    cfg = config(two_json);
    memset(&q, 0, sizeof(q));

    /* ids "1" and "4" both get v1 of my-test; "2" gets v0 */
    q.attrs = with_id(&a, "1");
    (void) decide(cfg, &q, res);
    assert_int_equal(mkt_experiments_cache_key(cfg, res, 2, k1),
                     MKT_CACHE_KEY_LEN);
    /* FNV-1a 64 of "my-test\0v1\0", base64url, computed in Python */
    assert_memory_equal(k1, "7MJg0qJUaSE", MKT_CACHE_KEY_LEN);

    q.attrs = with_id(&a, "4");
    (void) decide(cfg, &q, res);
    assert_int_equal(mkt_experiments_cache_key(cfg, res, 2, k2),
                     MKT_CACHE_KEY_LEN);
    assert_memory_equal(k1, k2, MKT_CACHE_KEY_LEN);

    q.attrs = with_id(&a, "2");
    (void) decide(cfg, &q, res);
    (void) mkt_experiments_cache_key(cfg, res, 2, k2);
    assert_memory_not_equal(k1, k2, MKT_CACHE_KEY_LEN);

    /* no decision: no key */
    q.attrs = with_id(&a, NULL);
    (void) decide(cfg, &q, res);
    assert_int_equal(mkt_experiments_cache_key(cfg, res, 2, k2), 0);
    mkt_config_free(cfg);
}


static void
test_index_visits_only_candidates_with_equal_decisions(void **state)
{
    attrs_t           a;
    mkt_request_t     r;
    mkt_config_t     *cfg;
    mkt_exp_result_t  some[2], all[2];

    cfg = config(two_json);
    memset(&r, 0, sizeof(r));
    r.attributes = with_id(&a, "1");
    r.host = "www.example.com";
    r.host_len = strlen(r.host);
    r.path = "/shop";
    r.path_len = 5;
    r.now = NOW;

    assert_int_equal(mkt_experiments_eval(cfg, &r, some), 1);
    assert_int_equal(some[0].exp, 0);
    r.all = 1;
    assert_int_equal(mkt_experiments_eval(cfg, &r, all), 2);
    assert_int_equal(all[1].reason, MKT_REASON_PATH_MISMATCH);
    assert_int_equal(all[0].variation, some[0].variation);
    assert_int_equal(all[0].reason, some[0].reason);

    assert_ptr_equal(mkt_experiments_find(all, 2, 1), &all[1]);
    assert_null(mkt_experiments_find(some, 1, 1));
    mkt_config_free(cfg);
}


/*
 * The index's candidates skip the host and literal path checks it has
 * made: every shape of match (hosts or none; a "^" literal path, exact or
 * a prefix; a pattern with a literal prefix, one without; none) against
 * hosts in any case, unknown, empty or too long to lowercase, and ASCII,
 * UTF-8, invalid and empty paths decides as visiting every experiment.
 */
static void
test_index_decides_every_match_shape_as_a_full_visit(void **state)
{
    char                    long_host[300];
    size_t                  i, j, k, m, n, nall, checked;
    unsigned                mask;
    attrs_t                 a;
    mkt_request_t           r;
    mkt_config_t           *cfg;
    mkt_exp_result_t        some[16], all[16];
    const mkt_exp_result_t *x;
    static const char *const  hosts[] = {
        "www.example.com", "WWW.Example.COM", "b.example.com",
        "other.example", "", NULL
    };
    static const char *const  paths[] = {
        "/a/b.html", "/a/b.htmlx", "/a/", "/a", "/a/x", "/a/yx", "/b.html",
        "/a/\xc3\xa9", "/a/\xff", "", "/"
    };
    /* which experiments apply, by hand (bit i: e<i>) */
    static const struct { size_t host, path; unsigned mask; }  want[] = {
        { 1, 0, 0x17 },                 /* e0 e1 e2 e4 */
        { 2, 5, 0x29 },                 /* e0 e3 e5 */
        { 0, 9, 0x81 },                 /* e0 e7 */
        { 5, 7, 0x41 },                 /* e0 e6: UTF-8 through PCRE2 */
        { 0, 8, 0x01 },                 /* invalid UTF-8 matches no path */
    };
    static const char  json[] =
        "{\"experiments\": ["
        "{\"key\": \"e0\", \"variations\": [\"a\", \"b\"]},"
        "{\"key\": \"e1\", \"variations\": [\"a\", \"b\"], \"match\": "
        "{\"host\": \"www.example.com\", \"path\": \"^/a/\"}},"
        "{\"key\": \"e2\", \"variations\": [\"a\", \"b\"], \"match\": "
        "{\"path\": \"^/a/b\\\\.html$\"}},"
        "{\"key\": \"e3\", \"variations\": [\"a\", \"b\"], \"match\": "
        "{\"host\": [\"www.example.com\", \"b.example.com\"], "
        "\"path\": \"^/a/.*x$\"}},"
        "{\"key\": \"e4\", \"variations\": [\"a\", \"b\"], \"match\": "
        "{\"path\": \"b\\\\.html\"}},"
        "{\"key\": \"e5\", \"variations\": [\"a\", \"b\"], \"match\": "
        "{\"host\": \"b.example.com\"}},"
        "{\"key\": \"e6\", \"variations\": [\"a\", \"b\"], \"match\": "
        "{\"path\": \"^/a/\\u00e9\"}},"
        "{\"key\": \"e7\", \"variations\": [\"a\", \"b\"], \"match\": "
        "{\"host\": \"www.example.com\", \"path\": \"^$\"}}"
        "]}";

    cfg = config(json);
    memset(long_host, 'h', sizeof(long_host));
    n = checked = 0;

    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        for (j = 0; j < sizeof(paths) / sizeof(paths[0]); j++) {
            memset(&r, 0, sizeof(r));
            r.attributes = with_id(&a, "7");
            r.host = hosts[i] ? hosts[i] : long_host;
            r.host_len = hosts[i] ? strlen(hosts[i]) : sizeof(long_host);
            r.path = paths[j];
            r.path_len = strlen(paths[j]);
            r.now = NOW;

            k = mkt_experiments_eval(cfg, &r, some);
            r.all = 1;
            nall = mkt_experiments_eval(cfg, &r, all);
            assert_int_equal(nall, 8);

            mask = 0;
            for (m = 0; m < nall; m++) {
                x = mkt_experiments_find(some, k, all[m].exp);
                if (all[m].reason == MKT_REASON_HOST_MISMATCH
                    || all[m].reason == MKT_REASON_PATH_MISMATCH)
                {
                    assert_true(x == NULL
                                || x->reason == MKT_REASON_PATH_MISMATCH);
                    continue;
                }
                assert_non_null(x);
                assert_int_equal(x->reason, all[m].reason);
                assert_int_equal(x->variation, all[m].variation);
                mask |= 1u << all[m].exp;
            }

            for (m = 0; m < sizeof(want) / sizeof(want[0]); m++) {
                if (want[m].host == i && want[m].path == j) {
                    assert_int_equal(mask, want[m].mask);
                    checked++;
                }
            }
            n++;
        }
    }
    assert_int_equal(checked, 5);
    assert_int_equal(n, 66);
    mkt_config_free(cfg);
}


/* 120 experiments whose candidates the index finds out of order: every
 * other one host-specific, every third with a path prefix. */
static mkt_config_t *
many_config(void)
{
    char          *json;
    size_t         i, n;
    mkt_config_t  *cfg;

    json = malloc(120 * 400 + 64);
    assert_non_null(json);
    n = (size_t) sprintf(json, "{\"holdout\": {\"key\": \"h\", "
                         "\"coverage\": 0.05}, \"experiments\": [");
    for (i = 0; i < 120; i++) {
        n += (size_t) sprintf(json + n, "%s{\"key\": \"e%zu\", "
                              "\"hashVersion\": 2, \"variations\": "
                              "[\"a\", \"b\"], \"namespace\": [\"n\", 0, "
                              "0.9], \"condition\": {\"path\": {\"$regex\": "
                              "\"^/l\"}}, \"match\": {%s%s%s}}",
                              i ? "," : "", i,
                              i % 2 ? "\"host\": \"www.example.com\"" : "",
                              i % 2 && i % 3 == 0 ? ", " : "",
                              i % 3 == 0 ? "\"path\": \"^/landing/\"" : "");
    }
    strcpy(json + n, "]}");
    cfg = config(json);
    free(json);
    return cfg;
}


static void
test_candidates_come_back_in_config_order(void **state)
{
    size_t            i, n;
    attrs_t           a;
    mkt_request_t     r;
    mkt_config_t     *cfg;
    mkt_exp_result_t  res[120];

    cfg = many_config();
    assert_int_equal(mkt_config_candidates_max(cfg), 120);

    memset(&r, 0, sizeof(r));
    r.attributes = with_id(&a, "1");
    r.host = "www.example.com";
    r.host_len = strlen(r.host);
    r.path = "/landing/x";
    r.path_len = strlen(r.path);
    r.now = NOW;

    n = mkt_experiments_eval(cfg, &r, res);
    assert_int_equal(n, 120);
    for (i = 0; i < n; i++) {
        assert_int_equal(res[i].exp, i);
    }

    /* another host: only the 60 experiments of any host */
    r.host = "example.org";
    r.host_len = strlen(r.host);
    n = mkt_experiments_eval(cfg, &r, res);
    assert_int_equal(n, 60);
    for (i = 0; i < n; i++) {
        assert_int_equal(res[i].exp, 2 * i);
    }
    mkt_config_free(cfg);
}


static void
test_evaluation_allocates_nothing(void **state)
{
#if COUNT_ALLOCS
    char              vars[2048], key[MKT_CACHE_KEY_LEN];
    char              sb[MKT_STICKY_COOKIE_MAX];
    size_t            n, len;
    attrs_t           a;
    mkt_force_t       f[MKT_FORCE_MAX];
    mkt_sticky_t      st;
    mkt_request_t     r;
    mkt_config_t     *cfg;
    mkt_exp_result_t  res[120];

    cfg = many_config();
    memset(&r, 0, sizeof(r));
    r.attributes = with_id(&a, "visitor-7");
    pair(&a, "path", "/landing/x");
    r.host = "www.example.com";
    r.host_len = strlen(r.host);
    r.path = "/landing/x";
    r.path_len = strlen(r.path);
    r.now = NOW;
    r.sticky = &st;
    r.forced = f;

    allocations = 0;
    counting = 1;

    assert_int_equal(mkt_sticky_decode(NULL, S("s2.0009ix8c10rs0000"), &st),
                     MKT_COOKIE_OK);
    r.nforced = mkt_force_parse(cfg, S("e3:b,e5:a"), f);
    n = mkt_experiments_eval(cfg, &r, res);
    len = mkt_experiments_format(cfg, res, n, vars, sizeof(vars));
    len += mkt_experiments_cache_key(cfg, res, n, key);
    (void) mkt_experiments_find(res, n, 77);
    (void) mkt_holdout_contains(cfg, &a.obj);
    (void) mkt_sticky_encode(NULL, &st, cfg, sb, &len);

    counting = 0;
    assert_int_equal(n, 120);
    assert_int_equal(r.nforced, 2);
    assert_true(st.changed);
    assert_int_equal(allocations, 0);
    mkt_config_free(cfg);
#else
    skip();
#endif
}


/* --- GrowthBook objects (mkt eval) -------------------------------------- */

static void
test_growthbook_object_runs_with_seed_and_hash_version(void **state)
{
    char               err[128];
    json_t            *j;
    attrs_t            a;
    mkt_experiment_t  *e;
    mkt_exp_result_t   r;

    /* GrowthBook "Uses seed and hash version" */
    j = json_loads("{\"key\": \"key\", \"seed\": \"foo\", \"hashVersion\": 2,"
                   "\"variations\": [0, 1], \"ranges\": [[0, 0.5], "
                   "[0.5, 1.0]]}", 0, NULL);
    e = mkt_experiment_from_json(j, err, sizeof(err));
    assert_non_null(e);
    assert_int_equal(mkt_experiment_run(NULL, e, with_id(&a, "1"), NULL, &r), 1);
    assert_true(r.hash_used);
    mkt_experiment_free(e);
    json_decref(j);

    j = json_loads("{\"key\": \"k\", \"variations\": 3}", 0, NULL);
    assert_null(mkt_experiment_from_json(j, err, sizeof(err)));
    assert_string_equal(err, "variations: expected an array of at most 1024 "
                        "values");
    json_decref(j);
}


/* JSON has one number type: a filter's "hashVersion": 1.0 is 1, as for
 * the experiment's own hashVersion (hash("s", "u5", 1) = 0.34 is in the
 * range, hash("s", "u5", 2) = 0.7475 is not). */
static void
test_growthbook_filter_hash_version_may_be_written_as_a_real(void **state)
{
    static const char *const  versions[] = { "1", "1.0" };
    char                      buf[256], err[128];
    size_t                    i;
    json_t                   *j;
    attrs_t                   a;
    mkt_experiment_t         *e;
    mkt_exp_result_t          r;

    for (i = 0; i < 2; i++) {
        snprintf(buf, sizeof(buf), "{\"key\": \"k\", \"variations\": [0, 1], "
                 "\"filters\": [{\"seed\": \"s\", \"ranges\": [[0, 0.5]], "
                 "\"hashVersion\": %s}]}", versions[i]);
        j = json_loads(buf, 0, NULL);
        e = mkt_experiment_from_json(j, err, sizeof(err));
        assert_non_null(e);
        assert_int_equal(mkt_experiment_run(NULL, e, with_id(&a, "u5"), NULL,
                                            &r), 0);
        assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
        mkt_experiment_free(e);
        json_decref(j);
    }

    /* hash() of version 2.5 is null: filtered out, as GrowthBook does */
    j = json_loads("{\"key\": \"k\", \"variations\": [0, 1], "
                   "\"filters\": [{\"seed\": \"s\", \"ranges\": [[0, 1]], "
                   "\"hashVersion\": 2.5}]}", 0, NULL);
    e = mkt_experiment_from_json(j, err, sizeof(err));
    assert_non_null(e);
    assert_int_equal(mkt_experiment_run(NULL, e, with_id(&a, "u5"), NULL, &r),
                     -1);
    assert_int_equal(r.reason, MKT_REASON_FILTERED);
    mkt_experiment_free(e);
    json_decref(j);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_assigned_by_hash_as_growthbook),
        cmocka_unit_test(test_draft_is_out),
        cmocka_unit_test(test_schedule_start_is_inclusive),
        cmocka_unit_test(test_schedule_end_is_exclusive),
        cmocka_unit_test(test_host_and_path_must_match),
        cmocka_unit_test(test_literal_match_path_decides_as_its_regex),
        cmocka_unit_test(
            test_experiments_hashing_on_other_attributes_decide_as_alone),
        cmocka_unit_test(test_equal_conditions_are_evaluated_once),
        cmocka_unit_test(test_hashes_from_kept_states_are_growthbooks),
        cmocka_unit_test(test_condition_false_is_out),
        cmocka_unit_test(test_holdout_excludes_from_every_experiment),
        cmocka_unit_test(test_namespace_excludes_ids_outside_its_range),
        cmocka_unit_test(test_filters_exclude_as_growthbook),
        cmocka_unit_test(test_coverage_excludes_with_the_bucket_known),
        cmocka_unit_test(test_no_hash_attribute_is_out),
        cmocka_unit_test(test_fallback_attribute_hashes_when_the_first_is_missing),
        cmocka_unit_test(test_dotted_hash_attribute_reads_nested_objects),
        cmocka_unit_test(test_sticky_visitor_is_not_hashed_on_the_request_path),
        cmocka_unit_test(test_forced_variation_wins_without_exposure_or_sticky),
        cmocka_unit_test(test_forcing_previews_a_draft_but_not_off_its_pages),
        cmocka_unit_test(test_force_parse_reads_names_indexes_and_encoded_separators),
        cmocka_unit_test(test_force_parse_is_bounded),
        cmocka_unit_test(test_stopped_gives_everyone_the_winner_without_exposure),
        cmocka_unit_test(test_stopped_still_targets_its_audience),
        cmocka_unit_test(test_fifty_fifty_lands_within_two_percent),
        cmocka_unit_test(test_twenty_thirty_fifty_lands_within_two_percent),
        cmocka_unit_test(test_namespaced_pair_is_mutually_exclusive),
        cmocka_unit_test(test_holdout_share_is_within_one_percent),
        cmocka_unit_test(test_experiments_variable_lists_assignments_in_config_order),
        cmocka_unit_test(test_cache_key_follows_the_decisions),
        cmocka_unit_test(test_index_visits_only_candidates_with_equal_decisions),
        cmocka_unit_test(test_index_decides_every_match_shape_as_a_full_visit),
        cmocka_unit_test(test_candidates_come_back_in_config_order),
        cmocka_unit_test(test_evaluation_allocates_nothing),
        cmocka_unit_test(test_growthbook_object_runs_with_seed_and_hash_version),
        cmocka_unit_test(
            test_growthbook_filter_hash_version_may_be_written_as_a_real),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
