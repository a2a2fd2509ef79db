/* Unit tests of the hooks (src/plugin_hooks.c): the ctx view of a
 * request, attributes merged after the built-in ones, choose validated
 * against the slot's variants, and events changed, enriched or dropped. */
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


/* --- ctx and attributes ------------------------------------------------- */

static void
test_ctx_shows_the_request_facts(void **state)
{
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = host_with("c.lua", "return { attributes = function(ctx) return {\n"
                  " v = ctx.vid, t = ctx.tags[2], n = #ctx.tags,\n"
                  " c = ctx.geo.country, new = ctx.new,\n"
                  " q = ctx.query.utm_source, hd = ctx.headers['X-A'],\n"
                  " none = tostring(ctx.uid) .. tostring(ctx.query.x),\n"
                  " k = tostring(ctx[1]) } end }");
    v = run_attributes(h);
    assert_string_equal(attr_str(&v, "v"), "V1");
    assert_string_equal(attr_str(&v, "t"), "active_7d");
    assert_true(mkt_val_get(&v, "n", 1)->u.number == 2);
    assert_string_equal(attr_str(&v, "c"), "CN");
    assert_int_equal(mkt_val_get(&v, "new", 3)->u.boolean, 1);
    assert_string_equal(attr_str(&v, "q"), "baidu");
    assert_string_equal(attr_str(&v, "hd"), "a-value");
    assert_string_equal(attr_str(&v, "none"), "nilnil");
    assert_string_equal(attr_str(&v, "k"), "nil");
    mkt_plugins_free(h);
}


static void
test_a_ctx_kept_past_its_call_shows_nothing(void **state)
{
    mkt_val_t       v;
    mkt_event_t     ev;
    mkt_plugins_t  *h;

    h = host_with("k.lua", "local kept\n"
                  "return { attributes = function(ctx)\n"
                  " if kept then return { again = tostring(kept.vid) } end\n"
                  " kept = ctx end,\n"
                  " event = function(ev) ev.vid = tostring(kept.vid) end }");
    run_attributes(h);

    /* outside a request's call, a kept ctx shows nothing */
    mkt_event_init(&ev, MKT_EVENT_TOUCH, 1);
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    assert_int_equal(ev.vid.len, 3);
    assert_memory_equal(ev.vid.data, "nil", 3);

    /* during a call it is that call's request */
    v = run_attributes(h);
    assert_string_equal(attr_str(&v, "again"), "V1");
    mkt_plugins_free(h);
}


static void
test_attributes_follow_the_built_in_ones_and_win(void **state)
{
    char             err[256];
    const char      *b;
    mkt_val_t        base, out;
    mkt_val_pair_t   pairs[2];
    mkt_plugins_t   *h;

    h = host_with("a.lua", "return { attributes = function(ctx) return {\n"
                  " lifecycle = 'dormant', device = 'tv',\n"
                  " score = 0.75, vip = true, segs = {'a', 'b'},\n"
                  " nested = { x = { y = 1 } } } end }");
    b = "return { attributes = function(ctx) return { second = 'b' } end }";
    assert_int_equal(mkt_plugins_load(h, "b.lua", b, strlen(b), err,
                                      sizeof(err)), 0);

    pairs[0].key = "device";
    pairs[0].key_len = 6;
    pairs[0].val = mkt_val_string("mobile", 6);
    pairs[1].key = "vid";
    pairs[1].key_len = 3;
    pairs[1].val = mkt_val_string("V1", 2);
    base = mkt_val_object(pairs, 2);

    assert_int_equal(mkt_plugins_attributes(h, &req, &mem, &base, &out), 7);
    assert_int_equal(out.len, 9);
    assert_string_equal(out.u.pairs[0].key, "device");
    assert_string_equal(attr_str(&out, "device"), "tv");
    assert_string_equal(attr_str(&out, "vid"), "V1");
    assert_string_equal(attr_str(&out, "lifecycle"), "dormant");
    assert_string_equal(attr_str(&out, "second"), "b");
    assert_true(mkt_val_get(&out, "score", 5)->u.number == 0.75);
    assert_int_equal(mkt_val_get(&out, "vip", 3)->type, MKT_VAL_BOOL);
    assert_int_equal(mkt_val_get(&out, "segs", 4)->type, MKT_VAL_ARRAY);
    assert_int_equal(mkt_val_get(&out, "segs", 4)->len, 2);
    assert_int_equal(mkt_val_get(&out, "nested", 6)->type, MKT_VAL_OBJECT);
    mkt_plugins_free(h);
}


