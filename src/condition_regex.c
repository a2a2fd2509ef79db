/* $regex for conditions: JavaScript-like PCRE2 options, a compile-time check
 * for patterns that backtrack catastrophically, and bounded matching. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "condition_regex.h"

/* Parentheses nesting PCRE2 accepts, so that the check's stack is fixed. */
#define PARENS_MAX  64

struct mkt_cond_regex_s {
    pcre2_code           *code;
    pcre2_match_data     *md;      /* reused: one match at a time */
    pcre2_match_context  *mctx;
};

/* Alternatives of a group compared for ambiguity; more go unchecked. */
#define ALTS_MAX    32
#define PREFIX_MAX  64

/* A group being scanned (frame 0 is the whole pattern). */
typedef struct {
    size_t         alt_start[ALTS_MAX];    /* offsets of its alternatives */
    size_t         nalts;
    unsigned       overlap:1;      /* two alternatives may match alike */
    unsigned       ambiguous:1;    /* an alternative is only repetitions */
    unsigned       zero_width:1;   /* a lookaround */
    unsigned       atomic:1;
    unsigned       alt_unbounded:1;
    unsigned       alt_fixed:1;    /* ... one that must match exactly once */
} mkt_re_frame_t;

/* What the scanner knows of the atom it just read. */
typedef struct {
    unsigned       zero_width:1;
    unsigned       group:1;        /* a closed group, summarised below */
    unsigned       atomic:1;
    unsigned       ambiguous:1;
    unsigned       overlap:1;
} mkt_re_atom_t;

/* Pattern being scanned: the cursor and the verdict. */
typedef struct {
    const unsigned char  *p;
    size_t                len;
    size_t                i;
    const char           *why;     /* set when the pattern is rejected */
} mkt_re_scan_t;


static int
lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


/* Skips to just past the byte close (or to the end). */
static void
skip_past(mkt_re_scan_t *s, int close)
{
    while (s->i < s->len && s->p[s->i] != close) {
        s->i++;
    }
    if (s->i < s->len) {
        s->i++;
    }
}


static void
skip_digits(mkt_re_scan_t *s, size_t max, int hex)
{
    int  c;

    while (max-- > 0 && s->i < s->len) {
        c = s->p[s->i];
        if (!((c >= '0' && c <= '9')
              || (hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))))
        {
            break;
        }
        s->i++;
    }
}


/* After a backslash: skips the escape; 1 if it stands for one literal
 * character (stored in *c), 0 for a class, an assertion or a reference. */
static int
scan_escape(mkt_re_scan_t *s, int *c, int *zero_width)
{
    int  e;

    *zero_width = 0;
    if (s->i >= s->len) {
        return 0;
    }
    e = s->p[s->i++];

    switch (e) {
    case 'b': case 'B': case 'A': case 'Z': case 'z': case 'G': case 'K':
        *zero_width = 1;
        return 0;

    case 'd': case 'D': case 'w': case 'W': case 's': case 'S': case 'h':
    case 'H': case 'v': case 'V': case 'R': case 'X': case 'N': case 'C':
        return 0;

    case 'p': case 'P': case 'x': case 'u': case 'o': case 'g': case 'k':
        if (s->i < s->len && (s->p[s->i] == '{' || s->p[s->i] == '<'
                              || s->p[s->i] == '\''))
        {
            skip_past(s, s->p[s->i] == '{' ? '}'
                         : s->p[s->i] == '<' ? '>' : '\'');

        } else if (e == 'x' || e == 'u') {
            /* \xHH, \uHHHH: one character, so a quantifier after the
             * digits applies to it */
            skip_digits(s, e == 'x' ? 2 : 4, 1);
        }
        return 0;

    case 'c':
        s->i += s->i < s->len;
        return 0;

    case '0': case '1': case '2': case '3': case '4': case '5': case '6':
    case '7': case '8': case '9':
        skip_digits(s, 3, 0);
        return 0;

    case 'Q':
        while (s->i + 1 < s->len
               && !(s->p[s->i] == '\\' && s->p[s->i + 1] == 'E'))
        {
            s->i++;
        }
        s->i = s->i + 1 < s->len ? s->i + 2 : s->len;
        return 0;

    case 'n':
        *c = '\n';
        return 1;

    case 't':
        *c = '\t';
        return 1;

    default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
            return 0;
        }
        *c = e;
        return 1;
    }
}


