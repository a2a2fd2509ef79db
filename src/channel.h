/* $mkt_channel: the channel group of a touch, in the spirit of GA4's
 * default channel groups, from its source, medium, click id and what the
 * source is.  The rules are a table in channel.c, repeated in
 * docs/attribution.md. */
#ifndef MKT_CHANNEL_H
#define MKT_CHANNEL_H

#include <stddef.h>

#include "utm.h"

/* The numbers are stable (touch cookies store them): new channels are
 * appended. */
typedef enum {
    MKT_CHANNEL_DIRECT = 0,
    MKT_CHANNEL_PAID_SEARCH,
    MKT_CHANNEL_PAID_SOCIAL,
    MKT_CHANNEL_PAID_VIDEO,
    MKT_CHANNEL_DISPLAY,
    MKT_CHANNEL_PAID_OTHER,
    MKT_CHANNEL_ORGANIC_SEARCH,
    MKT_CHANNEL_ORGANIC_SOCIAL,
    MKT_CHANNEL_ORGANIC_VIDEO,
    MKT_CHANNEL_EMAIL,
    MKT_CHANNEL_AFFILIATE,
    MKT_CHANNEL_REFERRAL,
    MKT_CHANNEL_AUDIO,
    MKT_CHANNEL_SMS,
    MKT_CHANNEL_MOBILE_PUSH,
    MKT_CHANNEL_UNASSIGNED,
    MKT_CHANNEL_COUNT
} mkt_channel_e;

typedef struct {
    const char        *source;
    size_t             source_len;
    const char        *medium;
    size_t             medium_len;
    unsigned           source_flags;    /* MKT_SRC_* (referrer.h) */
    mkt_click_kind_e   click;
    unsigned           direct:1;        /* no touch: no referrer, no
                                         * campaign */
} mkt_channel_in_t;

/* The first rule that matches; source and medium compare ASCII
 * case-insensitively.  Never fails: the last rule is "unassigned". */
mkt_channel_e mkt_channel_classify(const mkt_channel_in_t *in);

/* "direct", "paid_search", ...; "unassigned" for a value out of range. */
const char *mkt_channel_name(mkt_channel_e ch);

/*
 * Rule i (from 0) of the table as docs/attribution.md shows it, a row
 * "| 2 | `paid_search` | click id `gclid`, ... |" written to buf (cut to
 * cap, NUL-terminated); its length, 0 past the last rule.  A unit test
 * keeps the docs and the code in step with it.
 */
size_t mkt_channel_rule_text(size_t i, char *buf, size_t cap);

#endif
