/* Unit tests of src/sticky.c: the _mkt_sb cookie codec (round trip,
 * tampering, strictness, size bounds, pruning) and the sticky state; and
 * the engine's sticky bucketing: what a stored assignment survives, and
 * bucketVersion / minBucketVersion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "b64url.h"
#include "experiment.h"
#include "sticky.h"

#define SECRET  "0123456789abcdef0123"
#define S(lit)  lit, sizeof(lit) - 1

/* ids 12345 and 0xabcd; fingerprint 300, var 1, name hash 1000, bv 0,
 * never exposed; fingerprint 1295, var 2, name hash 46655, bv 7, exposed
 * on day 20412: in base64url, 00003039 03e8 21 012c, then 0000abcd b63f
 * e2 050f 4fbc 000007; the signatures computed with Python's hmac
 * module */
#define BODY    "s3.AAAwOQPoIQEsAACrzbY_4gUPT7wAAAc"
#define GOOD    BODY "._1bkNujF7C8YR6OY"

/* the same in the format before */
#define BODY2   "s2.0009ix8c10rs0000-000xxpzz2zzzfr07"
#define GOOD2   BODY2 ".DtbVcOBqCYe0vvVm"


static int
setup(void **state)
{
    *state = mkt_hmac_create(SECRET, sizeof(SECRET) - 1);
    return *state == NULL;
}


static int
teardown(void **state)
{
    mkt_hmac_destroy(*state);
    return 0;
}


/* mkt_sticky_set() of an assignment, with cfg for a full state */
static int
put_in(mkt_sticky_t *st, const mkt_config_t *cfg, uint32_t id,
    uint32_t bucket_version, unsigned fp, unsigned variation, unsigned vhash)
{
    mkt_sticky_entry_t  a;

    memset(&a, 0, sizeof(a));
    a.id = id;
    a.bucket_version = bucket_version;
    a.fingerprint = (uint16_t) fp;
    a.variation = (uint8_t) variation;
    a.vhash = (uint16_t) vhash;
    return mkt_sticky_set(st, cfg, &a);
}


static int
put(mkt_sticky_t *st, uint32_t id, uint32_t bucket_version, unsigned fp,
    unsigned variation, unsigned vhash)
{
    return put_in(st, NULL, id, bucket_version, fp, variation, vhash);
}


/* The state the next request decodes from st's cookie. */
static void
next_request(mkt_hmac_t *h, mkt_sticky_t *st)
{
    char    out[MKT_STICKY_COOKIE_MAX];
    size_t  len;

    assert_int_equal(mkt_sticky_encode(h, st, NULL, out, &len), 0);
    assert_int_equal(mkt_sticky_decode(h, out, len, st), MKT_COOKIE_OK);
}


/*
 * JSON of n experiments "e0", "e1", ... of variations a and b, then the
 * experiment objects in more ("" or ", {...}"), as a string to free().
 */
static char *
experiments_json(size_t n, const char *more)
{
    char    *buf;
    size_t   i, len, cap;

    cap = 64 + n * 64 + strlen(more);
    buf = malloc(cap);
    assert_non_null(buf);
    len = (size_t) snprintf(buf, cap, "{\"experiments\": [");
    for (i = 0; i < n; i++) {
        len += (size_t) snprintf(buf + len, cap - len,
                                 "%s{\"key\": \"e%zu\", "
                                 "\"variations\": [\"a\", \"b\"]}",
                                 i ? ", " : "", i);
    }
    snprintf(buf + len, cap - len, "%s]}", more);
    return buf;
}


static void
two_entries(mkt_sticky_t *st)
{
    mkt_sticky_init(st);
    put(st, 12345, 0, 300, 1, 1000);
    put(st, 0xabcd, 7, 1295, 2, 46655);
    assert_int_equal(mkt_sticky_expose(st, 0xabcd, 20412), 1);
}


