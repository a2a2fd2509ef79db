/* Unit tests of src/condition*.c: each operator and rule of GrowthBook's
 * conditions, compile errors with their JSON paths, and the safety bounds.
 * JSON is written with ' for " to stay readable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "condition.h"
#include "condition_regex.h"
#include "value.h"

#define GROUPS  "{'beta': [1, '2', 'vip'], 'odd': 'x'}"


static json_t *
parse(const char *text)
{
    json_error_t  err;
    json_t       *j;
    char          buf[4096];
    size_t        i;

    assert_true(strlen(text) < sizeof(buf));
    for (i = 0; text[i] != '\0'; i++) {
        buf[i] = text[i] == '\'' ? '"' : text[i];
    }
    buf[i] = '\0';

    j = json_loads(buf, JSON_DECODE_ANY, &err);
    if (j == NULL) {
        fail_msg("bad test JSON %s: %s", buf, err.text);
    }
    return j;
}


static mkt_cond_t *
compile_text(const char *cond, mkt_cond_mode_e mode, const char *where,
    char *err, size_t err_len)
{
    mkt_cond_t  *c;
    json_t      *j, *g;

    j = parse(cond);
    g = parse(GROUPS);
    c = mkt_cond_compile(j, g, mode, where, err, err_len);
    json_decref(j);
    json_decref(g);
    return c;
}


static int
eval_mode(const char *cond, const char *attrs, mkt_cond_mode_e mode)
{
    mkt_cond_t  *c;
    mkt_val_t   *a;
    json_t      *j;
    char         err[512];
    int          r;

    c = compile_text(cond, mode, NULL, err, sizeof(err));
    if (c == NULL) {
        fail_msg("%s does not compile: %s", cond, err);
    }
    j = parse(attrs);
    a = mkt_val_from_json(j);
    json_decref(j);
    assert_non_null(a);

    r = mkt_cond_eval(c, a);
    assert_int_equal(mkt_cond_eval(c, a), r);      /* and again: no state */

    mkt_val_free(a);
    mkt_cond_free(c);
    return r;
}


/* Strict mode, as the config loader compiles. */
static int
eval(const char *cond, const char *attrs)
{
    return eval_mode(cond, attrs, MKT_COND_STRICT);
}


static int
eval_lenient(const char *cond, const char *attrs)
{
    return eval_mode(cond, attrs, MKT_COND_LENIENT);
}


static void
assert_compile_error(const char *cond, mkt_cond_mode_e mode,
    const char *want)
{
    mkt_cond_t  *c;
    char         err[512];

    c = compile_text(cond, mode, "condition", err, sizeof(err));
    if (c != NULL) {
        mkt_cond_free(c);
        fail_msg("%s compiled; want error \"%s\"", cond, want);
    }
    assert_string_equal(err, want);
}


/* --- attribute paths ---------------------------------------------------- */

static void
test_dotted_path_reads_nested_objects(void **state)
{
    assert_true(eval("{'geo.country': 'CN'}", "{'geo': {'country': 'CN'}}"));
    assert_false(eval("{'geo.country': 'CN'}", "{'geo': {'country': 'HK'}}"));
    assert_true(eval("{'a.b.c': 1}", "{'a': {'b': {'c': 1}}}"));
}


static void
test_missing_path_is_null_not_undefined(void **state)
{
    /* getPath() returns null for a missing attribute or a step through a
     * scalar, so null conditions match and $type says "null" */
    assert_true(eval("{'a.b.c': null}", "{'a': 5}"));
    assert_true(eval("{'x': null}", "{}"));
    assert_true(eval("{'x': {'$type': 'null'}}", "{}"));
    assert_false(eval("{'x': {'$type': 'undefined'}}", "{}"));
    assert_true(eval("{'a.b': {'$exists': false}}", "{'a': 'str'}"));
}


static void
test_path_indexes_arrays_and_reads_their_length(void **state)
{
    assert_true(eval("{'tags.0': 'vip'}", "{'tags': ['vip', 'x']}"));
    assert_true(eval("{'tags.1': 'x'}", "{'tags': ['vip', 'x']}"));
    assert_true(eval("{'tags.2': null}", "{'tags': ['vip', 'x']}"));
    assert_true(eval("{'tags.01': null}", "{'tags': ['vip', 'x']}"));
    assert_true(eval("{'tags.length': 2}", "{'tags': ['vip', 'x']}"));
    assert_true(eval("{'h.0.name': 'a'}", "{'h': [{'name': 'a'}]}"));
}


static void
test_null_attributes_are_an_empty_object(void **state)
{
    mkt_cond_t  *c;
    char         err[256];

    c = compile_text("{'x': {'$exists': false}}", MKT_COND_STRICT, NULL, err,
                     sizeof(err));
    assert_non_null(c);
    assert_int_equal(mkt_cond_eval(c, NULL), 1);
    mkt_cond_free(c);
}


