/* What the collect endpoint (mkt_collect, DESIGN.md section 8) accepts
 * from clients: conversions as a query string (GET) or as a JSON body
 * (POST: one event object or an array of them), checked field by field
 * against the config's goals, with errors that name the event and the
 * field.  Bounded, no allocation: the caller owns every buffer.
 *
 * A client sends only what it knows about the conversion: type (always
 * "conversion"), goal, value, currency, order.  Every other member is
 * ignored, identity above all (vid, uid, assign come from the cookies),
 * and so are host and path (the glue takes them from the request and its
 * Referer) and id and ts (the server's). */
#ifndef MKT_BEACON_H
#define MKT_BEACON_H

#include <stddef.h>

#include "config.h"
#include "event.h"

#define MKT_BEACON_EVENTS_DEFAULT  50           /* mkt_collect max_events */
#define MKT_BEACON_BODY_DEFAULT    16384        /* mkt_collect max_body */
#define MKT_BEACON_ORDER_MAX       MKT_EVENT_ORDER_MAX
#define MKT_BEACON_VALUE_MAX       1e15         /* |value| at most */
#define MKT_BEACON_ERROR_MAX       192          /* message bytes, NUL too */

/* The fields a client may set; the names are the JSON members and query
 * parameters. */
typedef enum {
    MKT_BEACON_TYPE = 0,        /* "type": "conversion" or absent */
    MKT_BEACON_GOAL,            /* required: one of the config's goals */
    MKT_BEACON_VALUE,           /* a finite number, |v| <= 1e15 */
    MKT_BEACON_CURRENCY,        /* three ASCII letters, uppercased */
    MKT_BEACON_ORDER,           /* clean text, 1 to 128 bytes */
    MKT_BEACON_FIELDS
} mkt_beacon_field_e;

typedef enum {
    MKT_BEACON_OK = 0,
    MKT_BEACON_TOO_LARGE,       /* body over max_body: 413 or 400 */
    MKT_BEACON_MALFORMED,       /* not JSON: err.offset says where */
    MKT_BEACON_NOT_EVENTS,      /* JSON, but not an event object or a
                                 * non-empty array of them */
    MKT_BEACON_TOO_MANY,        /* more than max_events */
    MKT_BEACON_UNKNOWN_GOAL,    /* not among the config's goals */
    MKT_BEACON_INVALID,         /* a field of the wrong type or value, a
                                 * field given twice, no goal */
    MKT_BEACON_CODES
} mkt_beacon_code_e;

/*
 * An error.  message is NUL-terminated clean text (no control
 * characters; it may quote a client's goal) naming the event and field:
 * "events[3].currency: expected an ISO 4217 code" (for an array body),
 * "currency: ..." (one object, a query string).  The glue answers 400
 * with mkt_beacon_error_json().
 */
typedef struct {
    mkt_beacon_code_e  code;
    long               event;       /* index of the event; -1: the body */
    size_t             offset;      /* MKT_BEACON_MALFORMED: byte offset */
    char               message[MKT_BEACON_ERROR_MAX];
} mkt_beacon_error_t;

/* A conversion as a client sent it, checked. */
typedef struct {
    const mkt_str_t  *goal;         /* the config's goal, NULL until set */
    double            value;
    int               has_value;
    size_t            currency_len; /* 0 or 3 */
    char              currency[4];  /* uppercase, NUL-terminated */
    size_t            order_len;    /* 0: none */
    char              order[MKT_BEACON_ORDER_MAX];
    unsigned          given;        /* bits of the fields seen */
} mkt_beacon_event_t;

void mkt_beacon_event_init(mkt_beacon_event_t *ev);

/*
 * Sets field f of ev from text s (len bytes, any, already decoded from
 * its transport: a query value, a JSON string, an nginx variable for
 * mkt_conversion).  A field given twice is an error.  Rules:
 *   type      exactly "conversion"
 *   goal      byte for byte one of cfg's goals (cfg NULL: none is)
 *   value     a JSON number (RFC 8259 grammar, at most 63 characters:
 *             "129", "19.99", "1e3"; not "abc", " 1", "1,5", "0x10",
 *             "Infinity"), finite and at most 1e15 in magnitude; -0 is 0
 *   currency  three ASCII letters, either case, stored uppercase ("usd"
 *             is USD; "usd1", "US", "€" are errors); the format of ISO
 *             4217, not its list
 *   order     at most 128 bytes, then cleaned (mkt_text_clean: control
 *             characters dropped, invalid UTF-8 as U+FFFD, cut to 128
 *             bytes) and trimmed of spaces; empty is absent
 * Returns MKT_BEACON_OK, or the code with err filled (event -1).
 */
mkt_beacon_code_e mkt_beacon_set(const mkt_config_t *cfg,
    mkt_beacon_event_t *ev, mkt_beacon_field_e f, const char *s,
    size_t len, mkt_beacon_error_t *err);

/* "type", "goal", "value", "currency", "order"; "" for a bad f. */
const char *mkt_beacon_field_name(mkt_beacon_field_e f);

/*
 * GET: the query string args (len bytes, as nginx's r->args) into ev:
 * parameters named as the fields (ASCII case-insensitively), values
 * percent-decoded ('+' is a space) and set as mkt_beacon_set() says;
 * other parameters ignored (cache busters, ...); an empty value is
 * absent; a field given twice is an error.  goal is required.  Errors
 * are about event 0.
 */
mkt_beacon_code_e mkt_beacon_parse_query(const mkt_config_t *cfg,
    const char *args, size_t len, mkt_beacon_event_t *ev,
    mkt_beacon_error_t *err);

/*
 * POST: body (len bytes, any; application/json or text/plain, the glue
 * decides) into events[0 .. *n): one JSON object, or an array of 1 to
 * max_events objects.  In order:
 *   len > max_body                          MKT_BEACON_TOO_LARGE
 *   not one strict JSON text (json_read.h)  MKT_BEACON_MALFORMED, offset
 *   not an object or array, [], [1]          MKT_BEACON_NOT_EVENTS
 *   more than max_events objects            MKT_BEACON_TOO_MANY, event
 *                                           max_events
 *   then each event, as mkt_beacon_set() says; a known member of the
 *   wrong JSON type is MKT_BEACON_INVALID ("expected a string"); value
 *   and order may be JSON numbers or strings, the other fields strings;
 *   null is absent; a known member given twice is an error; unknown
 *   members (of any type and depth) are ignored.
 * All or nothing: *n is set only on MKT_BEACON_OK.  Work is linear in
 * len.
 */
mkt_beacon_code_e mkt_beacon_parse_json(const mkt_config_t *cfg,
    const char *body, size_t len, size_t max_body,
    mkt_beacon_event_t *events, size_t max_events, size_t *n,
    mkt_beacon_error_t *err);

/* Writes the 400 response body {"error":"...","event":3} ("event" only
 * for an event's error) into buf: its length, 0 if it does not fit.
 * MKT_BEACON_ERROR_JSON_MAX bytes are always enough. */
#define MKT_BEACON_ERROR_JSON_MAX  (2 * MKT_BEACON_ERROR_MAX + 48)

size_t mkt_beacon_error_json(const mkt_beacon_error_t *err, char *buf,
    size_t cap);

/* "ok", "too_large", "malformed", "not_events", "too_many",
 * "unknown_goal", "invalid": for mkt_status counters. */
const char *mkt_beacon_code_name(mkt_beacon_code_e code);

/* Points ev's goal, value, currency and order at b's (b must outlive
 * the encoding). */
void mkt_beacon_to_event(const mkt_beacon_event_t *b, mkt_event_t *ev);

#endif
