/* Unit tests of src/event.c and src/json_write.c: the exact JSON of each
 * event type, escaping and cutting of hostile field bytes, the size
 * bound, and the dedup key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include <jansson.h>

#include "event.h"
#include "hmac.h"
#include "json_write.h"
#include "siphash.h"

#define ID      "01ARYZ6S41TSV4RRFFQ69G5FAV"
#define TS      1763870000123LL
#define HEAD    "{\"id\":\"" ID "\",\"ts\":1763870000123,"
#define FFFD    "\xef\xbf\xbd"
#define MB      (1024 * 1024)

static char  out[MKT_EVENT_MAX];


static mkt_str_t
str(const char *s)
{
    mkt_str_t  v;

    v.data = s;
    v.len = strlen(s);
    return v;
}


static mkt_str_t
bytes(const char *s, size_t len)
{
    mkt_str_t  v;

    v.data = s;
    v.len = len;
    return v;
}


static void
init(mkt_event_t *ev, mkt_event_type_e type)
{
    mkt_event_init(ev, type, TS);
    ev->id = str(ID);
}


static void
check_json(const mkt_event_t *ev, const char *want, int line)
{
    size_t  n;

    n = mkt_event_encode(ev, out, sizeof(out));
    if (n != strlen(want) || memcmp(out, want, n) != 0) {
        fail_msg("line %d: encoded\n  %.*s\nexpected\n  %s", line, (int) n,
                 out, want);
    }
}

#define assert_json(ev, want)  check_json(ev, want, __LINE__)


/* The string a field value encodes to, alone. */
static void
check_string(const char *s, size_t len, size_t max, const char *want,
    int line)
{
    char      buf[4096];
    mkt_jw_t  w;

    mkt_jw_init(&w, buf, sizeof(buf));
    mkt_jw_string(&w, s, len, max);
    assert_false(w.full);
    if (w.len != strlen(want) || memcmp(buf, want, w.len) != 0) {
        fail_msg("line %d: encoded %.*s, expected %s", line, (int) w.len,
                 buf, want);
    }
}

#define assert_string_json(s, len, max, want)                                 \
    check_string(s, len, max, want, __LINE__)


static void
test_minimal_event_is_id_ts_and_type(void **state)
{
    mkt_event_t  ev;

    init(&ev, MKT_EVENT_EXPOSURE);
    assert_json(&ev, HEAD "\"type\":\"exposure\"}");
}


/* A path as nginx decodes it ("%0a" a newline) loses its control
 * characters; invalid UTF-8 becomes U+FFFD, as in every field. */
static void
test_path_control_characters_dropped(void **state)
{
    mkt_event_t  ev;

    init(&ev, MKT_EVENT_EXPOSURE);
    ev.path = bytes("/a\nb\r\tc\x7f\xc2\x85" "d\x00" "e\xff", 14);
    assert_json(&ev, HEAD "\"type\":\"exposure\","
                "\"path\":\"/abcde\xef\xbf\xbd\"}");
}


static void
test_conversion_as_in_the_design(void **state)
{
    mkt_event_t         ev;
    mkt_event_assign_t  a[1];

    init(&ev, MKT_EVENT_CONVERSION);
    ev.vid = str("Xq3Jm0bC8rW1aZ9yT4uV6w");
    ev.uid = str("u42");
    ev.goal = str("purchase");
    ev.value = 129.0;
    ev.has_value = 1;
    ev.currency = str("CNY");
    ev.order = str("A-1001");
    a[0].key = str("hero-2026q4");
    a[0].variation = str("new-hero");
    ev.assign = a;
    ev.nassign = 1;
    ev.ft[0] = str("xiaohongshu");
    ev.ft[1] = str("social");
    ev.ft[2] = str("w47");
    ev.lt[0] = str("baidu");
    ev.lt[1] = str("cpc");
    ev.country = str("CN");
    ev.device = str("mobile");
    ev.host = str("www.example.com");
    ev.path = str("/checkout/done");

    assert_json(&ev, HEAD "\"type\":\"conversion\","
        "\"vid\":\"Xq3Jm0bC8rW1aZ9yT4uV6w\",\"uid\":\"u42\","
        "\"goal\":\"purchase\",\"value\":129.0,\"currency\":\"CNY\","
        "\"order\":\"A-1001\",\"assign\":{\"hero-2026q4\":\"new-hero\"},"
        "\"ft\":{\"source\":\"xiaohongshu\",\"medium\":\"social\","
        "\"campaign\":\"w47\"},\"lt\":{\"source\":\"baidu\","
        "\"medium\":\"cpc\"},\"geo\":{\"country\":\"CN\"},"
        "\"device\":\"mobile\",\"host\":\"www.example.com\","
        "\"path\":\"/checkout/done\"}");
}


