/* Touches (DESIGN.md section 5): what a request says about where the
 * visitor came from, whether it is a touch at all, and the signed cookies
 * _mkt_ft (first touch, written once) and _mkt_lt (last non-direct
 * touch). */
#ifndef MKT_TOUCH_H
#define MKT_TOUCH_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "config.h"
#include "cookie.h"
#include "domain.h"
#include "hmac.h"
#include "referrer.h"
#include "utm.h"

#define MKT_FT_COOKIE         "_mkt_ft"
#define MKT_LT_COOKIE         "_mkt_lt"
#define MKT_TOUCH_COOKIE_MAX  400      /* bytes of a value, either way */
#define MKT_CLICK_NAME_MAX    MKT_KEY_MAX

typedef enum {
    MKT_TOUCH_INTERNAL = 0,     /* a same-site referrer and no campaign:
                                 * a page view inside a visit */
    MKT_TOUCH_DIRECT,           /* no (usable) referrer and no campaign: a
                                 * typed URL, a bookmark, an app */
    MKT_TOUCH_EXTERNAL          /* a touch: utm_*, a click id, a configured
                                 * channel code or an external referrer */
} mkt_touch_kind_e;

typedef enum {
    MKT_TF_SOURCE = 0,
    MKT_TF_MEDIUM,
    MKT_TF_CAMPAIGN,
    MKT_TF_TERM,
    MKT_TF_CONTENT,
    MKT_TF_CLICK_NAME,          /* "gclid", ... */
    MKT_TF_CLICK_ID,            /* its value */
    MKT_TF_REFERRER,            /* the referrer's host */
    MKT_TF_FIELDS
} mkt_touch_field_e;

/*
 * A touch.  Every field is clean text (as mkt_text_clean() leaves it)
 * within its buffer; len[f] is the length of field f.  Read fields with
 * mkt_touch_get().
 */
typedef struct {
    mkt_touch_kind_e  kind;
    mkt_channel_e     channel;
    int64_t           time;                     /* unix seconds */
    size_t            len[MKT_TF_FIELDS];
    char              source[MKT_UTM_VALUE_MAX];
    char              medium[MKT_UTM_VALUE_MAX];
    char              campaign[MKT_UTM_VALUE_MAX];
    char              term[MKT_UTM_VALUE_MAX];
    char              content[MKT_UTM_VALUE_MAX];
    char              click_name[MKT_CLICK_NAME_MAX];
    char              click_id[MKT_CLICK_ID_MAX];
    char              referrer[MKT_HOST_MAX];
} mkt_touch_t;

/*
 * The touch of a request from its campaign (utm.h) and referrer
 * (referrer.h), at time now.  An external touch takes its source and
 * medium from the first of: utm_source/utm_medium (when either is set),
 * the channel code, the click id (its network, medium "cpc"), the
 * referrer (medium "organic", "social", "email" or "referral"); its
 * campaign from utm_campaign, else the code.  A direct one has source
 * "(direct)" and medium "(none)"; an internal one no fields.  The channel
 * is mkt_channel_classify() of it, with refs (NULL: none) adding the
 * config's hosts to what a source is.
 */
/* The direct touch at now: source "(direct)", medium "(none)". */
void mkt_touch_direct(int64_t now, mkt_touch_t *t);

void mkt_touch_of_request(const mkt_referrers_t *refs, const mkt_utm_t *utm,
    const mkt_referrer_t *ref, int64_t now, mkt_touch_t *t);

/* A field as a string pointing into t ("" for a bad f). */
mkt_str_t mkt_touch_get(const mkt_touch_t *t, mkt_touch_field_e f);

/* "source", "medium", "campaign", "term", "content", "click_name",
 * "click_id", "referrer": names for events and ft.* / lt.* attributes. */
const char *mkt_touch_field_name(mkt_touch_field_e f);

#define MKT_TOUCH_SET_FT  0x1u
#define MKT_TOUCH_SET_LT  0x2u

