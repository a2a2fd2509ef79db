/* Unit tests of src/spool.c: the lines, stream ids and names of the Redis
 * sink's spool files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spool.h"

#define ULID  "01KAQDGGZVQ3B8Y6TZC1M4N7RE"
#define LINE  "{\"id\":\"" ULID "\",\"ts\":1763870000123}"


static void
test_stream_id_reads_ms_and_seq(void **state)
{
    mkt_stream_id_t  id;

    assert_int_equal(mkt_stream_id_parse("1763870000123-7", 15, &id), 0);
    assert_true(id.ms == 1763870000123ULL);
    assert_true(id.seq == 7);

    assert_int_equal(mkt_stream_id_parse("18446744073709551615-0", 22, &id),
                     0);
    assert_true(id.ms == UINT64_MAX);
}


static void
test_stream_id_rejects_what_redis_never_returns(void **state)
{
    mkt_stream_id_t  id;

    assert_int_equal(mkt_stream_id_parse("", 0, &id), -1);
    assert_int_equal(mkt_stream_id_parse("17", 2, &id), -1);
    assert_int_equal(mkt_stream_id_parse("17-", 3, &id), -1);
    assert_int_equal(mkt_stream_id_parse("-1", 2, &id), -1);
    assert_int_equal(mkt_stream_id_parse("1-2-3", 5, &id), -1);
    assert_int_equal(mkt_stream_id_parse("1-2 ", 4, &id), -1);
    assert_int_equal(mkt_stream_id_parse("18446744073709551616-0", 22, &id),
                     -1);
    assert_int_equal(mkt_stream_id_parse("000000000000000000001-0", 23, &id),
                     -1);
}


/* finding 4 of docs/security.md: a bulk reply to XADD that is not an id
 * Redis could have given is not taken as proof the event was stored */
static void
test_xadd_reply_is_an_id_only_as_redis_writes_it(void **state)
{
    size_t           i;
    mkt_stream_id_t  id = { 42, 42 };

    static const char  *not_ids[] = {
        "hello", "", "OK", "0-0", "01-1", "1-01", "1763870000123",
        "1763870000123-7\r\n", "18446744073709551616-0"
    };

    assert_int_equal(mkt_stream_id_added("1763870000123-7", 15, &id), 0);
    assert_true(id.ms == 1763870000123ULL);
    assert_true(id.seq == 7);
    assert_int_equal(mkt_stream_id_added("0-1", 3, &id), 0);
    assert_true(id.ms == 0 && id.seq == 1);
    assert_int_equal(mkt_stream_id_added(
        "18446744073709551615-18446744073709551615", 41, &id), 0);
    assert_true(id.ms == UINT64_MAX && id.seq == UINT64_MAX);

    id.ms = 42;
    id.seq = 42;

    for (i = 0; i < sizeof(not_ids) / sizeof(not_ids[0]); i++) {
        assert_int_equal(mkt_stream_id_added(not_ids[i], strlen(not_ids[i]),
                                             &id), -1);
        /* a refusal leaves the id as it was */
        assert_true(id.ms == 42 && id.seq == 42);
    }
}


static void
test_stream_ids_compare_by_ms_then_seq(void **state)
{
    mkt_stream_id_t  a = { 5, 9 }, b = { 6, 0 }, c = { 6, 1 }, d = { 6, 1 };

    assert_true(mkt_stream_id_cmp(&a, &b) < 0);
    assert_true(mkt_stream_id_cmp(&c, &b) > 0);
    assert_true(mkt_stream_id_cmp(&c, &d) == 0);
}


static void
test_stream_id_formats_as_redis_writes_it(void **state)
{
    char             buf[MKT_STREAM_ID_MAX];
    mkt_stream_id_t  id = { UINT64_MAX, UINT64_MAX };
    size_t           n;

    n = mkt_stream_id_format(buf, &id);
    assert_int_equal(n, MKT_STREAM_ID_MAX);
    assert_memory_equal(buf, "18446744073709551615-18446744073709551615", n);

    id.ms = 0;
    id.seq = 0;
    n = mkt_stream_id_format(buf, &id);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "0-0", 3);
}


static void
test_event_id_is_the_first_member(void **state)
{
    const char  *id;

    id = mkt_spool_event_id(LINE "\n", sizeof(LINE));
    assert_non_null(id);
    assert_memory_equal(id, ULID, 26);

    /* without its "\n" too */
    id = mkt_spool_event_id(LINE, sizeof(LINE) - 1);
    assert_non_null(id);
    assert_memory_equal(id, ULID, 26);
}


static void
test_event_id_refuses_other_lines(void **state)
{
    /* id not first, cut short, lowercase, I/L/O/U, past 48 bits */
    const char  *bad[] = {
        "{\"ts\":1,\"id\":\"" ULID "\"}",
        "{\"id\":\"01KAQDGGZVQ3B8Y6TZC1M4N7R\"}",
        "{\"id\":\"01kaqdggzvq3b8y6tzc1m4n7re\"}",
        "{\"id\":\"01KAQDGGZVQ3B8Y6TZC1M4N7RI\"}",
        "{\"id\":\"01KAQDGGZVQ3B8Y6TZC1M4N7RL\"}",
        "{\"id\":\"81KAQDGGZVQ3B8Y6TZC1M4N7RE\"}",
        "{\"id\": \"" ULID "\"}",
        "~1-2 3",
        "",
    };
    size_t       i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(mkt_spool_event_id(bad[i], strlen(bad[i])));
    }

    /* only the bytes given are read: the closing quote is past len */
    assert_null(mkt_spool_event_id(LINE, 7 + 26));
}


