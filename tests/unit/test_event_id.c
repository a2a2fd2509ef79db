/* Unit tests of src/event_id.c: ULIDs that sort by time, never repeat and
 * strictly increase within a generator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "event_id.h"

#define ULID_SPEC_MS  1469918176385LL      /* "01ARYZ6S41", the spec's */
#define MANY          100000


static void
test_id_is_the_time_then_the_random_bits_in_crockford_base32(void **state)
{
    char                 id[MKT_EVENT_ID_LEN];
    mkt_event_id_gen_t   g;

    g.ms = ULID_SPEC_MS;
    g.hi = 0;
    g.lo = 0;
    assert_int_equal(mkt_event_id_next(&g, ULID_SPEC_MS, id), 0);
    assert_memory_equal(id, "01ARYZ6S410000000000000001", MKT_EVENT_ID_LEN);

    g.hi = 0xffff;
    g.lo = 0xfffffffffffffffeULL;
    assert_int_equal(mkt_event_id_next(&g, ULID_SPEC_MS, id), 0);
    assert_memory_equal(id, "01ARYZ6S41ZZZZZZZZZZZZZZZZ", MKT_EVENT_ID_LEN);
}


static void
test_time_reads_back_from_an_id(void **state)
{
    char                 id[MKT_EVENT_ID_LEN];
    int64_t              ms;
    mkt_event_id_gen_t   g;

    mkt_event_id_init(&g);
    assert_int_equal(mkt_event_id_next(&g, 1763870000123LL, id), 0);
    assert_int_equal(mkt_event_id_time(id, sizeof(id), &ms), 0);
    assert_int_equal(ms, 1763870000123LL);

    assert_int_equal(mkt_event_id_next(&g, MKT_EVENT_ID_MS_MAX, id), 0);
    assert_int_equal(mkt_event_id_time(id, sizeof(id), &ms), 0);
    assert_int_equal(ms, MKT_EVENT_ID_MS_MAX);
    assert_memory_equal(id, "7ZZZZZZZZZ", 10);
}


static void
test_time_rejects_what_is_not_an_id(void **state)
{
    int64_t  ms;

    assert_int_equal(mkt_event_id_time("01ARYZ6S41TSV4RRFFQ69G5FAV", 26, &ms),
                     0);
    assert_int_equal(ms, ULID_SPEC_MS);
    assert_int_equal(mkt_event_id_time("01ARYZ6S41TSV4RRFFQ69G5FA", 25, &ms),
                     -1);
    assert_int_equal(mkt_event_id_time("81ARYZ6S41TSV4RRFFQ69G5FAV", 26, &ms),
                     -1);
    assert_int_equal(mkt_event_id_time("01aryz6s41tsv4rrffq69g5fav", 26, &ms),
                     -1);
    assert_int_equal(mkt_event_id_time("01ARYZ6S41TSV4RRFFQ69G5FAI", 26, &ms),
                     -1);
    assert_int_equal(mkt_event_id_time("01ARYZ6S41TSV4RRFFQ69G5FA\0", 26, &ms),
                     -1);
}


static void
test_ids_of_one_millisecond_are_unique_and_increasing(void **state)
{
    char                 *ids;
    size_t                i;
    mkt_event_id_gen_t    g;

    ids = malloc((size_t) MANY * MKT_EVENT_ID_LEN);
    assert_non_null(ids);

    mkt_event_id_init(&g);
    for (i = 0; i < MANY; i++) {
        assert_int_equal(mkt_event_id_next(&g, ULID_SPEC_MS,
                                           ids + i * MKT_EVENT_ID_LEN), 0);
    }
    for (i = 1; i < MANY; i++) {
        assert_true(memcmp(ids + (i - 1) * MKT_EVENT_ID_LEN,
                           ids + i * MKT_EVENT_ID_LEN, MKT_EVENT_ID_LEN) < 0);
    }
    free(ids);
}


