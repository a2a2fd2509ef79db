/* ULID event ids: Crockford base32 of a millisecond time and 80 random
 * bits, monotonic per generator. */
#include <string.h>

#include "event_id.h"
#include "random.h"

static const char  crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";


void
mkt_event_id_init(mkt_event_id_gen_t *g)
{
    g->ms = -1;
    g->hi = 0;
    g->lo = 0;
}


static int
draw(mkt_event_id_gen_t *g, int64_t ms)
{
    unsigned char  r[10];
    size_t         i;
    uint64_t       lo;

    if (ms > MKT_EVENT_ID_MS_MAX || mkt_random_bytes(r, sizeof(r)) != 0) {
        return -1;
    }

    lo = 0;
    for (i = 2; i < sizeof(r); i++) {
        lo = lo << 8 | r[i];
    }
    g->hi = (uint16_t) (r[0] << 8 | r[1]);
    g->lo = lo;
    g->ms = ms;
    return 0;
}


int
mkt_event_id_next(mkt_event_id_gen_t *g, int64_t now_ms,
    char id[MKT_EVENT_ID_LEN])
{
    int       i;
    uint64_t  hi, lo;

    if (now_ms < 0 || now_ms > MKT_EVENT_ID_MS_MAX) {
        return -1;
    }

    if (g->ms < 0 || now_ms > g->ms) {
        if (draw(g, now_ms) != 0) {
            return -1;
        }

    } else if (++g->lo == 0 && ++g->hi == 0) {
        /* the 80 bits overflowed: the next millisecond, afresh */
        if (draw(g, g->ms + 1) != 0) {
            g->lo--;
            g->hi--;
            return -1;
        }
    }

    /* 130 bits, 5 a character, from the last: the top 2 are zero */
    hi = (uint64_t) g->ms << 16 | g->hi;
    lo = g->lo;
    for (i = MKT_EVENT_ID_LEN - 1; i >= 0; i--) {
        id[i] = crockford[lo & 0x1f];
        lo = lo >> 5 | hi << 59;
        hi >>= 5;
    }
    return 0;
}


int
mkt_event_id_time(const char *id, size_t len, int64_t *ms)
{
    size_t       i;
    int64_t      t;
    const char  *c;

    if (len != MKT_EVENT_ID_LEN || id[0] > '7') {
        return -1;
    }

    t = 0;
    for (i = 0; i < len; i++) {
        c = id[i] ? memchr(crockford, id[i], sizeof(crockford) - 1) : NULL;
        if (c == NULL) {
            return -1;
        }
        if (i < 10) {
            t = t << 5 | (c - crockford);
        }
    }

    *ms = t;
    return 0;
}
