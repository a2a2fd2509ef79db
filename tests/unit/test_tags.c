/* Unit tests of src/tags.c: the tag set, ZSET scores, the cache blob and
 * the $mkt_tags / attribute views. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tags.h"


#define NOW  1763870000

#define S(s)  s, sizeof(s) - 1


static mkt_tags_t  t, u;


static void
assert_join(const mkt_tags_t *set, const char *want)
{
    char    buf[MKT_TAGS_JOIN_MAX];
    size_t  n;

    n = mkt_tags_join(set, buf, sizeof(buf));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);
}


static void
test_add_keeps_order_and_merges_repeats(void **state)
{
    mkt_tags_init(&t);
    assert_int_equal(mkt_tags_add(&t, S("vip"), MKT_TAG_NEVER, NOW),
                     MKT_TAG_ADDED);
    assert_int_equal(mkt_tags_add(&t, S("new_mom"), NOW + 60, NOW),
                     MKT_TAG_ADDED);
    assert_int_equal(mkt_tags_add(&t, S("new_mom"), NOW + 600, NOW),
                     MKT_TAG_MERGED);
    assert_int_equal(mkt_tags_add(&t, S("new_mom"), NOW + 10, NOW),
                     MKT_TAG_MERGED);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.tag[1].expires, NOW + 600);
    assert_join(&t, "vip,new_mom");
    assert_int_equal(mkt_tags_next_expiry(&t), NOW + 600);
}


static void
test_add_rejects_expired_and_invalid_tags(void **state)
{
    char  long_tag[MKT_TAG_LEN_MAX + 1];

    memset(long_tag, 'a', sizeof(long_tag));
    mkt_tags_init(&t);

    assert_int_equal(mkt_tags_add(&t, S("gone"), NOW, NOW), MKT_TAG_EXPIRED);
    assert_int_equal(mkt_tags_add(&t, S("gone"), NOW - 1, NOW),
                     MKT_TAG_EXPIRED);
    assert_int_equal(mkt_tags_add(&t, "", 0, MKT_TAG_NEVER, NOW),
                     MKT_TAG_INVALID);
    assert_int_equal(mkt_tags_add(&t, S("a,b"), MKT_TAG_NEVER, NOW),
                     MKT_TAG_INVALID);
    assert_int_equal(mkt_tags_add(&t, S("a\nb"), MKT_TAG_NEVER, NOW),
                     MKT_TAG_INVALID);
    assert_int_equal(mkt_tags_add(&t, S("bad\xff"), MKT_TAG_NEVER, NOW),
                     MKT_TAG_INVALID);
    assert_int_equal(mkt_tags_add(&t, long_tag, sizeof(long_tag),
                                  MKT_TAG_NEVER, NOW), MKT_TAG_INVALID);
    assert_int_equal(mkt_tags_add(&t, long_tag, MKT_TAG_LEN_MAX,
                                  MKT_TAG_NEVER, NOW), MKT_TAG_ADDED);
    assert_int_equal(mkt_tags_add(&t, S("\xe6\x96\xb0\xe5\xae\xa2"),
                                  MKT_TAG_NEVER, NOW), MKT_TAG_ADDED);
    assert_int_equal(t.n, 2);
}


static void
test_add_stops_at_the_maximum(void **state)
{
    char    name[16];
    size_t  i;

    mkt_tags_init(&t);
    for (i = 0; i < MKT_TAGS_MAX; i++) {
        snprintf(name, sizeof(name), "t%zu", i);
        assert_int_equal(mkt_tags_add(&t, name, strlen(name), MKT_TAG_NEVER,
                                      NOW), MKT_TAG_ADDED);
    }
    assert_int_equal(mkt_tags_add(&t, S("one-more"), MKT_TAG_NEVER, NOW),
                     MKT_TAG_FULL);
    assert_int_equal(t.n, MKT_TAGS_MAX);
}


static void
test_scores_as_redis_prints_them(void **state)
{
    int64_t  v;

    assert_int_equal(mkt_tags_parse_score(S("inf"), &v), 0);
    assert_true(v == MKT_TAG_NEVER);
    assert_int_equal(mkt_tags_parse_score(S("+inf"), &v), 0);
    assert_true(v == MKT_TAG_NEVER);
    assert_int_equal(mkt_tags_parse_score(S("1767225600"), &v), 0);
    assert_int_equal(v, 1767225600);
    assert_int_equal(mkt_tags_parse_score(S("1.7672256e9"), &v), 0);
    assert_int_equal(v, 1767225600);
    assert_int_equal(mkt_tags_parse_score(S("1e300"), &v), 0);
    assert_true(v == MKT_TAG_NEVER);
    assert_int_equal(mkt_tags_parse_score(S("-inf"), &v), -1);
    assert_int_equal(mkt_tags_parse_score(S("-5"), &v), -1);
    assert_int_equal(mkt_tags_parse_score(S("12x"), &v), -1);
    assert_int_equal(mkt_tags_parse_score(S("nan"), &v), -1);
    assert_int_equal(mkt_tags_parse_score("", 0, &v), -1);
}


static void
test_blob_round_trip_drops_what_expired_since(void **state)
{
    unsigned char  blob[MKT_TAGS_BLOB_MAX];
    size_t         n;

    mkt_tags_init(&t);
    mkt_tags_add(&t, S("vip"), MKT_TAG_NEVER, NOW);
    mkt_tags_add(&t, S("sale"), NOW + 30, NOW);
    n = mkt_tags_encode(&t, blob, sizeof(blob));
    assert_int_equal(n, (1 + 3 + 8) + (1 + 4 + 8));

    mkt_tags_init(&u);
    assert_int_equal(mkt_tags_decode(&u, blob, n, NOW + 29), 0);
    assert_join(&u, "vip,sale");
    assert_int_equal(u.tag[1].expires, NOW + 30);

    mkt_tags_init(&u);
    assert_int_equal(mkt_tags_decode(&u, blob, n, NOW + 30), 0);
    assert_join(&u, "vip");
}


static void
test_decode_merges_into_a_set_and_rejects_garbage(void **state)
{
    unsigned char  blob[MKT_TAGS_BLOB_MAX];
    size_t         n;

    mkt_tags_init(&t);
    mkt_tags_add(&t, S("vip"), MKT_TAG_NEVER, NOW);
    mkt_tags_add(&t, S("b"), MKT_TAG_NEVER, NOW);
    n = mkt_tags_encode(&t, blob, sizeof(blob));

    mkt_tags_init(&u);
    mkt_tags_add(&u, S("a"), MKT_TAG_NEVER, NOW);
    mkt_tags_add(&u, S("b"), NOW + 5, NOW);
    assert_int_equal(mkt_tags_decode(&u, blob, n, NOW), 0);
    assert_join(&u, "a,b,vip");
    assert_true(u.tag[1].expires == MKT_TAG_NEVER);

    /* truncated: the set is left as it was */
    assert_int_equal(mkt_tags_decode(&u, blob, n - 1, NOW), -1);
    assert_join(&u, "a,b,vip");
    blob[0] = 200;
    assert_int_equal(mkt_tags_decode(&u, blob, n, NOW), -1);
    assert_int_equal(mkt_tags_decode(&u, blob, 0, NOW), 0);
    assert_int_equal(u.n, 3);
}


