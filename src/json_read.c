/* A strict, bounded JSON reader over a byte buffer: no allocation, no
 * recursion, errors with their offset. */
#include <string.h>

#include "json_read.h"
#include "text.h"


void
mkt_jr_init(mkt_jr_t *r, const char *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = NULL;
    r->err_pos = 0;
}


static int
fail(mkt_jr_t *r, const char *msg)
{
    if (r->err == NULL) {
        r->err = msg;
        r->err_pos = r->pos;
    }
    return -1;
}


int
mkt_jr_peek(mkt_jr_t *r)
{
    char  c;

    while (r->pos < r->len) {
        c = r->p[r->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return (unsigned char) c;
        }
        r->pos++;
    }
    return -1;
}


int
mkt_jr_accept(mkt_jr_t *r, int c)
{
    if (mkt_jr_peek(r) == c) {
        r->pos++;
        return 1;
    }
    return 0;
}


static int
digit(const char *s, size_t i, size_t n)
{
    return i < n && s[i] >= '0' && s[i] <= '9';
}


size_t
mkt_jr_number_len(const char *s, size_t n)
{
    size_t  i;

    i = 0;
    if (i < n && s[i] == '-') {
        i++;
    }
    if (!digit(s, i, n)) {
        return 0;
    }
    if (s[i++] != '0') {
        while (digit(s, i, n)) {
            i++;
        }
    }
    if (i < n && s[i] == '.') {
        if (!digit(s, ++i, n)) {
            return 0;
        }
        while (digit(s, i, n)) {
            i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        if (!digit(s, i, n)) {
            return 0;
        }
        while (digit(s, i, n)) {
            i++;
        }
    }
    return i;
}


int
mkt_jr_number(mkt_jr_t *r, const char **s, size_t *n)
{
    size_t  len;

    mkt_jr_peek(r);
    len = mkt_jr_number_len(r->p + r->pos, r->len - r->pos);
    if (len == 0) {
        return fail(r, "expected a number");
    }
    *s = r->p + r->pos;
    *n = len;
    r->pos += len;
    return 0;
}


static int
hex4(const char *s, unsigned long *v)
{
    int  i, c;

    *v = 0;
    for (i = 0; i < 4; i++) {
        c = (unsigned char) s[i];
        if (c >= '0' && c <= '9') {
            c -= '0';
        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            c = (c | 0x20) - 'a' + 10;
        } else {
            return -1;
        }
        *v = *v << 4 | (unsigned long) c;
    }
    return 0;
}


/* The code point of the \u escape at r->pos (past "\u"), a surrogate
 * pair as one. */
static int
unicode_escape(mkt_jr_t *r, unsigned long *cp)
{
    unsigned long  lo;

    if (r->len - r->pos < 4 || hex4(r->p + r->pos, cp) != 0) {
        return fail(r, "expected 4 hex digits after \\u");
    }
    r->pos += 4;

    if (*cp >= 0xdc00 && *cp <= 0xdfff) {
        return fail(r, "lone surrogate in \\u escape");
    }
    if (*cp >= 0xd800 && *cp <= 0xdbff) {
        if (r->len - r->pos < 6 || r->p[r->pos] != '\\'
            || r->p[r->pos + 1] != 'u' || hex4(r->p + r->pos + 2, &lo) != 0
            || lo < 0xdc00 || lo > 0xdfff)
        {
            return fail(r, "lone surrogate in \\u escape");
        }
        r->pos += 6;
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return 0;
}


static size_t
utf8_encode(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char) (0xc0 | cp >> 6);
        out[1] = (char) (0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char) (0xe0 | cp >> 12);
        out[1] = (char) (0x80 | (cp >> 6 & 0x3f));
        out[2] = (char) (0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char) (0xf0 | cp >> 18);
    out[1] = (char) (0x80 | (cp >> 12 & 0x3f));
    out[2] = (char) (0x80 | (cp >> 6 & 0x3f));
    out[3] = (char) (0x80 | (cp & 0x3f));
    return 4;
}


int
mkt_jr_string(mkt_jr_t *r, char *dst, size_t cap, size_t *len)
{
    char           buf[4];
    size_t         n, i, total;
    unsigned long  cp;
    const char    *add;
    unsigned char  c;

    if (!mkt_jr_accept(r, '"')) {
        return fail(r, "expected a string");
    }

    total = 0;
    for ( ;; ) {
        if (r->pos >= r->len) {
            return fail(r, "unterminated string");
        }
        c = (unsigned char) r->p[r->pos];

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            /* ASCII standing for itself, the common case */
            if (total < cap) {
                dst[total] = (char) c;
            }
            total++;
            r->pos++;
            continue;
        }

        if (c == '"') {
            r->pos++;
            break;
        }

        if (c == '\\') {
            if (++r->pos >= r->len) {
                return fail(r, "unterminated string");
            }
            c = (unsigned char) r->p[r->pos++];
            add = buf;
            n = 1;
            switch (c) {
            case '"': case '\\': case '/': buf[0] = (char) c; break;
            case 'b': buf[0] = '\b'; break;
            case 'f': buf[0] = '\f'; break;
            case 'n': buf[0] = '\n'; break;
            case 'r': buf[0] = '\r'; break;
            case 't': buf[0] = '\t'; break;
            case 'u':
                if (unicode_escape(r, &cp) != 0) {
                    return -1;
                }
                n = utf8_encode(cp, buf);
                break;
            default:
                r->pos -= 2;
                return fail(r, "invalid escape in string");
            }

        } else if (c < 0x20) {
            return fail(r, "control character in string");

        } else {
            n = mkt_text_utf8_char(r->p + r->pos, r->len - r->pos, &cp);
            if (n == 0) {
                return fail(r, "invalid UTF-8 in string");
            }
            add = r->p + r->pos;
            r->pos += n;
        }

        for (i = 0; i < n; i++, total++) {
            if (total < cap) {
                dst[total] = add[i];
            }
        }
    }

    *len = total;
    return 0;
}