static void
test_exposure_carries_experiment_and_variation(void **state)
{
    mkt_event_t         ev;
    mkt_event_assign_t  a[3];

    init(&ev, MKT_EVENT_EXPOSURE);
    ev.vid = str("Xq3Jm0bC8rW1aZ9yT4uV6w");
    ev.exp = str("hero-2026q4");
    ev.var = str("new-hero");
    a[0].key = str("hero-2026q4");
    a[0].variation = str("new-hero");
    a[1].key = str("skipped");              /* no variation */
    a[1].variation = str("");
    a[2].key = str("price");
    a[2].variation = str("control");
    ev.assign = a;
    ev.nassign = 3;
    ev.region = str("GD");
    ev.city = str("Shenzhen");

    assert_json(&ev, HEAD "\"type\":\"exposure\","
        "\"vid\":\"Xq3Jm0bC8rW1aZ9yT4uV6w\",\"exp\":\"hero-2026q4\","
        "\"var\":\"new-hero\",\"assign\":{\"hero-2026q4\":\"new-hero\","
        "\"price\":\"control\"},\"geo\":{\"region\":\"GD\","
        "\"city\":\"Shenzhen\"}}");
}


/* Fields a plugin added: last, in their order, empty keys skipped, values
 * cut at their bound. */
static void
test_props_come_last_as_an_object(void **state)
{
    char         val[MKT_EVENT_PROP_MAX + 10];
    mkt_event_t  ev;

    init(&ev, MKT_EVENT_CONVERSION);
    ev.goal = str("signup");
    ev.path = str("/done");
    ev.props[0].key = str("campaign_group");
    ev.props[0].value = str("brand");
    ev.props[1].key = str("");               /* skipped */
    ev.props[1].value = str("x");
    ev.props[2].key = str("q\"uote");
    ev.props[2].value = str("");
    ev.nprops = 3;

    assert_json(&ev, HEAD "\"type\":\"conversion\",\"goal\":\"signup\","
        "\"path\":\"/done\",\"props\":{\"campaign_group\":\"brand\","
        "\"q\\\"uote\":\"\"}}");

    memset(val, 'v', sizeof(val));
    ev.props[0].value = bytes(val, sizeof(val));
    ev.nprops = 1;
    assert_true(mkt_event_encode(&ev, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "\"campaign_group\":\""));
    assert_int_equal(strchr(strstr(out, "\"campaign_group\":\"") + 18, '"')
                     - (strstr(out, "\"campaign_group\":\"") + 18),
                     MKT_EVENT_PROP_MAX);

    ev.nprops = 0;
    assert_json(&ev, HEAD "\"type\":\"conversion\",\"goal\":\"signup\","
        "\"path\":\"/done\"}");
}