static void
test_encode_and_join_stop_at_capacity(void **state)
{
    char           out[8];
    unsigned char  blob[20];

    mkt_tags_init(&t);
    mkt_tags_add(&t, S("alpha"), MKT_TAG_NEVER, NOW);
    mkt_tags_add(&t, S("beta"), MKT_TAG_NEVER, NOW);
    assert_int_equal(mkt_tags_join(&t, out, sizeof(out)), 5);
    assert_int_equal(mkt_tags_encode(&t, blob, sizeof(blob)), 14);
}


static void
test_value_is_an_array_of_strings(void **state)
{
    mkt_val_t  items[MKT_TAGS_MAX], v;

    mkt_tags_init(&t);
    mkt_tags_add(&t, S("vip"), MKT_TAG_NEVER, NOW);
    mkt_tags_add(&t, S("new_mom"), MKT_TAG_NEVER, NOW);
    v = mkt_tags_value(&t, items);
    assert_int_equal(v.type, MKT_VAL_ARRAY);
    assert_int_equal(v.len, 2);
    assert_int_equal(v.u.items[1].type, MKT_VAL_STRING);
    assert_int_equal(v.u.items[1].len, 7);
    assert_memory_equal(v.u.items[1].u.str, "new_mom", 7);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_keeps_order_and_merges_repeats),
        cmocka_unit_test(test_add_rejects_expired_and_invalid_tags),
        cmocka_unit_test(test_add_stops_at_the_maximum),
        cmocka_unit_test(test_scores_as_redis_prints_them),
        cmocka_unit_test(test_blob_round_trip_drops_what_expired_since),
        cmocka_unit_test(test_decode_merges_into_a_set_and_rejects_garbage),
        cmocka_unit_test(test_encode_and_join_stop_at_capacity),
        cmocka_unit_test(test_value_is_an_array_of_strings),
    };

    return cmocka_run_group_tests_name("tags", tests, NULL, NULL);
}