static void
test_mark_round_trips(void **state)
{
    char             buf[MKT_SPOOL_MARK_MAX];
    size_t           n;
    unsigned         count;
    mkt_stream_id_t  after = { 1763870000123ULL, 4 }, back;

    n = mkt_spool_mark_format(buf, &after, 64);
    assert_int_equal(n, sizeof("~1763870000123-4 64\n") - 1);
    assert_memory_equal(buf, "~1763870000123-4 64\n", n);

    assert_int_equal(mkt_spool_mark_parse(buf, n, &back, &count), 0);
    assert_int_equal(mkt_stream_id_cmp(&after, &back), 0);
    assert_int_equal(count, 64);

    assert_int_equal(mkt_spool_mark_parse(buf, n - 1, &back, &count), 0);
}


static void
test_mark_refuses_zero_and_garbage(void **state)
{
    const char       *bad[] = { "~1-2 0", "~1-2 100000", "~1-2", "~1 5",
                                "1-2 5", "~1-2  5", "~1-2 5x", "~1-2 5\n\n" };
    size_t            i;
    unsigned          n;
    mkt_stream_id_t   after;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mkt_spool_mark_parse(bad[i], strlen(bad[i]), &after,
                                              &n), -1);
    }

    assert_int_equal(mkt_spool_mark_parse("~1-2 99999", 10, &after, &n), 0);
    assert_int_equal(n, 99999);
}


static void
test_header_is_fixed_width_and_round_trips(void **state)
{
    char                buf[MKT_SPOOL_HEADER_LEN];
    mkt_spool_header_t  h = { 4096, { 1763870000123ULL, 12 }, 64 }, back;

    mkt_spool_header_format(buf, &h);
    assert_memory_equal(buf, "#mkt-spool 1 done=00000000000000004096 "
                        "after=00000001763870000123-00000000000000000012 "
                        "n=00064\n", MKT_SPOOL_HEADER_LEN);

    assert_int_equal(mkt_spool_header_parse(buf, sizeof(buf), &back), 0);
    assert_true(back.done == 4096);
    assert_int_equal(mkt_stream_id_cmp(&h.after, &back.after), 0);
    assert_int_equal(back.n, 64);

    h.done = UINT64_MAX;
    h.after.ms = UINT64_MAX;
    h.after.seq = UINT64_MAX;
    h.n = 0;
    mkt_spool_header_format(buf, &h);
    assert_int_equal(mkt_spool_header_parse(buf, sizeof(buf), &back), 0);
    assert_true(back.done == UINT64_MAX && back.after.seq == UINT64_MAX);
    assert_int_equal(back.n, 0);
}


static void
test_header_refuses_other_widths_and_offsets_in_it(void **state)
{
    char                buf[MKT_SPOOL_HEADER_LEN];
    mkt_spool_header_t  h = { 94, { 1, 2 }, 0 }, back;

    mkt_spool_header_format(buf, &h);
    assert_int_equal(mkt_spool_header_parse(buf, sizeof(buf), &back), -1);

    h.done = MKT_SPOOL_HEADER_LEN;
    mkt_spool_header_format(buf, &h);
    assert_int_equal(mkt_spool_header_parse(buf, sizeof(buf) - 1, &back),
                     -1);
    buf[13] = 'D';
    assert_int_equal(mkt_spool_header_parse(buf, sizeof(buf), &back), -1);
}


static void
test_names_round_trip_and_nothing_else_is_one(void **state)
{
    char      buf[MKT_SPOOL_NAME_MAX];
    size_t    n;
    uint64_t  pid, seq;

    n = mkt_spool_name_format(buf, 4242, 7);
    assert_int_equal(n, sizeof("spool-4242-7.jsonl") - 1);
    assert_memory_equal(buf, "spool-4242-7.jsonl", n);
    assert_int_equal(mkt_spool_name_parse(buf, n, &pid, &seq), 0);
    assert_true(pid == 4242 && seq == 7);

    assert_int_equal(mkt_spool_name_parse("spool-1-2.jsonl.tmp", 19, &pid,
                                          &seq), -1);
    assert_int_equal(mkt_spool_name_parse("spool-1.jsonl", 13, &pid, &seq),
                     -1);
    assert_int_equal(mkt_spool_name_parse(".", 1, &pid, &seq), -1);
    assert_int_equal(mkt_spool_name_parse("spool--2.jsonl", 14, &pid, &seq),
                     -1);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_id_reads_ms_and_seq),
        cmocka_unit_test(test_stream_id_rejects_what_redis_never_returns),
        cmocka_unit_test(test_xadd_reply_is_an_id_only_as_redis_writes_it),
        cmocka_unit_test(test_stream_ids_compare_by_ms_then_seq),
        cmocka_unit_test(test_stream_id_formats_as_redis_writes_it),
        cmocka_unit_test(test_event_id_is_the_first_member),
        cmocka_unit_test(test_event_id_refuses_other_lines),
        cmocka_unit_test(test_mark_round_trips),
        cmocka_unit_test(test_mark_refuses_zero_and_garbage),
        cmocka_unit_test(test_header_is_fixed_width_and_round_trips),
        cmocka_unit_test(test_header_refuses_other_widths_and_offsets_in_it),
        cmocka_unit_test(test_names_round_trip_and_nothing_else_is_one),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