static void
test_touch_carries_campaign_click_and_referrer(void **state)
{
    mkt_event_t  ev;
    mkt_utm_t    u;
    const char  *q = "utm_source=baidu&utm_medium=cpc&utm_term=%E9%9E%8B"
                     "&gclid=Cj0KCQ";

    init(&ev, MKT_EVENT_TOUCH);
    mkt_utm_parse(NULL, q, strlen(q), &u);
    mkt_event_set_utm(&ev, &u);
    ev.referrer = str("www.baidu.com");
    ev.channel = str("paid_search");
    ev.lt[0] = str("baidu");
    ev.lt[1] = str("cpc");

    assert_json(&ev, HEAD "\"type\":\"touch\","
        "\"lt\":{\"source\":\"baidu\",\"medium\":\"cpc\"},"
        "\"utm\":{\"source\":\"baidu\",\"medium\":\"cpc\","
        "\"term\":\"\xe9\x9e\x8b\"},\"click_name\":\"gclid\","
        "\"click_id\":\"Cj0KCQ\",\"referrer\":\"www.baidu.com\","
        "\"channel\":\"paid_search\"}");

    mkt_utm_parse(NULL, "a=b", 3, &u);
    mkt_event_set_utm(&ev, &u);
    ev.lt[0] = str("");
    ev.lt[1] = str("");
    assert_json(&ev, HEAD "\"type\":\"touch\","
        "\"referrer\":\"www.baidu.com\",\"channel\":\"paid_search\"}");
}


static void
test_touch_and_geo_setters_point_at_their_fields(void **state)
{
    mkt_event_t    ev;
    mkt_touch_t    t;
    mkt_geo_loc_t  loc;

    init(&ev, MKT_EVENT_CONVERSION);
    memset(&t, 0, sizeof(t));
    t.kind = MKT_TOUCH_EXTERNAL;
    strcpy(t.source, "weibo");
    t.len[MKT_TF_SOURCE] = 5;
    strcpy(t.medium, "social");
    t.len[MKT_TF_MEDIUM] = 6;
    strcpy(t.term, "not in ft");
    t.len[MKT_TF_TERM] = 9;
    mkt_event_set_touch(ev.ft, &t);
    t.kind = MKT_TOUCH_INTERNAL;
    mkt_event_set_touch(ev.lt, &t);

    memset(&loc, 0, sizeof(loc));
    strcpy(loc.country, "CN");
    loc.country_len = 2;
    strcpy(loc.city, "Beijing");
    loc.city_len = 7;
    mkt_event_set_geo(&ev, &loc);

    assert_json(&ev, HEAD "\"type\":\"conversion\","
        "\"ft\":{\"source\":\"weibo\",\"medium\":\"social\"},"
        "\"geo\":{\"country\":\"CN\",\"city\":\"Beijing\"}}");

    mkt_event_set_touch(ev.ft, NULL);
    mkt_event_set_geo(&ev, NULL);
    assert_json(&ev, HEAD "\"type\":\"conversion\"}");
}


static void
test_values_are_finite_numbers_with_a_fraction(void **state)
{
    static const struct {
        double       v;
        const char  *json;
    } cases[] = {
        { 129.0, "129.0" }, { 0.1, "0.1" }, { 19.99, "19.99" },
        { -5, "-5.0" }, { 1e21, "1e+21" }, { 1e15, "1e+15" },
        { 123456789012.5, "123456789012.5" }, { 1.0 / 3, "0.3333333333333333" },
        { -0.0, "-0.0" }, { 5e-324, "4.94065645841247e-324" },
        { -2.2250738585072014e-308, "-2.2250738585072014e-308" }
    };
    char         want[128];
    size_t       i;
    mkt_event_t  ev;

    init(&ev, MKT_EVENT_CONVERSION);
    ev.has_value = 1;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ev.value = cases[i].v;
        snprintf(want, sizeof(want), HEAD "\"type\":\"conversion\","
                 "\"value\":%s}", cases[i].json);
        assert_json(&ev, want);
    }

    ev.value = NAN;
    assert_json(&ev, HEAD "\"type\":\"conversion\"}");
    ev.value = -INFINITY;
    assert_json(&ev, HEAD "\"type\":\"conversion\"}");
    ev.value = 7;
    ev.has_value = 0;
    assert_json(&ev, HEAD "\"type\":\"conversion\"}");
}


