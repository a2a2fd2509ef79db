/* Events (DESIGN.md section 8): what an exposure, a conversion or a touch
 * records, and its JSON encoding, one object a line in the log sink and
 * field "e" of a stream entry.  Encoding allocates nothing and writes into
 * the caller's buffer; docs/events.md is the schema. */
#ifndef MKT_EVENT_H
#define MKT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event_id.h"
#include "geo.h"
#include "hmac.h"
#include "sticky.h"
#include "touch.h"
#include "utm.h"

/*
 * The longest value of each field, in bytes as a consumer decodes it.
 * Longer values are cut at a character boundary (see mkt_jw_string());
 * clean text within the bound is never changed.
 */
#define MKT_EVENT_KEY_MAX       64   /* vid exp var goal currency device
                                      * channel click_name geo.country
                                      * geo.region, assign keys and values */
#define MKT_EVENT_UID_MAX       256
#define MKT_EVENT_ORDER_MAX     128
#define MKT_EVENT_TEXT_MAX      128  /* utm.* ft.* lt.* geo.city */
#define MKT_EVENT_CLICK_ID_MAX  256
#define MKT_EVENT_HOST_MAX      253  /* host referrer */
#define MKT_EVENT_PATH_MAX      1024
#define MKT_EVENT_ASSIGN_MAX    150  /* assign entries written at most */
#define MKT_EVENT_PROPS_MAX     16   /* props entries (plugins add them) */
#define MKT_EVENT_PROP_MAX      256  /* a props value; keys: KEY_MAX */

/*
 * Bytes an encoded event takes at most: every field at its bound in the
 * longest escapes, MKT_EVENT_ASSIGN_MAX assignments and MKT_EVENT_PROPS_MAX
 * props take 58,851 (tests/unit/test_event.c checks it).  A buffer of
 * this size always holds an event; typical ones take 300 to 800 bytes.
 */
#define MKT_EVENT_MAX           59392

typedef enum {
    MKT_EVENT_EXPOSURE = 0,
    MKT_EVENT_CONVERSION,
    MKT_EVENT_TOUCH,
    MKT_EVENT_TYPES
} mkt_event_type_e;

/* ft and lt: source, medium, campaign (mkt_touch_field_e order). */
#define MKT_EVENT_TOUCH_FIELDS  3

typedef struct {
    mkt_str_t  key;             /* experiment key */
    mkt_str_t  variation;       /* variation name */
} mkt_event_assign_t;

/* A field a plugin's event hook added, "props":{"key":"value",...}. */
typedef struct {
    mkt_str_t  key;
    mkt_str_t  value;
} mkt_event_prop_t;

/*
 * An event: every string is (data, len), any bytes, borrowed; len 0 is
 * absent and omitted from the JSON.  The encoder writes whatever is set,
 * whatever the type; the glue sets what section 8 gives each type:
 *   exposure    exp, var
 *   conversion  goal, and value (has_value), currency, order when known
 *   touch       utm, click_name + click_id, referrer, channel, and lt (the
 *               touch itself)
 * and for all: id, ts, vid, uid, assign, ft, lt, geo, device, host, path
 * (no identity when privacy forbids it).
 */
