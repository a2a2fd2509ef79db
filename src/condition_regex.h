/* $regex / $regexi of conditions: PCRE2 patterns compiled once, with bounded
 * matching (internal). */
#ifndef MKT_CONDITION_REGEX_H
#define MKT_CONDITION_REGEX_H

#include <stddef.h>

#define MKT_COND_REGEX_MAX          1024   /* bytes of a pattern */
#define MKT_COND_REGEX_MATCH_LIMIT  100000 /* PCRE2 backtracking steps */
#define MKT_COND_REGEX_DEPTH_LIMIT  1000

typedef struct mkt_cond_regex_s  mkt_cond_regex_t;

typedef enum {
    MKT_COND_REGEX_OK = 0,
    MKT_COND_REGEX_INVALID,        /* not a regular expression */
    MKT_COND_REGEX_REJECTED,       /* one we refuse to run: too long, or
                                    * nested unbounded repetition */
    MKT_COND_REGEX_NO_MEMORY
} mkt_cond_regex_status_e;

/*
 * Compiles a JavaScript-style pattern (JIT when available) and preallocates
 * its match data.  On failure *re is NULL and err says why.
 *
 * PCRE2 is not JavaScript: it also accepts (?i) and \p{L} (a syntax error
 * and a literal "p{L}" in a JavaScript RegExp without flags), its \s is
 * ASCII only, and "." takes a character beyond U+FFFF whole, where
 * JavaScript sees two code units.
 */
mkt_cond_regex_status_e mkt_cond_regex_compile(const char *pattern,
    size_t len, int caseless, mkt_cond_regex_t **re, char *err,
    size_t err_len);

/*
 * Matches that ran into the match, depth or heap limit (and so did not
 * match) since the process started: a pattern too slow for some subjects,
 * which the compile-time check did not catch.  For mkt_status.
 */
unsigned long mkt_cond_regex_limit_hits(void);

/* 1 when the pattern matches somewhere in s; 0 when not, when s is not
 * valid UTF-8, or when matching hit a limit.  Not reentrant: one match at
 * a time per compiled pattern. */
int mkt_cond_regex_match(const mkt_cond_regex_t *re, const char *s,
    size_t len);

void mkt_cond_regex_free(mkt_cond_regex_t *re);

#endif
