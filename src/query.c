/* Query-string pairs and their values: the one place that splits and
 * percent-decodes what follows '?'. */
#include "query.h"
#include "text.h"


static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}


static int
hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}


int
mkt_query_name_is(const char *s, size_t len, const char *name,
    size_t name_len)
{
    size_t  i;

    if (len != name_len) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (lower((unsigned char) s[i]) != lower((unsigned char) name[i])) {
            return 0;
        }
    }
    return 1;
}


int
mkt_query_next(const char *args, size_t len, size_t *pos,
    mkt_query_arg_t *arg)
{
    size_t  i, end, eq, scan;

    scan = len < MKT_QUERY_SCAN_MAX ? len : MKT_QUERY_SCAN_MAX;

    for (i = *pos; i < scan; i = end + 1) {
        eq = (size_t) -1;
        for (end = i; end < scan && args[end] != '&'; end++) {
            if (args[end] == '=' && eq == (size_t) -1) {
                eq = end;
            }
        }

        if (end == scan && scan < len && args[scan] != '&') {
            break;                  /* cut by the bound */
        }
        if (eq == (size_t) -1 || eq == i || eq + 1 == end) {
            continue;               /* no name or no value */
        }

        arg->name = args + i;
        arg->name_len = eq - i;
        arg->value = args + eq + 1;
        arg->value_len = end - eq - 1;
        *pos = end + 1;
        return 1;
    }

    *pos = scan;
    return 0;
}


size_t
mkt_query_unescape(char *dst, const char *s, size_t len)
{
    size_t  i, n;
    int     hi, lo;

    n = 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            dst[n++] = ' ';

        } else if (s[i] == '%' && i + 2 < len
                   && (hi = hex((unsigned char) s[i + 1])) >= 0
                   && (lo = hex((unsigned char) s[i + 2])) >= 0)
        {
            dst[n++] = (char) (hi << 4 | lo);
            i += 2;

        } else {
            dst[n++] = s[i];
        }
    }
    return n;
}


size_t
mkt_query_value(char *dst, size_t cap, const char *s, size_t len)
{
    char    buf[MKT_QUERY_SCAN_MAX];
    size_t  n, out;

    if (len > sizeof(buf)) {
        len = sizeof(buf);
    }
    n = mkt_query_unescape(buf, s, len);

    /* spaces first, so they take none of the capacity; cleaning may bare
     * more (" %01 x"), so once again after */
    n = mkt_text_trim(buf, n);
    out = mkt_text_clean(dst, cap, buf, n);
    return mkt_text_trim(dst, out);
}
