/* Unit tests of personalisation slots (src/experiment.c mkt_slots_choose,
 * src/config_slot.c): first matching rule, default, "has the tag"
 * semantics of {"tags": "vip"}, holdout, the control of an experiment on
 * a slot, and the slots' part of $mkt_cache_key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "experiment.h"


static const char  slots_json[] =
    "{\"experiments\": [{\"key\": \"perso\", \"slot\": \"hero\", "
    "\"hashVersion\": 2, \"variations\": [\"control\", \"personalised\"], "
    "\"match\": {\"path\": \"^/perso/\"}}],"
    " \"slots\": [{\"key\": \"hero\", "
    "\"variants\": [\"generic\", \"new-mom\", \"vip\"], \"rules\": ["
    "{\"if\": {\"tags\": \"vip\"}, \"variant\": \"vip\"},"
    "{\"if\": {\"tags\": \"new_mom\", \"geo.country\": \"CN\"}, "
    "\"variant\": \"new-mom\"},"
    "{\"if\": {\"$or\": [{\"tags\": \"mum\"}]}, \"variant\": \"new-mom\"}],"
    " \"default\": \"generic\"},"
    " {\"key\": \"banner\", \"variants\": [\"none\", \"sale\"], "
    "\"rules\": [{\"if\": {\"device\": \"mobile\"}, \"variant\": \"sale\"}],"
    " \"default\": \"none\"}]}";


static mkt_config_t  *cfg;


static int
setup(void **state)
{
    cfg = mkt_config_load_string("t.json", slots_json, strlen(slots_json),
                                 NULL, NULL);
    return cfg == NULL;
}


static int
teardown(void **state)
{
    mkt_config_free(cfg);
    return 0;
}


/* attributes from JSON text */
static mkt_val_t *
attrs(const char *text)
{
    json_t     *j;
    mkt_val_t  *v;

    j = json_loads(text, 0, NULL);
    assert_non_null(j);
    v = mkt_val_from_json(j);
    json_decref(j);
    assert_non_null(v);
    return v;
}


static const char *
variant(size_t slot, const mkt_slot_result_t *r)
{
    return mkt_config_slot(cfg, slot)->variants[r[slot].variant].data;
}


static void
choose(const char *text, int holdout, const mkt_exp_result_t *res, size_t n,
    mkt_slot_result_t *out)
{
    mkt_val_t  *a;

    a = attrs(text);
    mkt_slots_choose(cfg, a, holdout, res, n, out);
    mkt_val_free(a);
}


static void
test_first_matching_rule_wins_else_default(void **state)
{
    mkt_slot_result_t  r[2];

    choose("{\"tags\": [\"new_mom\", \"vip\"], \"geo\": {\"country\": "
           "\"CN\"}}", 0, NULL, 0, r);
    assert_string_equal(variant(0, r), "vip");
    assert_int_equal(r[0].rule, 0);
    assert_int_equal(r[0].reason, MKT_SLOT_RULE);

    choose("{\"tags\": [\"new_mom\"], \"geo\": {\"country\": \"CN\"}}", 0,
           NULL, 0, r);
    assert_string_equal(variant(0, r), "new-mom");
    assert_int_equal(r[0].rule, 1);

    choose("{\"tags\": [\"new_mom\"], \"geo\": {\"country\": \"FR\"}}", 0,
           NULL, 0, r);
    assert_string_equal(variant(0, r), "generic");
    assert_int_equal(r[0].rule, -1);
    assert_int_equal(r[0].reason, MKT_SLOT_DEFAULT);

    choose("{\"device\": \"mobile\"}", 0, NULL, 0, r);
    assert_string_equal(variant(1, r), "sale");
    assert_string_equal(variant(0, r), "generic");
}


