/* Unit tests of the example plugins in lua/plugins/, through the host:
 * the lifecycle classifier, the weekday/hour campaign switch, the
 * campaign-group enricher and the PII scrubber.  Run from the repository
 * root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plugin.h"
#include "config_fixture.h"
#include "plugin_fixture.h"

#define DAY_MS  (86400 * 1000LL)

/* tags of the request, set per test */
static const char  *tags[4];
static size_t       ntags;


static int
tags_fact(void *data, const char *name, size_t len, const char *sub,
    size_t sub_len, mkt_val_t *v)
{
    static mkt_val_t  items[4];
    size_t            i;

    if (sub || len != 4 || memcmp(name, "tags", 4) != 0) {
        return -1;
    }
    for (i = 0; i < ntags; i++) {
        items[i] = mkt_val_string(tags[i], strlen(tags[i]));
    }
    *v = mkt_val_array(items, ntags);
    return 0;
}

static const mkt_plugin_req_t  tags_req = { tags_fact, NULL };


static mkt_plugins_t *
example(const char *file, const char *config)
{
    char            err[512];
    json_t         *section;
    mkt_plugins_t  *h;

    h = new_host();
    if (mkt_plugins_load_file(h, file, err, sizeof(err)) != 0) {
        fail_msg("%s", err);
    }
    section = json_loads(config, 0, NULL);
    assert_non_null(section);
    if (mkt_plugins_init(h, section, err, sizeof(err)) != 0) {
        fail_msg("%s", err);
    }
    json_decref(section);
    return h;
}


static mkt_val_t
attributes_of(mkt_plugins_t *h)
{
    mkt_val_t  base, out;

    base = mkt_val_object(NULL, 0);
    (void) mkt_plugins_attributes(h, &tags_req, &mem, &base, &out);
    return out;
}


/* --- lifecycle ---------------------------------------------------------- */

static const char *
stage(mkt_plugins_t *h, const char *t0, const char *t1)
{
    mkt_val_t  v;

    ntags = 0;
    if (t0) {
        tags[ntags++] = t0;
    }
    if (t1) {
        tags[ntags++] = t1;
    }
    v = attributes_of(h);
    return attr_str(&v, "lifecycle");
}


static void
test_lifecycle_stages_follow_the_last_purchase(void **state)
{
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = example("lua/plugins/lifecycle.lua",
                "{\"lifecycle\": {\"dormant_days\": 60}}");
    /* fake now: 2025-11-23 */
    assert_string_equal(stage(h, NULL, NULL), "new");
    assert_string_equal(stage(h, "vip", NULL), "new");
    assert_string_equal(stage(h, "last_purchase:2025-11-23", NULL),
                        "active");
    assert_string_equal(stage(h, "last_purchase:2025-10-24", NULL),
                        "active");                         /* 30 days */
    assert_string_equal(stage(h, "last_purchase:2025-10-23", NULL),
                        "at-risk");                        /* 31 days */
    assert_string_equal(stage(h, "last_purchase:2025-09-24", NULL),
                        "at-risk");                        /* 60 days */
    assert_string_equal(stage(h, "last_purchase:2025-09-23", NULL),
                        "dormant");
    /* the latest of two, and the order count */
    assert_string_equal(stage(h, "last_purchase:2024-01-01",
                              "last_purchase:2025-11-20"), "active");
    tags[0] = "last_purchase:2025-11-20";
    tags[1] = "orders:7";
    ntags = 2;
    v = attributes_of(h);
    assert_true(mkt_val_get(&v, "days_since", 10)->u.number == 3);
    assert_true(mkt_val_get(&v, "orders", 6)->u.number == 7);
    /* a malformed day counts as none */
    assert_string_equal(stage(h, "last_purchase:2025-1-2", NULL), "new");
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 0);
    mkt_plugins_free(h);
}