/* Past the continuation bytes of a UTF-8 character whose lead was read, so
 * that a quantifier after it applies to all of it. */
static void
skip_continuation(mkt_re_scan_t *s)
{
    while (s->i < s->len && (s->p[s->i] & 0xc0) == 0x80) {
        s->i++;
    }
}


static void
skip_class(mkt_re_scan_t *s)
{
    if (s->i < s->len && s->p[s->i] == '^') {
        s->i++;
    }
    if (s->i < s->len && s->p[s->i] == ']') {
        s->i++;
    }
    while (s->i < s->len && s->p[s->i] != ']') {
        if (s->p[s->i] == '\\') {
            s->i += 2;
            continue;
        }
        if (s->p[s->i] == '[' && s->i + 1 < s->len
            && (s->p[s->i + 1] == ':' || s->p[s->i + 1] == '.'
                || s->p[s->i + 1] == '='))
        {
            s->i += 2;
            while (s->i + 1 < s->len && !(s->p[s->i + 1] == ']'
                                          && s->p[s->i] != '\\'
                                          && (s->p[s->i] == ':'
                                              || s->p[s->i] == '.'
                                              || s->p[s->i] == '=')))
            {
                s->i++;
            }
            s->i += 2;
            continue;
        }
        s->i++;
    }
    if (s->i < s->len) {
        s->i++;
    }
    if (s->i > s->len) {
        s->i = s->len;
    }
}


/* Reads a quantifier at the cursor, if any: min, max (-1 for none) and
 * whether it is possessive.  Returns 0 when there is none. */
static int
scan_quantifier(mkt_re_scan_t *s, long *min, long *max, int *possessive)
{
    size_t  j;
    long    lo = 0, hi = 0;
    int     c, digits = 0;

    if (s->i >= s->len) {
        return 0;
    }
    c = s->p[s->i];

    if (c == '*' || c == '+' || c == '?') {
        *min = c == '+';
        *max = c == '?' ? 1 : -1;
        s->i++;

    } else if (c == '{') {
        j = s->i + 1;
        for (; j < s->len && s->p[j] >= '0' && s->p[j] <= '9'; j++) {
            lo = lo < 100000 ? lo * 10 + (s->p[j] - '0') : lo;
            digits++;
        }
        if (digits == 0) {
            return 0;               /* "{" or "{,n}": a literal in JS */
        }
        hi = lo;
        if (j < s->len && s->p[j] == ',') {
            hi = -1;
            for (j++; j < s->len && s->p[j] >= '0' && s->p[j] <= '9'; j++) {
                hi = (hi < 0 ? 0 : hi < 100000 ? hi * 10 : hi)
                     + (s->p[j] - '0');
            }
        }
        if (j >= s->len || s->p[j] != '}') {
            return 0;
        }
        s->i = j + 1;
        *min = lo;
        *max = hi;

    } else {
        return 0;
    }

    *possessive = 0;
    if (s->i < s->len && s->p[s->i] == '+') {
        *possessive = 1;
        s->i++;
    } else if (s->i < s->len && s->p[s->i] == '?') {
        s->i++;
    }
    return 1;
}


/* The alternative in progress ends (at "|", ")" or the end). */
static void
end_alternative(mkt_re_frame_t *f)
{
    if (f->alt_unbounded && !f->alt_fixed) {
        f->ambiguous = 1;
    }
    f->alt_unbounded = 0;
    f->alt_fixed = 0;
}