static void
test_tags_equality_means_has_the_tag(void **state)
{
    mkt_slot_result_t  r[2];

    /* GrowthBook's equality would compare the whole array: not here */
    choose("{\"tags\": [\"a\", \"vip\", \"b\"]}", 0, NULL, 0, r);
    assert_string_equal(variant(0, r), "vip");

    /* inside $or too */
    choose("{\"tags\": [\"x\", \"mum\"]}", 0, NULL, 0, r);
    assert_string_equal(variant(0, r), "new-mom");
    assert_int_equal(r[0].rule, 2);

    /* not a substring, and no tags at all */
    choose("{\"tags\": [\"vipp\"]}", 0, NULL, 0, r);
    assert_string_equal(variant(0, r), "generic");
    choose("{}", 0, NULL, 0, r);
    assert_string_equal(variant(0, r), "generic");
}


static void
test_holdout_gets_every_default(void **state)
{
    mkt_slot_result_t  r[2];

    choose("{\"tags\": [\"vip\"], \"device\": \"mobile\"}", 1, NULL, 0, r);
    assert_string_equal(variant(0, r), "generic");
    assert_string_equal(variant(1, r), "none");
    assert_int_equal(r[0].reason, MKT_SLOT_HOLDOUT);
}


static void
test_experiment_control_serves_the_default(void **state)
{
    mkt_exp_result_t   res;
    mkt_slot_result_t  r[2];

    memset(&res, 0, sizeof(res));
    res.exp = 0;

    res.variation = 0;
    choose("{\"tags\": [\"vip\"]}", 0, &res, 1, r);
    assert_string_equal(variant(0, r), "generic");
    assert_int_equal(r[0].reason, MKT_SLOT_CONTROL);
    assert_int_equal(r[0].exp, 0);

    res.variation = 1;
    choose("{\"tags\": [\"vip\"]}", 0, &res, 1, r);
    assert_string_equal(variant(0, r), "vip");
    assert_int_equal(r[0].reason, MKT_SLOT_RULE);
    assert_int_equal(r[0].exp, 0);

    /* not in the experiment: the personalised choice */
    res.variation = -1;
    choose("{\"tags\": [\"vip\"]}", 0, &res, 1, r);
    assert_string_equal(variant(0, r), "vip");
    assert_int_equal(r[0].exp, -1);
}


static void
test_cache_key_changes_with_slots_off_their_default(void **state)
{
    char               k1[MKT_CACHE_KEY_LEN], k2[MKT_CACHE_KEY_LEN];
    mkt_slot_result_t  r[2];

    choose("{}", 0, NULL, 0, r);
    assert_int_equal(mkt_decisions_cache_key(cfg, NULL, 0, r, k1), 0);

    choose("{\"tags\": [\"vip\"]}", 0, NULL, 0, r);
    assert_int_equal(mkt_decisions_cache_key(cfg, NULL, 0, r, k1),
                     MKT_CACHE_KEY_LEN);
    choose("{\"tags\": [\"vip\", \"other\"]}", 0, NULL, 0, r);
    assert_int_equal(mkt_decisions_cache_key(cfg, NULL, 0, r, k2),
                     MKT_CACHE_KEY_LEN);
    assert_memory_equal(k1, k2, MKT_CACHE_KEY_LEN);

    choose("{\"tags\": [\"mum\"]}", 0, NULL, 0, r);
    (void) mkt_decisions_cache_key(cfg, NULL, 0, r, k2);
    assert_memory_not_equal(k1, k2, MKT_CACHE_KEY_LEN);
}


static void
test_unknown_slot_of_an_experiment_is_an_error(void **state)
{
    const char  *json = "{\"experiments\": [{\"key\": \"e\", \"slot\": "
                        "\"nope\", \"variations\": [\"a\", \"b\"]}]}";

    assert_null(mkt_config_load_string("t.json", json, strlen(json), NULL,
                                       NULL));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_matching_rule_wins_else_default),
        cmocka_unit_test(test_tags_equality_means_has_the_tag),
        cmocka_unit_test(test_holdout_gets_every_default),
        cmocka_unit_test(test_experiment_control_serves_the_default),
        cmocka_unit_test(test_cache_key_changes_with_slots_off_their_default),
        cmocka_unit_test(test_unknown_slot_of_an_experiment_is_an_error),
    };

    return cmocka_run_group_tests_name("slots", tests, setup, teardown);
}
