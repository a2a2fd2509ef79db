/* The spool of the Redis event sink (mkt_events_spool): the lines of a
 * spool file, Redis stream entry ids, and the names of spool files. */
#ifndef MKT_SPOOL_H
#define MKT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/*
 * A spool file is a fixed-width header line, then lines of two kinds:
 *
 *   {"id":"01K...",...}\n     an event, as the encoder wrote it (its "id"
 *                             is always the first member)
 *   ~MS-SEQ N\n               a mark: the next N events may already be in
 *                             the stream, as entries after id MS-SEQ (their
 *                             XADD was sent but its reply was lost)
 *
 * The header says how far the file was replayed and whether the events
 * from there may be in the stream already (a replay batch in flight):
 *
 *   #mkt-spool 1 done=OFFSET after=MS-SEQ n=N\n
 *
 * with every number zero-padded to a fixed width, so that it is rewritten
 * in place.
 */

#define MKT_SPOOL_HEADER_LEN   95
#define MKT_STREAM_ID_MAX      41     /* "MS-SEQ": 20 + 1 + 20 digits */
#define MKT_SPOOL_MARK_MAX     (1 + MKT_STREAM_ID_MAX + 1 + 10 + 1)
#define MKT_SPOOL_N_MAX        99999
#define MKT_SPOOL_NAME_MAX     64

typedef struct {
    uint64_t  ms;
    uint64_t  seq;
} mkt_stream_id_t;

typedef struct {
    uint64_t         done;        /* offset of the next line to replay */
    mkt_stream_id_t  after;       /* the events from done may be ... */
    unsigned         n;           /* ... this many of them, or 0 */
} mkt_spool_header_t;

/* Reads a stream entry id "MS-SEQ" (both decimal, 64 bits): 0, or -1. */
int mkt_stream_id_parse(const char *s, size_t len, mkt_stream_id_t *id);

/*
 * Reads the reply of an XADD: 0 and the id only when it is an id Redis
 * could have given, "MS-SEQ" as mkt_stream_id_format() writes it (no
 * leading zero) and after 0-0; -1 for anything else, which is no proof
 * that the entry was added.
 */
int mkt_stream_id_added(const char *s, size_t len, mkt_stream_id_t *id);

/* <0, 0, >0 as a is before, equal to or after b in a stream. */
int mkt_stream_id_cmp(const mkt_stream_id_t *a, const mkt_stream_id_t *b);

/* Writes "MS-SEQ" (no NUL) to buf of MKT_STREAM_ID_MAX; its length. */
size_t mkt_stream_id_format(char *buf, const mkt_stream_id_t *id);

/*
 * The id of an event line (len bytes, with or without its "\n"): a
 * pointer to its 26 characters in line, or NULL when the line does not
 * start with {"id":" and a ULID, as every encoded event does.
 */
const char *mkt_spool_event_id(const char *line, size_t len);

/* Writes a mark line "~MS-SEQ N\n" to buf of MKT_SPOOL_MARK_MAX; its
 * length. */
size_t mkt_spool_mark_format(char *buf, const mkt_stream_id_t *after,
    unsigned n);

/* Reads a mark line (with or without its "\n"): 0, or -1 when it is not
 * one (or N is 0 or past MKT_SPOOL_N_MAX). */
int mkt_spool_mark_parse(const char *line, size_t len, mkt_stream_id_t *after,
    unsigned *n);

/* Writes the header line (MKT_SPOOL_HEADER_LEN bytes, no NUL). */
void mkt_spool_header_format(char *buf, const mkt_spool_header_t *h);

/* Reads a header line of exactly MKT_SPOOL_HEADER_LEN bytes: 0, or -1. */
int mkt_spool_header_parse(const char *buf, size_t len, mkt_spool_header_t *h);

/* Writes "spool-PID-SEQ.jsonl" (no NUL) to buf of MKT_SPOOL_NAME_MAX; its
 * length. */
size_t mkt_spool_name_format(char *buf, uint64_t pid, uint64_t seq);

/* Reads such a name (exactly; len bytes): 0, or -1 when it is not one. */
int mkt_spool_name_parse(const char *name, size_t len, uint64_t *pid,
    uint64_t *seq);

#endif