typedef struct {
    mkt_event_type_e           type;
    int64_t                    ts;          /* unix milliseconds */
    mkt_str_t                  id;          /* required: event_id.h */
    mkt_str_t                  vid;
    mkt_str_t                  uid;

    mkt_str_t                  exp;
    mkt_str_t                  var;

    mkt_str_t                  goal;
    double                     value;       /* finite, else omitted */
    int                        has_value;
    mkt_str_t                  currency;
    mkt_str_t                  order;

    const mkt_event_assign_t  *assign;      /* the visitor's assignments */
    size_t                     nassign;     /* (entries with an empty key
                                             * or variation are skipped) */
    mkt_str_t                  ft[MKT_EVENT_TOUCH_FIELDS];
    mkt_str_t                  lt[MKT_EVENT_TOUCH_FIELDS];

    mkt_str_t                  utm[MKT_UTM_FIELDS];
    mkt_str_t                  click_name;  /* "gclid", ... */
    mkt_str_t                  click_id;    /* its value */
    mkt_str_t                  referrer;    /* the referrer's host */
    mkt_str_t                  channel;     /* "paid_search", ... */

    mkt_str_t                  country;     /* geo.country */
    mkt_str_t                  region;      /* geo.region */
    mkt_str_t                  city;        /* geo.city */
    mkt_str_t                  device;      /* mobile tablet desktop bot */
    mkt_str_t                  host;
    mkt_str_t                  path;

    mkt_event_prop_t           props[MKT_EVENT_PROPS_MAX];
    size_t                     nprops;      /* (entries with an empty key
                                             * are skipped) */
} mkt_event_t;

/* Every field absent; type and ts set. */
void mkt_event_init(mkt_event_t *ev, mkt_event_type_e type, int64_t ts);

/* "exposure", "conversion", "touch"; "" for a bad type. */
const char *mkt_event_type_name(mkt_event_type_e type);

/*
 * Writes ev as one JSON object (no newline) into buf and returns its
 * length: at most cap, and at most MKT_EVENT_MAX.  0 when it does not fit
 * in cap (nothing usable written), the type is bad or the id is missing.
 * Members in this order: id ts type vid uid exp var goal value currency
 * order assign ft lt utm click_name click_id referrer channel geo device
 * host path props.  Valid JSON (RFC 8259, UTF-8) whatever bytes the fields
 * hold (json_write.h says how they are escaped and cut).
 */
size_t mkt_event_encode(const mkt_event_t *ev, char *buf, size_t cap);

/* Point ft or lt (out) at a touch's source, medium and campaign; all
 * absent for NULL or an internal touch. */
void mkt_event_set_touch(mkt_str_t out[MKT_EVENT_TOUCH_FIELDS],
    const mkt_touch_t *t);

/* Point utm, click_name and click_id at a request's campaign. */
void mkt_event_set_utm(mkt_event_t *ev, const mkt_utm_t *u);

/* Point geo at a lookup's result (NULL: absent). */
void mkt_event_set_geo(mkt_event_t *ev, const mkt_geo_loc_t *loc);

/*
 * The key of the collect endpoint's dedup window (DESIGN.md section 8: a
 * repeated (goal, order) is recorded once): SipHash-2-4 under key of the
 * goal and the order as events carry them (cut to MKT_EVENT_KEY_MAX and
 * MKT_EVENT_ORDER_MAX bytes).  Only conversions with an order are
 * deduplicated.
 */
#define MKT_DEDUP_KEY_LEN  16

uint64_t mkt_event_dedup_key(const unsigned char key[MKT_DEDUP_KEY_LEN],
    const mkt_str_t *goal, const mkt_str_t *order);

/*
 * The SipHash key for mkt_event_dedup_key(), derived from the mkt_secret
 * key (h): the same in every worker and after restarts while the secret
 * stays, and unknown to clients, so that none can choose an order whose
 * key collides with another's.  Without a secret (h NULL) the key is all
 * zero: stable, but public.  0, or -1 when HMAC failed.
 */
int mkt_event_dedup_secret(mkt_hmac_t *h,
    unsigned char key[MKT_DEDUP_KEY_LEN]);

/*
 * The assignments a conversion carries when its request decided nothing
 * (a beacon, a page without "mkt on"): those the visitor's sticky-bucket
 * cookie st holds, for experiments of cfg running at now (status
 * running, start <= now < end), whose stored variation is still the one
 * of that index (its name hash matches) and whose bucketVersion is not
 * below minBucketVersion.  Writes them, oldest first, to out (room for
 * st->n; the strings are the config's) and returns how many.
 */
size_t mkt_event_assign_sticky(const mkt_config_t *cfg,
    const mkt_sticky_t *st, int64_t now, mkt_event_assign_t *out);

#endif
