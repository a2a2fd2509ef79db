/* Unit tests of src/beacon.c and src/json_read.c: what the collect
 * endpoint accepts from clients, as a query string or a JSON body, and
 * the exact errors for what it does not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "beacon.h"
#include "config.h"
#include "config_fixture.h"
#include "json_read.h"

#define MAX_EVENTS  MKT_BEACON_EVENTS_DEFAULT

static mkt_beacon_event_t  ev[MAX_EVENTS + 1];
static mkt_beacon_error_t  err;
static size_t              nev;


static int
setup(void **state)
{
    return load_fixture("{\"goals\": [\"signup\", \"purchase\"]}");
}


static mkt_beacon_code_e
parse_len(const char *body, size_t len)
{
    nev = 0;
    memset(&err, 0, sizeof(err));
    return mkt_beacon_parse_json(cfg, body, len, MKT_BEACON_BODY_DEFAULT, ev,
                                 MAX_EVENTS, &nev, &err);
}


static mkt_beacon_code_e
parse(const char *body)
{
    return parse_len(body, strlen(body));
}


static mkt_beacon_code_e
query(const char *args)
{
    memset(&err, 0, sizeof(err));
    return mkt_beacon_parse_query(cfg, args, strlen(args), &ev[0], &err);
}


/* The body is rejected with this code, event and message. */
static void
check_error(mkt_beacon_code_e rc, mkt_beacon_code_e code, long event,
    const char *message, int line)
{
    if (rc != code || err.code != code || err.event != event
        || strcmp(err.message, message) != 0)
    {
        fail_msg("line %d: got %s event %ld \"%s\", expected %s event %ld "
                 "\"%s\"", line, mkt_beacon_code_name(rc), err.event,
                 err.message, mkt_beacon_code_name(code), event, message);
    }
}

#define assert_error(rc, code, event, message)                                \
    check_error(rc, code, event, message, __LINE__)


static void
assert_goal(const mkt_beacon_event_t *e, const char *goal)
{
    assert_non_null(e->goal);
    assert_int_equal(e->goal->len, strlen(goal));
    assert_memory_equal(e->goal->data, goal, e->goal->len);
}


static void
test_one_object_is_one_conversion(void **state)
{
    assert_int_equal(parse("{\"type\":\"conversion\",\"goal\":\"purchase\","
                           "\"value\":129.5,\"currency\":\"cny\","
                           "\"order\":\"A-1001\"}"), MKT_BEACON_OK);
    assert_int_equal(nev, 1);
    assert_goal(&ev[0], "purchase");
    assert_true(ev[0].has_value);
    assert_true(ev[0].value == 129.5);
    assert_string_equal(ev[0].currency, "CNY");
    assert_int_equal(ev[0].currency_len, 3);
    assert_int_equal(ev[0].order_len, 6);
    assert_memory_equal(ev[0].order, "A-1001", 6);
}


static void
test_only_the_goal_is_required(void **state)
{
    assert_int_equal(parse(" \r\n\t{\"goal\":\"signup\"}\n"), MKT_BEACON_OK);
    assert_int_equal(nev, 1);
    assert_goal(&ev[0], "signup");
    assert_false(ev[0].has_value);
    assert_int_equal(ev[0].currency_len, 0);
    assert_int_equal(ev[0].order_len, 0);

    assert_error(parse("{}"), MKT_BEACON_INVALID, 0, "goal: missing");
    assert_error(parse("{\"goal\":null,\"value\":1}"), MKT_BEACON_INVALID, 0,
                 "goal: missing");
    assert_error(parse("{\"goal\":\"\"}"), MKT_BEACON_INVALID, 0,
                 "goal: missing");
    assert_error(parse("{\"Goal\":\"signup\"}"), MKT_BEACON_INVALID, 0,
                 "goal: missing");
}