static void
test_attributes_built_without_json(void **state)
{
    static const char  buf[] = "geo.countryCNvipnew_mom";
    mkt_val_pair_t     geo_pairs[1], pairs[2];
    mkt_cond_t        *c;
    mkt_val_t          tags[2], attrs;
    char               err[256];

    /* as the nginx glue builds them: slices of request memory */
    geo_pairs[0].key = buf + 4;
    geo_pairs[0].key_len = 7;
    geo_pairs[0].val = mkt_val_string(buf + 11, 2);
    tags[0] = mkt_val_string(buf + 13, 3);
    tags[1] = mkt_val_string(buf + 16, 7);
    pairs[0].key = buf;
    pairs[0].key_len = 3;
    pairs[0].val = mkt_val_object(geo_pairs, 1);
    pairs[1].key = "tags";
    pairs[1].key_len = 4;
    pairs[1].val = mkt_val_array(tags, 2);
    attrs = mkt_val_object(pairs, 2);

    c = compile_text("{'geo.country': {'$in': ['CN', 'HK']},"
                     " 'tags': {'$elemMatch': {'$eq': 'new_mom'}}}",
                     MKT_COND_STRICT, NULL, err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(mkt_cond_eval(c, &attrs), 1);

    tags[1] = mkt_val_string(buf + 13, 3);
    assert_int_equal(mkt_cond_eval(c, &attrs), 0);
    mkt_cond_free(c);
}


/* --- plain values: JavaScript coercion ---------------------------------- */

static void
test_string_condition_compares_string_of_attribute(void **state)
{
    assert_true(eval("{'zip': '10001'}", "{'zip': 10001}"));
    assert_true(eval("{'r': '0.1'}", "{'r': 0.1}"));
    assert_true(eval("{'flag': 'true'}", "{'flag': true}"));
    assert_true(eval("{'x': 'null'}", "{}"));
    /* String(['vip']) is 'vip'; String(['vip', 'x']) is 'vip,x' */
    assert_true(eval("{'tags': 'vip'}", "{'tags': ['vip']}"));
    assert_false(eval("{'tags': 'vip'}", "{'tags': ['vip', 'x']}"));
    assert_true(eval("{'tags': 'vip,x'}", "{'tags': ['vip', 'x']}"));
    assert_true(eval("{'o': '[object Object]'}", "{'o': {'a': 1}}"));
}


static void
test_number_condition_coerces_attribute(void **state)
{
    assert_true(eval("{'n': 5}", "{'n': '5'}"));
    assert_true(eval("{'n': 5}", "{'n': ' 5 '}"));
    assert_true(eval("{'n': 26}", "{'n': '0x1A'}"));
    assert_false(eval("{'n': 5}", "{'n': '5x'}"));
    assert_true(eval("{'n': 5}", "{'n': [5]}"));
    assert_true(eval("{'n': 1}", "{'n': true}"));
    /* null * 1 === 0 */
    assert_true(eval("{'n': 0}", "{}"));
    assert_true(eval("{'n': 0}", "{'n': ''}"));
}


static void
test_boolean_condition_uses_truthiness_but_never_null(void **state)
{
    assert_false(eval("{'f': false}", "{}"));
    assert_true(eval("{'f': false}", "{'f': 0}"));
    assert_true(eval("{'f': false}", "{'f': ''}"));
    assert_true(eval("{'f': true}", "{'f': 'x'}"));
    assert_true(eval("{'f': true}", "{'f': []}"));
}


static void
test_literal_array_equality_is_ordered_and_exact(void **state)
{
    assert_true(eval("{'t': ['a', 'b']}", "{'t': ['a', 'b']}"));
    assert_false(eval("{'t': ['a', 'b']}", "{'t': ['b', 'a']}"));
    assert_false(eval("{'t': ['a', 'b']}", "{'t': ['a']}"));
    assert_false(eval("{'t': [1]}", "{'t': ['1']}"));
    assert_true(eval("{'t': [[1, null]]}", "{'t': [[1, null]]}"));
}


static void
test_literal_object_equality_follows_javascript_key_order(void **state)
{
    assert_true(eval("{'o': {'a': 1, 'b': 2}}", "{'o': {'a': 1, 'b': 2}}"));
    /* JSON.stringify keeps insertion order... */
    assert_false(eval("{'o': {'a': 1, 'b': 2}}", "{'o': {'b': 2, 'a': 1}}"));
    /* ...after the array-index keys, which come first, ascending */
    assert_true(eval("{'o': {'b': 1, '1': 2, '0': 3}}",
                     "{'o': {'0': 3, '1': 2, 'b': 1}}"));
    /* an empty object is a literal, not an operator object */
    assert_true(eval("{'o': {}}", "{'o': {}}"));
    assert_false(eval("{'o': {}}", "{}"));
}


/* --- operators ----------------------------------------------------------- */

static void
test_eq_and_ne_are_strict(void **state)
{
    assert_true(eval("{'n': {'$eq': 5}}", "{'n': 5}"));
    assert_false(eval("{'n': {'$eq': 5}}", "{'n': '5'}"));
    assert_true(eval("{'n': {'$eq': null}}", "{}"));
    assert_true(eval("{'l': {'$ne': 'senior'}}", "{}"));
    assert_false(eval("{'l': {'$ne': 'senior'}}", "{'l': 'senior'}"));
}


static void
test_relational_operators_compare_numbers_and_strings(void **state)
{
    assert_true(eval("{'n': {'$gt': 5, '$lt': 10}}", "{'n': 8}"));
    assert_true(eval("{'n': {'$gt': 5, '$lt': 10}}", "{'n': '8'}"));
    assert_false(eval("{'n': {'$gte': 5}}", "{'n': 'abc'}"));
    assert_true(eval("{'n': {'$gte': 5, '$lte': 5}}", "{'n': 5}"));
    assert_true(eval("{'w': {'$lt': 'b'}}", "{'w': 'a'}"));
    assert_true(eval("{'w': {'$lt': 'a'}}", "{'w': 'B'}"));
    assert_true(eval("{'w': {'$gt': '10'}}", "{'w': '9'}"));
    assert_true(eval("{'w': {'$lt': 10}}", "{'w': '9'}"));
}


static void
test_strings_order_by_utf16_code_units(void **state)
{
    /* U+1F600 is a surrogate pair, below U+FFFF in JavaScript */
    assert_true(eval("{'s': {'$lt': '\xef\xbf\xbf'}}",
                     "{'s': '\xf0\x9f\x98\x80'}"));
    assert_true(eval("{'s': {'$gt': '\xed\x9f\xbf'}}",
                     "{'s': '\xf0\x9f\x98\x80'}"));
}


static void
test_missing_attribute_compares_as_zero(void **state)
{
    assert_true(eval("{'age': {'$lt': 1, '$gt': -1}}", "{}"));
    assert_false(eval("{'age': {'$gt': 0}}", "{}"));
    assert_true(eval("{'age': {'$lt': '1'}}", "{}"));
    assert_false(eval("{'age': {'$lt': 'a'}}", "{}"));     /* 0 < NaN */
}


static void
test_exists_tells_null_from_anything_else(void **state)
{
    assert_true(eval("{'a': {'$exists': true}}", "{'a': 0}"));
    assert_false(eval("{'a': {'$exists': true}}", "{'a': null}"));
    assert_true(eval("{'a': {'$exists': false}}", "{}"));
    assert_false(eval("{'a': {'$exists': false}}", "{'a': ''}"));
}


static void
test_in_matches_scalars_strictly(void **state)
{
    assert_true(eval("{'n': {'$in': [1, 2, 3]}}", "{'n': 2}"));
    assert_false(eval("{'n': {'$in': [1, 2, 3]}}", "{'n': '2'}"));
    assert_false(eval("{'n': {'$in': [1, 2, 3]}}", "{'n': 4}"));
    assert_true(eval("{'n': {'$in': ['a', null]}}", "{}"));
    assert_true(eval("{'b': {'$in': [false]}}", "{'b': false}"));
    assert_false(eval("{'c': {'$in': ['us', 'uk']}}", "{'c': 'US'}"));
}


static void
test_in_on_array_attribute_is_intersection(void **state)
{
    assert_true(eval("{'t': {'$in': ['a', 'b']}}", "{'t': ['d', 'b']}"));
    assert_false(eval("{'t': {'$in': ['a', 'b']}}", "{'t': ['d', 'e']}"));
    assert_false(eval("{'t': {'$in': ['a', 'b']}}", "{'t': []}"));
    assert_true(eval("{'t': {'$nin': ['a', 'b']}}", "{'t': []}"));
    assert_false(eval("{'t': {'$nin': ['a', 'b']}}", "{'t': ['x', 'a']}"));
}


static void
test_in_with_many_values_uses_sorted_lookup(void **state)
{
    char  cond[2048];
    int   i, n;

    n = snprintf(cond, sizeof(cond), "{'c': {'$in': [");
    for (i = 99; i >= 0; i--) {
        n += snprintf(cond + n, sizeof(cond) - n, "'c%d', %d%s", i, i,
                      i ? ", " : "");
    }
    snprintf(cond + n, sizeof(cond) - n, "]}}");

    assert_true(eval(cond, "{'c': 'c0'}"));
    assert_true(eval(cond, "{'c': 'c57'}"));
    assert_true(eval(cond, "{'c': 99}"));
    assert_false(eval(cond, "{'c': 'c100'}"));
    assert_false(eval(cond, "{'c': 100}"));
    assert_false(eval(cond, "{'c': 'c5 '}"));
}


static void
test_ini_and_nini_ignore_ascii_case(void **state)
{
    assert_true(eval("{'c': {'$ini': ['US', 'UK']}}", "{'c': 'us'}"));
    assert_true(eval("{'t': {'$ini': ['a']}}", "{'t': ['x', 'A']}"));
    assert_false(eval("{'c': {'$nini': ['us']}}", "{'c': 'US'}"));
    assert_true(eval("{'c': {'$nini': ['us']}}", "{'c': 'CA'}"));
}


static void
test_all_needs_every_value_in_the_array(void **state)
{
    assert_true(eval("{'t': {'$all': ['one', 'three']}}",
                     "{'t': ['one', 'two', 'three']}"));
    assert_false(eval("{'t': {'$all': ['one', 'three']}}",
                      "{'t': ['one', 'two']}"));
    assert_false(eval("{'t': {'$all': ['one']}}", "{'t': 'one'}"));
    assert_true(eval("{'t': {'$all': []}}", "{'t': []}"));
    assert_true(eval("{'t': {'$all': [{'$regex': '^o'}, 'two']}}",
                     "{'t': ['one', 'two']}"));
    assert_true(eval("{'t': {'$alli': ['ONE']}}", "{'t': ['one']}"));
}


static void
test_elem_match_with_operators_and_with_fields(void **state)
{
    assert_true(eval("{'n': {'$elemMatch': {'$gt': 10}}}", "{'n': [5, 11]}"));
    assert_false(eval("{'n': {'$elemMatch': {'$gt': 10}}}", "{'n': [5, 8]}"));
    assert_false(eval("{'n': {'$elemMatch': {'$gt': 10}}}", "{'n': 11}"));
    assert_true(eval("{'h': {'$elemMatch': {'name': {'$regex': '^ping'}}}}",
                     "{'h': [{'name': 'bowling'}, {'name': 'pingpong'}]}"));
    assert_false(eval("{'h': {'$elemMatch': {'name': 'x'}}}",
                      "{'h': [{'name': 'y'}]}"));
}


static void
test_elem_match_skips_falsy_items(void **state)
{
    /* elemMatch() tests actual[i] && check(actual[i]) */
    assert_false(eval("{'n': {'$elemMatch': {'$eq': 0}}}", "{'n': [0]}"));
    assert_false(eval("{'n': {'$elemMatch': {'$eq': ''}}}", "{'n': ['']}"));
    assert_true(eval("{'n': {'$elemMatch': {'$eq': 1}}}", "{'n': [0, 1]}"));
}


static void
test_size_compares_array_length(void **state)
{
    assert_true(eval("{'t': {'$size': 0}}", "{'t': []}"));
    assert_false(eval("{'t': {'$size': 3}}", "{'t': ['a', 'b']}"));
    assert_false(eval("{'t': {'$size': 3}}", "{'t': 'abc'}"));
    assert_true(eval("{'t': {'$size': {'$gt': 2}}}", "{'t': [0, 1, 2]}"));
}


static void
test_not_negates_a_condition_value(void **state)
{
    assert_true(eval("{'n': {'$not': {'$regex': '^hello'}}}", "{'n': 'hi'}"));
    assert_false(eval("{'n': {'$not': {'$regex': '^hello'}}}",
                      "{'n': 'hello world'}"));
    assert_true(eval("{'t': {'$not': {'$elemMatch': {'$eq': 'b'}}}}",
                     "{'t': ['a']}"));
}


static void
test_type_names_each_kind(void **state)
{
    assert_true(eval("{'a': {'$type': 'string'}}", "{'a': 'x'}"));
    assert_true(eval("{'a': {'$type': 'number'}}", "{'a': 1}"));
    assert_true(eval("{'a': {'$type': 'boolean'}}", "{'a': false}"));
    assert_true(eval("{'a': {'$type': 'array'}}", "{'a': []}"));
    assert_true(eval("{'a': {'$type': 'object'}}", "{'a': {}}"));
    assert_true(eval("{'a': {'$type': 'null'}}", "{'a': null}"));
    assert_false(eval("{'a': {'$type': 'object'}}", "{'a': []}"));
}


static void
test_regex_matches_string_of_attribute(void **state)
{
    assert_true(eval("{'ua': {'$regex': '(Mobile|Tablet)'}}",
                     "{'ua': 'Android Mobile'}"));
    assert_false(eval("{'ua': {'$regex': '(Mobile|Tablet)'}}",
                      "{'ua': 'Android mobile'}"));
    assert_true(eval("{'ua': {'$regexi': '(MOBILE|TABLET)'}}",
                     "{'ua': 'Android mobile'}"));
    assert_true(eval("{'n': {'$regex': '^12'}}", "{'n': 123}"));
    assert_true(eval("{'t': {'$regex': '^a,b$'}}", "{'t': ['a', 'b']}"));
    assert_true(eval("{'x': {'$regex': '^null$'}}", "{}"));
}


/* A polynomial pattern the compile-time check lets through stops at the
 * match limit, does not match, and is counted. */
static void
test_regex_match_limit_is_counted(void **state)
{
    char               subject[4096];
    unsigned long      before;
    mkt_cond_regex_t  *re;
    char               err[256];
    const char         pattern[] = "^/(.*a){8}[bc]$";

    assert_int_equal(mkt_cond_regex_compile(pattern, sizeof(pattern) - 1, 0,
                                            &re, err, sizeof(err)),
                     MKT_COND_REGEX_OK);
    memset(subject, 'a', sizeof(subject));
    subject[0] = '/';
    subject[sizeof(subject) - 1] = 'x';

    before = mkt_cond_regex_limit_hits();
    assert_false(mkt_cond_regex_match(re, subject, sizeof(subject)));
    assert_int_equal(mkt_cond_regex_limit_hits(), before + 1);
    assert_true(mkt_cond_regex_match(re, "/aaaaaaaab", 10));
    assert_int_equal(mkt_cond_regex_limit_hits(), before + 1);
    mkt_cond_regex_free(re);
}


static void
test_regex_dollar_is_end_of_subject_only(void **state)
{
    /* JavaScript's $ without the m flag does not match before a final
     * newline, unlike PCRE2's default */
    assert_false(eval("{'s': {'$regex': 'a$'}}", "{'s': 'a\\n'}"));
    assert_true(eval("{'s': {'$regex': '\\\\u00e9'}}",
                     "{'s': 'caf\xc3\xa9'}"));
}


static void
test_version_padding_orders_prerelease_before_release(void **state)
{
    assert_true(eval("{'v': {'$vlt': '1.2.3'}}", "{'v': '1.2.3-beta'}"));
    assert_true(eval("{'v': {'$vgt': '1.2.3-beta'}}", "{'v': '1.2.3'}"));
    assert_true(eval("{'v': {'$vlt': '1.2.3-beta.11'}}",
                     "{'v': '1.2.3-beta.2'}"));
    assert_true(eval("{'v': {'$vgt': '0.9.0'}}", "{'v': '0.10.0'}"));
    assert_true(eval("{'v': {'$vgte': '10000.0.0'}}", "{'v': '10000.0.0'}"));
}


static void
test_version_ignores_v_prefix_and_build(void **state)
{
    assert_true(eval("{'v': {'$veq': 'v1.2.3'}}", "{'v': '1.2.3+build.7'}"));
    assert_true(eval("{'v': {'$veq': '1.2.3-4'}}", "{'v': '1.2.3.4'}"));
    assert_true(eval("{'v': {'$veq': '1.2.3'}}", "{'v': '1-2-3'}"));
    assert_true(eval("{'v': {'$vne': '1.2.3'}}", "{'v': '1.2.3-alpha'}"));
    assert_true(eval("{'v': {'$vlte': '1.2.3'}}", "{'v': '1.2.3'}"));
}


static void
test_version_operators_need_a_string_attribute(void **state)
{
    /* GrowthBook throws on a non-string; here no version operator holds */
    assert_false(eval("{'v': {'$vne': '1.2.3'}}", "{'v': 1.2}"));
    assert_false(eval("{'v': {'$vlt': '1.2.3'}}", "{}"));
}


static void
test_in_group_reads_saved_groups(void **state)
{
    assert_true(eval("{'id': {'$inGroup': 'beta'}}", "{'id': 1}"));
    assert_true(eval("{'id': {'$inGroup': 'beta'}}", "{'id': '2'}"));
    assert_false(eval("{'id': {'$inGroup': 'beta'}}", "{'id': 2}"));
    assert_true(eval("{'id': {'$notInGroup': 'beta'}}", "{'id': 5}"));
    assert_false(eval_lenient("{'id': {'$inGroup': 'nope'}}", "{'id': 1}"));
    assert_true(eval_lenient("{'id': {'$notInGroup': 'nope'}}", "{'id': 1}"));
}


/* --- logical operators --------------------------------------------------- */

static void
test_and_or_nor_not(void **state)
{
    const char  *c = "{'$and': [{'age': {'$gt': 65}},"
                     " {'$or': [{'bday': {'$regex': '-12-25$'}},"
                     " {'name': 'santa'}]}]}";

    assert_true(eval(c, "{'age': 70, 'name': 'santa'}"));
    assert_true(eval(c, "{'age': 70, 'bday': '1980-12-25'}"));
    assert_false(eval(c, "{'age': 65, 'name': 'santa'}"));
    assert_true(eval("{'$nor': [{'a': 1}, {'b': 1}]}", "{'a': 2, 'b': 2}"));
    assert_false(eval("{'$nor': [{'a': 1}, {'b': 1}]}", "{'a': 2, 'b': 1}"));
    assert_true(eval("{'$not': {'a': 1}}", "{'a': 2}"));
}


static void
test_empty_or_holds_so_empty_nor_fails(void **state)
{
    assert_true(eval("{'$or': []}", "{}"));
    assert_true(eval("{'$and': []}", "{}"));
    assert_false(eval("{'$nor': []}", "{}"));
    assert_true(eval("{}", "{}"));
}


static void
test_dollar_keys_other_than_logic_are_attributes(void **state)
{
    assert_true(eval("{'$groups': {'$elemMatch': {'$eq': 'a'}}}",
                     "{'$groups': ['a']}"));
}


/* --- compile errors ------------------------------------------------------ */

static void
test_error_names_path_from_the_callers_prefix(void **state)
{
    mkt_cond_t  *c;
    char         err[256];

    c = compile_text("{'geo.country': {'$in': 'CN'}}", MKT_COND_STRICT,
                     "experiments[3].condition", err, sizeof(err));
    assert_null(c);
    assert_string_equal(err,
                        "experiments[3].condition.geo.country.$in: "
                        "expected an array");
}


static void
test_error_paths_index_into_logical_arrays(void **state)
{
    assert_compile_error("{'$and': [{'a': 1}, {'age': {'$gt': true}}]}",
                         MKT_COND_STRICT,
                         "condition.$and[1].age.$gt: expected a number or "
                         "a string");
    assert_compile_error("{'$or': [{}, 5]}", MKT_COND_LENIENT,
                         "condition.$or[1]: expected an object");
    assert_compile_error("{'$and': {}}", MKT_COND_LENIENT,
                         "condition.$and: expected an array of conditions");
    assert_compile_error("{'t': {'$all': [1, {'$foo': 1}]}}", MKT_COND_STRICT,
                         "condition.t.$all[1].$foo: unknown operator");
}


static void
test_condition_must_be_an_object(void **state)
{
    assert_compile_error("[1]", MKT_COND_LENIENT,
                         "condition: expected an object");
    assert_compile_error("{'$not': 'x'}", MKT_COND_LENIENT,
                         "condition.$not: expected an object");
}


static void
test_unknown_operator_is_an_error_in_both_modes(void **state)
{
    assert_compile_error("{'a': {'$foo': 1}}", MKT_COND_STRICT,
                         "condition.a.$foo: unknown operator");
    assert_compile_error("{'a': {'$gt': 1, '$foo': 1}}", MKT_COND_LENIENT,
                         "condition.a.$foo: unknown operator");
}


static void
test_control_characters_in_keys_are_masked_in_errors(void **state)
{
    assert_compile_error("{'a\\nb': {'$in': 1}}", MKT_COND_STRICT,
                         "condition.a?b.$in: expected an array");
}


static void
test_strict_mode_rejects_what_growthbook_makes_constant(void **state)
{
    assert_compile_error("{'n': {'$nin': 1}}", MKT_COND_STRICT,
                         "condition.n.$nin: expected an array");
    assert_compile_error("{'n': {'$all': 'a'}}", MKT_COND_STRICT,
                         "condition.n.$all: expected an array");
    assert_compile_error("{'n': {'$in': [1, [2]]}}", MKT_COND_STRICT,
                         "condition.n.$in: expected an array of strings, "
                         "numbers, booleans or null (item 1)");
    assert_compile_error("{'n': {'$eq': [1]}}", MKT_COND_STRICT,
                         "condition.n.$eq: expected a string, number, "
                         "boolean or null (compare arrays and objects "
                         "without an operator)");
    assert_compile_error("{'n': {'$regex': 5}}", MKT_COND_STRICT,
                         "condition.n.$regex: expected a string");
    assert_compile_error("{'n': {'$type': 'strnig'}}", MKT_COND_STRICT,
                         "condition.n.$type: expected one of \"string\", "
                         "\"number\", \"boolean\", \"array\", \"object\", "
                         "\"null\", \"undefined\"");
    assert_compile_error("{'id': {'$inGroup': 'nope'}}", MKT_COND_STRICT,
                         "condition.id.$inGroup: unknown saved group "
                         "\"nope\"");
    assert_compile_error("{'id': {'$inGroup': 'odd'}}", MKT_COND_STRICT,
                         "condition.id.$inGroup: saved group \"odd\" is not "
                         "an array");
}


static void
test_lenient_mode_gives_growthbooks_constants(void **state)
{
    assert_false(eval_lenient("{'n': {'$in': 1}}", "{'n': 1}"));
    assert_false(eval_lenient("{'n': {'$nin': 1}}", "{'n': 2}"));
    assert_false(eval_lenient("{'n': {'$all': 'a'}}", "{'n': ['a']}"));
    assert_false(eval_lenient("{'n': {'$eq': [1]}}", "{'n': [1]}"));
    assert_true(eval_lenient("{'n': {'$ne': [1]}}", "{'n': [1]}"));
    assert_false(eval_lenient("{'n': {'$regex': 5}}", "{'n': 5}"));
    assert_false(eval_lenient("{'n': {'$type': 'strnig'}}", "{'n': 'x'}"));
    assert_true(eval_lenient("{'n': {'$gt': [1]}}", "{'n': 2}"));
}


static void
test_strict_mode_rejects_mixed_operator_objects(void **state)
{
    assert_compile_error("{'a': {'$gt': 1, 'b': 2}}", MKT_COND_STRICT,
                         "condition.a: an object mixing operators and "
                         "attribute names (GrowthBook would compare it as "
                         "a literal)");
    /* GrowthBook compares such an object as a literal */
    assert_true(eval_lenient("{'a': {'$gt': 1, 'b': 2}}",
                             "{'a': {'$gt': 1, 'b': 2}}"));
}


static void
test_strict_mode_rejects_operator_in_place_of_attribute(void **state)
{
    assert_compile_error("{'$in': ['a']}", MKT_COND_STRICT,
                         "condition.$in: operator where an attribute name "
                         "belongs (only $and, $or, $nor and $not go here)");
    assert_true(eval_lenient("{'$in': null}", "{}"));
}


static void
test_invalid_regex_is_an_error_only_in_strict_mode(void **state)
{
    assert_compile_error("{'name': {'$regex': '/???***[)'}}", MKT_COND_STRICT,
                         "condition.name.$regex: invalid regular expression: "
                         "quantifier does not follow a repeatable item at "
                         "offset 3");
    assert_false(eval_lenient("{'name': {'$regex': '/???***[)'}}",
                              "{'name': '/'}"));
    assert_true(eval_lenient("{'name': {'$not': {'$regex': '('}}}",
                             "{'name': '('}"));
}


static void
test_catastrophic_regexes_are_rejected_in_both_modes(void **state)
{
    static const char  *nested[] = {
        "(a+)+", "(a*)*", "(.*)*", "(\\\\w+\\\\s?)+$", "(x+x+)+y",
        "(?:(?:a)+)+", "(a{2,})*",
    };
    char    cond[128], want[256];
    size_t  i;

    for (i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
        snprintf(cond, sizeof(cond), "{'s': {'$regex': '%s'}}", nested[i]);
        assert_compile_error(cond, MKT_COND_LENIENT,
                             "condition.s.$regex: regular expression "
                             "rejected: nested unbounded repetition, as in "
                             "(a+)+");
    }

    snprintf(want, sizeof(want), "condition.s.$regexi: regular expression "
             "rejected: a repeated alternation whose branches can match "
             "alike, as in (a|aa)+; use a character class");
    assert_compile_error("{'s': {'$regexi': '(a|aa)+'}}", MKT_COND_STRICT,
                         want);
    assert_compile_error("{'s': {'$regexi': '(a|A)*'}}", MKT_COND_STRICT,
                         want);
    assert_compile_error("{'s': {'$regexi': '(.|\\\\s)*'}}", MKT_COND_STRICT,
                         want);
}


static void
test_safe_repetition_is_accepted(void **state)
{
    assert_true(eval("{'ip': {'$regex': '^(\\\\d+\\\\.)+\\\\d+$'}}",
                     "{'ip': '10.0.0.1'}"));
    assert_true(eval("{'s': {'$regex': '^(foo|bar|baz)+$'}}",
                     "{'s': 'foobaz'}"));
    /* possessive and atomic: PCRE2 only (a JavaScript RegExp rejects
     * them), and they cannot backtrack */
    assert_true(eval("{'s': {'$regex': '^(a+)++$'}}", "{'s': 'aaa'}"));
    assert_true(eval("{'s': {'$regex': '^(?>a+)+$'}}", "{'s': 'aaa'}"));
    assert_true(eval("{'s': {'$regex': '^(a+)?b$'}}", "{'s': 'aab'}"));
}


static void
test_runaway_regex_stops_at_match_limit(void **state)
{
    char  attrs[512];
    int   n;

    /* ambiguous in a way the compile-time check does not see: the match
     * limit ends it, as a non-match */
    n = snprintf(attrs, sizeof(attrs), "{'s': '");
    memset(attrs + n, 'a', 300);
    snprintf(attrs + n + 300, sizeof(attrs) - n - 300, "!'}");

    assert_false(eval("{'s': {'$regex': '^(([a-z])+.)+[A-Z]([a-z])+$'}}",
                      attrs));
}


static void
test_overlong_regex_is_rejected(void **state)
{
    char  cond[1200];
    int   n;

    n = snprintf(cond, sizeof(cond), "{'s': {'$regex': '");
    memset(cond + n, 'a', 1025);
    snprintf(cond + n + 1025, sizeof(cond) - n - 1025, "'}}");

    assert_compile_error(cond, MKT_COND_LENIENT,
                         "condition.s.$regex: regular expression longer "
                         "than 1024 bytes");

    /* 1024 bytes is fine */
    memcpy(cond + n + 1024, "'}}", 4);
    assert_false(eval(cond, "{'s': 'a'}"));
}


static void
test_elem_match_and_versions_need_their_operand_type(void **state)
{
    assert_compile_error("{'t': {'$elemMatch': 'a'}}", MKT_COND_LENIENT,
                         "condition.t.$elemMatch: expected an object");
    assert_compile_error("{'v': {'$vgt': 1}}", MKT_COND_LENIENT,
                         "condition.v.$vgt: expected a version string");
}


/* {'$not': ... n objects deep ... {}} */
static char *
nested_nots(int n)
{
    char  *s;
    int    i, k = 0;

    s = test_malloc(12 * n + 1);
    for (i = 1; i < n; i++) {
        k += sprintf(s + k, "{'$not': ");
    }
    k += sprintf(s + k, "{}");
    for (i = 1; i < n; i++) {
        s[k++] = '}';
    }
    s[k] = '\0';
    return s;
}


static void
test_depth_limit_counts_nested_objects(void **state)
{
    char  *cond, want[512];
    int    i, k;

    cond = nested_nots(MKT_COND_MAX_DEPTH);
    assert_false(eval(cond, "{}"));                 /* 31 negations */
    test_free(cond);

    cond = nested_nots(MKT_COND_MAX_DEPTH + 1);
    k = sprintf(want, "condition");
    for (i = 0; i < MKT_COND_MAX_DEPTH; i++) {
        k += sprintf(want + k, ".$not");
    }
    sprintf(want + k, ": nested deeper than %d levels", MKT_COND_MAX_DEPTH);
    assert_compile_error(cond, MKT_COND_LENIENT, want);
    test_free(cond);
}


static void
test_depth_limit_covers_literals(void **state)
{
    char  cond[256];
    int   n, depth;

    /* the condition object is level 1: 31 more levels of arrays fit */
    for (depth = MKT_COND_MAX_DEPTH - 1; depth <= MKT_COND_MAX_DEPTH;
         depth++)
    {
        n = sprintf(cond, "{'a': ");
        memset(cond + n, '[', depth);
        memset(cond + n + depth, ']', depth);
        sprintf(cond + n + 2 * depth, "}");

        if (depth < MKT_COND_MAX_DEPTH) {
            assert_false(eval(cond, "{}"));
        } else {
            assert_compile_error(cond, MKT_COND_LENIENT,
                                 "condition.a: nested deeper than 32 "
                                 "levels");
        }
    }
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotted_path_reads_nested_objects),
        cmocka_unit_test(test_missing_path_is_null_not_undefined),
        cmocka_unit_test(test_path_indexes_arrays_and_reads_their_length),
        cmocka_unit_test(test_null_attributes_are_an_empty_object),
        cmocka_unit_test(test_attributes_built_without_json),
        cmocka_unit_test(test_string_condition_compares_string_of_attribute),
        cmocka_unit_test(test_number_condition_coerces_attribute),
        cmocka_unit_test(test_boolean_condition_uses_truthiness_but_never_null),
        cmocka_unit_test(test_literal_array_equality_is_ordered_and_exact),
        cmocka_unit_test(
            test_literal_object_equality_follows_javascript_key_order),
        cmocka_unit_test(test_eq_and_ne_are_strict),
        cmocka_unit_test(test_relational_operators_compare_numbers_and_strings),
        cmocka_unit_test(test_strings_order_by_utf16_code_units),
        cmocka_unit_test(test_missing_attribute_compares_as_zero),
        cmocka_unit_test(test_exists_tells_null_from_anything_else),
        cmocka_unit_test(test_in_matches_scalars_strictly),
        cmocka_unit_test(test_in_on_array_attribute_is_intersection),
        cmocka_unit_test(test_in_with_many_values_uses_sorted_lookup),
        cmocka_unit_test(test_ini_and_nini_ignore_ascii_case),
        cmocka_unit_test(test_all_needs_every_value_in_the_array),
        cmocka_unit_test(test_elem_match_with_operators_and_with_fields),
        cmocka_unit_test(test_elem_match_skips_falsy_items),
        cmocka_unit_test(test_size_compares_array_length),
        cmocka_unit_test(test_not_negates_a_condition_value),
        cmocka_unit_test(test_type_names_each_kind),
        cmocka_unit_test(test_regex_matches_string_of_attribute),
        cmocka_unit_test(test_regex_match_limit_is_counted),
        cmocka_unit_test(test_regex_dollar_is_end_of_subject_only),
        cmocka_unit_test(test_version_padding_orders_prerelease_before_release),
        cmocka_unit_test(test_version_ignores_v_prefix_and_build),
        cmocka_unit_test(test_version_operators_need_a_string_attribute),
        cmocka_unit_test(test_in_group_reads_saved_groups),
        cmocka_unit_test(test_and_or_nor_not),
        cmocka_unit_test(test_empty_or_holds_so_empty_nor_fails),
        cmocka_unit_test(test_dollar_keys_other_than_logic_are_attributes),
        cmocka_unit_test(test_error_names_path_from_the_callers_prefix),
        cmocka_unit_test(test_error_paths_index_into_logical_arrays),
        cmocka_unit_test(test_condition_must_be_an_object),
        cmocka_unit_test(test_unknown_operator_is_an_error_in_both_modes),
        cmocka_unit_test(
            test_control_characters_in_keys_are_masked_in_errors),
        cmocka_unit_test(
            test_strict_mode_rejects_what_growthbook_makes_constant),
        cmocka_unit_test(test_lenient_mode_gives_growthbooks_constants),
        cmocka_unit_test(test_strict_mode_rejects_mixed_operator_objects),
        cmocka_unit_test(
            test_strict_mode_rejects_operator_in_place_of_attribute),
        cmocka_unit_test(test_invalid_regex_is_an_error_only_in_strict_mode),
        cmocka_unit_test(
            test_catastrophic_regexes_are_rejected_in_both_modes),
        cmocka_unit_test(test_safe_repetition_is_accepted),
        cmocka_unit_test(test_runaway_regex_stops_at_match_limit),
        cmocka_unit_test(test_overlong_regex_is_rejected),
        cmocka_unit_test(
            test_elem_match_and_versions_need_their_operand_type),
        cmocka_unit_test(test_depth_limit_counts_nested_objects),
        cmocka_unit_test(test_depth_limit_covers_literals),
    };

    return cmocka_run_group_tests_name("condition", tests, NULL, NULL);
}
