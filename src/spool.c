/* Lines, stream ids and file names of the Redis sink's spool (spool.h). */

#include "spool.h"

#include <stdio.h>
#include <string.h>

#define ID_PREFIX      "{\"id\":\""
#define ID_PREFIX_LEN  (sizeof(ID_PREFIX) - 1)
#define ID_LEN         26

#define HEADER_FMT     "#mkt-spool 1 done=%020llu after=%020llu-%020llu " \
                       "n=%05u\n"


/*
 * Reads a decimal number of 1 to 20 digits that fits 64 bits from
 * s[*pos ..  len): 0 and *pos past it, or -1.
 */
static int
read_u64(const char *s, size_t len, size_t *pos, uint64_t *v)
{
    size_t    i;
    uint64_t  n, d;

    n = 0;

    for (i = *pos; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        d = (uint64_t) (s[i] - '0');
        if (i - *pos >= 20 || n > (UINT64_MAX - d) / 10) {
            return -1;
        }
        n = n * 10 + d;
    }

    if (i == *pos) {
        return -1;
    }

    *pos = i;
    *v = n;

    return 0;
}


/* Exactly width digits at s[*pos ..  len), as read_u64() reads them. */
static int
read_fixed(const char *s, size_t len, size_t *pos, size_t width, uint64_t *v)
{
    size_t  end;

    if (len - *pos < width) {
        return -1;
    }

    end = *pos + width;

    if (read_u64(s, end, pos, v) != 0 || *pos != end) {
        return -1;
    }

    return 0;
}


/* A stream id at s[*pos ..  len), as read_u64() does. */
static int
read_stream_id(const char *s, size_t len, size_t *pos, mkt_stream_id_t *id)
{
    if (read_u64(s, len, pos, &id->ms) != 0
        || *pos >= len || s[*pos] != '-')
    {
        return -1;
    }

    (*pos)++;

    return read_u64(s, len, pos, &id->seq);
}


/* Whether lit is at s[*pos]: 0 and *pos past it, or -1. */
static int
skip(const char *s, size_t len, size_t *pos, const char *lit)
{
    size_t  n;

    n = strlen(lit);

    if (len - *pos < n || memcmp(s + *pos, lit, n) != 0) {
        return -1;
    }

    *pos += n;

    return 0;
}


/* The line without its "\n", if it has one. */
static size_t
chomp(const char *line, size_t len)
{
    return (len && line[len - 1] == '\n') ? len - 1 : len;
}


int
mkt_stream_id_parse(const char *s, size_t len, mkt_stream_id_t *id)
{
    size_t  pos;

    pos = 0;

    if (read_stream_id(s, len, &pos, id) != 0 || pos != len) {
        return -1;
    }

    return 0;
}


int
mkt_stream_id_added(const char *s, size_t len, mkt_stream_id_t *id)
{
    char             buf[MKT_STREAM_ID_MAX];
    mkt_stream_id_t  v;

    if (mkt_stream_id_parse(s, len, &v) != 0
        || (v.ms == 0 && v.seq == 0)
        || mkt_stream_id_format(buf, &v) != len
        || memcmp(buf, s, len) != 0)
    {
        return -1;
    }

    *id = v;

    return 0;
}


int
mkt_stream_id_cmp(const mkt_stream_id_t *a, const mkt_stream_id_t *b)
{
    if (a->ms != b->ms) {
        return a->ms < b->ms ? -1 : 1;
    }

    if (a->seq != b->seq) {
        return a->seq < b->seq ? -1 : 1;
    }

    return 0;
}


size_t
mkt_stream_id_format(char *buf, const mkt_stream_id_t *id)
{
    char  tmp[MKT_STREAM_ID_MAX + 1];
    int   n;

    n = snprintf(tmp, sizeof(tmp), "%llu-%llu", (unsigned long long) id->ms,
                 (unsigned long long) id->seq);
    memcpy(buf, tmp, (size_t) n);

    return (size_t) n;
}