static void
assert_encodes_to(mkt_hmac_t *h, const mkt_sticky_t *st, const char *want)
{
    char    out[MKT_STICKY_COOKIE_MAX];
    size_t  len;

    assert_int_equal(mkt_sticky_encode(h, st, NULL, out, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
}


static void
test_encode_writes_prefix_entries_and_signature(void **state)
{
    mkt_sticky_t  st;

    two_entries(&st);
    assert_encodes_to(*state, &st, GOOD);
}


static void
test_encode_without_key_is_unsigned(void **state)
{
    mkt_sticky_t  st;

    two_entries(&st);
    assert_encodes_to(NULL, &st, BODY);
}


static void
check_two_entries(const mkt_sticky_t *st)
{
    assert_int_equal(st->n, 2);
    assert_int_equal(st->changed, 0);
    assert_int_equal(st->e[0].id, 12345);
    assert_int_equal(st->e[0].fingerprint, 300);
    assert_int_equal(st->e[0].variation, 1);
    assert_int_equal(st->e[0].vhash, 1000);
    assert_int_equal(st->e[0].bucket_version, 0);
    assert_int_equal(st->e[0].day, 0);
    assert_int_equal(st->e[1].id, 0xabcd);
    assert_int_equal(st->e[1].fingerprint, 1295);
    assert_int_equal(st->e[1].variation, 2);
    assert_int_equal(st->e[1].vhash, 46655);
    assert_int_equal(st->e[1].bucket_version, 7);
    assert_int_equal(st->e[1].day, 20412);
    assert_int_equal(st->e[0].used + st->e[1].used, 0);
    assert_non_null(mkt_sticky_find(st, 0xabcd));
    assert_null(mkt_sticky_find(st, 1));
}


/* the cookie set before "s3.": read the same, written as "s3." */
static void
test_decode_reads_the_format_before(void **state)
{
    mkt_sticky_t  st;

    assert_int_equal(mkt_sticky_decode(*state, S(GOOD2), &st),
                     MKT_COOKIE_OK);
    check_two_entries(&st);
    assert_int_equal(mkt_sticky_decode(NULL, S(BODY2), &st), MKT_COOKIE_OK);
    check_two_entries(&st);
    assert_encodes_to(*state, &st, GOOD);
}


/* "s3." takes 7 bytes an entry when fingerprint, day and bucketVersion
 * are the entry before's: 9.3 characters, against 16 of "s2." */
static void
test_encode_writes_only_the_fields_that_change(void **state)
{
    char          out[MKT_STICKY_COOKIE_MAX];
    size_t        len;
    uint32_t      i;
    mkt_sticky_t  st;

    mkt_sticky_init(&st);
    for (i = 0; i < 60; i++) {
        assert_int_equal(put(&st, 1000 + i, 1, 777, i % 2, i), 0);
        assert_int_equal(mkt_sticky_expose(&st, 1000 + i, 20412), 1);
    }
    assert_int_equal(mkt_sticky_encode(NULL, &st, NULL, out, &len), 0);
    /* the first entry carries FP, DAY and BV: 14 + 59 * 7 bytes */
    assert_int_equal(len, 3 + MKT_B64URL_LEN(14 + 59 * 7));

    /* a change of day in the middle costs 2 bytes, and again back */
    st.e[30].day = 20411;
    assert_int_equal(mkt_sticky_encode(NULL, &st, NULL, out, &len), 0);
    assert_int_equal(len, 3 + MKT_B64URL_LEN(14 + 59 * 7 + 4));
    next_request(NULL, &st);
    assert_int_equal(st.e[29].day, 20412);
    assert_int_equal(st.e[30].day, 20411);
    assert_int_equal(st.e[31].day, 20412);
    assert_int_equal(st.e[59].fingerprint, 777);
    assert_int_equal(st.e[59].bucket_version, 1);
    assert_int_equal(st.e[59].variation, 1);
    assert_int_equal(st.e[59].vhash, 59);
}


static void
test_decode_round_trips_entries_in_order(void **state)
{
    mkt_sticky_t  st;

    assert_int_equal(mkt_sticky_decode(*state, S(GOOD), &st), MKT_COOKIE_OK);
    check_two_entries(&st);
}


static void
test_decode_rejects_a_tampered_body(void **state)
{
    char          v[MKT_STICKY_COOKIE_MAX];
    size_t        len;
    mkt_sticky_t  st;

    /* variation 1 -> 2, under the signature of 1 */
    two_entries(&st);
    st.e[0].variation = 2;
    assert_int_equal(mkt_sticky_encode(NULL, &st, NULL, v, &len), 0);
    assert_int_equal(len, strlen(BODY));
    assert_memory_not_equal(v, BODY, len);
    memcpy(v + len, GOOD + len, strlen(GOOD) - len);
    len = strlen(GOOD);
    assert_int_equal(mkt_sticky_decode(NULL, v, len, &st), MKT_COOKIE_OK);
    assert_int_equal(st.e[0].variation, 2);

    assert_int_equal(mkt_sticky_decode(*state, v, len, &st),
                     MKT_COOKIE_BAD_SIGNATURE);
    assert_int_equal(st.n, 0);

    /* and the format before */
    memcpy(v, GOOD2, sizeof(GOOD2));
    v[11] = '2';
    assert_int_equal(mkt_sticky_decode(*state, v, strlen(v), &st),
                     MKT_COOKIE_BAD_SIGNATURE);
    assert_int_equal(st.n, 0);
}


static void
test_decode_rejects_a_tampered_signature(void **state)
{
    char          v[] = GOOD;
    mkt_sticky_t  st;

    v[strlen(v) - 1] = 'H';
    assert_int_equal(mkt_sticky_decode(*state, v, strlen(v), &st),
                     MKT_COOKIE_BAD_SIGNATURE);
    assert_int_equal(st.n, 0);
}


static void
test_decode_with_key_requires_a_signature(void **state)
{
    mkt_sticky_t  st;

    assert_int_equal(mkt_sticky_decode(*state, S(BODY), &st),
                     MKT_COOKIE_UNSIGNED);
    assert_int_equal(st.n, 0);
}


static void
test_decode_without_key_accepts_signed_and_unsigned(void **state)
{
    mkt_sticky_t  st;

    assert_int_equal(mkt_sticky_decode(NULL, S(BODY), &st), MKT_COOKIE_OK);
    assert_int_equal(st.n, 2);
    assert_int_equal(mkt_sticky_decode(NULL, S(GOOD), &st), MKT_COOKIE_OK);
    assert_int_equal(st.n, 2);
}


static void
test_decode_is_strict(void **state)
{
    static const char *const  bad[] = {
        "",
        "s2.",                          /* no entry */
        "s1.0009ix10000",               /* the first version */
        "s1.0009ix8c10rs0000",
        "s4.AAAwOQPoAQ",
        "S2.0009ix8c10rs0000",
        "s2.0009IX8c10rs0000",          /* uppercase */
        "s2.0009ix8C10rs0000",
        "s2.0009ix8c10RS0000",
        "s2.0009ix8c10rs000",           /* no bucketVersion */
        "s2.0009ix8c1rs0000",           /* a short name hash */
        "s2.0009ix8c10rs00000",         /* leading zero */
        "s2.0009ix8c10rs0001zzzz",      /* bucketVersion over 4 digits */
        "s2.0009ix8c10rs000lflt",       /* 1000001 > MKT_BUCKET_VERSION_MAX */
        "s2.0009ix8cwrs0000",           /* variation 32 */
        "s2.0009ix8c10rs0000-",         /* trailing separator */
        "s2.0009ix8c10rs0000-0009ixzz2zzzfr07",    /* the same id twice */
        "s2.0009ix8c10rs0000~000xxpzz2zzzfr07",    /* wrong separator */
        "s2.0009ix8c10rs0000.short",    /* signature of the wrong length */
        "s2.0009ix8c10rs0000.DtbVcOBqCYe0vvV=",
        "s2.0009ix8c10rs0000.DtbVcOBqCYe0vvVmm",

        /* "s3.AAAwOQPoAQ" is id 12345, name hash 1000, variation 1 */
        "s3.",                          /* no entry */
        "S3.AAAwOQPoAQ",
        "s3.AAAwOQPo",                  /* a short entry */
        "s3.AAAwOQPoAQA",               /* a byte after the last entry */
        "s3.AAAwOQPoAR",                /* non-canonical base64url */
        "s3.AAAwOQPoAQ==",              /* padding */
        "s3.AAAwOQPo+Q",                /* not base64url */
        "s3.gb8QAAPoAQ",                /* id 36^6 */
        "s3.AAAwObZAAQ",                /* name hash 36^3 */
        "s3.AAAwOQPoIQAA",              /* FP written unchanged (0) */
        "s3.AAAwOQPoIQUQ",              /* FP 36^2 */
        "s3.AAAwOQPoQbZA",              /* DAY past MKT_STICKY_DAY_MAX */
        "s3.AAAwOQPogQ9CQQ",            /* BV past MKT_BUCKET_VERSION_MAX */
        "s3.AAAwOQPoQQE",               /* DAY cut short */
        "s3.AAAwOQPoAQAAMDkABwE",       /* the same id twice */
        "s3.AAAwOQPoIQEsAAAATQPoIQEs",  /* FP written unchanged (300) */
        "s3.AAAwOQPoAQ.",               /* an empty signature */
        "s3.AAAwOQPoAQ.short",
        "s3.AAAwOQPoAQ.DtbVcOBqCYe0vvVmm",
    };
    size_t        i;
    mkt_sticky_t  st;

    /* the values above are bad for the reasons given, not for all */
    assert_int_equal(mkt_sticky_decode(NULL, S("s3.AAAwOQPoAQ"), &st),
                     MKT_COOKIE_OK);
    assert_int_equal(st.e[0].id, 12345);
    assert_int_equal(mkt_sticky_decode(NULL, S("s2.0009ix8c10rs0000"), &st),
                     MKT_COOKIE_OK);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mkt_sticky_decode(NULL, bad[i], strlen(bad[i]), &st)
            != MKT_COOKIE_MALFORMED)
        {
            fail_msg("accepted \"%s\"", bad[i]);
        }
        assert_int_equal(st.n, 0);
    }
}