/* Prices take a shortcut past snprintf: it must print what the general
 * rule prints, the shortest of "%.15g", "%.16g", "%.17g" that reads back
 * as the value, with ".0" after an integer. */
static void
check_number(double v)
{
    char      want[64], buf[64];
    int       prec, n;
    mkt_jw_t  w;

    for (prec = 15; ; prec++) {
        n = snprintf(want, sizeof(want), "%.*g", prec, v);
        if (prec == 17 || strtod(want, NULL) == v) {
            break;
        }
    }
    if (strpbrk(want, ".e") == NULL) {
        snprintf(want + n, sizeof(want) - n, ".0");
    }

    mkt_jw_init(&w, buf, sizeof(buf));
    mkt_jw_number(&w, v);
    if (w.len != strlen(want) || memcmp(buf, want, w.len) != 0) {
        fail_msg("%.17g: wrote %.*s, expected %s", v, (int) w.len, buf,
                 want);
    }
}


static void
test_prices_print_as_the_general_rule_does(void **state)
{
    static const double  edges[] = {
        0.01, -0.01, 0.07, 0.1, 0.5, 1, 19.99, -19.99, 129.5, 100.05,
        9999999999999.99, -9999999999999.99, 1e13, 1e13 - 1, 1e13 + 0.5,
        0.005, 0.015, 0.009999, 1.005, 2.675, 1e-5, 123456.789, 4503599627370.5
    };
    size_t    i;
    int64_t   c;
    uint64_t  x;

    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        check_number(edges[i]);
    }

    /* every cent up to 1,000.00 and a pseudo-random sweep above */
    for (c = -100000; c <= 100000; c++) {
        check_number((double) c / 100);
    }

    x = 88172645463325252ULL;
    for (i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_number((double) (int64_t) (x % 2000000000000000ULL) / 100);
        check_number((double) (x >> 11) / (1 << 20));
    }
}


static void
test_ts_is_an_integer_whatever_its_value(void **state)
{
    mkt_event_t  ev;

    init(&ev, MKT_EVENT_TOUCH);
    ev.ts = 0;
    assert_json(&ev, "{\"id\":\"" ID "\",\"ts\":0,\"type\":\"touch\"}");
    ev.ts = INT64_MIN;
    assert_json(&ev, "{\"id\":\"" ID "\",\"ts\":-9223372036854775808,"
                "\"type\":\"touch\"}");
}


static void
test_quotes_backslashes_and_controls_are_escaped(void **state)
{
    assert_string_json("a\"b\\c/", 6, 64, "\"a\\\"b\\\\c/\"");
    assert_string_json("\b\t\n\x0b\f\r\x1f", 7, 64,
                       "\"\\b\\t\\n\\u000b\\f\\r\\u001f\"");
    assert_string_json("\x7f|\xc2\x85|\xc2\xa0", 7, 64,
                       "\"\\u007f|\\u0085|\xc2\xa0\"");
    assert_string_json("\xe2\x80\xa8\xe2\x80\xa9", 6, 64,
                       "\"\\u2028\\u2029\"");
}


static void
test_nul_and_invalid_utf8_become_replacement_characters(void **state)
{
    assert_string_json("a\0b", 3, 64, "\"a" FFFD "b\"");
    /* each byte of a bad sequence: a stray continuation, an overlong
     * '/', a surrogate, a sequence cut short, past U+10FFFF */
    assert_string_json("\x80", 1, 64, "\"" FFFD "\"");
    assert_string_json("\xc0\xaf", 2, 64, "\"" FFFD FFFD "\"");
    assert_string_json("\xed\xa0\x80", 3, 64, "\"" FFFD FFFD FFFD "\"");
    assert_string_json("\xe5\x8f", 2, 64, "\"" FFFD FFFD "\"");
    assert_string_json("\xf4\x90\x80\x80", 4, 64,
                       "\"" FFFD FFFD FFFD FFFD "\"");
    assert_string_json("\xf0\x9f\x98\x80\xff", 5, 64,
                       "\"\xf0\x9f\x98\x80" FFFD "\"");
}