/* Accounts for an atom and its quantifier in the alternative of f. */
static void
add_atom(mkt_re_scan_t *s, mkt_re_frame_t *f, const mkt_re_atom_t *a,
    long min, long max, int possessive)
{
    int  repeats;

    if (a->zero_width) {
        return;
    }

    repeats = max < 0 && !possessive;

    if (a->group && repeats && !a->atomic) {
        if (a->ambiguous) {
            s->why = "nested unbounded repetition, as in (a+)+";
            return;
        }
        if (a->overlap) {
            s->why = "a repeated alternation whose branches can match "
                     "alike, as in (a|aa)+; use a character class";
            return;
        }
    }

    if (repeats || (a->group && a->ambiguous && !a->atomic && !possessive)) {
        f->alt_unbounded = 1;
    } else if (min > 0) {
        f->alt_fixed = 1;
    }
}


/* Reads "(?..." after the "(": sets the kind of group, or returns 0 for
 * constructs without content (option settings, comments, verbs). */
static int
scan_group_kind(mkt_re_scan_t *s, mkt_re_frame_t *f)
{
    int  c;

    if (s->i < s->len && s->p[s->i] == '*') {
        skip_past(s, ')');                              /* (*VERB) */
        return 0;
    }
    if (s->i >= s->len || s->p[s->i] != '?') {
        return 1;
    }
    s->i++;
    c = s->i < s->len ? s->p[s->i] : ')';

    switch (c) {
    case ':':
    case '|':
        s->i++;
        return 1;
    case '=':
    case '!':
        s->i++;
        f->zero_width = 1;
        return 1;
    case '>':
        s->i++;
        f->atomic = 1;
        return 1;
    case '#':
        skip_past(s, ')');
        return 0;
    case '<':
        if (s->i + 1 < s->len
            && (s->p[s->i + 1] == '=' || s->p[s->i + 1] == '!'))
        {
            s->i += 2;
            f->zero_width = 1;
            return 1;
        }
        skip_past(s, '>');
        return 1;
    case '\'':
        s->i++;
        skip_past(s, '\'');
        return 1;
    case 'P':
        if (s->i + 1 < s->len && s->p[s->i + 1] == '<') {
            s->i++;
            skip_past(s, '>');
            return 1;
        }
        skip_past(s, ')');                              /* (?P=n) (?P>n) */
        return 0;
    default:
        break;
    }

    /* (?i) sets options; (?i:...) is a group; (?R) (?1) (?&n) recurse */
    while (s->i < s->len && s->p[s->i] != ')' && s->p[s->i] != ':') {
        s->i++;
    }
    if (s->i < s->len && s->p[s->i] == ':') {
        s->i++;
        return 1;
    }
    skip_past(s, ')');
    return 0;
}


/*
 * The literal characters an alternative starting at offset i begins with,
 * ASCII lowercased, into buf (PREFIX_MAX bytes).  A character under a
 * quantifier is not part of the prefix.
 */
static size_t
literal_prefix(const unsigned char *p, size_t len, size_t i, char *buf)
{
    mkt_re_scan_t  s;
    size_t         n = 0, at, end;
    long           min, max;
    int            c, possessive, zw;

    s.p = p;
    s.len = len;
    s.i = i;
    s.why = NULL;

    while (n < PREFIX_MAX) {
        if (s.i >= s.len || s.p[s.i] == '|' || s.p[s.i] == ')') {
            break;
        }
        at = s.i;
        c = s.p[s.i++];
        if (c == '\\') {
            if (!scan_escape(&s, &c, &zw)) {
                break;
            }
        } else if (strchr("([.^$*+?{", c) != NULL) {
            break;
        }
        skip_continuation(&s);
        end = s.i;
        if (scan_quantifier(&s, &min, &max, &possessive)
            || end - at > PREFIX_MAX - n)
        {
            break;
        }
        s.i = end;
        if (s.p[at] == '\\' || end - at == 1) {
            buf[n++] = (char) lower(c);
        } else {
            memcpy(buf + n, s.p + at, end - at);
            n += end - at;
        }
    }
    return n;
}