static void
test_an_array_is_one_conversion_each(void **state)
{
    assert_int_equal(parse("[{\"goal\":\"signup\"},{\"goal\":\"purchase\","
                           "\"value\":\"5\"} , {\"goal\":\"signup\","
                           "\"order\":7}]"), MKT_BEACON_OK);
    assert_int_equal(nev, 3);
    assert_goal(&ev[0], "signup");
    assert_goal(&ev[1], "purchase");
    assert_true(ev[1].value == 5);
    assert_goal(&ev[2], "signup");
    assert_memory_equal(ev[2].order, "7", ev[2].order_len);
}


static char *
array_of(size_t n)
{
    static const char  one[] = "{\"goal\":\"signup\"},";
    char              *s;
    size_t             i;

    s = malloc(n * (sizeof(one) - 1) + 3);
    assert_non_null(s);
    s[0] = '[';
    for (i = 0; i < n; i++) {
        memcpy(s + 1 + i * (sizeof(one) - 1), one, sizeof(one) - 1);
    }
    strcpy(s + n * (sizeof(one) - 1), "]");
    return s;
}


static void
test_fifty_events_pass_fifty_one_do_not(void **state)
{
    char  *s;

    s = array_of(50);
    assert_int_equal(parse(s), MKT_BEACON_OK);
    assert_int_equal(nev, 50);
    free(s);

    s = array_of(51);
    assert_error(parse(s), MKT_BEACON_TOO_MANY, 50,
                 "too many events: at most 50");
    assert_int_equal(nev, 0);
    free(s);
}


static void
test_too_many_is_found_before_bad_fields(void **state)
{
    char  *s;

    s = array_of(51);
    memcpy(s + 1, "{\"goal\":\"xxxxxx\"}", 17);
    assert_error(parse(s), MKT_BEACON_TOO_MANY, 50,
                 "too many events: at most 50");
    free(s);
}


static void
test_what_is_not_an_event_is_refused(void **state)
{
    assert_error(parse("[]"), MKT_BEACON_NOT_EVENTS, -1,
                 "expected at least one event");
    assert_error(parse("[{\"goal\":\"signup\"},1]"), MKT_BEACON_NOT_EVENTS, 1,
                 "events[1]: expected an object");
    assert_error(parse("[[{\"goal\":\"signup\"}]]"), MKT_BEACON_NOT_EVENTS, 0,
                 "events[0]: expected an object");
    assert_error(parse("\"goal\""), MKT_BEACON_NOT_EVENTS, -1,
                 "expected an event object or an array of them");
    assert_error(parse("null"), MKT_BEACON_NOT_EVENTS, -1,
                 "expected an event object or an array of them");
}


static void
test_known_fields_of_the_wrong_type_are_errors(void **state)
{
    assert_error(parse("{\"goal\":5}"), MKT_BEACON_INVALID, 0,
                 "goal: expected a string");
    assert_error(parse("{\"goal\":\"signup\",\"value\":true}"),
                 MKT_BEACON_INVALID, 0, "value: expected a number");
    assert_error(parse("{\"goal\":\"signup\",\"currency\":[]}"),
                 MKT_BEACON_INVALID, 0, "currency: expected a string");
    assert_error(parse("{\"goal\":\"signup\",\"order\":{}}"),
                 MKT_BEACON_INVALID, 0,
                 "order: expected a string or a number");
    assert_error(parse("{\"goal\":\"signup\",\"type\":1}"),
                 MKT_BEACON_INVALID, 0, "type: expected a string");
}


static void
test_only_conversions_may_be_sent(void **state)
{
    assert_error(parse("{\"type\":\"exposure\",\"goal\":\"signup\"}"),
                 MKT_BEACON_INVALID, 0,
                 "type: only \"conversion\" may be sent");
    assert_error(parse("{\"type\":\"Conversion\",\"goal\":\"signup\"}"),
                 MKT_BEACON_INVALID, 0,
                 "type: only \"conversion\" may be sent");
    assert_int_equal(parse("{\"type\":null,\"goal\":\"signup\"}"),
                     MKT_BEACON_OK);
}


