/* Reading JSON (RFC 8259) from untrusted bytes without allocating: a
 * strict syntax check with the offset of the first error, then a cursor
 * over values for the parts a caller wants, skipping the rest.  For the
 * collect endpoint's bodies; configs use jansson. */
#ifndef MKT_JSON_READ_H
#define MKT_JSON_READ_H

#include <stddef.h>

#define MKT_JR_DEPTH_MAX  32        /* arrays and objects nested */

typedef struct {
    const char  *p;
    size_t       len;
    size_t       pos;
    const char  *err;       /* static text of the first error, or NULL */
    size_t       err_pos;   /* its byte offset */
} mkt_jr_t;

void mkt_jr_init(mkt_jr_t *r, const char *p, size_t len);

/*
 * Whether the whole input is one JSON text: a value, whitespace around
 * it.  Strict: UTF-8 only, no control characters or lone surrogates in
 * strings, no leading zeros, no trailing commas, at most
 * MKT_JR_DEPTH_MAX levels.  0, or -1 with r->err and r->err_pos.
 * Leaves r at the start again.
 */
int mkt_jr_validate(mkt_jr_t *r);

/* The first byte of the next value or punctuation after whitespace (the
 * cursor moved to it), or -1 at the end. */
int mkt_jr_peek(mkt_jr_t *r);

/* Consumes c when it comes next after whitespace: 1; else 0. */
int mkt_jr_accept(mkt_jr_t *r, int c);

/* Skips one value.  0, or -1 with an error. */
int mkt_jr_skip(mkt_jr_t *r);

/* The same for a value already inside `outer` containers, which count
 * against MKT_JR_DEPTH_MAX as mkt_jr_validate() counts them. */
int mkt_jr_skip_in(mkt_jr_t *r, size_t outer);

/*
 * Reads the string that comes next, decoded (escapes resolved, \u0000
 * included), into dst: at most cap bytes are written, *len is the whole
 * decoded length (more than cap when it was cut).  0, or -1 with an
 * error.
 */
int mkt_jr_string(mkt_jr_t *r, char *dst, size_t cap, size_t *len);

/* Reads the number that comes next: its text in *s, *n bytes.  0, or -1
 * with an error. */
int mkt_jr_number(mkt_jr_t *r, const char **s, size_t *n);

/* The length of the JSON number at the start of s (n bytes), 0 when s
 * does not start with one. */
size_t mkt_jr_number_len(const char *s, size_t n);

#endif