static void
test_decode_rejects_an_oversized_value(void **state)
{
    char          v[MKT_STICKY_COOKIE_MAX + 2];
    mkt_sticky_t  st;

    memset(v, 'a', sizeof(v));
    memcpy(v, "s2.", 3);
    assert_int_equal(mkt_sticky_decode(NULL, v, MKT_STICKY_COOKIE_MAX + 1,
                                       &st),
                     MKT_COOKIE_OVERSIZED);
    memcpy(v, "s3.", 3);
    assert_int_equal(mkt_sticky_decode(NULL, v, MKT_STICKY_COOKIE_MAX + 1,
                                       &st),
                     MKT_COOKIE_OVERSIZED);
    /* over what MKT_STICKY_MAX entries can take, though under the bound */
    assert_int_equal(mkt_sticky_decode(NULL, v, MKT_STICKY_COOKIE_MAX, &st),
                     MKT_COOKIE_MALFORMED);
}


static void
test_decode_rejects_more_entries_than_the_bound(void **state)
{
    char           v[MKT_STICKY_COOKIE_MAX];
    unsigned char  raw[(MKT_STICKY_MAX + 1) * 7];
    size_t        i, n;
    mkt_sticky_t  st;

    /* one short entry more than the entry bound fits the byte bound */
    n = (size_t) snprintf(v, sizeof(v), "s2.");
    for (i = 0; i <= MKT_STICKY_MAX; i++) {
        n += (size_t) snprintf(v + n, sizeof(v) - n, "%s%06zu0000000000",
                               i ? "-" : "", i);
    }
    assert_true(n <= MKT_STICKY_COOKIE_MAX);
    assert_int_equal(mkt_sticky_decode(NULL, v, n, &st),
                     MKT_COOKIE_MALFORMED);

    /* the same in "s3.": 7 bytes each, and one entry fewer is good */
    for (i = 0; i <= MKT_STICKY_MAX; i++) {
        memset(raw + i * 7, 0, 7);
        raw[i * 7 + 3] = (unsigned char) i;
        raw[i * 7 + 2] = (unsigned char) (i >> 8);
    }
    memcpy(v, "s3.", 3);
    n = 3 + mkt_b64url_encode(v + 3, raw, MKT_STICKY_MAX * 7);
    assert_int_equal(mkt_sticky_decode(NULL, v, n, &st), MKT_COOKIE_OK);
    assert_int_equal(st.n, MKT_STICKY_MAX);
    n = 3 + mkt_b64url_encode(v + 3, raw, (MKT_STICKY_MAX + 1) * 7);
    assert_int_equal(mkt_sticky_decode(NULL, v, n, &st),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(st.n, 0);
}


/* MKT_STICKY_MAX entries of the longest, the oldest of id 36^6 - 1: the
 * largest values, less 1 every other entry, so that each entry writes
 * every field */
#define TOP  2176782335u

static void
fill(mkt_sticky_t *st)
{
    uint32_t  i, k;

    mkt_sticky_init(st);
    for (i = 0; i < MKT_STICKY_MAX; i++) {
        k = i % 2;
        assert_int_equal(put(st, TOP - i, MKT_BUCKET_VERSION_MAX - k,
                             MKT_STICKY_FP_SPACE - 1 - k, 31,
                             MKT_STICKY_VH_SPACE - 1), 0);
        assert_int_equal(mkt_sticky_expose(st, TOP - i,
                                           MKT_STICKY_DAY_MAX - k), 1);
    }
}


static void
test_a_full_state_fits_the_byte_bound(void **state)
{
    char          out[MKT_STICKY_COOKIE_MAX];
    size_t        len, i;
    mkt_sticky_t  st, back;

    fill(&st);
    assert_int_equal(mkt_sticky_encode(*state, &st, NULL, out, &len), 0);
    assert_int_equal(len, 3 + MKT_B64URL_LEN(MKT_STICKY_MAX * 14) + 1
                          + MKT_SIG_LEN);
    assert_true(len <= MKT_STICKY_COOKIE_MAX);
    /* browsers take 4096 bytes of name=value; leave 1 KB to attributes */
    assert_true(sizeof(MKT_STICKY_COOKIE "=") - 1 + len <= 4096 - 1024);

    assert_int_equal(mkt_sticky_decode(*state, out, len, &back),
                     MKT_COOKIE_OK);
    assert_int_equal(back.n, MKT_STICKY_MAX);
    for (i = 0; i < MKT_STICKY_MAX; i++) {
        assert_int_equal(back.e[i].id, st.e[i].id);
        assert_int_equal(back.e[i].bucket_version,
                         MKT_BUCKET_VERSION_MAX - i % 2);
        assert_int_equal(back.e[i].fingerprint,
                         MKT_STICKY_FP_SPACE - 1 - i % 2);
        assert_int_equal(back.e[i].variation, 31);
        assert_int_equal(back.e[i].vhash, MKT_STICKY_VH_SPACE - 1);
        assert_int_equal(back.e[i].day, MKT_STICKY_DAY_MAX - i % 2);
        assert_int_equal(back.e[i].used, 0);
    }
}


static void
test_set_when_full_never_drops_what_this_request_used(void **state)
{
    mkt_sticky_t  st;

    /* every entry stored by this request */
    fill(&st);
    st.changed = 0;
    assert_int_equal(put(&st, 1, 0, 0, 0, 0), -1);
    assert_int_equal(st.n, MKT_STICKY_MAX);
    assert_int_equal(st.changed, 0);
    assert_null(mkt_sticky_find(&st, 1));

    /* the next request looks up the oldest: the second oldest goes */
    next_request(*state, &st);
    assert_non_null(mkt_sticky_use(&st, TOP));
    assert_int_equal(put(&st, 1, 0, 0, 0, 0), 0);
    assert_int_equal(st.changed, 1);
    assert_int_equal(st.n, MKT_STICKY_MAX);
    assert_non_null(mkt_sticky_find(&st, TOP));
    assert_null(mkt_sticky_find(&st, TOP - 1));
    assert_non_null(mkt_sticky_find(&st, TOP - 2));
    assert_int_equal(st.e[MKT_STICKY_MAX - 1].id, 1);
    assert_int_equal(st.e[MKT_STICKY_MAX - 1].used, 1);
}


/* e0 ... e146, then old (stopped), wip (draft), n1, n2, n3 */
#define OLD  (MKT_STICKY_MAX - 3)
#define WIP  (OLD + 1)
#define N1   (OLD + 2)

static void
test_set_when_full_drops_experiments_not_running_first(void **state)
{
    char          *json;
    size_t         i;
    uint32_t       id[N1 + 3];
    mkt_sticky_t   st;
    mkt_config_t  *cfg;

    json = experiments_json(OLD,
        ", {\"key\": \"old\", \"variations\": [\"a\", \"b\"], "
        "\"status\": \"stopped\", \"winner\": \"b\"}"
        ", {\"key\": \"wip\", \"variations\": [\"a\", \"b\"], "
        "\"status\": \"draft\"}"
        ", {\"key\": \"n1\", \"variations\": [\"a\", \"b\"]}"
        ", {\"key\": \"n2\", \"variations\": [\"a\", \"b\"]}"
        ", {\"key\": \"n3\", \"variations\": [\"a\", \"b\"]}");
    cfg = mkt_config_load_string("t.json", json, strlen(json), NULL, NULL);
    free(json);
    assert_non_null(cfg);
    for (i = 0; i < N1 + 3; i++) {
        id[i] = mkt_config_experiment(cfg, i)->sticky_id;
    }

    /* oldest first: e0 ... e72, old, 12345 (no experiment), e73 ...
     * e146, wip */
    mkt_sticky_init(&st);
    for (i = 0; i < OLD; i++) {
        if (i == 73) {
            put(&st, id[OLD], 0, 0, 1, 0);
            put(&st, 12345, 0, 0, 1, 0);
        }
        put(&st, id[i], 0, 0, 1, 0);
    }
    put(&st, id[WIP], 0, 0, 1, 0);
    assert_int_equal(st.n, MKT_STICKY_MAX);
    next_request(*state, &st);

    assert_int_equal(put_in(&st, cfg, id[N1], 0, 0, 0, 0), 0);
    assert_null(mkt_sticky_find(&st, id[OLD]));
    assert_int_equal(put_in(&st, cfg, id[N1 + 1], 0, 0, 0, 0), 0);
    assert_null(mkt_sticky_find(&st, 12345));
    assert_int_equal(put_in(&st, cfg, id[N1 + 2], 0, 0, 0, 0), 0);
    assert_null(mkt_sticky_find(&st, id[WIP]));

    /* then the oldest */
    assert_int_equal(put_in(&st, cfg, 99999, 0, 0, 0, 0), 0);
    assert_null(mkt_sticky_find(&st, id[0]));
    assert_non_null(mkt_sticky_find(&st, id[1]));
    assert_int_equal(st.n, MKT_STICKY_MAX);

    mkt_config_free(cfg);
}


static void
test_set_of_the_same_assignment_changes_nothing(void **state)
{
    mkt_sticky_t  st;

    assert_int_equal(mkt_sticky_decode(*state, S(GOOD), &st), MKT_COOKIE_OK);
    put(&st, 12345, 0, 300, 1, 1000);
    assert_int_equal(st.changed, 0);
    assert_int_equal(st.e[0].id, 12345);
}


static void
test_set_of_a_new_assignment_moves_it_last(void **state)
{
    mkt_sticky_t  st;

    assert_int_equal(mkt_sticky_decode(*state, S(GOOD), &st), MKT_COOKIE_OK);
    put(&st, 12345, 1, 300, 0, 1000);
    assert_int_equal(st.changed, 1);
    assert_int_equal(st.n, 2);
    assert_int_equal(st.e[0].id, 0xabcd);
    assert_int_equal(st.e[1].id, 12345);
    assert_int_equal(st.e[1].bucket_version, 1);
    assert_int_equal(st.e[1].variation, 0);
    assert_int_equal(mkt_sticky_find(&st, 12345)->variation, 0);

    /* another visitor's assignment, though the same variation */
    put(&st, 0xabcd, 7, 1294, 2, 46655);
    assert_int_equal(st.e[1].id, 0xabcd);
    assert_int_equal(st.e[1].fingerprint, 1294);
}


static void
test_expose_records_one_exposure_a_day(void **state)
{
    mkt_sticky_t  st;

    assert_int_equal(mkt_sticky_decode(*state, S(GOOD), &st), MKT_COOKIE_OK);
    assert_int_equal(mkt_sticky_expose(&st, 0xabcd, 20412), 0);
    assert_int_equal(st.changed, 0);
    assert_int_equal(mkt_sticky_expose(&st, 0xabcd, 20413), 1);
    assert_int_equal(st.changed, 1);
    assert_int_equal(mkt_sticky_expose(&st, 0xabcd, 20413), 0);
    assert_int_equal(mkt_sticky_expose(&st, 99, 20413), 0);  /* none */
}


static void
test_encode_prunes_experiments_not_in_the_config(void **state)
{
    char           out[MKT_STICKY_COOKIE_MAX];
    size_t         len;
    mkt_sticky_t   st;
    mkt_config_t  *cfg;
    static const char  json[] =
        "{\"experiments\": [{\"key\": \"hero-2026q4\", "
        "\"variations\": [\"a\", \"b\"]}]}";

    cfg = mkt_config_load_string("t.json", S(json), NULL, NULL);
    assert_non_null(cfg);

    mkt_sticky_init(&st);
    put(&st, 12345, 0, 0, 1, 0);
    put(&st, 1059177267, 0, 0, 1, 0);           /* sticky id of the key */
    put(&st, 0xabcd, 0, 0, 1, 0);

    assert_int_equal(mkt_sticky_encode(NULL, &st, cfg, out, &len), 0);
    /* 3f21c333 0000 01 */
    assert_int_equal(len, strlen("s3.PyHDMwAAAQ"));
    assert_memory_equal(out, "s3.PyHDMwAAAQ", len);

    /* nothing left: nothing to store */
    mkt_sticky_init(&st);
    put(&st, 12345, 0, 0, 1, 0);
    assert_int_equal(mkt_sticky_encode(*state, &st, cfg, out, &len), 0);
    assert_int_equal(len, 0);

    mkt_config_free(cfg);
}


/* --- the engine's sticky bucketing (src/experiment.c) ------------------- */

#define NOW  1793491200                 /* 2026-11-01T00:00:00Z */

/* a config of one experiment "my-test" with the given extra fields */
#define ONE(fields)                                                           \
    "{\"experiments\": [{\"key\": \"my-test\", "                              \
    "\"variations\": [\"v0\", \"v1\"]" fields "}]}"


/* two experiments that split the namespace "pair" */
#define PAIR                                                                  \
    "{\"experiments\": ["                                                     \
    "{\"key\": \"x\", \"variations\": [\"x0\", \"x1\"], "                     \
    "\"namespace\": [\"pair\", 0, 0.5]}, "                                    \
    "{\"key\": \"y\", \"variations\": [\"y0\", \"y1\"], "                     \
    "\"namespace\": [\"pair\", 0.5, 1]}]}"

/* my-test with the given variations and extra fields */
#define VARS(variations, fields)                                              \
    "{\"experiments\": [{\"key\": \"my-test\", "                              \
    "\"variations\": " variations fields "}]}"

#define FALLBACK                                                              \
    ", \"hashAttribute\": \"uid\", \"fallbackAttribute\": \"vid\""

#define ATTRS_MAX  4


/*
 * Runs every experiment of json for the string attributes attrs
 * ("name=value", NULL-terminated) with the sticky state st, into res;
 * returns how many results.
 */
static size_t
run_with(const char *json, mkt_sticky_t *st, const char *const *attrs,
    mkt_exp_result_t *res)
{
    size_t           n;
    const char      *eq;
    mkt_val_t        obj;
    mkt_request_t    r;
    mkt_config_t    *cfg;
    mkt_val_pair_t   pairs[ATTRS_MAX];

    cfg = mkt_config_load_string("t.json", json, strlen(json), NULL, NULL);
    assert_non_null(cfg);

    for (n = 0; attrs[n] != NULL; n++) {
        assert_true(n < ATTRS_MAX);
        eq = strchr(attrs[n], '=');
        pairs[n].key = attrs[n];
        pairs[n].key_len = (size_t) (eq - attrs[n]);
        pairs[n].val = mkt_val_string(eq + 1, strlen(eq + 1));
    }
    obj = mkt_val_object(pairs, n);

    memset(&r, 0, sizeof(r));
    r.attributes = &obj;
    r.path = "/";
    r.path_len = 1;
    r.now = NOW;
    r.sticky = st;
    r.all = 1;

    n = mkt_experiments_eval(cfg, &r, res);
    mkt_config_free(cfg);
    return n;
}


/* Runs my-test for id "2" (hash 0.122: v0 with equal weights). */
static mkt_exp_result_t
sticky_run(const char *json, mkt_sticky_t *st, const char *device)
{
    char              dev[32];
    const char       *attrs[3] = { "id=2", NULL, NULL };
    mkt_exp_result_t  res;

    if (device != NULL) {
        snprintf(dev, sizeof(dev), "device=%s", device);
        attrs[1] = dev;
    }
    assert_int_equal(run_with(json, st, attrs, &res), 1);
    return res;
}


static void
test_assignment_is_stored_once(void **state)
{
    mkt_sticky_t      st;
    mkt_exp_result_t  r;

    mkt_sticky_init(&st);
    r = sticky_run(ONE(""), &st, NULL);
    assert_int_equal(r.variation, 0);
    assert_int_equal(st.changed, 1);
    assert_int_equal(st.n, 1);
    assert_int_equal(st.e[0].variation, 0);
    assert_int_equal(st.e[0].bucket_version, 0);

    st.changed = 0;
    r = sticky_run(ONE(""), &st, NULL);
    assert_int_equal(r.reason, MKT_REASON_STICKY);
    assert_true(r.sticky && r.hash_used && r.exposure);
    assert_int_equal(st.changed, 0);
}


static void
test_sticky_keeps_the_assignment_after_a_weight_change(void **state)
{
    mkt_sticky_t      st;
    mkt_exp_result_t  r;

    mkt_sticky_init(&st);
    r = sticky_run(ONE(", \"weights\": [1, 0]"), &st, NULL);
    assert_int_equal(r.variation, 0);

    st.changed = 0;
    r = sticky_run(ONE(", \"weights\": [0, 1]"), &st, NULL);
    assert_int_equal(r.variation, 0);
    assert_int_equal(r.reason, MKT_REASON_STICKY);
    assert_int_equal(st.changed, 0);

    /* and after coverage shrinks, and the namespace moves */
    r = sticky_run(ONE(", \"coverage\": 0, \"namespace\": [\"n\", 0, "
                       "0.001]"), &st, NULL);
    assert_int_equal(r.variation, 0);
    assert_int_equal(r.reason, MKT_REASON_STICKY);
}


static void
test_raising_bucket_version_rebuckets(void **state)
{
    mkt_sticky_t      st;
    mkt_exp_result_t  r;

    mkt_sticky_init(&st);
    r = sticky_run(ONE(", \"weights\": [1, 0]"), &st, NULL);
    assert_int_equal(r.variation, 0);

    st.changed = 0;
    r = sticky_run(ONE(", \"weights\": [0, 1], \"bucketVersion\": 1"), &st,
                   NULL);
    assert_int_equal(r.variation, 1);
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
    assert_int_equal(st.changed, 1);
    assert_int_equal(st.n, 1);
    assert_int_equal(st.e[0].bucket_version, 1);
    assert_int_equal(st.e[0].variation, 1);
}


static void
test_min_bucket_version_excludes_older_assignments(void **state)
{
    mkt_sticky_t      st;
    mkt_exp_result_t  r;

    mkt_sticky_init(&st);
    (void) sticky_run(ONE(""), &st, NULL);

    st.changed = 0;
    r = sticky_run(ONE(", \"bucketVersion\": 2, \"minBucketVersion\": 2"),
                   &st, NULL);
    assert_int_equal(r.variation, -1);
    assert_int_equal(r.reason, MKT_REASON_BUCKET_VERSION);
    assert_int_equal(st.changed, 0);
    assert_int_equal(st.e[0].bucket_version, 0);    /* still excluded later */

    /* a new visitor is bucketed under version 2 */
    mkt_sticky_init(&st);
    r = sticky_run(ONE(", \"bucketVersion\": 2, \"minBucketVersion\": 2"),
                   &st, NULL);
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
    assert_int_equal(st.e[0].bucket_version, 2);
}


static void
test_sticky_visitor_must_still_pass_the_condition(void **state)
{
    mkt_sticky_t      st;
    mkt_exp_result_t  r;

    mkt_sticky_init(&st);
    (void) sticky_run(ONE(""), &st, "mobile");
    r = sticky_run(ONE(", \"condition\": {\"device\": \"mobile\"}"), &st,
                   "desktop");
    assert_int_equal(r.reason, MKT_REASON_CONDITION_FALSE);
    r = sticky_run(ONE(", \"condition\": {\"device\": \"mobile\"}"), &st,
                   "mobile");
    assert_int_equal(r.reason, MKT_REASON_STICKY);
}


static void
test_stored_variation_beyond_the_variations_rebuckets(void **state)
{
    mkt_sticky_t      st;
    mkt_exp_result_t  r;

    mkt_sticky_init(&st);
    put(&st, 229609242 /* unused */, 0, 0, 0, 0);
    (void) sticky_run(ONE(""), &st, NULL);
    st.e[1].variation = 5;              /* variations were removed */
    r = sticky_run(ONE(""), &st, NULL);
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
    assert_int_equal(mkt_sticky_find(&st, st.e[1].id)->variation, 0);
}


/* The namespace hash puts anon-2 in x (0.002), user-2 in y (0.731). */
static void
test_login_does_not_put_a_visitor_in_both_of_a_namespace_pair(void **state)
{
    mkt_sticky_t              st;
    mkt_exp_result_t          r[2];
    static const char *const  anon[] = { "id=anon-2", "vid=anon-2", NULL };
    static const char *const  user[] = {
        "id=user-2", "uid=user-2", "vid=anon-2", NULL
    };

    mkt_sticky_init(&st);
    assert_int_equal(run_with(PAIR, &st, anon, r), 2);
    assert_int_equal(r[0].reason, MKT_REASON_ASSIGNED);
    assert_int_equal(r[1].reason, MKT_REASON_NAMESPACE);

    /* x's entry was made for id anon-2, not user-2 */
    assert_int_equal(run_with(PAIR, &st, user, r), 2);
    assert_int_equal(r[0].reason, MKT_REASON_NAMESPACE);
    assert_int_equal(r[1].reason, MKT_REASON_ASSIGNED);

    /* and still holds for anon-2 after logging out */
    assert_int_equal(run_with(PAIR, &st, anon, r), 2);
    assert_int_equal(r[0].reason, MKT_REASON_STICKY);
    assert_int_equal(r[1].reason, MKT_REASON_NAMESPACE);
}


/* my-test hashes user-2 to v1 (0.802), user-3 to v0 (0.215). */
static void
test_another_user_of_the_browser_does_not_inherit_variations(void **state)
{
    mkt_sticky_t              st;
    mkt_exp_result_t          r;
    static const char *const  a[] = { "id=user-2", NULL };
    static const char *const  b[] = { "id=user-3", NULL };

    mkt_sticky_init(&st);
    assert_int_equal(run_with(ONE(""), &st, a, &r), 1);
    assert_int_equal(r.variation, 1);

    assert_int_equal(run_with(ONE(""), &st, b, &r), 1);
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
    assert_int_equal(r.variation, 0);

    assert_int_equal(run_with(ONE(""), &st, b, &r), 1);
    assert_int_equal(r.reason, MKT_REASON_STICKY);
    assert_int_equal(r.variation, 0);
}


/* As GrowthBook reads the fallback attribute's document too: anon-2
 * hashes to v1 (0.665), user-3 alone would get v0. */
static void
test_login_keeps_an_assignment_made_on_the_fallback(void **state)
{
    mkt_sticky_t              st;
    mkt_exp_result_t          r;
    static const char *const  anon[] = { "vid=anon-2", NULL };
    static const char *const  user[] = { "uid=user-3", "vid=anon-2", NULL };

    mkt_sticky_init(&st);
    assert_int_equal(run_with(ONE(FALLBACK), &st, anon, &r), 1);
    assert_int_equal(r.variation, 1);
    assert_true(r.fallback);

    st.changed = 0;
    assert_int_equal(run_with(ONE(FALLBACK), &st, user, &r), 1);
    assert_int_equal(r.reason, MKT_REASON_STICKY);
    assert_int_equal(r.variation, 1);
    assert_false(r.fallback);
    assert_int_equal(st.changed, 0);
}


static void
test_a_removed_renamed_or_moved_variation_rebuckets(void **state)
{
    mkt_sticky_t      st;
    mkt_exp_result_t  r;

    mkt_sticky_init(&st);
    r = sticky_run(VARS("[\"a\", \"b\", \"c\"]", ", \"weights\": [0, 1, 0]"),
                   &st, NULL);
    assert_int_equal(r.variation, 1);

    /* "b" removed: index 1 is "c" now */
    r = sticky_run(VARS("[\"a\", \"c\"]", ""), &st, NULL);
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
    assert_int_equal(r.variation, 0);
    assert_int_equal(st.e[0].vhash, mkt_sticky_variation_hash("a", 1));

    /* "a" renamed */
    r = sticky_run(VARS("[\"a2\", \"c\"]", ""), &st, NULL);
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
    assert_int_equal(r.variation, 0);

    r = sticky_run(VARS("[\"a2\", \"c\"]", ", \"weights\": [0, 1]"), &st,
                   NULL);
    assert_int_equal(r.reason, MKT_REASON_STICKY);
    assert_int_equal(r.variation, 0);

    /* "a2" moved to index 1 */
    r = sticky_run(VARS("[\"c\", \"a2\"]", ""), &st, NULL);
    assert_int_equal(r.reason, MKT_REASON_ASSIGNED);
}


/* 201 experiments on one page: the first MKT_STICKY_MAX stay sticky. */
static void
test_more_experiments_than_the_cookie_holds_keep_the_first(void **state)
{
    char                     *json;
    size_t                    i;
    mkt_sticky_t              st;
    mkt_exp_result_t          r[MKT_STICKY_MAX + 51];
    static const char *const  id[] = { "id=2", NULL };

    json = experiments_json(MKT_STICKY_MAX + 51, "");
    mkt_sticky_init(&st);
    assert_int_equal(run_with(json, &st, id, r), MKT_STICKY_MAX + 51);
    assert_int_equal(st.n, MKT_STICKY_MAX);

    for (i = 0; i < 2; i++) {
        next_request(*state, &st);
        assert_int_equal(run_with(json, &st, id, r), MKT_STICKY_MAX + 51);
        assert_int_equal(r[0].reason, MKT_REASON_STICKY);
        assert_int_equal(r[MKT_STICKY_MAX - 1].reason, MKT_REASON_STICKY);
        assert_int_equal(r[MKT_STICKY_MAX].reason, MKT_REASON_ASSIGNED);
        assert_int_equal(r[MKT_STICKY_MAX + 50].reason, MKT_REASON_ASSIGNED);
        assert_int_equal(st.changed, 0);        /* the cookie is not resent */
    }
    free(json);
}


static void
last_warning(void *data, mkt_diag_level_e level, const char *msg)
{
    char  *last = data;

    if (level == MKT_DIAG_WARN) {
        snprintf(last, 256, "%s", msg);
    }
}


static void
test_config_warns_when_requests_can_outgrow_the_cookie(void **state)
{
    char           *json, last[256];
    mkt_config_t   *cfg;

    last[0] = '\0';
    json = experiments_json(MKT_STICKY_MAX, "");
    cfg = mkt_config_load_string("t.json", json, strlen(json), last_warning,
                                 last);
    assert_non_null(cfg);
    assert_string_equal(last, "");
    mkt_config_free(cfg);
    free(json);

    json = experiments_json(MKT_STICKY_MAX + 1, "");
    cfg = mkt_config_load_string("t.json", json, strlen(json), last_warning,
                                 last);
    assert_non_null(cfg);
    assert_string_equal(last, "t.json: experiments: up to 151 experiments "
                        "can apply to one request, more than the 150 "
                        "assignments the sticky-bucket cookie holds: the "
                        "rest are bucketed afresh on every request");
    mkt_config_free(cfg);
    free(json);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_encode_writes_prefix_entries_and_signature),
        cmocka_unit_test(test_encode_without_key_is_unsigned),
        cmocka_unit_test(test_decode_round_trips_entries_in_order),
        cmocka_unit_test(test_decode_reads_the_format_before),
        cmocka_unit_test(test_encode_writes_only_the_fields_that_change),
        cmocka_unit_test(test_decode_rejects_a_tampered_body),
        cmocka_unit_test(test_decode_rejects_a_tampered_signature),
        cmocka_unit_test(test_decode_with_key_requires_a_signature),
        cmocka_unit_test(test_decode_without_key_accepts_signed_and_unsigned),
        cmocka_unit_test(test_decode_is_strict),
        cmocka_unit_test(test_decode_rejects_an_oversized_value),
        cmocka_unit_test(test_decode_rejects_more_entries_than_the_bound),
        cmocka_unit_test(test_a_full_state_fits_the_byte_bound),
        cmocka_unit_test(
            test_set_when_full_never_drops_what_this_request_used),
        cmocka_unit_test(
            test_set_when_full_drops_experiments_not_running_first),
        cmocka_unit_test(test_set_of_the_same_assignment_changes_nothing),
        cmocka_unit_test(test_set_of_a_new_assignment_moves_it_last),
        cmocka_unit_test(test_expose_records_one_exposure_a_day),
        cmocka_unit_test(test_encode_prunes_experiments_not_in_the_config),
        cmocka_unit_test(test_assignment_is_stored_once),
        cmocka_unit_test(test_sticky_keeps_the_assignment_after_a_weight_change),
        cmocka_unit_test(test_raising_bucket_version_rebuckets),
        cmocka_unit_test(test_min_bucket_version_excludes_older_assignments),
        cmocka_unit_test(test_sticky_visitor_must_still_pass_the_condition),
        cmocka_unit_test(test_stored_variation_beyond_the_variations_rebuckets),
        cmocka_unit_test(
            test_login_does_not_put_a_visitor_in_both_of_a_namespace_pair),
        cmocka_unit_test(
            test_another_user_of_the_browser_does_not_inherit_variations),
        cmocka_unit_test(test_login_keeps_an_assignment_made_on_the_fallback),
        cmocka_unit_test(test_a_removed_renamed_or_moved_variation_rebuckets),
        cmocka_unit_test(
            test_more_experiments_than_the_cookie_holds_keep_the_first),
        cmocka_unit_test(test_config_warns_when_requests_can_outgrow_the_cookie),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