static void
test_unknown_goals_are_named_with_their_event(void **state)
{
    assert_error(parse("{\"goal\":\"nope\"}"), MKT_BEACON_UNKNOWN_GOAL, 0,
                 "goal: \"nope\" is not one of the config's goals");
    assert_error(parse("[{\"goal\":\"signup\"},{\"goal\":\"Signup\"}]"),
                 MKT_BEACON_UNKNOWN_GOAL, 1,
                 "events[1].goal: \"Signup\" is not one of the config's "
                 "goals");
    /* quoted cleaned and cut: no NUL, no newline in the message */
    assert_error(parse("{\"goal\":\"sign\\u0000up\\n\"}"),
                 MKT_BEACON_UNKNOWN_GOAL, 0,
                 "goal: \"signup\" is not one of the config's goals");
    assert_error(parse("{\"goal\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                       "aaaa\"}"), MKT_BEACON_UNKNOWN_GOAL, 0,
                 "goal: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"... "
                 "is not one of the config's goals");
}


static void
test_values_are_finite_json_numbers_or_numeric_strings(void **state)
{
    static const struct {
        const char  *json;
        double       value;
    } ok[] = {
        { "129", 129 }, { "\"19.99\"", 19.99 }, { "1e3", 1000 },
        { "-5.5", -5.5 }, { "\"0\"", 0 }, { "1e15", 1e15 },
        { "-1E+15", -1e15 }, { "1e-400", 0 }, { "0.1", 0.1 }
    };
    static const char *const  bad[] = {
        "\"abc\"", "\" 1\"", "\"1 \"", "\"1,5\"", "\"0x10\"", "\"Infinity\"",
        "\"NaN\"", "\"+1\"", "\".5\"", "\"1.\"", "\"01\"", "\"\"",
        "\"1111111111111111111111111111111111111111111111111111111111111111\""
    };
    static const char *const  huge[] = {
        "1e16", "-1000000000000001", "1e400", "\"1e400\"",
        "123456789012345678901234567890", "1.7976931348623157e308"
    };
    char    body[256];
    size_t  i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(body, sizeof(body), "{\"goal\":\"signup\",\"value\":%s}",
                 ok[i].json);
        assert_int_equal(parse(body), MKT_BEACON_OK);
        assert_true(ev[0].has_value);
        assert_true(ev[0].value == ok[i].value);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"goal\":\"signup\",\"value\":%s}",
                 bad[i]);
        assert_error(parse(body), MKT_BEACON_INVALID, 0,
                     "value: expected a number");
    }
    for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        snprintf(body, sizeof(body), "{\"goal\":\"signup\",\"value\":%s}",
                 huge[i]);
        assert_error(parse(body), MKT_BEACON_INVALID, 0,
                     "value: expected a finite number of magnitude at most "
                     "1e15");
    }
}


static void
test_negative_zero_is_zero(void **state)
{
    assert_int_equal(parse("{\"goal\":\"signup\",\"value\":-0.0}"),
                     MKT_BEACON_OK);
    assert_false(signbit(ev[0].value));
}


static void
test_currencies_are_three_letters_uppercased(void **state)
{
    assert_int_equal(parse("{\"goal\":\"signup\",\"currency\":\"usd\"}"),
                     MKT_BEACON_OK);
    assert_string_equal(ev[0].currency, "USD");
    assert_int_equal(parse("{\"goal\":\"signup\",\"currency\":\"CnY\"}"),
                     MKT_BEACON_OK);
    assert_string_equal(ev[0].currency, "CNY");

    assert_error(parse("[{\"goal\":\"signup\"},{\"goal\":\"signup\"},"
                       "{\"goal\":\"signup\"},{\"goal\":\"signup\","
                       "\"currency\":\"usd1\"}]"),
                 MKT_BEACON_INVALID, 3,
                 "events[3].currency: expected an ISO 4217 code");
    assert_error(parse("{\"goal\":\"signup\",\"currency\":\"US\"}"),
                 MKT_BEACON_INVALID, 0, "currency: expected an ISO 4217 code");
    assert_error(parse("{\"goal\":\"signup\",\"currency\":\"\\u20ac\"}"),
                 MKT_BEACON_INVALID, 0, "currency: expected an ISO 4217 code");
    assert_error(parse("{\"goal\":\"signup\",\"currency\":\"U D\"}"),
                 MKT_BEACON_INVALID, 0, "currency: expected an ISO 4217 code");
}