/*
 * Whether two alternatives of a group may match the same text, so that
 * repeating the group splits a subject in exponentially many ways: when
 * one's literal prefix starts the other's (a|aa), which includes one
 * starting with something else than a literal ((\d|x), (.|\s)).
 */
static int
alternatives_overlap(const mkt_re_scan_t *s, const mkt_re_frame_t *f)
{
    size_t  i, k, na, nb;
    char    a[PREFIX_MAX], b[PREFIX_MAX];

    for (i = 0; i < f->nalts && i < ALTS_MAX; i++) {
        na = literal_prefix(s->p, s->len, f->alt_start[i], a);
        for (k = i + 1; k < f->nalts && k < ALTS_MAX; k++) {
            nb = literal_prefix(s->p, s->len, f->alt_start[k], b);
            if (memcmp(a, b, na < nb ? na : nb) == 0) {
                return 1;
            }
        }
    }
    return 0;
}


static void
start_alternative(mkt_re_frame_t *f, size_t i)
{
    if (f->nalts < ALTS_MAX) {
        f->alt_start[f->nalts] = i;
    }
    f->nalts++;
}


/*
 * Rejects patterns that obviously backtrack exponentially: a group holding
 * nothing but unbounded repetition, itself repeated without bound ((a+)+,
 * (a*)*, (.*)*, (\w+\s?)+), and a repeated alternation whose branches can
 * match the same text ((a|aa)+, (.|\s)*).  Possessive quantifiers and
 * atomic groups are exempt.  The pattern has already compiled, so the scan
 * may be loose about syntax, but never reads out of bounds.
 */
static const char *
check_backtracking(const char *pattern, size_t len)
{
    mkt_re_frame_t  st[PARENS_MAX + 2];
    mkt_re_frame_t *f;
    mkt_re_atom_t   a;
    mkt_re_scan_t   s;
    size_t          depth = 1;
    long            min, max;
    int             c, possessive, zw;

    s.p = (const unsigned char *) pattern;
    s.len = len;
    s.i = 0;
    s.why = NULL;
    memset(&st[0], 0, sizeof(st[0]));

    while (s.i < s.len && s.why == NULL) {
        c = s.p[s.i++];
        memset(&a, 0, sizeof(a));

        switch (c) {
        case '|':
            end_alternative(&st[depth - 1]);
            start_alternative(&st[depth - 1], s.i);
            continue;

        case '(':
            if (depth == PARENS_MAX + 1) {
                return "parentheses nested too deeply";
            }
            memset(&st[depth], 0, sizeof(st[depth]));
            if (scan_group_kind(&s, &st[depth])) {
                start_alternative(&st[depth], s.i);
                depth++;
            }
            continue;

        case ')':
            if (depth == 1) {
                continue;
            }
            f = &st[--depth];
            end_alternative(f);
            a.group = 1;
            a.zero_width = f->zero_width;
            a.atomic = f->atomic;
            a.ambiguous = f->ambiguous;
            a.overlap = f->nalts > 1 && alternatives_overlap(&s, f);
            break;

        case '^':
        case '$':
            a.zero_width = 1;
            break;

        case '[':
            skip_class(&s);
            break;

        case '\\':
            (void) scan_escape(&s, &c, &zw);
            a.zero_width = zw;
            break;

        default:
            skip_continuation(&s);
            break;
        }

        if (!scan_quantifier(&s, &min, &max, &possessive)) {
            min = max = 1;
            possessive = 0;
        }
        add_atom(&s, &st[depth - 1], &a, min, max, possessive);
    }

    return s.why;
}