static void
test_ids_sort_by_time_as_strings(void **state)
{
    char                 a[MKT_EVENT_ID_LEN], b[MKT_EVENT_ID_LEN];
    int64_t              t;
    mkt_event_id_gen_t   ga, gb;

    /* independent generators: only the time orders them */
    for (t = 1; t < MKT_EVENT_ID_MS_MAX / 2; t = t * 3 + 1) {
        mkt_event_id_init(&ga);
        mkt_event_id_init(&gb);
        assert_int_equal(mkt_event_id_next(&ga, t, a), 0);
        assert_int_equal(mkt_event_id_next(&gb, t + 1, b), 0);
        assert_true(memcmp(a, b, MKT_EVENT_ID_LEN) < 0);
    }
}


static void
test_ids_keep_increasing_when_the_clock_steps_back(void **state)
{
    char                 a[MKT_EVENT_ID_LEN], b[MKT_EVENT_ID_LEN];
    int64_t              ms;
    mkt_event_id_gen_t   g;

    mkt_event_id_init(&g);
    assert_int_equal(mkt_event_id_next(&g, ULID_SPEC_MS, a), 0);
    assert_int_equal(mkt_event_id_next(&g, ULID_SPEC_MS - 5000, b), 0);
    assert_true(memcmp(a, b, MKT_EVENT_ID_LEN) < 0);
    assert_int_equal(mkt_event_id_time(b, sizeof(b), &ms), 0);
    assert_int_equal(ms, ULID_SPEC_MS);
}


static void
test_an_exhausted_millisecond_moves_to_the_next(void **state)
{
    char                 id[MKT_EVENT_ID_LEN];
    int64_t              ms;
    mkt_event_id_gen_t   g;

    g.ms = ULID_SPEC_MS;
    g.hi = 0xffff;
    g.lo = 0xffffffffffffffffULL;
    assert_int_equal(mkt_event_id_next(&g, ULID_SPEC_MS, id), 0);
    assert_int_equal(mkt_event_id_time(id, sizeof(id), &ms), 0);
    assert_int_equal(ms, ULID_SPEC_MS + 1);
    assert_int_equal(g.ms, ULID_SPEC_MS + 1);

    /* at the end of time there is no next millisecond */
    g.ms = MKT_EVENT_ID_MS_MAX;
    g.hi = 0xffff;
    g.lo = 0xffffffffffffffffULL;
    assert_int_equal(mkt_event_id_next(&g, MKT_EVENT_ID_MS_MAX, id), -1);
    assert_int_equal(g.hi, 0xffff);
    assert_true(g.lo == 0xffffffffffffffffULL);
}


static void
test_times_outside_48_bits_are_refused(void **state)
{
    char                 id[MKT_EVENT_ID_LEN];
    mkt_event_id_gen_t   g;

    mkt_event_id_init(&g);
    assert_int_equal(mkt_event_id_next(&g, -1, id), -1);
    assert_int_equal(mkt_event_id_next(&g, MKT_EVENT_ID_MS_MAX + 1, id), -1);
    assert_int_equal(g.ms, -1);
}


static void
test_generators_draw_different_random_bits(void **state)
{
    char                 a[MKT_EVENT_ID_LEN], b[MKT_EVENT_ID_LEN];
    mkt_event_id_gen_t   ga, gb;

    mkt_event_id_init(&ga);
    mkt_event_id_init(&gb);
    assert_int_equal(mkt_event_id_next(&ga, ULID_SPEC_MS, a), 0);
    assert_int_equal(mkt_event_id_next(&gb, ULID_SPEC_MS, b), 0);
    assert_memory_equal(a, b, 10);
    assert_memory_not_equal(a + 10, b + 10, 16);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_id_is_the_time_then_the_random_bits_in_crockford_base32),
        cmocka_unit_test(test_time_reads_back_from_an_id),
        cmocka_unit_test(test_time_rejects_what_is_not_an_id),
        cmocka_unit_test(test_ids_of_one_millisecond_are_unique_and_increasing),
        cmocka_unit_test(test_ids_sort_by_time_as_strings),
        cmocka_unit_test(test_ids_keep_increasing_when_the_clock_steps_back),
        cmocka_unit_test(test_an_exhausted_millisecond_moves_to_the_next),
        cmocka_unit_test(test_times_outside_48_bits_are_refused),
        cmocka_unit_test(test_generators_draw_different_random_bits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
