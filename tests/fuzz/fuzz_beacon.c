/* libFuzzer target for src/beacon.c and src/json_read.c: any body or query
 * string never crashes; an accepted one yields events that keep every
 * rule of mkt_beacon_set() and, for JSON, agree with jansson's reading of
 * the same bytes; a refused one has a well-formed error (clean message,
 * event in range, the 400 body valid JSON saying the same), and a body
 * refused as malformed is one jansson refuses too.
 *
 * Input: MODE LIMIT then the body.  MODE bit 0: 1 query string, 0 JSON;
 * the rest picks max_events (1 to 60).  LIMIT picks max_body. */

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "beacon.h"
#include "json_read.h"
#include "text.h"
#include "ref_utf8.h"

#define EVENTS_MAX  60

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char  config_json[] =
    "{\"goals\": [\"signup\", \"purchase\", \"a.b-c_d\"]}";

static mkt_config_t        *cfg;
static mkt_beacon_event_t   events[EVENTS_MAX];


static int
is_goal(const mkt_str_t *g)
{
    size_t  i;

    for (i = 0; i < mkt_config_goal_count(cfg); i++) {
        if (g == mkt_config_goal(cfg, i)) {
            return 1;
        }
    }
    return 0;
}


/* What mkt_beacon_set() promises of every accepted event. */
static void
check_event(const mkt_beacon_event_t *ev)
{
    size_t  i;

    CHECK(ev->goal != NULL && is_goal(ev->goal));
    if (ev->has_value) {
        CHECK(isfinite(ev->value) && fabs(ev->value) <= MKT_BEACON_VALUE_MAX);
        CHECK(ev->value != 0 || !signbit(ev->value));
    }
    CHECK(ev->currency_len == 0 || ev->currency_len == 3);
    for (i = 0; i < ev->currency_len; i++) {
        CHECK(ev->currency[i] >= 'A' && ev->currency[i] <= 'Z');
    }
    CHECK(ev->currency_len == 0 || ev->currency[3] == '\0');
    CHECK(ev->order_len <= MKT_BEACON_ORDER_MAX);
    CHECK(is_clean((const uint8_t *) ev->order, ev->order_len));
    CHECK(ev->order_len == 0
          || (ev->order[0] != ' ' && ev->order[ev->order_len - 1] != ' '));
}


static void
check_error(const mkt_beacon_error_t *err, mkt_beacon_code_e rc,
    size_t len, size_t max_events)
{
    char         body[MKT_BEACON_ERROR_JSON_MAX];
    size_t       n, mlen;
    json_t      *j, *ev;
    const char  *end;

    CHECK(rc > MKT_BEACON_OK && rc < MKT_BEACON_CODES && err->code == rc);
    CHECK(mkt_beacon_code_name(rc)[0] != '\0');
    end = memchr(err->message, '\0', sizeof(err->message));
    CHECK(end != NULL && end > err->message);
    mlen = (size_t) (end - err->message);
    CHECK(is_clean((const uint8_t *) err->message, mlen));
    CHECK(err->event >= -1 && err->event <= (long) max_events);
    CHECK(rc != MKT_BEACON_MALFORMED || err->offset <= len);

    n = mkt_beacon_error_json(err, body, sizeof(body));
    CHECK(n > 0);
    j = json_loadb(body, n, 0, NULL);
    CHECK(j != NULL);
    CHECK(json_string_length(json_object_get(j, "error")) == mlen);
    CHECK(memcmp(json_string_value(json_object_get(j, "error")),
                 err->message, mlen) == 0);
    ev = json_object_get(j, "event");
    CHECK(err->event < 0 ? ev == NULL
          : json_integer_value(ev) == err->event);
    CHECK(json_object_size(j) == 1 + (ev != NULL));
    json_decref(j);
}


