/* libFuzzer target for src/spool.c: every parser accepts exactly what an
 * independent sscanf-free reference accepts, never reads past len, and
 * what it accepts formats back to the same bytes (the canonical forms:
 * no leading zeros except in the fixed-width header). */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int
canonical(const char *s, size_t len)
{
    /* a number written back has no leading zero unless it is "0" */
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] == '0' && (i == 0 || s[i - 1] < '0' || s[i - 1] > '9')
            && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')
        {
            return 0;
        }
    }

    return 1;
}


static void
check_stream_id(const char *s, size_t len)
{
    char             buf[MKT_STREAM_ID_MAX];
    size_t           n;
    int              added;
    mkt_stream_id_t  id, xid;

    added = mkt_stream_id_added(s, len, &xid) == 0;

    if (mkt_stream_id_parse(s, len, &id) != 0) {
        CHECK(!added);
        return;
    }

    /* an XADD reply: exactly the canonical ids after 0-0 */
    CHECK(added == (canonical(s, len) && (id.ms != 0 || id.seq != 0)));
    CHECK(!added || mkt_stream_id_cmp(&id, &xid) == 0);

    CHECK(len <= MKT_STREAM_ID_MAX);
    n = mkt_stream_id_format(buf, &id);
    CHECK(n <= MKT_STREAM_ID_MAX);
    CHECK(mkt_stream_id_cmp(&id, &id) == 0);

    if (canonical(s, len)) {
        CHECK(n == len && memcmp(buf, s, n) == 0);
    }
}


static void
check_mark(const char *s, size_t len)
{
    char             buf[MKT_SPOOL_MARK_MAX];
    size_t           n;
    unsigned         count, count2;
    mkt_stream_id_t  after, after2;

    if (mkt_spool_mark_parse(s, len, &after, &count) != 0) {
        return;
    }

    CHECK(count >= 1 && count <= MKT_SPOOL_N_MAX);
    n = mkt_spool_mark_format(buf, &after, count);
    CHECK(n <= MKT_SPOOL_MARK_MAX && buf[n - 1] == '\n');
    CHECK(mkt_spool_mark_parse(buf, n, &after2, &count2) == 0);
    CHECK(count2 == count && mkt_stream_id_cmp(&after, &after2) == 0);

    if (canonical(s, len)) {
        CHECK(len == n || len == n - 1);
        CHECK(memcmp(buf, s, len) == 0);
    }
}


static void
check_header(const char *s, size_t len)
{
    char                buf[MKT_SPOOL_HEADER_LEN];
    mkt_spool_header_t  h;

    if (mkt_spool_header_parse(s, len, &h) != 0) {
        return;
    }

    /* fixed width: the header is exactly what formatting writes */
    mkt_spool_header_format(buf, &h);
    CHECK(len == MKT_SPOOL_HEADER_LEN);
    CHECK(memcmp(buf, s, len) == 0);
    CHECK(h.done >= MKT_SPOOL_HEADER_LEN);
}


static void
check_event_id(const char *s, size_t len)
{
    size_t       i;
    const char  *id;

    id = mkt_spool_event_id(s, len);

    if (id == NULL) {
        return;
    }

    CHECK(id == s + 7);
    CHECK(len >= 7 + 26 + 1 && s[7 + 26] == '"');
    CHECK(id[0] >= '0' && id[0] <= '7');

    for (i = 0; i < 26; i++) {
        CHECK(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", id[i]) != NULL
              && id[i] != '\0');
    }
}


static void
check_name(const char *s, size_t len)
{
    char      buf[MKT_SPOOL_NAME_MAX];
    size_t    n;
    uint64_t  pid, seq;

    if (mkt_spool_name_parse(s, len, &pid, &seq) != 0) {
        return;
    }

    n = mkt_spool_name_format(buf, pid, seq);
    CHECK(n <= MKT_SPOOL_NAME_MAX);

    if (canonical(s, len)) {
        CHECK(n == len && memcmp(buf, s, n) == 0);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char  *copy;

    copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size) {
        memcpy(copy, data, size);
    }

    check_stream_id(copy, size);
    check_mark(copy, size);
    check_header(copy, size);
    check_event_id(copy, size);
    check_name(copy, size);

    free(copy);
    return 0;
}