static void
test_values_are_cut_at_a_character_boundary(void **state)
{
    char  s[300], want[300];

    /* 127 'a' and a 2-byte character: the character does not fit 128 */
    memset(s, 'a', 127);
    memcpy(s + 127, "\xc3\xa9", 2);
    want[0] = '"';
    memset(want + 1, 'a', 127);
    strcpy(want + 128, "\"");
    assert_string_json(s, 129, 128, want);

    /* clean text up to the bound is kept whole, even all quotes */
    memset(s, '"', 64);
    for (int i = 0; i < 64; i++) {
        memcpy(want + 1 + 2 * i, "\\\"", 2);
    }
    want[0] = '"';
    strcpy(want + 129, "\"");
    assert_string_json(s, 64, 64, want);
    assert_string_json(s, 65, 64, want);

    /* escaped controls count as written: 21 of 6 bytes fit 2 * 64 */
    memset(s, 1, 64);
    want[0] = '"';
    for (int i = 0; i < 21; i++) {
        memcpy(want + 1 + 6 * i, "\\u0001", 6);
    }
    strcpy(want + 127, "\"");
    assert_string_json(s, 64, 64, want);

    /* replacement characters count as 3 bytes */
    memset(s, 0xff, 30);
    want[0] = '"';
    for (int i = 0; i < 21; i++) {
        memcpy(want + 1 + 3 * i, FFFD, 3);
    }
    strcpy(want + 64, "\"");
    assert_string_json(s, 30, 64, want);
}


static void
test_megabyte_fields_stay_bounded_valid_json(void **state)
{
    char                *big;
    size_t               i, n;
    json_t              *j;
    json_error_t         e;
    mkt_event_t          ev;
    mkt_event_assign_t   a[2];

    big = malloc(MB);
    assert_non_null(big);
    for (i = 0; i < MB; i++) {
        big[i] = (char) (i * 7919 % 256);
    }

    init(&ev, MKT_EVENT_CONVERSION);
    ev.vid = ev.uid = ev.goal = ev.currency = ev.order = bytes(big, MB);
    ev.exp = ev.var = ev.device = ev.host = ev.path = bytes(big, MB);
    ev.click_name = ev.click_id = ev.referrer = bytes(big, MB);
    ev.channel = ev.country = ev.region = ev.city = bytes(big, MB);
    for (i = 0; i < 3; i++) {
        ev.ft[i] = ev.lt[i] = bytes(big + i, MB - i);
    }
    for (i = 0; i < MKT_UTM_FIELDS; i++) {
        ev.utm[i] = bytes(big + i, MB - i);
    }
    a[0].key = a[0].variation = bytes(big, MB);
    a[1].key = a[1].variation = bytes(big + 1, MB - 1);
    ev.assign = a;
    ev.nassign = 2;

    n = mkt_event_encode(&ev, out, sizeof(out));
    assert_true(n > 0 && n <= MKT_EVENT_MAX);

    j = json_loadb(out, n, 0, &e);
    if (j == NULL) {
        fail_msg("not JSON: %s at %d", e.text, e.position);
    }
    assert_true(strlen(json_string_value(json_object_get(j, "path")))
                <= MKT_EVENT_PATH_MAX);
    assert_true(json_string_length(json_object_get(j, "order"))
                <= MKT_EVENT_ORDER_MAX);
    json_decref(j);
    free(big);
}


/* Every field at its bound in the longest escapes: MKT_EVENT_MAX is a
 * true bound, and a tight one. */