static void
test_wrong_attribute_values_are_ignored_and_counted(void **state)
{
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = host_with("w.lua", "local n = 0\n"
                  "return { attributes = function(ctx)\n"
                  " n = n + 1\n"
                  " if n == 1 then return 'not a table' end\n"
                  " return { ok = 1, [1] = 'index', f = print,\n"
                  "  [string.rep('k', 65)] = 1, deep = {{{{{1}}}}},\n"
                  "  nan = 0/0 } end }");
    v = run_attributes(h);
    assert_int_equal(v.len, 0);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_ignored], 1);

    v = run_attributes(h);
    assert_true(mkt_val_get(&v, "ok", 2)->u.number == 1);
    assert_null(mkt_val_get(&v, "f", 1));
    assert_null(mkt_val_get(&v, "nan", 3));
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_ignored], 1 + 5);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 0);
    mkt_plugins_free(h);
}


static void
test_no_attributes_or_none_added_cost_no_memory(void **state)
{
    mkt_val_t       base, out;
    mkt_plugins_t  *h;

    h = host_with("e.lua", "return { event = function() end }");
    base = mkt_val_object(NULL, 0);
    arena_used = 0;
    assert_int_equal(mkt_plugins_attributes(h, &req, &mem, &base, &out), 0);
    assert_int_equal(arena_used, 0);
    assert_ptr_equal(out.u.pairs, base.u.pairs);
    mkt_plugins_free(h);

    /* nor one adding nothing */
    h = host_with("n.lua", "return { attributes = function() end }");
    arena_used = 0;
    assert_int_equal(mkt_plugins_attributes(h, &req, &mem, &base, &out), 0);
    assert_int_equal(arena_used, 0);
    assert_ptr_equal(out.u.pairs, base.u.pairs);
    mkt_plugins_free(h);
}


/* --- choose ------------------------------------------------------------- */

static const char  slots_json[] =
    "{\"slots\": [{\"key\": \"hero\", "
    "\"variants\": [\"generic\", \"vip\", \"new-mom\"], "
    "\"default\": \"generic\"}]}";


static int
setup_slots(void **state)
{
    return load_fixture(slots_json);
}


static mkt_slot_result_t
choose_with(mkt_plugins_t *h, mkt_slot_reason_e reason, int *chose)
{
    mkt_slot_result_t  res;

    res.variant = 0;
    res.rule = -1;
    res.exp = -1;
    res.reason = reason;
    *chose = mkt_plugins_choose(h, cfg, 0, &req, &res);
    return res;
}


static void
test_choose_picks_one_of_the_slots_variants(void **state)
{
    int                 chose;
    mkt_plugins_t      *h;
    mkt_slot_result_t   res;

    h = host_with("ch.lua", "return { choose = function(slot, ctx)\n"
                  " if slot.key == 'hero' and slot.variant == 'generic'\n"
                  "    and slot.reason == 'default' and ctx.vid == 'V1'\n"
                  " then return slot.variants[3] end end }");

    res = choose_with(h, MKT_SLOT_DEFAULT, &chose);
    assert_int_equal(chose, 1);
    assert_int_equal(res.variant, 2);
    assert_int_equal(res.reason, MKT_SLOT_PLUGIN);

    /* held out, no tracking, control: the default stays, unasked */
    res = choose_with(h, MKT_SLOT_HOLDOUT, &chose);
    assert_int_equal(chose, 0);
    assert_int_equal(res.variant, 0);
    res = choose_with(h, MKT_SLOT_NO_TRACKING, &chose);
    assert_int_equal(chose, 0);
    res = choose_with(h, MKT_SLOT_CONTROL, &chose);
    assert_int_equal(chose, 0);

    mkt_plugins_free(h);
}


