/* Unit tests of mkt_event_assign_sticky() (src/event.c): the assignments
 * a conversion carries from the visitor's _mkt_sb cookie, and which
 * stored entries it leaves out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "event.h"

#define NOW  1795440000         /* 2026-11-23 */

static const char  config_json[] =
    "{\"goals\": [\"signup\"], \"experiments\": ["
    "{\"key\": \"hero\", \"variations\": [\"control\", \"new-hero\"]},"
    "{\"key\": \"cta\", \"variations\": [\"a\", \"b\", \"c\"]},"
    "{\"key\": \"done\", \"status\": \"stopped\", \"winner\": \"y\","
    " \"variations\": [\"x\", \"y\"]},"
    "{\"key\": \"draft\", \"status\": \"draft\", \"variations\": [\"x\","
    " \"y\"]},"
    "{\"key\": \"later\", \"start\": \"2099-01-01T00:00:00Z\","
    " \"variations\": [\"x\", \"y\"]},"
    "{\"key\": \"over\", \"end\": \"2026-01-01T00:00:00Z\","
    " \"variations\": [\"x\", \"y\"]},"
    "{\"key\": \"bumped\", \"bucketVersion\": 3, \"minBucketVersion\": 2,"
    " \"variations\": [\"x\", \"y\"]}"
    "]}";


static int
setup(void **state)
{
    *state = mkt_config_load_string("t.json", config_json,
                                    sizeof(config_json) - 1, NULL, NULL);
    return *state == NULL;
}


static int
teardown(void **state)
{
    mkt_config_free(*state);
    return 0;
}


/* Stores variation index var of experiment key, named name (as the
 * cookie remembers it), under bucket version bv. */
static void
store(mkt_sticky_t *st, const mkt_config_t *cfg, const char *key,
    unsigned var, const char *name, uint32_t bv)
{
    int                  i;
    mkt_sticky_entry_t   a;

    i = mkt_config_find_experiment(cfg, key, strlen(key));
    assert_true(i >= 0);

    memset(&a, 0, sizeof(a));
    a.id = mkt_config_experiment(cfg, (size_t) i)->sticky_id;
    a.variation = (uint8_t) var;
    a.vhash = (uint16_t) mkt_sticky_variation_hash(name, strlen(name));
    a.bucket_version = bv;
    assert_int_equal(mkt_sticky_set(st, NULL, &a), 0);
}


static void
assert_assign(const mkt_event_assign_t *a, const char *key,
    const char *var)
{
    assert_int_equal(a->key.len, strlen(key));
    assert_memory_equal(a->key.data, key, a->key.len);
    assert_int_equal(a->variation.len, strlen(var));
    assert_memory_equal(a->variation.data, var, a->variation.len);
}


static void
test_assign_sticky_takes_running_experiments_in_cookie_order(void **state)
{
    mkt_config_t        *cfg = *state;
    mkt_sticky_t         st;
    mkt_event_assign_t   out[MKT_STICKY_MAX];

    mkt_sticky_init(&st);
    store(&st, cfg, "cta", 2, "c", 0);
    store(&st, cfg, "hero", 1, "new-hero", 0);

    assert_int_equal(mkt_event_assign_sticky(cfg, &st, NOW, out), 2);
    assert_assign(&out[0], "cta", "c");
    assert_assign(&out[1], "hero", "new-hero");
}


static void
test_assign_sticky_skips_experiments_not_running_now(void **state)
{
    mkt_config_t        *cfg = *state;
    mkt_sticky_t         st;
    mkt_event_assign_t   out[MKT_STICKY_MAX];

    mkt_sticky_init(&st);
    store(&st, cfg, "done", 1, "y", 0);
    store(&st, cfg, "draft", 0, "x", 0);
    store(&st, cfg, "later", 0, "x", 0);
    store(&st, cfg, "over", 0, "x", 0);
    store(&st, cfg, "hero", 0, "control", 0);

    assert_int_equal(mkt_event_assign_sticky(cfg, &st, NOW, out), 1);
    assert_assign(&out[0], "hero", "control");
}


static void
test_assign_sticky_skips_bucket_versions_below_the_minimum(void **state)
{
    mkt_config_t        *cfg = *state;
    mkt_sticky_t         st;
    mkt_event_assign_t   out[MKT_STICKY_MAX];

    mkt_sticky_init(&st);
    store(&st, cfg, "bumped", 1, "y", 1);
    assert_int_equal(mkt_event_assign_sticky(cfg, &st, NOW, out), 0);

    /* at the minimum, or an older version above it: what the visitor saw */
    mkt_sticky_init(&st);
    store(&st, cfg, "bumped", 1, "y", 2);
    assert_int_equal(mkt_event_assign_sticky(cfg, &st, NOW, out), 1);
    assert_assign(&out[0], "bumped", "y");
}


static void
test_assign_sticky_skips_renamed_and_removed_variations(void **state)
{
    mkt_config_t        *cfg = *state;
    mkt_sticky_t         st;
    mkt_event_assign_t   out[MKT_STICKY_MAX];

    mkt_sticky_init(&st);
    store(&st, cfg, "hero", 1, "old-hero", 0);      /* renamed since */
    store(&st, cfg, "cta", 5, "f", 0);              /* index gone */

    assert_int_equal(mkt_event_assign_sticky(cfg, &st, NOW, out), 0);
}


static void
test_assign_sticky_skips_experiments_not_in_the_config(void **state)
{
    mkt_config_t        *cfg = *state;
    mkt_sticky_t         st;
    mkt_sticky_entry_t   a;
    mkt_event_assign_t   out[MKT_STICKY_MAX];

    mkt_sticky_init(&st);
    memset(&a, 0, sizeof(a));
    a.id = 12345;
    assert_int_equal(mkt_sticky_set(&st, NULL, &a), 0);
    store(&st, cfg, "hero", 0, "control", 0);

    assert_int_equal(mkt_event_assign_sticky(cfg, &st, NOW, out), 1);
    assert_assign(&out[0], "hero", "control");
}


static void
test_assign_sticky_is_empty_without_config_or_cookie(void **state)
{
    mkt_config_t        *cfg = *state;
    mkt_sticky_t         st;
    mkt_event_assign_t   out[MKT_STICKY_MAX];

    mkt_sticky_init(&st);
    assert_int_equal(mkt_event_assign_sticky(cfg, &st, NOW, out), 0);

    store(&st, cfg, "hero", 0, "control", 0);
    assert_int_equal(mkt_event_assign_sticky(NULL, &st, NOW, out), 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_assign_sticky_takes_running_experiments_in_cookie_order),
        cmocka_unit_test(test_assign_sticky_skips_experiments_not_running_now),
        cmocka_unit_test(
            test_assign_sticky_skips_bucket_versions_below_the_minimum),
        cmocka_unit_test(
            test_assign_sticky_skips_renamed_and_removed_variations),
        cmocka_unit_test(
            test_assign_sticky_skips_experiments_not_in_the_config),
        cmocka_unit_test(test_assign_sticky_is_empty_without_config_or_cookie),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
