/* For the fuzz targets: an independent, table-driven strict UTF-8 decoder
 * (RFC 3629 section 4) to check src/ against, and the trap that reports a
 * broken property.  Include after the standard headers. */
#ifndef MKT_FUZZ_REF_UTF8_H
#define MKT_FUZZ_REF_UTF8_H

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)


/*
 * Length (1..4) of the well-formed UTF-8 sequence at s, or 0.  Each row of
 * RFC 3629's table: the lead byte range, then the range of each trailing
 * byte, so overlongs, surrogates and values past U+10FFFF never match.
 */
static size_t
strict_seq(const uint8_t *s, size_t len, uint32_t *cp)
{
    static const struct {
        uint8_t  lo, hi;            /* lead byte */
        uint8_t  n;
        uint8_t  t1lo, t1hi;        /* first trailing byte; others 80..BF */
    } rows[] = {
        { 0x00, 0x7f, 1, 0, 0 },
        { 0xc2, 0xdf, 2, 0x80, 0xbf },
        { 0xe0, 0xe0, 3, 0xa0, 0xbf },
        { 0xe1, 0xec, 3, 0x80, 0xbf },
        { 0xed, 0xed, 3, 0x80, 0x9f },
        { 0xee, 0xef, 3, 0x80, 0xbf },
        { 0xf0, 0xf0, 4, 0x90, 0xbf },
        { 0xf1, 0xf3, 4, 0x80, 0xbf },
        { 0xf4, 0xf4, 4, 0x80, 0x8f },
    };
    static const uint8_t  lead_bits[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
    size_t    r, i;
    uint32_t  c;

    for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        if (s[0] >= rows[r].lo && s[0] <= rows[r].hi) {
            break;
        }
    }
    if (r == sizeof(rows) / sizeof(rows[0]) || len < rows[r].n) {
        return 0;
    }
    if (rows[r].n > 1 && (s[1] < rows[r].t1lo || s[1] > rows[r].t1hi)) {
        return 0;
    }

    c = s[0] & lead_bits[rows[r].n];
    for (i = 1; i < rows[r].n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
        c = c << 6 | (s[i] & 0x3f);
    }

    *cp = c;
    return rows[r].n;
}


static int
is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}


/* 1 when s is well-formed UTF-8 with no C0, DEL or C1 code point */
static int
is_clean(const uint8_t *s, size_t len)
{
    size_t    n;
    uint32_t  cp;

    while (len > 0) {
        n = strict_seq(s, len, &cp);
        if (n == 0 || is_control(cp)) {
            return 0;
        }
        s += n;
        len -= n;
    }

    return 1;
}

#endif
