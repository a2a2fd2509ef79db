/* Unit tests of src/value.c: attribute values, member lookup, and copies of
 * jansson values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "value.h"


static mkt_val_t *
from_text(const char *text)
{
    mkt_val_t  *v;
    json_t     *j;

    j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(j);
    v = mkt_val_from_json(j);
    json_decref(j);
    return v;
}


static void
test_constructors_set_type_length_and_payload(void **state)
{
    mkt_val_pair_t  pair;
    mkt_val_t       v, items[2];

    v = mkt_val_null();
    assert_int_equal(v.type, MKT_VAL_NULL);

    v = mkt_val_bool(7);
    assert_int_equal(v.type, MKT_VAL_BOOL);
    assert_int_equal(v.u.boolean, 1);

    v = mkt_val_number(-2.5);
    assert_int_equal(v.type, MKT_VAL_NUMBER);
    assert_true(v.u.number == -2.5);

    v = mkt_val_string("vipX", 3);
    assert_int_equal(v.type, MKT_VAL_STRING);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.u.str, "vip", 3);

    items[0] = mkt_val_number(1);
    items[1] = mkt_val_null();
    v = mkt_val_array(items, 2);
    assert_int_equal(v.type, MKT_VAL_ARRAY);
    assert_int_equal(v.len, 2);
    assert_ptr_equal(v.u.items, items);

    pair.key = "k";
    pair.key_len = 1;
    pair.val = mkt_val_bool(0);
    v = mkt_val_object(&pair, 1);
    assert_int_equal(v.type, MKT_VAL_OBJECT);
    assert_int_equal(v.len, 1);
    assert_ptr_equal(v.u.pairs, &pair);
}


static void
test_zeroed_value_is_undefined(void **state)
{
    mkt_val_t  v;

    memset(&v, 0, sizeof(v));
    assert_int_equal(v.type, MKT_VAL_UNDEFINED);
    assert_string_equal(mkt_val_type_name(&v), "undefined");
}


static void
test_get_finds_member_by_key_slice(void **state)
{
    static const char  keys[] = "geographyhost";
    mkt_val_pair_t     pairs[2];
    mkt_val_t          obj;
    const mkt_val_t   *v;

    /* keys are (pointer, length): slices of one buffer, no NULs */
    pairs[0].key = keys;
    pairs[0].key_len = 3;
    pairs[0].val = mkt_val_string("CN", 2);
    pairs[1].key = keys + 9;
    pairs[1].key_len = 4;
    pairs[1].val = mkt_val_string("example.com", 11);
    obj = mkt_val_object(pairs, 2);

    v = mkt_val_get(&obj, "geo", 3);
    assert_ptr_equal(v, &pairs[0].val);
    v = mkt_val_get(&obj, "host", 4);
    assert_ptr_equal(v, &pairs[1].val);
}


static void
test_get_returns_null_for_missing_key_and_non_object(void **state)
{
    mkt_val_pair_t  pair;
    mkt_val_t       obj, s;

    pair.key = "geo";
    pair.key_len = 3;
    pair.val = mkt_val_null();
    obj = mkt_val_object(&pair, 1);
    s = mkt_val_string("geo", 3);

    assert_null(mkt_val_get(&obj, "ge", 2));
    assert_null(mkt_val_get(&obj, "geox", 4));
    assert_null(mkt_val_get(&s, "geo", 3));
    assert_null(mkt_val_get(NULL, "geo", 3));
}


static void
test_get_prefers_the_last_of_repeated_keys(void **state)
{
    mkt_val_pair_t  pairs[3];
    mkt_val_t       obj;

    pairs[0].key = "device";
    pairs[0].key_len = 6;
    pairs[0].val = mkt_val_string("desktop", 7);
    pairs[1].key = "new";
    pairs[1].key_len = 3;
    pairs[1].val = mkt_val_bool(1);
    pairs[2].key = "device";
    pairs[2].key_len = 6;
    pairs[2].val = mkt_val_string("mobile", 6);
    obj = mkt_val_object(pairs, 3);

    assert_ptr_equal(mkt_val_get(&obj, "device", 6), &pairs[2].val);
}


static void
test_get_matches_empty_key(void **state)
{
    mkt_val_pair_t  pair;
    mkt_val_t       obj;

    pair.key = "";
    pair.key_len = 0;
    pair.val = mkt_val_number(1);
    obj = mkt_val_object(&pair, 1);

    assert_ptr_equal(mkt_val_get(&obj, "", 0), &pair.val);
}


static void
test_type_names_are_growthbook_get_type(void **state)
{
    mkt_val_t  v;

    v = mkt_val_null();
    assert_string_equal(mkt_val_type_name(&v), "null");
    v = mkt_val_bool(0);
    assert_string_equal(mkt_val_type_name(&v), "boolean");
    v = mkt_val_number(0);
    assert_string_equal(mkt_val_type_name(&v), "number");
    v = mkt_val_string("", 0);
    assert_string_equal(mkt_val_type_name(&v), "string");
    v = mkt_val_array(NULL, 0);
    assert_string_equal(mkt_val_type_name(&v), "array");
    v = mkt_val_object(NULL, 0);
    assert_string_equal(mkt_val_type_name(&v), "object");
}