static void
test_orders_are_clean_bounded_text(void **state)
{
    char    body[300];
    size_t  n;

    assert_int_equal(parse("{\"goal\":\"signup\",\"order\":\"  A\\u0001-1\\t "
                           "\"}"), MKT_BEACON_OK);
    assert_int_equal(ev[0].order_len, 3);
    assert_memory_equal(ev[0].order, "A-1", 3);

    assert_int_equal(parse("{\"goal\":\"signup\",\"order\":\"\\ud83d\\ude00"
                           "\\\"\"}"), MKT_BEACON_OK);
    assert_int_equal(ev[0].order_len, 5);
    assert_memory_equal(ev[0].order, "\xf0\x9f\x98\x80\"", 5);

    assert_int_equal(parse("{\"goal\":\"signup\",\"order\":\" \"}"),
                     MKT_BEACON_OK);
    assert_int_equal(ev[0].order_len, 0);

    n = (size_t) snprintf(body, sizeof(body), "{\"goal\":\"signup\","
                          "\"order\":\"");
    memset(body + n, 'x', 128);
    strcpy(body + n + 128, "\"}");
    assert_int_equal(parse(body), MKT_BEACON_OK);
    assert_int_equal(ev[0].order_len, 128);

    memset(body + n, 'x', 129);
    strcpy(body + n + 129, "\"}");
    assert_error(parse(body), MKT_BEACON_INVALID, 0,
                 "order: longer than 128 bytes");
}


static void
test_unknown_members_and_identity_are_ignored(void **state)
{
    assert_int_equal(parse("{\"vid\":\"forged\",\"uid\":\"u1\","
                           "\"assign\":{\"e\":\"v\"},\"goal\":\"signup\","
                           "\"props\":{\"a\":[1,{\"b\":[null,true,false,"
                           "-1.5e-3,\"\\u00e9\"]}],\"c\":{}},\"host\":\"x\","
                           "\"path\":\"/y\",\"id\":\"z\",\"ts\":1,"
                           "\"props\":0,\"goalx\":1}"), MKT_BEACON_OK);
    assert_goal(&ev[0], "signup");
    assert_int_equal(ev[0].order_len, 0);
}


static void
test_a_field_given_twice_is_an_error(void **state)
{
    assert_error(parse("{\"goal\":\"signup\",\"goal\":\"purchase\"}"),
                 MKT_BEACON_INVALID, 0, "goal: given twice");
    assert_error(parse("{\"goal\":\"signup\",\"value\":null,\"value\":1}"),
                 MKT_BEACON_INVALID, 0, "value: given twice");
    assert_error(parse("[{\"goal\":\"signup\"},{\"goal\":\"signup\","
                       "\"order\":\"a\",\"order\":\"a\"}]"),
                 MKT_BEACON_INVALID, 1, "events[1].order: given twice");
}