static void
test_the_longest_event_fits_mkt_event_max(void **state)
{
    char                 *quotes;
    size_t                i, n;
    mkt_str_t             q;
    mkt_event_t           ev;
    mkt_event_assign_t   *a;

    quotes = malloc(4096);
    a = calloc(MKT_EVENT_ASSIGN_MAX + 10, sizeof(*a));
    assert_non_null(quotes);
    assert_non_null(a);
    memset(quotes, '"', 4096);
    q = bytes(quotes, 4096);

    mkt_event_init(&ev, MKT_EVENT_CONVERSION, INT64_MIN);
    ev.id = ev.vid = ev.uid = ev.exp = ev.var = ev.goal = q;
    ev.currency = ev.order = ev.click_name = ev.click_id = q;
    ev.referrer = ev.channel = ev.country = ev.region = ev.city = q;
    ev.device = ev.host = ev.path = q;
    ev.value = -2.2250738585072014e-308;
    ev.has_value = 1;
    for (i = 0; i < 3; i++) {
        ev.ft[i] = ev.lt[i] = q;
    }
    for (i = 0; i < MKT_UTM_FIELDS; i++) {
        ev.utm[i] = q;
    }
    for (i = 0; i < MKT_EVENT_ASSIGN_MAX + 10; i++) {
        a[i].key = a[i].variation = q;
    }
    ev.assign = a;
    ev.nassign = MKT_EVENT_ASSIGN_MAX + 10;
    for (i = 0; i < MKT_EVENT_PROPS_MAX; i++) {
        ev.props[i].key = ev.props[i].value = q;
    }
    ev.nprops = MKT_EVENT_PROPS_MAX;

    n = mkt_event_encode(&ev, out, sizeof(out));
    print_message("longest event: %zu bytes\n", n);
    assert_int_equal(n, 58851);
    assert_true(n <= MKT_EVENT_MAX && MKT_EVENT_MAX - n < 1024);

    free(quotes);
    free(a);
}


static void
test_an_event_that_does_not_fit_gives_zero(void **state)
{
    char         small[128];
    size_t       n;
    mkt_event_t  ev;

    init(&ev, MKT_EVENT_EXPOSURE);
    n = strlen(HEAD "\"type\":\"exposure\"}");
    assert_int_equal(mkt_event_encode(&ev, small, n), n);
    assert_int_equal(mkt_event_encode(&ev, small, n - 1), 0);
    assert_int_equal(mkt_event_encode(&ev, small, 0), 0);
}


static void
test_an_event_without_id_or_with_a_bad_type_gives_zero(void **state)
{
    mkt_event_t  ev;

    init(&ev, MKT_EVENT_EXPOSURE);
    ev.id = str("");
    assert_int_equal(mkt_event_encode(&ev, out, sizeof(out)), 0);
    init(&ev, MKT_EVENT_TYPES);
    assert_int_equal(mkt_event_encode(&ev, out, sizeof(out)), 0);
    assert_string_equal(mkt_event_type_name(MKT_EVENT_TYPES), "");
    assert_string_equal(mkt_event_type_name(MKT_EVENT_TOUCH), "touch");
}


static void
test_only_the_first_assignments_are_written(void **state)
{
    char                 keys[MKT_EVENT_ASSIGN_MAX + 1][8];
    size_t               i, n;
    json_t              *j;
    mkt_event_t          ev;
    mkt_event_assign_t   a[MKT_EVENT_ASSIGN_MAX + 1];

    init(&ev, MKT_EVENT_EXPOSURE);
    for (i = 0; i <= MKT_EVENT_ASSIGN_MAX; i++) {
        snprintf(keys[i], sizeof(keys[i]), "e%zu", i);
        a[i].key = str(keys[i]);
        a[i].variation = str("v");
    }
    ev.assign = a;
    ev.nassign = MKT_EVENT_ASSIGN_MAX + 1;

    n = mkt_event_encode(&ev, out, sizeof(out));
    j = json_loadb(out, n, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_object_size(json_object_get(j, "assign")),
                     MKT_EVENT_ASSIGN_MAX);
    assert_null(json_object_get(json_object_get(j, "assign"), "e150"));
    json_decref(j);
}