static void
test_from_json_copies_nested_values_in_order(void **state)
{
    const mkt_val_t  *geo, *tags;
    mkt_val_t        *v;

    v = from_text("{\"geo\": {\"country\": \"CN\", \"city\": null},"
                  " \"tags\": [\"vip\", 3, 1.5, true, false],"
                  " \"new\": true}");
    assert_non_null(v);
    assert_int_equal(v->type, MKT_VAL_OBJECT);
    assert_int_equal(v->len, 3);
    assert_int_equal(v->u.pairs[0].key_len, 3);
    assert_memory_equal(v->u.pairs[0].key, "geo", 3);
    assert_memory_equal(v->u.pairs[1].key, "tags", 4);
    assert_memory_equal(v->u.pairs[2].key, "new", 3);

    geo = mkt_val_get(v, "geo", 3);
    assert_int_equal(geo->type, MKT_VAL_OBJECT);
    assert_int_equal(geo->len, 2);
    assert_int_equal(geo->u.pairs[0].val.type, MKT_VAL_STRING);
    assert_int_equal(geo->u.pairs[0].val.len, 2);
    assert_memory_equal(geo->u.pairs[0].val.u.str, "CN", 2);
    assert_int_equal(geo->u.pairs[1].val.type, MKT_VAL_NULL);

    tags = mkt_val_get(v, "tags", 4);
    assert_int_equal(tags->type, MKT_VAL_ARRAY);
    assert_int_equal(tags->len, 5);
    assert_memory_equal(tags->u.items[0].u.str, "vip", 3);
    assert_true(tags->u.items[1].u.number == 3.0);
    assert_true(tags->u.items[2].u.number == 1.5);
    assert_int_equal(tags->u.items[3].u.boolean, 1);
    assert_int_equal(tags->u.items[4].u.boolean, 0);

    assert_int_equal(mkt_val_get(v, "new", 3)->u.boolean, 1);
    mkt_val_free(v);
}


static void
test_from_json_outlives_the_json_and_keeps_embedded_nul(void **state)
{
    mkt_val_t  *v;

    /* from_text() has already released the jansson value */
    v = from_text("\"a\\u0000b\"");
    assert_non_null(v);
    assert_int_equal(v->type, MKT_VAL_STRING);
    assert_int_equal(v->len, 3);
    assert_memory_equal(v->u.str, "a\0b", 3);
    mkt_val_free(v);
}


static void
test_from_json_converts_scalars_at_top_level(void **state)
{
    mkt_val_t  *v;

    v = from_text("42");
    assert_int_equal(v->type, MKT_VAL_NUMBER);
    assert_true(v->u.number == 42.0);
    mkt_val_free(v);

    v = from_text("null");
    assert_int_equal(v->type, MKT_VAL_NULL);
    mkt_val_free(v);

    v = from_text("[]");
    assert_int_equal(v->type, MKT_VAL_ARRAY);
    assert_int_equal(v->len, 0);
    mkt_val_free(v);

    v = from_text("{}");
    assert_int_equal(v->type, MKT_VAL_OBJECT);
    assert_int_equal(v->len, 0);
    mkt_val_free(v);
}


static char *
nested_arrays(int n)
{
    char  *s;

    s = test_malloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    return s;
}


static void
test_from_json_accepts_max_depth_rejects_one_more(void **state)
{
    mkt_val_t  *v;
    char       *s;

    s = nested_arrays(MKT_VAL_MAX_DEPTH);
    v = from_text(s);
    assert_non_null(v);
    mkt_val_free(v);
    test_free(s);

    s = nested_arrays(MKT_VAL_MAX_DEPTH + 1);
    assert_null(from_text(s));
    test_free(s);
}


static void
test_from_json_of_null_is_null(void **state)
{
    assert_null(mkt_val_from_json(NULL));
    mkt_val_free(NULL);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constructors_set_type_length_and_payload),
        cmocka_unit_test(test_zeroed_value_is_undefined),
        cmocka_unit_test(test_get_finds_member_by_key_slice),
        cmocka_unit_test(test_get_returns_null_for_missing_key_and_non_object),
        cmocka_unit_test(test_get_prefers_the_last_of_repeated_keys),
        cmocka_unit_test(test_get_matches_empty_key),
        cmocka_unit_test(test_type_names_are_growthbook_get_type),
        cmocka_unit_test(test_from_json_copies_nested_values_in_order),
        cmocka_unit_test(
            test_from_json_outlives_the_json_and_keeps_embedded_nul),
        cmocka_unit_test(test_from_json_converts_scalars_at_top_level),
        cmocka_unit_test(test_from_json_accepts_max_depth_rejects_one_more),
        cmocka_unit_test(test_from_json_of_null_is_null),
    };

    return cmocka_run_group_tests_name("value", tests, NULL, NULL);
}