static void
test_malformed_json_is_refused_with_its_offset(void **state)
{
    static const struct {
        const char  *body;
        size_t       offset;
        const char  *message;
    } cases[] = {
        { "", 0, "expected a value" },
        { "{\"goal\":\"signup\"} x", 18, "unexpected data after the JSON "
          "value" },
        { "{\"goal\":\"signup\"}{}", 17, "unexpected data after the JSON "
          "value" },
        { "{\"goal\":\"signup\",}", 17, "expected a string key" },
        { "{\"goal\" \"signup\"}", 8, "expected ':'" },
        { "[{\"goal\":\"signup\"},]", 19, "expected a value" },
        { "[{\"goal\":\"signup\"}", 18, "expected ',' or ']'" },
        { "{\"goal\":\"sign", 13, "unterminated string" },
        { "{\"goal\":\"a\\x\"}", 10, "invalid escape in string" },
        { "{\"goal\":\"\\ud800\"}", 15, "lone surrogate in \\u escape" },
        { "{\"goal\":\"\\u12\"}", 11, "expected 4 hex digits after \\u" },
        { "{\"goal\":\"a\nb\"}", 10, "control character in string" },
        { "{\"goal\":\"\xff\"}", 9, "invalid UTF-8 in string" },
        { "{\"goal\":\"\xc0\xaf\"}", 9, "invalid UTF-8 in string" },
        { "{\"value\":01}", 10, "expected ',' or '}'" },
        { "{\"value\":-}", 9, "invalid number" },
        { "{\"value\":NaN}", 9, "expected a value" },
        { "{'goal':'signup'}", 1, "expected a string key" },
        { "[tru]", 1, "expected a value" }
    };
    char    want[MKT_BEACON_ERROR_MAX];
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(want, sizeof(want), "malformed JSON at offset %zu: %s",
                 cases[i].offset, cases[i].message);
        assert_error(parse(cases[i].body), MKT_BEACON_MALFORMED, -1, want);
        assert_int_equal(err.offset, cases[i].offset);
    }

    /* a NUL byte in the body */
    assert_error(parse_len("{\"goal\":\"signup\"}\0", 18),
                 MKT_BEACON_MALFORMED, -1, "malformed JSON at offset 17: "
                 "unexpected data after the JSON value");
}


static void
test_nesting_is_bounded(void **state)
{
    char    body[200];
    size_t  i, n;

    n = 0;
    n += (size_t) sprintf(body, "{\"goal\":\"signup\",\"x\":");
    for (i = 0; i < MKT_JR_DEPTH_MAX - 1; i++) {
        body[n++] = '[';
    }
    for (i = 0; i < MKT_JR_DEPTH_MAX - 1; i++) {
        body[n++] = ']';
    }
    strcpy(body + n, "}");
    assert_int_equal(parse(body), MKT_BEACON_OK);

    memmove(body + 22, body + 21, strlen(body + 21) + 1);
    body[21] = '[';
    n = strlen(body);
    memmove(body + n - 1, body + n - 2, 3);
    assert_error(parse(body), MKT_BEACON_MALFORMED, -1,
                 "malformed JSON at offset 52: nested too deep");

    /* in an array, the array counts too: one level fewer inside */
    n = 0;
    n += (size_t) sprintf(body, "[{\"goal\":\"signup\",\"x\":");
    for (i = 0; i < MKT_JR_DEPTH_MAX - 2; i++) {
        body[n++] = '[';
    }
    for (i = 0; i < MKT_JR_DEPTH_MAX - 2; i++) {
        body[n++] = ']';
    }
    strcpy(body + n, "}]");
    assert_int_equal(parse(body), MKT_BEACON_OK);
    assert_int_equal(nev, 1);

    memmove(body + 23, body + 22, strlen(body + 22) + 1);
    body[22] = '[';
    n = strlen(body);
    memmove(body + n - 2, body + n - 3, 4);
    assert_error(parse(body), MKT_BEACON_MALFORMED, -1,
                 "malformed JSON at offset 52: nested too deep");
}


/* prices are read without strtod() when they can be: to the same double,
 * bit for bit, whatever the digits and the point's place */
static void
test_values_read_as_strtod_reads_them(void **state)
{
    char      body[96], num[32];
    size_t    i, k, digits, point;
    uint64_t  x;
    double    want;

    x = 0x9e3779b97f4a7c15ull;
    for (i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        digits = 1 + x % 17;                    /* 16, 17: strtod's */
        point = (x >> 8) % (digits + 1);        /* digits: none */
        k = 0;
        if ((x >> 16) & 1) {
            num[k++] = '-';
        }
        for (size_t d = 0; d < digits; d++) {
            if (d == point && d > 0) {
                num[k++] = '.';
            }
            /* no leading zero before other digits, as JSON wants */
            num[k++] = (char) ('0' + ((d == 0 && point != 1 && digits > 1)
                                      ? 1 + (x >> (20 + d)) % 9
                                      : (x >> (20 + d * 2)) % 10));
        }
        num[k] = '\0';
        want = strtod(num, NULL);
        if (fabs(want) > 1e15) {
            continue;
        }
        snprintf(body, sizeof(body), "{\"goal\":\"signup\",\"value\":%s}",
                 num);
        assert_int_equal(parse(body), MKT_BEACON_OK);
        if (memcmp(&ev[0].value, &(double) { want + 0.0 }, sizeof(double))
            != 0)
        {
            fail_msg("%s: %.17g, strtod %.17g", num, ev[0].value, want);
        }
    }

    assert_int_equal(parse("{\"goal\":\"signup\",\"value\":0.1}"),
                     MKT_BEACON_OK);
    assert_true(ev[0].value == 0.1);
    assert_int_equal(parse("{\"goal\":\"signup\",\"value\":-0.0}"),
                     MKT_BEACON_OK);
    assert_false(signbit(ev[0].value));
    assert_int_equal(parse("{\"goal\":\"signup\",\"value\":1.5e2}"),
                     MKT_BEACON_OK);
    assert_true(ev[0].value == 150);
}