static int
literal(mkt_jr_t *r)
{
    static const char *const  words[] = { "true", "false", "null" };
    size_t                    i, n;

    for (i = 0; i < 3; i++) {
        n = strlen(words[i]);
        if (r->len - r->pos >= n && memcmp(r->p + r->pos, words[i], n) == 0)
        {
            r->pos += n;
            return 0;
        }
    }
    return fail(r, "expected a value");
}


/* An object key and its colon. */
static int
key(mkt_jr_t *r)
{
    size_t  n;

    if (mkt_jr_peek(r) != '"') {
        return fail(r, "expected a string key");
    }
    if (mkt_jr_string(r, NULL, 0, &n) != 0) {
        return -1;
    }
    return mkt_jr_accept(r, ':') ? 0 : fail(r, "expected ':'");
}


int
mkt_jr_skip(mkt_jr_t *r)
{
    return mkt_jr_skip_in(r, 0);
}


int
mkt_jr_skip_in(mkt_jr_t *r, size_t outer)
{
    char    stack[MKT_JR_DEPTH_MAX];
    size_t  depth, n;
    int     c;

    depth = 0;

    for ( ;; ) {
        /* a value */
        c = mkt_jr_peek(r);

        if (c == '{' || c == '[') {
            if (outer + depth >= MKT_JR_DEPTH_MAX) {
                return fail(r, "nested too deep");
            }
            stack[depth++] = (char) c;
            r->pos++;
            if (mkt_jr_accept(r, c == '{' ? '}' : ']')) {
                depth--;
            } else {
                if (c == '{' && key(r) != 0) {
                    return -1;
                }
                continue;
            }

        } else if (c == '"') {
            if (mkt_jr_string(r, NULL, 0, &n) != 0) {
                return -1;
            }

        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if (mkt_jr_number_len(r->p + r->pos, r->len - r->pos) == 0) {
                return fail(r, "invalid number");
            }
            r->pos += mkt_jr_number_len(r->p + r->pos, r->len - r->pos);

        } else if (literal(r) != 0) {
            return -1;
        }

        /* after a value: close containers, or the next member */
        for ( ;; ) {
            if (depth == 0) {
                return 0;
            }
            c = mkt_jr_peek(r);
            if (c == ',') {
                r->pos++;
                if (stack[depth - 1] == '{' && key(r) != 0) {
                    return -1;
                }
                break;
            }
            if (c != (stack[depth - 1] == '{' ? '}' : ']')) {
                return fail(r, stack[depth - 1] == '{'
                               ? "expected ',' or '}'" : "expected ',' or ']'");
            }
            r->pos++;
            depth--;
        }
    }
}


int
mkt_jr_validate(mkt_jr_t *r)
{
    r->pos = 0;
    r->err = NULL;

    if (mkt_jr_skip(r) != 0) {
        return -1;
    }
    if (mkt_jr_peek(r) != -1) {
        return fail(r, "unexpected data after the JSON value");
    }
    r->pos = 0;
    return 0;
}