const char *
mkt_spool_event_id(const char *line, size_t len)
{
    size_t       i;
    const char  *id;

    if (len < ID_PREFIX_LEN + ID_LEN + 1
        || memcmp(line, ID_PREFIX, ID_PREFIX_LEN) != 0
        || line[ID_PREFIX_LEN + ID_LEN] != '"')
    {
        return NULL;
    }

    id = line + ID_PREFIX_LEN;

    /* Crockford base32, uppercase, as event_id.c writes it */
    for (i = 0; i < ID_LEN; i++) {
        if (!((id[i] >= '0' && id[i] <= '9')
              || (id[i] >= 'A' && id[i] <= 'Z' && id[i] != 'I'
                  && id[i] != 'L' && id[i] != 'O' && id[i] != 'U')))
        {
            return NULL;
        }
    }

    /* 48 bits of time: the first character is at most 7 */
    if (id[0] > '7') {
        return NULL;
    }

    return id;
}


size_t
mkt_spool_mark_format(char *buf, const mkt_stream_id_t *after, unsigned n)
{
    size_t  len;
    char    tmp[16];
    int     k;

    buf[0] = '~';
    len = 1 + mkt_stream_id_format(buf + 1, after);

    k = snprintf(tmp, sizeof(tmp), " %u\n", n);
    memcpy(buf + len, tmp, (size_t) k);

    return len + (size_t) k;
}


int
mkt_spool_mark_parse(const char *line, size_t len, mkt_stream_id_t *after,
    unsigned *n)
{
    size_t    pos;
    uint64_t  v;

    len = chomp(line, len);
    pos = 0;

    if (skip(line, len, &pos, "~") != 0
        || read_stream_id(line, len, &pos, after) != 0
        || skip(line, len, &pos, " ") != 0
        || read_u64(line, len, &pos, &v) != 0
        || pos != len || v == 0 || v > MKT_SPOOL_N_MAX)
    {
        return -1;
    }

    *n = (unsigned) v;

    return 0;
}


void
mkt_spool_header_format(char *buf, const mkt_spool_header_t *h)
{
    char  tmp[MKT_SPOOL_HEADER_LEN + 1];

    (void) snprintf(tmp, sizeof(tmp), HEADER_FMT,
                    (unsigned long long) h->done,
                    (unsigned long long) h->after.ms,
                    (unsigned long long) h->after.seq,
                    h->n > MKT_SPOOL_N_MAX ? MKT_SPOOL_N_MAX : h->n);
    memcpy(buf, tmp, MKT_SPOOL_HEADER_LEN);
}


int
mkt_spool_header_parse(const char *buf, size_t len, mkt_spool_header_t *h)
{
    size_t    pos;
    uint64_t  n;

    pos = 0;

    if (len != MKT_SPOOL_HEADER_LEN
        || skip(buf, len, &pos, "#mkt-spool 1 done=") != 0
        || read_fixed(buf, len, &pos, 20, &h->done) != 0
        || skip(buf, len, &pos, " after=") != 0
        || read_fixed(buf, len, &pos, 20, &h->after.ms) != 0
        || skip(buf, len, &pos, "-") != 0
        || read_fixed(buf, len, &pos, 20, &h->after.seq) != 0
        || skip(buf, len, &pos, " n=") != 0
        || read_fixed(buf, len, &pos, 5, &n) != 0
        || skip(buf, len, &pos, "\n") != 0
        || pos != len || n > MKT_SPOOL_N_MAX
        || h->done < MKT_SPOOL_HEADER_LEN)
    {
        return -1;
    }

    h->n = (unsigned) n;

    return 0;
}


size_t
mkt_spool_name_format(char *buf, uint64_t pid, uint64_t seq)
{
    char  tmp[MKT_SPOOL_NAME_MAX];
    int   n;

    n = snprintf(tmp, sizeof(tmp), "spool-%llu-%llu.jsonl",
                 (unsigned long long) pid, (unsigned long long) seq);
    memcpy(buf, tmp, (size_t) n);

    return (size_t) n;
}


int
mkt_spool_name_parse(const char *name, size_t len, uint64_t *pid,
    uint64_t *seq)
{
    size_t  pos;

    pos = 0;

    if (skip(name, len, &pos, "spool-") != 0
        || read_u64(name, len, &pos, pid) != 0
        || skip(name, len, &pos, "-") != 0
        || read_u64(name, len, &pos, seq) != 0
        || skip(name, len, &pos, ".jsonl") != 0
        || pos != len)
    {
        return -1;
    }

    return 0;
}