/* one pass decides alone when a body is accepted: it must refuse what is
 * not one JSON text, the validator then saying where */
static void
test_the_one_pass_is_strict(void **state)
{
    assert_error(parse("{\"goal\":\"signup\""), MKT_BEACON_MALFORMED, -1,
                 "malformed JSON at offset 16: expected ',' or '}'");
    assert_error(parse("{\"goal\":\"signup\"} {}"), MKT_BEACON_MALFORMED,
                 -1, "malformed JSON at offset 18: unexpected data after "
                 "the JSON value");
    assert_error(parse("[{\"goal\":\"signup\"}"), MKT_BEACON_MALFORMED, -1,
                 "malformed JSON at offset 18: expected ',' or ']'");
    assert_error(parse("[{\"goal\":\"signup\"}]]"), MKT_BEACON_MALFORMED,
                 -1, "malformed JSON at offset 19: unexpected data after "
                 "the JSON value");
    assert_error(parse("[{\"goal\":\"signup\",\"x\":tru}]"),
                 MKT_BEACON_MALFORMED, -1,
                 "malformed JSON at offset 22: expected a value");
    /* malformed after an invalid member: malformed comes first */
    assert_error(parse("{\"goal\":\"nope\",}"), MKT_BEACON_MALFORMED, -1,
                 "malformed JSON at offset 15: expected a string key");
    assert_error(parse("{\"goal\":\"nope\"}"), MKT_BEACON_UNKNOWN_GOAL, 0,
                 "goal: \"nope\" is not one of the config's goals");
}


static void
test_bodies_over_the_limit_are_refused_unread(void **state)
{
    char                *big;
    size_t               len = 1024 * 1024;
    mkt_beacon_code_e    rc;

    big = malloc(len);
    assert_non_null(big);
    memset(big, '[', len);

    assert_error(parse_len(big, len), MKT_BEACON_TOO_LARGE, -1,
                 "body larger than 16384 bytes");
    assert_error(parse_len(big, MKT_BEACON_BODY_DEFAULT + 1),
                 MKT_BEACON_TOO_LARGE, -1, "body larger than 16384 bytes");

    /* within a larger limit: refused for its depth, in linear time */
    rc = mkt_beacon_parse_json(cfg, big, len, len, ev, MAX_EVENTS, &nev,
                               &err);
    assert_error(rc, MKT_BEACON_MALFORMED, -1,
                 "malformed JSON at offset 32: nested too deep");

    /* a 1 MB string in an ignored member */
    big[0] = '{';
    memcpy(big + 1, "\"goal\":\"signup\",\"x\":\"", 21);
    memset(big + 22, 'a', len - 24);
    memcpy(big + len - 2, "\"}", 2);
    rc = mkt_beacon_parse_json(cfg, big, len, len, ev, MAX_EVENTS, &nev,
                               &err);
    assert_int_equal(rc, MKT_BEACON_OK);

    /* and as the order */
    memcpy(big + 1, "\"goal\":\"signup\",\"order\":\"", 25);
    rc = mkt_beacon_parse_json(cfg, big, len, len, ev, MAX_EVENTS, &nev,
                               &err);
    assert_error(rc, MKT_BEACON_INVALID, 0, "order: longer than 128 bytes");
    free(big);
}


