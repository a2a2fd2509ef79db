/* The visitor cookie "1.VID.ISSUED.SIG" (DESIGN.md section 5) and Cookie
 * header scanning. */
#ifndef MKT_COOKIE_H
#define MKT_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "hmac.h"

#define MKT_VID_LEN        22      /* base64url of 128 bits */
#define MKT_VCOOKIE_MAX    64      /* longer values are rejected unparsed */
#define MKT_COOKIE_SKEW    300     /* seconds an issue time may be ahead */
#define MKT_COOKIE_REFRESH 86400   /* a visitor cookie is re-issued (with a
                                    * new ISSUED) at most once a day */

typedef enum {
    MKT_COOKIE_OK = 0,
    MKT_COOKIE_MALFORMED,
    MKT_COOKIE_OVERSIZED,
    MKT_COOKIE_UNSIGNED,           /* no signature while a secret is set */
    MKT_COOKIE_BAD_SIGNATURE,
    MKT_COOKIE_FUTURE,             /* issued after now + MKT_COOKIE_SKEW */
    MKT_COOKIE_EXPIRED             /* older than a browser keeps it */
} mkt_cookie_status_e;

typedef struct {
    char     vid[MKT_VID_LEN];
    int64_t  issued;               /* unix seconds */
} mkt_visitor_t;

/* A fresh visitor id from the kernel CSPRNG; -1 if none was available. */
int mkt_vid_generate(char vid[MKT_VID_LEN]);

/*
 * Writes the cookie value for v into out (at least MKT_VCOOKIE_MAX bytes) and
 * returns its length, 0 on failure.  Without a key (h == NULL) the value is
 * the unsigned "1.VID.ISSUED".
 */
size_t mkt_vcookie_encode(mkt_hmac_t *h, const mkt_visitor_t *v, char *out);

/*
 * Parses and verifies a cookie value.  With a key, a signature is required;
 * without one, a signature is accepted unverified so that removing the secret
 * does not reset every visitor.
 */
mkt_cookie_status_e mkt_vcookie_decode(mkt_hmac_t *h, const char *in,
    size_t len, int64_t now, mkt_visitor_t *v);

/*
 * ISSUED is the time of the last Set-Cookie of the value: a cookie is
 * re-issued with ISSUED = now when it is MKT_COOKIE_REFRESH old or older
 * (mkt_vcookie_refresh_due), so a browser that got it with max_age
 * drops it max_age after ISSUED.  mkt_vcookie_check_age() refuses, as
 * MKT_COOKIE_EXPIRED, a value older than that by more than one refresh
 * period (a margin for clocks and delayed responses): a copied cookie
 * stops working then, and a visitor seen at least once per max_age never
 * reaches it.  max_age >= 0, seconds.
 */
mkt_cookie_status_e mkt_vcookie_check_age(const mkt_visitor_t *v,
    int64_t now, int64_t max_age);

/* Whether a valid visitor cookie is due to be re-issued at now. */
int mkt_vcookie_refresh_due(const mkt_visitor_t *v, int64_t now);

/*
 * Every signed mkt cookie ends the same way: BODY, or BODY "." SIG where
 * SIG is mkt_sign() of BODY.  mkt_cookie_sign() appends "." SIG to the
 * body out[0 .. body_len) when h is set and returns the new length (0 if
 * signing failed); without a key the value stays unsigned.
 */
size_t mkt_cookie_sign(mkt_hmac_t *h, char *out, size_t body_len);

/*
 * Checks what follows the body in[0 .. body_len) of a value of len bytes:
 * nothing, or "." and MKT_SIG_LEN base64url characters (else
 * MKT_COOKIE_MALFORMED).  With a key a signature is required
 * (MKT_COOKIE_UNSIGNED) and verified (MKT_COOKIE_BAD_SIGNATURE); without
 * one it is accepted unverified, so that removing the secret resets
 * nobody.
 */
mkt_cookie_status_e mkt_cookie_check_signature(mkt_hmac_t *h,
    const char *in, size_t body_len, size_t len);

/* Lowercase base36 of v >= 0, no leading zero; its length (at most 13). */
size_t mkt_base36_encode(char *dst, int64_t v);

/* The run of base36 digits at s (at most len bytes): its length when it
 * is 1 to max digits (max <= 12) without a leading zero, with the number
 * in *v; 0 otherwise. */
size_t mkt_base36_parse(const char *s, size_t len, size_t max, int64_t *v);

/* Stable lowercase name of a status, for logs and counters. */
const char *mkt_cookie_status_name(mkt_cookie_status_e s);

/*
 * The next "name=value" pair of a Cookie header value from *pos on (a pair
 * without "=" is skipped): returns 1 with the name and the value, both
 * without surrounding blanks, the value also without surrounding double
 * quotes; 0 at the end.  *pos advances past the pair.
 */
int mkt_cookie_pair(const char *hdr, size_t len, size_t *pos,
    const char **name, size_t *name_len, const char **val, size_t *val_len);

/*
 * Finds the next pair named name in a Cookie header value from *pos on.
 * Returns 1 and the value (surrounding double quotes removed), or 0 at the
 * end.  *pos advances past the pair, so calling again finds a repeated name.
 */
int mkt_cookie_next(const char *hdr, size_t len, size_t *pos,
    const char *name, size_t name_len, const char **val, size_t *val_len);

#endif
