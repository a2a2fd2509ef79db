/* One line of an events file (docs/events.md) as `mkt report` reads it:
 * the members it uses, decoded into bounded buffers; every other member
 * skipped.  Strict JSON through json_read.h; allocates nothing. */
#ifndef MKT_REPORT_EVENT_H
#define MKT_REPORT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* A decoded string: at most MKT_REV_STR_MAX bytes kept (longer values are
 * cut there: the encoder never writes longer ones but vid, uid and order,
 * which do not need more to tell visitors apart in practice). */
#define MKT_REV_STR_MAX  128

typedef struct {
    size_t  len;
    char    data[MKT_REV_STR_MAX];
} mkt_rev_str_t;

typedef struct {
    mkt_event_type_e  type;         /* MKT_EVENT_TYPES: another type */
    int64_t           ts;           /* unix milliseconds */
    uint64_t          id_hash;      /* of "id"; 0 when absent */
    mkt_rev_str_t     vid;
    mkt_rev_str_t     uid;
    mkt_rev_str_t     exp;
    mkt_rev_str_t     var;
    mkt_rev_str_t     goal;
    double            value;        /* 0 unless has_value */
    int               has_value;
    mkt_rev_str_t     channel;
    mkt_rev_str_t     source;       /* lt.source, else utm.source, else
                                     * referrer */
    mkt_rev_str_t     medium;       /* lt.medium, else utm.medium */
    mkt_rev_str_t     campaign;     /* lt.campaign, else utm.campaign */
    mkt_rev_str_t     referrer;
} mkt_rev_t;

/*
 * Reads one line (without its newline).  0 on success; -1 when it is not
 * a JSON object, a known member has the wrong type, or ts or type are
 * missing (the caller counts it as malformed and goes on).  A type other
 * than the three is read (type MKT_EVENT_TYPES) for the caller to skip.  A blank line
 * is -1 too.  Members may come in any order; later duplicates win.
 */
int mkt_rev_parse(const char *line, size_t len, mkt_rev_t *ev);

/* 64-bit FNV-1a, never 0 (0 means absent). */
uint64_t mkt_rev_hash(const void *p, size_t n);

#endif