static void
test_query_string_is_one_conversion(void **state)
{
    assert_int_equal(query("goal=purchase&value=19.99&currency=usd"
                           "&order=A%2D1+2&_=1763870000"), MKT_BEACON_OK);
    assert_goal(&ev[0], "purchase");
    assert_true(ev[0].value == 19.99);
    assert_string_equal(ev[0].currency, "USD");
    assert_memory_equal(ev[0].order, "A-1 2", ev[0].order_len);

    assert_int_equal(query("GOAL=signup&Type=conversion&value="),
                     MKT_BEACON_OK);
    assert_goal(&ev[0], "signup");
    assert_false(ev[0].has_value);
}


static void
test_query_string_errors_name_the_field(void **state)
{
    assert_error(query("value=1"), MKT_BEACON_INVALID, 0, "goal: missing");
    assert_error(query("goal="), MKT_BEACON_INVALID, 0, "goal: missing");
    assert_error(query("goal=signup&value=abc"), MKT_BEACON_INVALID, 0,
                 "value: expected a number");
    assert_error(query("goal=signup&value=1%2B1"), MKT_BEACON_INVALID, 0,
                 "value: expected a number");
    assert_error(query("goal=signup&value=+1"), MKT_BEACON_INVALID, 0,
                 "value: expected a number");
    assert_error(query("goal=sign%00up"), MKT_BEACON_UNKNOWN_GOAL, 0,
                 "goal: \"signup\" is not one of the config's goals");
    assert_error(query("goal=signup&goal=purchase"), MKT_BEACON_INVALID, 0,
                 "goal: given twice");
    assert_error(query("goal=signup&currency=usd1"), MKT_BEACON_INVALID, 0,
                 "currency: expected an ISO 4217 code");
    assert_error(query("goal=signup&type=touch"), MKT_BEACON_INVALID, 0,
                 "type: only \"conversion\" may be sent");
}


static void
test_error_json_is_what_the_glue_answers(void **state)
{
    char    buf[MKT_BEACON_ERROR_JSON_MAX];
    size_t  n;

    parse("[{\"goal\":\"signup\"},{\"goal\":\"signup\"},{\"goal\":\"signup\"},"
          "{\"goal\":\"signup\",\"currency\":\"usd1\"}]");
    n = mkt_beacon_error_json(&err, buf, sizeof(buf));
    assert_int_equal(n, strlen("{\"error\":\"events[3].currency: expected an "
                               "ISO 4217 code\",\"event\":3}"));
    assert_memory_equal(buf, "{\"error\":\"events[3].currency: expected an "
                        "ISO 4217 code\",\"event\":3}", n);

    parse("{\"goal\":\"a\\\"b\\\\\"}");
    n = mkt_beacon_error_json(&err, buf, sizeof(buf));
    buf[n] = '\0';
    assert_string_equal(buf, "{\"error\":\"goal: \\\"a\\\"b\\\\\\\" is not "
                        "one of the config's goals\",\"event\":0}");

    parse("[]");
    n = mkt_beacon_error_json(&err, buf, sizeof(buf));
    buf[n] = '\0';
    assert_string_equal(buf, "{\"error\":\"expected at least one event\"}");
    assert_int_equal(mkt_beacon_error_json(&err, buf, 10), 0);
}


static void
test_a_checked_conversion_becomes_an_event(void **state)
{
    char         out[MKT_EVENT_MAX];
    size_t       n;
    const char  *want;
    mkt_event_t  e;

    assert_int_equal(query("goal=purchase&value=129&currency=cny"
                           "&order=A-1001"), MKT_BEACON_OK);
    mkt_event_init(&e, MKT_EVENT_CONVERSION, 1763870000123LL);
    e.id.data = "01ARYZ6S41TSV4RRFFQ69G5FAV";
    e.id.len = MKT_EVENT_ID_LEN;
    mkt_beacon_to_event(&ev[0], &e);

    want = "{\"id\":\"01ARYZ6S41TSV4RRFFQ69G5FAV\",\"ts\":1763870000123,"
           "\"type\":\"conversion\",\"goal\":\"purchase\",\"value\":129.0,"
           "\"currency\":\"CNY\",\"order\":\"A-1001\"}";
    n = mkt_event_encode(&e, out, sizeof(out));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
}