static void
test_choose_of_an_unknown_variant_is_ignored_and_counted(void **state)
{
    int                 chose;
    mkt_plugins_t      *h;
    mkt_slot_result_t   res;

    h = host_with("bad.lua", "local n = 0\n"
                  "return { choose = function(slot, ctx)\n"
                  " n = n + 1\n"
                  " if n == 1 then return 'platinum' end\n"
                  " if n == 2 then return 2 end\n"
                  " if n == 3 then return nil end\n"
                  " error('nope') end }");

    res = choose_with(h, MKT_SLOT_RULE, &chose);
    assert_int_equal(chose, 0);
    assert_int_equal(res.variant, 0);
    assert_int_equal(res.reason, MKT_SLOT_RULE);
    res = choose_with(h, MKT_SLOT_RULE, &chose);
    assert_int_equal(chose, 0);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_ignored], 2);
    res = choose_with(h, MKT_SLOT_RULE, &chose);
    assert_int_equal(chose, 0);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_ignored], 2);
    res = choose_with(h, MKT_SLOT_RULE, &chose);
    assert_int_equal(chose, 0);
    assert_int_equal(res.reason, MKT_SLOT_RULE);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 1);

    mkt_plugins_free(h);
}


/* --- events ------------------------------------------------------------- */

#define EV_ID  "01ARYZ6S41TSV4RRFFQ69G5FAV"

static mkt_event_assign_t  assign[1];


static void
conversion(mkt_event_t *ev)
{
    mkt_event_init(ev, MKT_EVENT_CONVERSION, 1763870000123LL);
    ev->id = str(EV_ID);
    ev->vid = str("Xq3Jm0bC8rW1aZ9yT4uV6w");
    ev->uid = str("u42");
    ev->goal = str("purchase");
    ev->value = 129.0;
    ev->has_value = 1;
    assign[0].key = str("hero");
    assign[0].variation = str("new-hero");
    ev->assign = assign;
    ev->nassign = 1;
    ev->ft[0] = str("xiaohongshu");
    ev->ft[1] = str("social");
    ev->utm[0] = str("baidu");
    ev->path = str("/checkout/done?email=a%40b.c&x=1");
}


static void
check_event_json(const mkt_event_t *ev, const char *want)
{
    static char  buf[MKT_EVENT_MAX];
    size_t       n;

    n = mkt_event_encode(ev, buf, sizeof(buf));
    if (n != strlen(want) || memcmp(buf, want, n) != 0) {
        fail_msg("encoded\n  %.*s\nexpected\n  %s", (int) n, buf, want);
    }
}


static void
test_an_event_hook_changes_enriches_and_removes_fields(void **state)
{
    const char     *vid;
    mkt_event_t     ev;
    mkt_plugins_t  *h;

    h = host_with("en.lua", "return { event = function(ev)\n"
                  " assert(ev.type == 'conversion' and ev.assign.hero == "
                  "'new-hero')\n"
                  " assert(ev.ft.source == 'xiaohongshu' and ev.value == 129)\n"
                  " ev.props.campaign_group = ev.utm.source == 'baidu' and "
                  "'search' or 'other'\n"
                  " ev.props.n = 3; ev.props.ok = true\n"
                  " ev.path = ev.path:gsub('email=[^&]*&?', '')\n"
                  " ev.uid = nil; ev.value = 99.5; ev.currency = 'CNY'\n"
                  " ev.ft.medium = nil; ev.geo.country = 'CN'\n"
                  " ev.id = 'forged'; ev.type = 'touch' end }");
    conversion(&ev);
    vid = ev.vid.data;

    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    assert_ptr_equal(ev.vid.data, vid);        /* unchanged: not copied */
    check_event_json(&ev, "{\"id\":\"" EV_ID "\",\"ts\":1763870000123,"
        "\"type\":\"conversion\",\"vid\":\"Xq3Jm0bC8rW1aZ9yT4uV6w\","
        "\"goal\":\"purchase\",\"value\":99.5,\"currency\":\"CNY\","
        "\"assign\":{\"hero\":\"new-hero\"},"
        "\"ft\":{\"source\":\"xiaohongshu\"},\"utm\":{\"source\":\"baidu\"},"
        "\"geo\":{\"country\":\"CN\"},\"path\":\"/checkout/done?x=1\","
        "\"props\":{\"campaign_group\":\"search\",\"n\":\"3\","
        "\"ok\":\"true\"}}");
    mkt_plugins_free(h);
}