/* An accepted event against jansson's reading of its object. */
static void
agree(const mkt_beacon_event_t *ev, json_t *obj)
{
    char         ref[MKT_BEACON_ORDER_MAX];
    size_t       n;
    json_t      *v;
    const char  *s;

    CHECK(json_is_object(obj));

    v = json_object_get(obj, "goal");
    CHECK(json_is_string(v) && json_string_length(v) == ev->goal->len
          && memcmp(json_string_value(v), ev->goal->data, ev->goal->len)
             == 0);

    v = json_object_get(obj, "type");
    CHECK(v == NULL || json_is_null(v)
          || strcmp(json_string_value(v), "conversion") == 0);

    v = json_object_get(obj, "value");
    if (v == NULL || json_is_null(v)) {
        CHECK(!ev->has_value);
    } else if (json_is_number(v)) {
        CHECK(ev->has_value && ev->value == json_number_value(v) + 0.0);
    } else {
        CHECK(json_is_string(v) && ev->has_value
              && ev->value == strtod(json_string_value(v), NULL) + 0.0);
    }

    v = json_object_get(obj, "currency");
    if (v == NULL || json_is_null(v)) {
        CHECK(ev->currency_len == 0);
    } else {
        s = json_string_value(v);
        CHECK(s != NULL && json_string_length(v) == 3 && ev->currency_len == 3);
        for (n = 0; n < 3; n++) {
            CHECK((s[n] & ~0x20) == ev->currency[n]);
        }
    }

    v = json_object_get(obj, "order");
    if (v == NULL || json_is_null(v)) {
        CHECK(ev->order_len == 0);
    } else if (json_is_string(v)) {
        CHECK(json_string_length(v) <= MKT_BEACON_ORDER_MAX);
        n = mkt_text_clean(ref, sizeof(ref), json_string_value(v),
                           json_string_length(v));
        n = mkt_text_trim(ref, n);
        CHECK(n == ev->order_len && memcmp(ref, ev->order, n) == 0);
    } else {
        CHECK(json_is_number(v) && ev->order_len > 0);
    }
}


static void
check_json(const char *body, size_t len, mkt_beacon_code_e rc,
    const mkt_beacon_error_t *err, size_t n, size_t max_events)
{
    size_t        i;
    json_t       *j;
    json_error_t  e;

    j = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

    /* jansson takes a NUL byte outside strings for the end of the input */
    if (rc == MKT_BEACON_MALFORMED && memchr(body, '\0', len) == NULL) {
        CHECK(j == NULL || strstr(err->message, "nested too deep") != NULL);
    }
    if (j == NULL) {
        /* jansson alone refuses integers past 64 bits, reals past
         * DBL_MAX and \u0000 in keys, which JSON allows */
        CHECK(rc == MKT_BEACON_MALFORMED || strstr(e.text, "too big")
              || strstr(e.text, "overflow") || strstr(e.text, "NUL byte"));
        return;
    }

    if (rc == MKT_BEACON_OK) {
        if (json_is_object(j)) {
            CHECK(n == 1);
            agree(&events[0], j);
        } else {
            CHECK(json_is_array(j) && json_array_size(j) == n);
            for (i = 0; i < n; i++) {
                agree(&events[i], json_array_get(j, i));
            }
        }
    } else if (rc == MKT_BEACON_TOO_MANY) {
        CHECK(json_is_array(j) ? json_array_size(j) > max_events
              : max_events == 0);
    } else if (rc == MKT_BEACON_NOT_EVENTS) {
        CHECK(!json_is_object(j));
    }
    json_decref(j);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                *body;
    size_t               len, n, i, max_events, max_body;
    mkt_beacon_code_e    rc;
    mkt_beacon_error_t   err;

    if (cfg == NULL) {
        cfg = mkt_config_load_string("fuzz.json", config_json,
                                     sizeof(config_json) - 1, NULL, NULL);
        CHECK(cfg != NULL);
    }
    if (size < 2) {
        return 0;
    }

    max_events = 1 + (size_t) (data[0] >> 1) % EVENTS_MAX;
    max_body = data[1] == 0xff ? MKT_BEACON_BODY_DEFAULT : data[1] * 64u;
    len = size - 2;
    body = malloc(len ? len : 1);
    CHECK(body != NULL);
    memcpy(body, data + 2, len);
    memset(&err, 0, sizeof(err));

    if (data[0] & 1) {
        rc = mkt_beacon_parse_query(cfg, body, len, &events[0], &err);
        if (rc == MKT_BEACON_OK) {
            check_event(&events[0]);
        } else {
            check_error(&err, rc, len, 0);
            CHECK(err.event == 0);
        }
        free(body);
        return 0;
    }

    n = 0;
    rc = mkt_beacon_parse_json(cfg, body, len, max_body, events, max_events,
                               &n, &err);
    if (rc == MKT_BEACON_OK) {
        CHECK(n >= 1 && n <= max_events && len <= max_body);
        for (i = 0; i < n; i++) {
            check_event(&events[i]);
        }
    } else {
        CHECK(n == 0);
        check_error(&err, rc, len, max_events);
        CHECK((rc == MKT_BEACON_TOO_LARGE) == (len > max_body));
    }
    if (len <= max_body) {
        mkt_jr_t  r;

        check_json(body, len, rc, &err, n, max_events);

        /* the one pass and json_read's validator agree on what is JSON,
         * and a refusal names the validator's offset */
        mkt_jr_init(&r, body, len);
        if (mkt_jr_validate(&r) != 0) {
            CHECK(rc == MKT_BEACON_MALFORMED && err.offset == r.err_pos);
        } else {
            CHECK(rc != MKT_BEACON_MALFORMED);
        }
    }

    free(body);
    return 0;
}