static void
test_set_checks_one_field_for_server_side_conversions(void **state)
{
    mkt_beacon_event_t  b;

    mkt_beacon_event_init(&b);
    assert_int_equal(mkt_beacon_set(cfg, &b, MKT_BEACON_GOAL, "signup", 6,
                                    &err), MKT_BEACON_OK);
    assert_int_equal(mkt_beacon_set(cfg, &b, MKT_BEACON_VALUE, "12.5", 4,
                                    &err), MKT_BEACON_OK);
    assert_true(b.value == 12.5);
    assert_error(mkt_beacon_set(cfg, &b, MKT_BEACON_CURRENCY, "", 0, &err),
                 MKT_BEACON_INVALID, -1,
                 "currency: expected an ISO 4217 code");
    assert_error(mkt_beacon_set(NULL, &b, MKT_BEACON_FIELDS, "", 0, &err),
                 MKT_BEACON_INVALID, -1, "unknown field");

    mkt_beacon_event_init(&b);
    assert_error(mkt_beacon_set(NULL, &b, MKT_BEACON_GOAL, "signup", 6,
                                &err), MKT_BEACON_UNKNOWN_GOAL, -1,
                 "goal: \"signup\" is not one of the config's goals");
}


static void
test_names_of_codes_and_fields(void **state)
{
    assert_string_equal(mkt_beacon_code_name(MKT_BEACON_OK), "ok");
    assert_string_equal(mkt_beacon_code_name(MKT_BEACON_UNKNOWN_GOAL),
                        "unknown_goal");
    assert_string_equal(mkt_beacon_code_name(MKT_BEACON_CODES), "");
    assert_string_equal(mkt_beacon_field_name(MKT_BEACON_CURRENCY),
                        "currency");
    assert_string_equal(mkt_beacon_field_name(MKT_BEACON_FIELDS), "");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_object_is_one_conversion),
        cmocka_unit_test(test_only_the_goal_is_required),
        cmocka_unit_test(test_an_array_is_one_conversion_each),
        cmocka_unit_test(test_fifty_events_pass_fifty_one_do_not),
        cmocka_unit_test(test_too_many_is_found_before_bad_fields),
        cmocka_unit_test(test_what_is_not_an_event_is_refused),
        cmocka_unit_test(test_known_fields_of_the_wrong_type_are_errors),
        cmocka_unit_test(test_only_conversions_may_be_sent),
        cmocka_unit_test(test_unknown_goals_are_named_with_their_event),
        cmocka_unit_test(
            test_values_are_finite_json_numbers_or_numeric_strings),
        cmocka_unit_test(test_negative_zero_is_zero),
        cmocka_unit_test(test_currencies_are_three_letters_uppercased),
        cmocka_unit_test(test_orders_are_clean_bounded_text),
        cmocka_unit_test(test_unknown_members_and_identity_are_ignored),
        cmocka_unit_test(test_a_field_given_twice_is_an_error),
        cmocka_unit_test(test_malformed_json_is_refused_with_its_offset),
        cmocka_unit_test(test_nesting_is_bounded),
        cmocka_unit_test(test_the_one_pass_is_strict),
        cmocka_unit_test(test_values_read_as_strtod_reads_them),
        cmocka_unit_test(test_bodies_over_the_limit_are_refused_unread),
        cmocka_unit_test(test_query_string_is_one_conversion),
        cmocka_unit_test(test_query_string_errors_name_the_field),
        cmocka_unit_test(test_error_json_is_what_the_glue_answers),
        cmocka_unit_test(test_a_checked_conversion_becomes_an_event),
        cmocka_unit_test(
            test_set_checks_one_field_for_server_side_conversions),
        cmocka_unit_test(test_names_of_codes_and_fields),
    };

    return cmocka_run_group_tests(tests, setup, free_fixture);
}