static void
test_an_event_hook_returning_false_drops_it(void **state)
{
    char            err[256];
    const char     *b;
    mkt_event_t     ev;
    mkt_plugins_t  *h;

    h = host_with("drop.lua", "return { event = function(ev)\n"
                  " if ev.goal == 'purchase' then return false end end }");
    b = "seen = 0\nreturn { event = function(ev) seen = seen + 1 "
        "error('must not run') end }";
    assert_int_equal(mkt_plugins_load(h, "after.lua", b, strlen(b), err,
                                      sizeof(err)), 0);
    conversion(&ev);
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 0);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_dropped], 1);
    assert_int_equal(mkt_plugins_stats(h, 1)[MKT_PLUGIN_C_errors], 0);

    ev.goal = str("signup");
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    assert_int_equal(mkt_plugins_stats(h, 1)[MKT_PLUGIN_C_errors], 1);
    mkt_plugins_free(h);
}


static void
test_a_failing_event_hook_changes_nothing(void **state)
{
    mkt_event_t     ev, before;
    mkt_plugins_t  *h;

    h = host_with("f.lua", "return { event = function(ev)\n"
                  " ev.path = '/changed'; ev.props.x = 'y'\n"
                  " while true do end end }");
    conversion(&ev);
    before = ev;
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    assert_memory_equal(&ev, &before, sizeof(ev));
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_budget], 1);
    mkt_plugins_free(h);
}


static void
test_an_event_hook_may_return_a_new_table(void **state)
{
    mkt_event_t     ev;
    mkt_plugins_t  *h;

    h = host_with("r.lua", "return { event = function(ev)\n"
                  " return { goal = ev.goal, path = '/p', ts = 5,\n"
                  "  props = { [1] = 'x', k = {} } } end }");
    conversion(&ev);
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    check_event_json(&ev, "{\"id\":\"" EV_ID "\",\"ts\":5,"
        "\"type\":\"conversion\",\"goal\":\"purchase\","
        "\"assign\":{\"hero\":\"new-hero\"},\"path\":\"/p\"}");
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_ignored], 2);
    mkt_plugins_free(h);
}


static void
test_event_props_are_bounded(void **state)
{
    size_t          i;
    mkt_event_t     ev;
    mkt_plugins_t  *h;

    h = host_with("p.lua", "return { event = function(ev)\n"
                  " for i = 1, 20 do ev.props['k' .. string.format('%02d', i)]"
                  " = string.rep('v', 300) end\n"
                  " ev.props[string.rep('x', 65)] = 'long key'\n"
                  " ev.path = string.rep('/', 5000) end }");
    conversion(&ev);
    assert_int_equal(mkt_plugins_event(h, &ev, &mem), 1);
    assert_int_equal(ev.nprops, MKT_EVENT_PROPS_MAX);
    for (i = 0; i < ev.nprops; i++) {
        assert_int_equal(ev.props[i].key.len, 3);
        assert_true(ev.props[i].value.len <= 2 * MKT_EVENT_PROP_MAX);
        assert_true(i == 0 || memcmp(ev.props[i - 1].key.data,
                                     ev.props[i].key.data, 3) < 0);
    }
    assert_int_equal(ev.path.len, 2 * MKT_EVENT_PATH_MAX);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_ignored], 5);
    mkt_plugins_free(h);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_ctx_shows_the_request_facts),
        cmocka_unit_test(test_a_ctx_kept_past_its_call_shows_nothing),
        cmocka_unit_test(test_attributes_follow_the_built_in_ones_and_win),
        cmocka_unit_test(test_wrong_attribute_values_are_ignored_and_counted),
        cmocka_unit_test(test_no_attributes_or_none_added_cost_no_memory),
        cmocka_unit_test_setup_teardown(
            test_choose_picks_one_of_the_slots_variants, setup_slots,
            free_fixture),
        cmocka_unit_test_setup_teardown(
            test_choose_of_an_unknown_variant_is_ignored_and_counted,
            setup_slots, free_fixture),
        cmocka_unit_test(
            test_an_event_hook_changes_enriches_and_removes_fields),
        cmocka_unit_test(test_an_event_hook_returning_false_drops_it),
        cmocka_unit_test(test_a_failing_event_hook_changes_nothing),
        cmocka_unit_test(test_an_event_hook_may_return_a_new_table),
        cmocka_unit_test(test_event_props_are_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
