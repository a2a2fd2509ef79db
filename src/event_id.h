/* Event ids (DESIGN.md section 8): ULIDs, unique and time-ordered, so that
 * consumers sort and deduplicate events on them. */
#ifndef MKT_EVENT_ID_H
#define MKT_EVENT_ID_H

#include <stddef.h>
#include <stdint.h>

#define MKT_EVENT_ID_LEN      26            /* characters, no NUL */
#define MKT_EVENT_ID_MS_MAX   0xffffffffffffLL  /* 48 bits: year 10889 */

/*
 * An id is 26 characters of Crockford base32 (0-9, A-Z without I L O U;
 * uppercase) of 128 bits: the 48-bit unix time in milliseconds, then 80
 * random bits, as a ULID (github.com/ulid/spec).  Ids of later
 * milliseconds sort after earlier ones as plain strings.
 *
 * A generator keeps the last id, in ULID's monotonic mode: an id in the
 * same millisecond as the last (or, when the clock stepped back, an
 * earlier one) is the last id plus one, so one generator's ids strictly
 * increase.  When its 80 bits would overflow, the generator moves on to
 * the next millisecond with fresh randomness instead of failing.  One
 * generator per worker, initialised in the worker (after fork), so that
 * two workers never continue the same state.
 */
typedef struct {
    int64_t   ms;           /* time of the last id; -1: none yet */
    uint16_t  hi;           /* its random bits: the top 16 */
    uint64_t  lo;           /* and the low 64 */
} mkt_event_id_gen_t;

void mkt_event_id_init(mkt_event_id_gen_t *g);

/*
 * Writes the next id for time now_ms (unix milliseconds) to id.  0 on
 * success; -1 when now_ms is outside 0 .. MKT_EVENT_ID_MS_MAX or the
 * kernel supplied no random bytes (nothing written, the state kept).
 */
int mkt_event_id_next(mkt_event_id_gen_t *g, int64_t now_ms,
    char id[MKT_EVENT_ID_LEN]);

/* The millisecond time of an id as mkt_event_id_next() writes it: 0, or
 * -1 when id (len bytes) is not one. */
int mkt_event_id_time(const char *id, size_t len, int64_t *ms);

#endif