static void
test_siphash_matches_the_reference_vector(void **state)
{
    unsigned char  key[16], msg[64];
    size_t         i;

    for (i = 0; i < sizeof(key); i++) {
        key[i] = (unsigned char) i;
    }
    for (i = 0; i < sizeof(msg); i++) {
        msg[i] = (unsigned char) i;
    }
    /* the paper's appendix A, and the first and last of its vectors */
    assert_true(mkt_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
    assert_true(mkt_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
    assert_true(mkt_siphash(key, msg, 63) == 0x958a324ceb064572ULL);
}


static void
test_dedup_key_is_stable_and_separates_goal_from_order(void **state)
{
    unsigned char  zero[MKT_DEDUP_KEY_LEN] = { 0 };
    unsigned char  k1[MKT_DEDUP_KEY_LEN], k2[MKT_DEDUP_KEY_LEN];
    mkt_str_t      ab = str("ab"), c = str("c"), a = str("a"), bc = str("bc");
    mkt_str_t      goal = str("purchase"), order = str("A-1001");
    mkt_hmac_t    *h;

    assert_int_equal(mkt_event_dedup_secret(NULL, k1), 0);
    assert_memory_equal(k1, zero, sizeof(zero));

    assert_true(mkt_event_dedup_key(zero, &goal, &order)
                == mkt_event_dedup_key(zero, &goal, &order));
    assert_true(mkt_event_dedup_key(zero, &ab, &c)
                != mkt_event_dedup_key(zero, &a, &bc));

    h = mkt_hmac_create("secret", 6);
    assert_int_equal(mkt_event_dedup_secret(h, k1), 0);
    mkt_hmac_destroy(h);
    h = mkt_hmac_create("secret", 6);
    assert_int_equal(mkt_event_dedup_secret(h, k2), 0);
    mkt_hmac_destroy(h);
    assert_memory_equal(k1, k2, sizeof(k1));
    assert_memory_not_equal(k1, zero, sizeof(zero));
    assert_true(mkt_event_dedup_key(k1, &goal, &order)
                != mkt_event_dedup_key(zero, &goal, &order));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_event_is_id_ts_and_type),
        cmocka_unit_test(test_path_control_characters_dropped),
        cmocka_unit_test(test_conversion_as_in_the_design),
        cmocka_unit_test(test_exposure_carries_experiment_and_variation),
        cmocka_unit_test(test_props_come_last_as_an_object),
        cmocka_unit_test(test_touch_carries_campaign_click_and_referrer),
        cmocka_unit_test(test_touch_and_geo_setters_point_at_their_fields),
        cmocka_unit_test(test_values_are_finite_numbers_with_a_fraction),
        cmocka_unit_test(test_prices_print_as_the_general_rule_does),
        cmocka_unit_test(test_ts_is_an_integer_whatever_its_value),
        cmocka_unit_test(test_quotes_backslashes_and_controls_are_escaped),
        cmocka_unit_test(
            test_nul_and_invalid_utf8_become_replacement_characters),
        cmocka_unit_test(test_values_are_cut_at_a_character_boundary),
        cmocka_unit_test(test_megabyte_fields_stay_bounded_valid_json),
        cmocka_unit_test(test_the_longest_event_fits_mkt_event_max),
        cmocka_unit_test(test_an_event_that_does_not_fit_gives_zero),
        cmocka_unit_test(
            test_an_event_without_id_or_with_a_bad_type_gives_zero),
        cmocka_unit_test(test_only_the_first_assignments_are_written),
        cmocka_unit_test(test_siphash_matches_the_reference_vector),
        cmocka_unit_test(
            test_dedup_key_is_stable_and_separates_goal_from_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
