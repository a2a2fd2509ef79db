/* A visitor's tags (DESIGN.md section 7): read from the sorted set
 * mkt:tags:ID (member = tag, score = expiry in unix seconds, +inf for
 * never), merged for the user id and the visitor id, kept in the shared
 * tag cache as a compact blob, and offered to conditions, slot rules and
 * $mkt_tags.  Bounded: at most MKT_TAGS_MAX tags of MKT_TAG_LEN_MAX bytes;
 * nothing here allocates. */

#ifndef MKT_TAGS_H
#define MKT_TAGS_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"


#define MKT_TAGS_MAX      64
#define MKT_TAG_LEN_MAX   64
#define MKT_TAG_NEVER     INT64_MAX      /* score +inf */

/* Bytes mkt_tags_encode() may need, and $mkt_tags may take. */
#define MKT_TAGS_BLOB_MAX  (MKT_TAGS_MAX * (1 + MKT_TAG_LEN_MAX + 8))
#define MKT_TAGS_JOIN_MAX  (MKT_TAGS_MAX * (MKT_TAG_LEN_MAX + 1))


/* A set is plain data (offsets, no pointers): it may be copied. */
typedef struct {
    uint16_t     off;             /* of the name in the set's buf */
    uint16_t     len;
    int64_t      expires;         /* unix seconds, MKT_TAG_NEVER */
} mkt_tag_t;


typedef struct {
    size_t       n;
    size_t       used;            /* bytes of buf */
    mkt_tag_t    tag[MKT_TAGS_MAX];
    char         buf[MKT_TAGS_MAX * MKT_TAG_LEN_MAX];
} mkt_tags_t;


typedef enum {
    MKT_TAG_ADDED = 0,
    MKT_TAG_MERGED,               /* already there: the later expiry kept */
    MKT_TAG_EXPIRED,              /* expires at or before now: skipped */
    MKT_TAG_INVALID,              /* empty, too long, or a byte outside
                                   * printable ASCII / UTF-8, or ',' */
    MKT_TAG_FULL                  /* MKT_TAGS_MAX reached */
} mkt_tag_rc_e;


void mkt_tags_init(mkt_tags_t *t);

/* Adds one tag unless it has expired by now. */
mkt_tag_rc_e mkt_tags_add(mkt_tags_t *t, const char *name, size_t len,
    int64_t expires, int64_t now);

/* A ZSET score as Redis prints it ("inf", "+inf", "1767225600",
 * "1.7672256e9") to unix seconds; -1 when it is none (or "-inf"). */
int mkt_tags_parse_score(const char *s, size_t len, int64_t *out);

/* The earliest expiry of the set, MKT_TAG_NEVER when empty. */
int64_t mkt_tags_next_expiry(const mkt_tags_t *t);

/*
 * The blob kept in the shared cache: per tag a length byte, the name and
 * the expiry (8 bytes, little endian).  Returns its length (at most
 * MKT_TAGS_BLOB_MAX), 0 for an empty set.
 */
size_t mkt_tags_encode(const mkt_tags_t *t, unsigned char *out, size_t cap);

/* Adds the tags of a blob still valid at now (merging with those already
 * in t); -1 when the blob is malformed (t then holds what came before). */
int mkt_tags_decode(mkt_tags_t *t, const unsigned char *in, size_t len,
    int64_t now);

/* $mkt_tags: the names joined by ',', in order; returns the length. */
size_t mkt_tags_join(const mkt_tags_t *t, char *out, size_t cap);

/* The name of tag i. */
#define mkt_tag_name(t, i)  ((t)->buf + (t)->tag[i].off)

/* The attribute "tags": an array of strings into items (t->n of them),
 * pointing into t. */
mkt_val_t mkt_tags_value(const mkt_tags_t *t, mkt_val_t *items);

#endif /* MKT_TAGS_H */
