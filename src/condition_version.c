/* GrowthBook's paddedVersionString(), computed lazily so that a request's
 * version attribute is compared without building the padded string. */
#include <stdlib.h>

#include "condition_js.h"
#include "condition_version.h"

#define PAD_WIDTH  5               /* padStart(5, " ") of numeric parts */

/*
 * Walks paddedVersionString(s) code point by code point: "v" and "+build"
 * dropped, parts split at "-" and ".", numeric parts left-padded with
 * spaces, joined with "-", and "-~" added to a three-part version so that a
 * release sorts after its pre-releases.
 */
typedef struct {
    const unsigned char  *s;
    size_t                end;
    size_t                pos;
    size_t                part_end;
    size_t                pad;
    int                   in_part;
    int                   tilde;   /* what of "-~" is still to come */
} mkt_version_iter_t;


static int
is_separator(unsigned char c)
{
    return c == '-' || c == '.';
}


static void
iter_init(mkt_version_iter_t *it, const char *str, size_t len)
{
    const unsigned char  *s = (const unsigned char *) str;
    size_t                i, start, after_eol, parts;

    /* s.replace(/(^v|\+.*$)/g, ""): "." does not cross line terminators,
     * so only a "+" after the last of them starts the build suffix */
    start = (len > 0 && s[0] == 'v');
    after_eol = 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '\n' || s[i] == '\r') {
            after_eol = i + 1;
        } else if (i + 2 < len && s[i] == 0xe2 && s[i + 1] == 0x80
                   && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
        {
            after_eol = i + 3;                      /* U+2028, U+2029 */
        }
    }
    it->end = len;
    for (i = start > after_eol ? start : after_eol; i < len; i++) {
        if (s[i] == '+') {
            it->end = i;
            break;
        }
    }

    parts = 1;
    for (i = start; i < it->end; i++) {
        parts += is_separator(s[i]);
    }

    it->s = s;
    it->pos = start;
    it->in_part = 0;
    it->tilde = parts == 3 ? 2 : 0;
}


/* The next code point, or -1 at the end. */
static long
iter_next(mkt_version_iter_t *it)
{
    unsigned long  cp;
    size_t         i, used;
    int            digits;

    if (!it->in_part) {
        if (it->pos > it->end) {
            goto tail;
        }
        digits = 1;
        for (i = it->pos; i < it->end && !is_separator(it->s[i]); i++) {
            digits &= (it->s[i] >= '0' && it->s[i] <= '9');
        }
        it->part_end = i;
        it->pad = (digits && i > it->pos && i - it->pos < PAD_WIDTH)
                  ? PAD_WIDTH - (i - it->pos) : 0;
        it->in_part = 1;
    }

    if (it->pad > 0) {
        it->pad--;
        return ' ';
    }

    if (it->pos < it->part_end) {
        cp = mkt_js_decode_utf8(it->s + it->pos, it->part_end - it->pos,
                                &used);
        it->pos += used;
        return (long) cp;
    }

    /* the part is over: a separator follows unless it was the last */
    it->in_part = 0;
    it->pos = it->part_end + 1;
    if (it->part_end < it->end) {
        return '-';
    }

tail:

    if (it->tilde > 0) {
        return it->tilde-- == 2 ? '-' : '~';
    }
    return -1;
}


int
mkt_cond_version_pad(const char *s, size_t len, mkt_cond_version_t *v)
{
    mkt_version_iter_t  it;
    size_t              n;
    long                cp;

    n = 0;
    iter_init(&it, s, len);
    while (iter_next(&it) >= 0) {
        n++;
    }

    v->len = n;
    v->cp = malloc(sizeof(uint32_t) * (n ? n : 1));
    if (v->cp == NULL) {
        return -1;
    }

    n = 0;
    iter_init(&it, s, len);
    while ((cp = iter_next(&it)) >= 0) {
        v->cp[n++] = (uint32_t) cp;
    }
    return 0;
}


int
mkt_cond_version_compare(const char *s, size_t len,
    const mkt_cond_version_t *v)
{
    mkt_version_iter_t  it;
    unsigned long       a, b;
    size_t              i;
    long                cp;

    iter_init(&it, s, len);
    for (i = 0; ; i++) {
        cp = iter_next(&it);
        if (cp < 0) {
            return i < v->len ? -1 : 0;
        }
        if (i == v->len) {
            return 1;
        }
        a = mkt_js_utf16_key((unsigned long) cp);
        b = mkt_js_utf16_key(v->cp[i]);
        if (a != b) {
            return a < b ? -1 : 1;
        }
    }
}


void
mkt_cond_version_free(mkt_cond_version_t *v)
{
    free(v->cp);
    v->cp = NULL;
    v->len = 0;
}