mkt_cond_regex_status_e
mkt_cond_regex_compile(const char *pattern, size_t len, int caseless,
    mkt_cond_regex_t **out, char *err, size_t err_len)
{
    pcre2_compile_context  *cctx;
    mkt_cond_regex_t       *re;
    PCRE2_UCHAR             msg[128];
    PCRE2_SIZE              off;
    const char             *why;
    uint32_t                opts;
    int                     rc;

    *out = NULL;

    if (len > MKT_COND_REGEX_MAX) {
        snprintf(err, err_len, "regular expression longer than %d bytes",
                 MKT_COND_REGEX_MAX);
        return MKT_COND_REGEX_REJECTED;
    }

    re = calloc(1, sizeof(*re));
    cctx = pcre2_compile_context_create(NULL);
    if (re == NULL || cctx == NULL) {
        goto no_memory;
    }

    /*
     * As close to a JavaScript RegExp without flags as PCRE2 gets: \uHHHH,
     * "$" only at the very end, "[^]", "." stopping at line terminators, an
     * unset backreference matching "".  Not PCRE2_MATCH_INVALID_UTF: with
     * JIT, PCRE2 10.42 then fails \D and \W on non-ASCII characters; the
     * default UTF check instead makes an invalid subject a non-match.
     */
    pcre2_set_compile_extra_options(cctx, PCRE2_EXTRA_ALT_BSUX);
    pcre2_set_newline(cctx, PCRE2_NEWLINE_ANY);
    pcre2_set_parens_nest_limit(cctx, PARENS_MAX);
    opts = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY
           | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF
           | PCRE2_NEVER_BACKSLASH_C | (caseless ? PCRE2_CASELESS : 0);

    re->code = pcre2_compile((PCRE2_SPTR) pattern, len, opts, &rc, &off,
                             cctx);
    pcre2_compile_context_free(cctx);
    cctx = NULL;

    if (re->code == NULL) {
        if (rc == PCRE2_ERROR_NOMEMORY) {
            goto no_memory;
        }
        pcre2_get_error_message(rc, msg, sizeof(msg));
        snprintf(err, err_len,
                 "invalid regular expression: %s at offset %zu",
                 (const char *) msg, (size_t) off);
        free(re);
        return MKT_COND_REGEX_INVALID;
    }

    why = check_backtracking(pattern, len);
    if (why != NULL) {
        snprintf(err, err_len, "regular expression rejected: %s", why);
        mkt_cond_regex_free(re);
        return MKT_COND_REGEX_REJECTED;
    }

    /* JIT is an optimisation: without it the interpreter runs */
    (void) pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);

    re->md = pcre2_match_data_create(1, NULL);
    re->mctx = pcre2_match_context_create(NULL);
    if (re->md == NULL || re->mctx == NULL) {
        goto no_memory;
    }
    pcre2_set_match_limit(re->mctx, MKT_COND_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(re->mctx, MKT_COND_REGEX_DEPTH_LIMIT);
    pcre2_set_heap_limit(re->mctx, 1024);                /* KiB */

    *out = re;
    return MKT_COND_REGEX_OK;

no_memory:

    pcre2_compile_context_free(cctx);
    mkt_cond_regex_free(re);
    snprintf(err, err_len, "out of memory");
    return MKT_COND_REGEX_NO_MEMORY;
}


/* per process, as the compiled regexes are */
static unsigned long  limit_hits;


unsigned long
mkt_cond_regex_limit_hits(void)
{
    return limit_hits;
}


int
mkt_cond_regex_match(const mkt_cond_regex_t *re, const char *s, size_t len)
{
    int  rc;

    rc = pcre2_match(re->code, (PCRE2_SPTR) (len ? s : ""), len, 0, 0,
                     re->md, re->mctx);

    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT
        || rc == PCRE2_ERROR_HEAPLIMIT)
    {
        limit_hits++;
    }

    /* 0 means a match with more groups than the match data holds */
    return rc >= 0;
}


void
mkt_cond_regex_free(mkt_cond_regex_t *re)
{
    if (re == NULL) {
        return;
    }
    pcre2_match_data_free(re->md);
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    free(re);
}