/*
 * Which cookies a request sets: an external touch replaces _mkt_lt, and
 * writes _mkt_ft when the visitor has none (has_ft: the request carried a
 * valid one); a direct request writes only a missing _mkt_ft; an
 * internal one nothing.
 */
unsigned mkt_touch_plan(const mkt_touch_t *req, int has_ft);

/*
 * $mkt_channel, "last non-direct touch": the request's channel when it is
 * an external touch, else that of the last touch (lt; NULL when the
 * visitor has none), else direct.
 */
mkt_channel_e mkt_touch_visit_channel(const mkt_touch_t *req,
    const mkt_touch_t *lt);

/*
 * Cookie value: "t1." TIME "." CH "." DATA [ "." SIG ]
 *   TIME  the touch's time, base36 unix seconds, 1 to 8 digits
 *   CH    the channel: one letter, 'a' + mkt_channel_e
 *   DATA  base64url of the eight fields, in mkt_touch_field_e order,
 *         joined by 0x1F; at most MKT_TOUCH_DATA_MAX bytes before
 *         encoding
 *   SIG   as in the visitor cookie, over everything before it
 * Fields that do not fit go first the referrer, then content, term and
 * the click id's value (its name stays), then campaign, medium and
 * source are cut (at a character boundary) no shorter than 64 bytes
 * each, which always fits.  Every touch has exactly one encoding.
 */
#define MKT_TOUCH_DATA_MAX  276

/*
 * Writes the cookie value of t into out (MKT_TOUCH_COOKIE_MAX bytes) and
 * returns its length; 0 when t cannot be stored (a time outside 1 ..
 * 36^8 - 1, a field that is not clean text within its buffer, a click id
 * value without a name, a referrer that is not a normalised host) or
 * signing failed.  Without a key (h == NULL) the value is unsigned.
 */
size_t mkt_touch_encode(mkt_hmac_t *h, const mkt_touch_t *t, char *out);

/*
 * Parses and verifies a cookie value into t (kind MKT_TOUCH_DIRECT for the
 * direct channel, else MKT_TOUCH_EXTERNAL).  Strict: anything but what
 * mkt_touch_encode() writes is MKT_COOKIE_MALFORMED, a value over
 * MKT_TOUCH_COOKIE_MAX MKT_COOKIE_OVERSIZED, a time past now +
 * MKT_COOKIE_SKEW MKT_COOKIE_FUTURE; signatures as the visitor cookie's.
 * On any failure treat the cookie as absent.
 */
mkt_cookie_status_e mkt_touch_decode(mkt_hmac_t *h, const char *in,
    size_t len, int64_t now, mkt_touch_t *t);

/*
 * mkt_touch_decode() without reading DATA: the frame, the time and the
 * signature, and the channel into *channel.  What the encoder signs always
 * decodes, so a value that checks is a valid touch cookie unless the key
 * signed something else (then MKT_COOKIE_OK here, MKT_COOKIE_MALFORMED
 * from mkt_touch_decode()): the cheap answer to "does the visitor have
 * one", when its fields are not needed.
 */
mkt_cookie_status_e mkt_touch_check(mkt_hmac_t *h, const char *in,
    size_t len, int64_t now, mkt_channel_e *channel);

/*
 * mkt_touch_check() without the signature: the frame and the time only.
 * For a direct visit, which writes a first touch only when there is none
 * and needs no HMAC to learn that one is there; its fields are decoded,
 * and so verified, before anything reads them (and the module writes the
 * direct touch then, when that one turns out bad).
 */
mkt_cookie_status_e mkt_touch_present(const char *in, size_t len,
    int64_t now);

/*
 * mkt_touch_decode() of a value mkt_touch_check() has found
 * MKT_COOKIE_OK: the fields are read and validated as there, the
 * signature and the time, already checked, are not checked again.  Only
 * for the very bytes that were checked.
 */
mkt_cookie_status_e mkt_touch_decode_checked(const char *in, size_t len,
    mkt_touch_t *t);

#endif