static void
test_lifecycle_refuses_a_bad_config(void **state)
{
    char            err[512];
    json_t         *section;
    mkt_plugins_t  *h;

    h = new_host();
    assert_int_equal(mkt_plugins_load_file(h, "lua/plugins/lifecycle.lua",
                                           err, sizeof(err)), 0);
    section = json_loads("{\"lifecycle\": {\"dormant_dayz\": 60}}", 0, NULL);
    assert_int_equal(mkt_plugins_init(h, section, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown setting dormant_dayz"));
    json_decref(section);
    mkt_plugins_free(h);
}


/* --- campaign switch ---------------------------------------------------- */

static const char  switch_conf[] =
    "{\"campaign_switch\": {\"slot\": \"hero\", \"utc_offset\": 8,"
    " \"campaigns\": ["
    "  {\"name\": \"lunch\", \"days\": [1,2,3,4,5], \"from\": 11, \"to\": 14,"
    "   \"variant\": \"lunch-offer\"},"
    "  {\"name\": \"weekend\", \"days\": [0, 6], \"variant\": \"weekend\"}]}}";

static const char  hero_json[] =
    "{\"slots\": [{\"key\": \"hero\", \"variants\": [\"generic\", "
    "\"lunch-offer\", \"weekend\"], \"default\": \"generic\"}]}";


static int
setup_hero(void **state)
{
    return load_fixture(hero_json);
}


static size_t
hero_at(mkt_plugins_t *h, int64_t ms)
{
    mkt_slot_result_t  res;

    fake_now = ms;
    res.variant = 0;
    res.rule = -1;
    res.exp = -1;
    res.reason = MKT_SLOT_DEFAULT;
    (void) mkt_plugins_choose(h, cfg, 0, &req, &res);
    return res.variant;
}


static void
test_campaign_switch_follows_weekday_and_hour(void **state)
{
    int64_t         monday;
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = example("lua/plugins/campaign_switch.lua", switch_conf);

    /* Monday 2025-11-24 00:00 in UTC+8 is Sunday 16:00 UTC */
    monday = 1763942400000LL - 8 * 3600 * 1000LL;

    assert_int_equal(hero_at(h, monday + 10 * 3600 * 1000LL), 0);
    assert_int_equal(hero_at(h, monday + 11 * 3600 * 1000LL), 1);
    v = attributes_of(h);
    assert_string_equal(attr_str(&v, "campaign"), "lunch");
    assert_int_equal(hero_at(h, monday + 14 * 3600 * 1000LL - 1), 1);
    assert_int_equal(hero_at(h, monday + 14 * 3600 * 1000LL), 0);
    v = attributes_of(h);
    assert_null(mkt_val_get(&v, "campaign", 8));
    /* Saturday and Sunday, all day; Sunday lunch is no lunch offer */
    assert_int_equal(hero_at(h, monday + 5 * DAY_MS), 2);
    assert_int_equal(hero_at(h, monday - DAY_MS + 12 * 3600 * 1000LL), 2);
    assert_int_equal(hero_at(h, monday + 4 * DAY_MS + 23 * 3600 * 1000LL),
                     0);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 0);
    mkt_plugins_free(h);
}


/* --- events: campaign group, PII ---------------------------------------- */

static const char *
prop(const mkt_event_t *ev, const char *key)
{
    static char  buf[512];
    size_t       i;

    for (i = 0; i < ev->nprops; i++) {
        if (ev->props[i].key.len == strlen(key)
            && memcmp(ev->props[i].key.data, key, strlen(key)) == 0)
        {
            snprintf(buf, sizeof(buf), "%.*s", (int) ev->props[i].value.len,
                     ev->props[i].value.data);
            return buf;
        }
    }
    return NULL;
}


static void
test_campaign_group_enriches_events(void **state)
{
    mkt_event_t     ev;
    mkt_plugins_t  *h;

    h = example("lua/plugins/campaign_group.lua",
                "{\"campaign_group\": {\"groups\": {\"search\": [\"Baidu\","
                " \"google\"], \"social\": [\"xiaohongshu\"]}}}");

    mkt_event_init(&ev, MKT_EVENT_TOUCH, 1);
    ev.utm[0] = str("baidu");
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    assert_string_equal(prop(&ev, "campaign_group"), "search");

    mkt_event_init(&ev, MKT_EVENT_CONVERSION, 1);
    ev.lt[0] = str("xiaohongshu");
    ev.ft[0] = str("google");
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    assert_string_equal(prop(&ev, "campaign_group"), "social");

    mkt_event_init(&ev, MKT_EVENT_CONVERSION, 1);
    ev.ft[0] = str("weibo");
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    assert_string_equal(prop(&ev, "campaign_group"), "other");

    mkt_event_init(&ev, MKT_EVENT_EXPOSURE, 1);
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    assert_string_equal(prop(&ev, "campaign_group"), "direct");
    mkt_plugins_free(h);
}


static const char *
scrubbed(mkt_plugins_t *h, const char *path)
{
    static char  buf[2048];
    mkt_event_t  ev;

    mkt_event_init(&ev, MKT_EVENT_CONVERSION, 1);
    ev.path = str(path);
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    snprintf(buf, sizeof(buf), "%.*s", (int) ev.path.len, ev.path.data);
    return buf;
}


static void
test_pii_scrubber_drops_personal_parameters(void **state)
{
    mkt_plugins_t  *h;

    h = example("lua/plugins/pii_scrubber.lua", "{}");
    assert_string_equal(scrubbed(h, "/signup/done"), "/signup/done");
    assert_string_equal(scrubbed(h, "/a?utm_source=baidu&phone=13800138000"
                                     "&x=1"), "/a?utm_source=baidu&x=1");
    assert_string_equal(scrubbed(h, "/a?Email=a%40b.cn"), "/a");
    /* personal values under any name */
    assert_string_equal(scrubbed(h, "/a?ref=someone%40example.com&q=shoes"),
                        "/a?q=shoes");
    assert_string_equal(scrubbed(h, "/a?contact=+86 138 0013 8000&n=12"),
                        "/a?n=12");
    assert_string_equal(scrubbed(h, "/a?order=A-1001&id_card=1"),
                        "/a?order=A-1001");
    mkt_plugins_free(h);

    h = example("lua/plugins/pii_scrubber.lua",
                "{\"pii_scrubber\": {\"params\": [\"uid\"],"
                " \"values\": false}}");
    assert_string_equal(scrubbed(h, "/a?uid=7&phone=13800138000"),
                        "/a?phone=13800138000");
    mkt_plugins_free(h);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_lifecycle_stages_follow_the_last_purchase),
        cmocka_unit_test(test_lifecycle_refuses_a_bad_config),
        cmocka_unit_test_setup_teardown(
            test_campaign_switch_follows_weekday_and_hour, setup_hero,
            free_fixture),
        cmocka_unit_test(test_campaign_group_enriches_events),
        cmocka_unit_test(test_pii_scrubber_drops_personal_parameters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
