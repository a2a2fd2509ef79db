/* The signed sticky-bucket cookie "_mkt_sb" (DESIGN.md section 6): the
 * variation each experiment gave this browser, for which hashed value,
 * under which bucketVersion, and (M5) the day of its last exposure. */
#ifndef MKT_STICKY_H
#define MKT_STICKY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "cookie.h"
#include "hmac.h"

#define MKT_STICKY_COOKIE       "_mkt_sb"
#define MKT_STICKY_MAX          150     /* entries: see mkt_sticky_set() */
#define MKT_STICKY_COOKIE_MAX   3072    /* bytes of a value, either way */
#define MKT_STICKY_DAY_MAX      46655   /* 3 base36 digits: year 2097 */
#define MKT_STICKY_FP_SPACE     1296    /* 36^2 fingerprints */
#define MKT_STICKY_VH_SPACE     46656   /* 36^3 variation name hashes */
#define MKT_STICKY_TABLE        512     /* id hash slots (internal) */

/*
 * Value: "s3." B64 ["." SIG], where SIG signs all before the last dot as
 * in the visitor cookie and B64 is the base64url (canonical, no padding)
 * of the entries, oldest first, each id once, each:
 *   ID   4 bytes   the experiment's sticky_id (fnv32a(key) % 36^6),
 *                  big-endian, as all fields
 *   VH   2 bytes   its variation's name: mkt_sticky_variation_hash()
 *   TAG  1 byte    bits 0-4 the variation index (< MKT_EXP_VARIATIONS_MAX);
 *                  bits 5, 6, 7: FP, DAY, BV follow
 *   FP   2 bytes   whom it was hashed for: mkt_sticky_fingerprint() of the
 *                  hash attribute's name and value
 *   DAY  2 bytes   day (unix days) of the last exposure, 0: none
 *   BV   3 bytes   bucketVersion assigned under
 * FP, DAY and BV are written only where they differ from the entry
 * before's (the first entry's "before" is 0, 0, 0): a visitor's entries
 * share one fingerprint, mostly one bucketVersion and few days, so most
 * entries take 7 bytes, 9.3 characters, and MKT_STICKY_MAX of the
 * longest (14 bytes) with SIG take 2820 bytes, under
 * MKT_STICKY_COOKIE_MAX and browsers' 4096 with name and attributes.
 * Every state has exactly one encoding: a field written with the value
 * before is malformed.
 *
 * The format before, "s2.", is still read (and written as "s3." the next
 * time the cookie is sent): "s2." ENTRY *("-" ENTRY) ["." SIG], ENTRY in
 * lowercase base36: ID 6 digits, FP 2, VAR 1, VH 3, DAY 3 ("000": none),
 * BV 1-4 digits without a leading zero; e.g.
 * "s2.0009ix8c10rs0000-000xxpzz2zzzfr07.SIG", 16 to 19 bytes an entry.
 */
typedef struct {
    uint32_t    id;
    uint32_t    bucket_version;
    uint16_t    day;
    uint16_t    fingerprint;    /* < MKT_STICKY_FP_SPACE */
    uint16_t    vhash;          /* < MKT_STICKY_VH_SPACE */
    uint8_t     variation;
    uint8_t     used;           /* not stored: looked up or set by this
                                 * request, so never dropped by it */
} mkt_sticky_entry_t;

typedef struct {
    size_t              n;
    int                 changed;        /* since decode/init: re-send it */
    mkt_sticky_entry_t  e[MKT_STICKY_MAX];
    uint16_t            table[MKT_STICKY_TABLE];    /* index + 1 */
} mkt_sticky_t;

/* An empty state (no cookie). */
void mkt_sticky_init(mkt_sticky_t *st);

/*
 * Parses and verifies a cookie value ("s3." or "s2.") into st.  Strict:
 * anything not in the grammars above is MKT_COOKIE_MALFORMED, over
 * MKT_STICKY_COOKIE_MAX bytes MKT_COOKIE_OVERSIZED; with a key a signature is required
 * (MKT_COOKIE_UNSIGNED, MKT_COOKIE_BAD_SIGNATURE), without one it is
 * accepted unverified.  On any failure st is left empty: the visitor is
 * bucketed afresh (count the status for mkt_status).
 */
mkt_cookie_status_e mkt_sticky_decode(mkt_hmac_t *h, const char *in,
    size_t len, mkt_sticky_t *st);

/*
 * Writes the cookie value ("s3.") for st into out (MKT_STICKY_COOKIE_MAX bytes)
 * and its length to *len.  With cfg, entries of experiments no longer in
 * the config are left out.  *len == 0: nothing left to store (expire the
 * cookie if the request had one).  -1 if signing failed.
 */
int mkt_sticky_encode(mkt_hmac_t *h, const mkt_sticky_t *st,
    const mkt_config_t *cfg, char *out, size_t *len);

/* The entry of an experiment, or NULL. */
const mkt_sticky_entry_t *mkt_sticky_find(const mkt_sticky_t *st,
    uint32_t id);

/* The same for the engine: the entry found is marked used. */
const mkt_sticky_entry_t *mkt_sticky_use(mkt_sticky_t *st, uint32_t id);

/*
 * Stores the assignment a (its day and used are not read) as the newest
 * entry of its id, marked used, and sets changed; the same assignment
 * already stored is only marked used.  When full, a new id takes the
 * place of an entry not used by this request: one whose experiment is
 * not running in cfg (stopped, draft or gone; cfg may be NULL), else the
 * oldest.  When every entry was used, nothing is stored, so that a
 * request with more experiments than MKT_STICKY_MAX keeps those it has
 * instead of trading them for the rest.  Returns 0 when a is stored, -1
 * when not.
 */
int mkt_sticky_set(mkt_sticky_t *st, const mkt_config_t *cfg,
    const mkt_sticky_entry_t *a);

/*
 * An entry's FP: of GrowthBook's sticky document key "attribute||value"
 * (the attribute hashed on and its value as hashed), so that an entry
 * made for one visitor or id is not taken for another's.
 */
unsigned mkt_sticky_fingerprint(const char *attr, size_t attr_len,
    const char *value, size_t value_len);

/* An entry's VH: of the variation's name, so that a stored index whose
 * variation was removed, renamed or moved is not taken for another. */
unsigned mkt_sticky_variation_hash(const char *name, size_t len);

/*
 * Exposure dedup (M5): 1 when the stored assignment of id has no
 * exposure recorded on day (unix days): then day is recorded and changed
 * set.  0 when already exposed that day or nothing is stored.
 */
int mkt_sticky_expose(mkt_sticky_t *st, uint32_t id, unsigned day);

#endif
