/* Unit tests of src/cookie.c (visitor cookie codec, Cookie header scanning)
 * and src/text.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "cookie.h"
#include "text.h"

#define SECRET   "0123456789abcdef0123"
#define VID0     "AAAAAAAAAAAAAAAAAAAAAA"
#define ISSUED   1795426913          /* "toy89t" in base36 */
#define NOW      (ISSUED + 60)
/* HMAC-SHA256(SECRET, "1." VID0 ".toy89t"), first 16 base64url chars,
 * computed independently with Python's hmac module */
#define GOOD     "1." VID0 ".toy89t.0P8EE9dSponFojju"


static int
setup(void **state)
{
    *state = mkt_hmac_create(SECRET, sizeof(SECRET) - 1);
    return *state == NULL;
}


static int
teardown(void **state)
{
    mkt_hmac_destroy(*state);
    return 0;
}


static mkt_cookie_status_e
decode(mkt_hmac_t *h, const char *s, mkt_visitor_t *v)
{
    return mkt_vcookie_decode(h, s, strlen(s), NOW, v);
}


static void
test_encode_produces_version_vid_base36_issue_time_and_signature(void **state)
{
    char           out[MKT_VCOOKIE_MAX];
    size_t         n;
    mkt_visitor_t  v;

    memcpy(v.vid, VID0, MKT_VID_LEN);
    v.issued = ISSUED;
    n = mkt_vcookie_encode(*state, &v, out);
    assert_int_equal(n, strlen(GOOD));
    assert_memory_equal(out, GOOD, n);
}


static void
test_encode_without_secret_is_unsigned(void **state)
{
    char           out[MKT_VCOOKIE_MAX];
    size_t         n;
    mkt_visitor_t  v;

    memcpy(v.vid, VID0, MKT_VID_LEN);
    v.issued = ISSUED;
    n = mkt_vcookie_encode(NULL, &v, out);
    assert_int_equal(n, strlen("1." VID0 ".toy89t"));
    assert_memory_equal(out, "1." VID0 ".toy89t", n);
}


static void
test_encode_refuses_issue_times_decode_would_reject(void **state)
{
    char           out[MKT_VCOOKIE_MAX];
    mkt_visitor_t  v;

    memcpy(v.vid, VID0, MKT_VID_LEN);
    v.issued = 0;
    assert_int_equal(mkt_vcookie_encode(*state, &v, out), 0);
    v.issued = 2821109907456LL;                 /* 36^8: nine digits */
    assert_int_equal(mkt_vcookie_encode(*state, &v, out), 0);
    v.issued = 2821109907455LL;                 /* "zzzzzzzz" */
    assert_int_equal(mkt_vcookie_encode(*state, &v, out),
                     2 + 22 + 1 + 8 + 1 + 16);
}


static void
test_decode_does_not_overflow_at_the_end_of_time(void **state)
{
    mkt_visitor_t  v;

    assert_int_equal(mkt_vcookie_decode(*state, GOOD, strlen(GOOD),
                                        INT64_MAX, &v), MKT_COOKIE_OK);
}


static void
test_decode_accepts_a_good_cookie(void **state)
{
    mkt_visitor_t  v;

    assert_int_equal(decode(*state, GOOD, &v), MKT_COOKIE_OK);
    assert_memory_equal(v.vid, VID0, MKT_VID_LEN);
    assert_int_equal(v.issued, ISSUED);
}


static void
test_decode_rejects_a_tampered_vid(void **state)
{
    mkt_visitor_t  v;

    assert_int_equal(decode(*state, "1.AAAAAAAAAAAAAAAAAAAAAQ.toy89t."
                            "0P8EE9dSponFojju", &v),
                     MKT_COOKIE_BAD_SIGNATURE);
}


static void
test_decode_rejects_a_tampered_issue_time(void **state)
{
    mkt_visitor_t  v;

    assert_int_equal(decode(*state, "1." VID0 ".toy89s.0P8EE9dSponFojju", &v),
                     MKT_COOKIE_BAD_SIGNATURE);
}


static void
test_decode_rejects_a_tampered_signature(void **state)
{
    mkt_visitor_t  v;

    assert_int_equal(decode(*state, "1." VID0 ".toy89t.0P8EE9dSponFojjv", &v),
                     MKT_COOKIE_BAD_SIGNATURE);
}


static void
test_decode_rejects_another_secret(void **state)
{
    mkt_visitor_t  v;
    mkt_hmac_t    *other;

    other = mkt_hmac_create("another secret of 16+", 21);
    assert_int_equal(decode(other, GOOD, &v), MKT_COOKIE_BAD_SIGNATURE);
    mkt_hmac_destroy(other);
}


static void
test_decode_rejects_unsigned_when_a_secret_is_set(void **state)
{
    mkt_visitor_t  v;

    assert_int_equal(decode(*state, "1." VID0 ".toy89t", &v),
                     MKT_COOKIE_UNSIGNED);
}


static void
test_decode_without_secret_accepts_signed_and_unsigned(void **state)
{
    mkt_visitor_t  v;

    assert_int_equal(decode(NULL, "1." VID0 ".toy89t", &v), MKT_COOKIE_OK);
    assert_int_equal(decode(NULL, GOOD, &v), MKT_COOKIE_OK);
    assert_int_equal(v.issued, ISSUED);
}


static void
test_decode_rejects_future_issue_time_beyond_skew(void **state)
{
    mkt_visitor_t  v;

    assert_int_equal(mkt_vcookie_decode(*state, GOOD, strlen(GOOD),
                                        ISSUED - MKT_COOKIE_SKEW - 1, &v),
                     MKT_COOKIE_FUTURE);
    assert_int_equal(mkt_vcookie_decode(*state, GOOD, strlen(GOOD),
                                        ISSUED - MKT_COOKIE_SKEW, &v),
                     MKT_COOKIE_OK);
}


#define DAY      86400
#define MAX_AGE  (400 * DAY)         /* mkt_cookie's default max_age */


static mkt_visitor_t
issued_at(int64_t t)
{
    mkt_visitor_t  v;

    memcpy(v.vid, VID0, MKT_VID_LEN);
    v.issued = t;
    return v;
}


static void
test_age_accepts_up_to_max_age_and_a_day_and_refuses_a_second_more(
    void **state)
{
    mkt_visitor_t  v = issued_at(ISSUED);

    assert_int_equal(MKT_COOKIE_REFRESH, DAY);

    /* just inside, just outside */
    assert_int_equal(mkt_vcookie_check_age(&v, ISSUED + MAX_AGE + DAY,
                                           MAX_AGE), MKT_COOKIE_OK);
    assert_int_equal(mkt_vcookie_check_age(&v, ISSUED + MAX_AGE + DAY + 1,
                                           MAX_AGE), MKT_COOKIE_EXPIRED);

    /* the limit follows max_age */
    assert_int_equal(mkt_vcookie_check_age(&v, ISSUED + 3600 + DAY, 3600),
                     MKT_COOKIE_OK);
    assert_int_equal(mkt_vcookie_check_age(&v, ISSUED + 3600 + DAY + 1,
                                           3600), MKT_COOKIE_EXPIRED);
    assert_int_equal(mkt_vcookie_check_age(&v, ISSUED + DAY, 0),
                     MKT_COOKIE_OK);
    assert_int_equal(mkt_vcookie_check_age(&v, ISSUED + DAY + 1, 0),
                     MKT_COOKIE_EXPIRED);

    /* a fresh cookie, and one from the allowed future */
    assert_int_equal(mkt_vcookie_check_age(&v, ISSUED, 0), MKT_COOKIE_OK);
    assert_int_equal(mkt_vcookie_check_age(&v, ISSUED - MKT_COOKIE_SKEW, 0),
                     MKT_COOKIE_OK);
}


static void
test_age_does_not_overflow_at_the_extremes(void **state)
{
    mkt_visitor_t  v = issued_at(1);

    assert_int_equal(mkt_vcookie_check_age(&v, INT64_MAX, INT64_MAX),
                     MKT_COOKIE_OK);
    assert_int_equal(mkt_vcookie_check_age(&v, INT64_MAX, 0),
                     MKT_COOKIE_EXPIRED);
    assert_int_equal(mkt_vcookie_check_age(&v, INT64_MIN, 0), MKT_COOKIE_OK);
    assert_int_equal(mkt_vcookie_refresh_due(&v, INT64_MIN), 0);
    assert_int_equal(mkt_vcookie_refresh_due(&v, INT64_MAX), 1);
}


static void
test_refresh_is_due_after_a_day(void **state)
{
    mkt_visitor_t  v = issued_at(ISSUED);

    assert_int_equal(mkt_vcookie_refresh_due(&v, ISSUED - 1), 0);
    assert_int_equal(mkt_vcookie_refresh_due(&v, ISSUED), 0);
    assert_int_equal(mkt_vcookie_refresh_due(&v, ISSUED + DAY - 1), 0);
    assert_int_equal(mkt_vcookie_refresh_due(&v, ISSUED + DAY), 1);
}


/*
 * The identity handler's rule, as a browser lives it: a cookie is held
 * until max_age after its last Set-Cookie; a visit shows it (if held),
 * and it is re-issued when due.  Counts the visits that found no cookie
 * (the browser had dropped it) and those whose cookie the server refused
 * although the browser still held it.
 */
static void
visits(int64_t max_age, int64_t gap, int64_t jitter, int n, int *dropped,
    int *refused)
{
    int            i;
    int64_t        now;
    mkt_visitor_t  v = issued_at(ISSUED);

    *dropped = 0;
    *refused = 0;
    now = ISSUED;

    for (i = 0; i < n; i++) {
        now += gap + (i % 7) * jitter;

        if (now - v.issued >= max_age) {
            (*dropped)++;
            v.issued = now;            /* a new id, a new cookie */
            continue;
        }

        if (mkt_vcookie_check_age(&v, now, max_age) != MKT_COOKIE_OK) {
            (*refused)++;
            v.issued = now;
            continue;
        }

        if (mkt_vcookie_refresh_due(&v, now)) {
            v.issued = now;
        }
    }
}


static void
test_a_visitor_seen_within_max_age_keeps_the_id_for_years(void **state)
{
    int  dropped, refused;

    /* daily for five and a half years */
    visits(MAX_AGE, DAY, 0, 2000, &dropped, &refused);
    assert_int_equal(dropped, 0);
    assert_int_equal(refused, 0);

    /* several times a day, so never two refreshes in a day */
    visits(MAX_AGE, 3 * 3600, 600, 2000, &dropped, &refused);
    assert_int_equal(dropped, 0);
    assert_int_equal(refused, 0);

    /* once per max_age, a second before the browser would drop it */
    visits(MAX_AGE, MAX_AGE - 1, 0, 10, &dropped, &refused);
    assert_int_equal(dropped, 0);
    assert_int_equal(refused, 0);

    /* a second later, the browser has dropped it: not the server's doing */
    visits(MAX_AGE, MAX_AGE, 0, 10, &dropped, &refused);
    assert_int_equal(dropped, 10);
    assert_int_equal(refused, 0);

    /* max_age under a day: refreshed at most daily (DESIGN.md 5), so the
     * browser drops it every max_age; the server never refuses first */
    visits(3600, 1800, 0, 100, &dropped, &refused);
    assert_int_equal(dropped, 50);
    assert_int_equal(refused, 0);
}


static void
test_a_copied_cookie_stops_working_a_day_after_max_age(void **state)
{
    mkt_visitor_t  copy = issued_at(ISSUED);
    int64_t        t;

    /* replayed by someone who never stores the refreshed value */
    for (t = ISSUED; t <= ISSUED + MAX_AGE + DAY; t += DAY) {
        assert_int_equal(mkt_vcookie_check_age(&copy, t, MAX_AGE),
                         MKT_COOKIE_OK);
    }
    assert_int_equal(mkt_vcookie_check_age(&copy, ISSUED + MAX_AGE + DAY + 1,
                                           MAX_AGE), MKT_COOKIE_EXPIRED);

    /* decoding alone does not look at the age */
    assert_int_equal(mkt_vcookie_decode(*state, GOOD, strlen(GOOD),
                                        ISSUED + 10 * MAX_AGE, &copy),
                     MKT_COOKIE_OK);
}


static void
test_decode_rejects_oversized_values(void **state)
{
    char           big[MKT_VCOOKIE_MAX + 2];
    mkt_visitor_t  v;

    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(decode(*state, big, &v), MKT_COOKIE_OVERSIZED);
}


static void
test_decode_rejects_malformed_values(void **state)
{
    size_t          i;
    mkt_visitor_t   v;
    static const char  *bad[] = {
        "",
        "1",
        "2." VID0 ".toy89t.0P8EE9dSponFojju",          /* version */
        "1." VID0 "A.toy89t.0P8EE9dSponFojju",         /* vid too long */
        "1.AAAAAAAAAAAAAAAAAAAAA.toy89t.0P8EE9dSponFojju",  /* too short */
        "1.AAAAAAAAAAAAAAAAAAAAAB.toy89t.0P8EE9dSponFojju", /* not canonical */
        "1.AAAAAAAAAAAAAAAAAAAA+A.toy89t.0P8EE9dSponFojju", /* alphabet */
        "1." VID0 "..0P8EE9dSponFojju",                /* empty time */
        "1." VID0 ".0toy89t.0P8EE9dSponFojju",         /* leading zero */
        "1." VID0 ".0.0P8EE9dSponFojju",               /* zero */
        "1." VID0 ".TOY89T.0P8EE9dSponFojju",          /* upper case */
        "1." VID0 ".toy89tzzz.0P8EE9dSponFojju",       /* 9 digits */
        "1." VID0 ".toy89t.0P8EE9dSponFojj",           /* short sig */
        "1." VID0 ".toy89t.0P8EE9dSponFojjuu",         /* long sig */
        "1." VID0 ".toy89t.0P8EE9dSponFoj=u",          /* sig alphabet */
        "1." VID0 ".toy89t.",                          /* empty sig */
        "1." VID0 ".toy89t.0P8EE9dSponFojju.x",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (decode(*state, bad[i], &v) != MKT_COOKIE_MALFORMED) {
            fail_msg("accepted or misclassified: \"%s\"", bad[i]);
        }
    }
}


static void
test_decode_handles_embedded_nul_as_malformed(void **state)
{
    mkt_visitor_t  v;
    char           s[] = GOOD;

    s[5] = '\0';
    assert_int_equal(mkt_vcookie_decode(*state, s, sizeof(s) - 1, NOW, &v),
                     MKT_COOKIE_MALFORMED);
}


static void
test_generated_vids_are_22_chars_canonical_and_distinct(void **state)
{
    char           a[MKT_VID_LEN], b[MKT_VID_LEN], out[MKT_VCOOKIE_MAX];
    size_t         n;
    mkt_visitor_t  v, back;

    assert_int_equal(mkt_vid_generate(a), 0);
    assert_int_equal(mkt_vid_generate(b), 0);
    assert_memory_not_equal(a, b, MKT_VID_LEN);

    memcpy(v.vid, a, MKT_VID_LEN);
    v.issued = ISSUED;
    n = mkt_vcookie_encode(*state, &v, out);
    assert_int_equal(n, 2 + 22 + 1 + 6 + 1 + 16);
    assert_int_equal(mkt_vcookie_decode(*state, out, n, NOW, &back),
                     MKT_COOKIE_OK);
    assert_memory_equal(back.vid, a, MKT_VID_LEN);
}


static void
test_status_names_are_stable(void **state)
{
    assert_string_equal(mkt_cookie_status_name(MKT_COOKIE_BAD_SIGNATURE),
                        "bad_signature");
    assert_string_equal(mkt_cookie_status_name(MKT_COOKIE_FUTURE), "future");
    assert_string_equal(mkt_cookie_status_name(MKT_COOKIE_EXPIRED),
                        "expired");
}


static void
test_cookie_next_finds_pairs_and_repeats(void **state)
{
    const char  *hdr = " a=1; _mkt = \"x y\" ;b;_mkt=second;_mktz=no; _mkt=";
    const char  *val;
    size_t       pos = 0, len;

    assert_true(mkt_cookie_next(hdr, strlen(hdr), &pos, "_mkt", 4, &val,
                                &len));
    assert_int_equal(len, 3);
    assert_memory_equal(val, "x y", 3);

    assert_true(mkt_cookie_next(hdr, strlen(hdr), &pos, "_mkt", 4, &val,
                                &len));
    assert_int_equal(len, 6);
    assert_memory_equal(val, "second", 6);

    assert_true(mkt_cookie_next(hdr, strlen(hdr), &pos, "_mkt", 4, &val,
                                &len));
    assert_int_equal(len, 0);

    assert_false(mkt_cookie_next(hdr, strlen(hdr), &pos, "_mkt", 4, &val,
                                 &len));
}


static void
test_cookie_pair_walks_every_pair_once(void **state)
{
    /* "b" has no "=": skipped; the first "=" ends the name */
    const char  *hdr = " a=1; _mkt = \"x y\" ;b;c=d=e;; =v;\t;x_mkt=2";
    const char  *want[][2] = {
        { "a", "1" }, { "_mkt", "x y" }, { "c", "d=e" }, { "", "v" },
        { "x_mkt", "2" }
    };
    const char  *name, *val;
    size_t       i, pos = 0, nlen, vlen;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_true(mkt_cookie_pair(hdr, strlen(hdr), &pos, &name, &nlen,
                                    &val, &vlen));
        assert_int_equal(nlen, strlen(want[i][0]));
        assert_memory_equal(name, want[i][0], nlen);
        assert_int_equal(vlen, strlen(want[i][1]));
        assert_memory_equal(val, want[i][1], vlen);
    }

    assert_false(mkt_cookie_pair(hdr, strlen(hdr), &pos, &name, &nlen, &val,
                                 &vlen));
    assert_int_equal(pos, strlen(hdr));
}


static void
test_cookie_next_is_case_sensitive_and_exact(void **state)
{
    const char  *hdr = "_MKT=1; x_mkt=2; _mk=3";
    const char  *val;
    size_t       pos = 0, len;

    assert_false(mkt_cookie_next(hdr, strlen(hdr), &pos, "_mkt", 4, &val,
                                 &len));
}


static void
test_text_clean_keeps_valid_utf8_and_drops_controls(void **state)
{
    char    out[64];
    size_t  n;

    n = mkt_text_clean(out, sizeof(out), "u\x01" "42\x7f\xc2\x85 \xe5\xb0\x8f",
                       11);
    assert_int_equal(n, 7);
    assert_memory_equal(out, "u42 \xe5\xb0\x8f", 7);
}


static void
test_text_clean_replaces_invalid_sequences(void **state)
{
    char    out[64];
    size_t  n;

    /* lone continuation, overlong '/', surrogate, truncated sequence */
    n = mkt_text_clean(out, sizeof(out), "a\x80" "b\xc0\xaf" "c\xed\xa0\x80"
                       "d\xe5\xb0", 13);
    assert_int_equal(n, 4 + 8 * 3);
    assert_memory_equal(out, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
                        "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "d\xef\xbf\xbd\xef\xbf\xbd", n);
}


static void
test_text_clean_never_cuts_a_character(void **state)
{
    char    out[5];
    size_t  n;

    n = mkt_text_clean(out, sizeof(out), "ab\xe5\xb0\x8f\xe5\xb0\x8f", 8);
    assert_int_equal(n, 5);
    n = mkt_text_clean(out, 4, "ab\xe5\xb0\x8f", 5);
    assert_int_equal(n, 2);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(
            test_encode_produces_version_vid_base36_issue_time_and_signature),
        cmocka_unit_test(test_encode_without_secret_is_unsigned),
        cmocka_unit_test(test_encode_refuses_issue_times_decode_would_reject),
        cmocka_unit_test(test_decode_does_not_overflow_at_the_end_of_time),
        cmocka_unit_test(test_decode_accepts_a_good_cookie),
        cmocka_unit_test(test_decode_rejects_a_tampered_vid),
        cmocka_unit_test(test_decode_rejects_a_tampered_issue_time),
        cmocka_unit_test(test_decode_rejects_a_tampered_signature),
        cmocka_unit_test(test_decode_rejects_another_secret),
        cmocka_unit_test(test_decode_rejects_unsigned_when_a_secret_is_set),
        cmocka_unit_test(
            test_decode_without_secret_accepts_signed_and_unsigned),
        cmocka_unit_test(test_decode_rejects_future_issue_time_beyond_skew),
        cmocka_unit_test(
            test_age_accepts_up_to_max_age_and_a_day_and_refuses_a_second_more),
        cmocka_unit_test(test_age_does_not_overflow_at_the_extremes),
        cmocka_unit_test(test_refresh_is_due_after_a_day),
        cmocka_unit_test(
            test_a_visitor_seen_within_max_age_keeps_the_id_for_years),
        cmocka_unit_test(
            test_a_copied_cookie_stops_working_a_day_after_max_age),
        cmocka_unit_test(test_decode_rejects_oversized_values),
        cmocka_unit_test(test_decode_rejects_malformed_values),
        cmocka_unit_test(test_decode_handles_embedded_nul_as_malformed),
        cmocka_unit_test(
            test_generated_vids_are_22_chars_canonical_and_distinct),
        cmocka_unit_test(test_status_names_are_stable),
        cmocka_unit_test(test_cookie_next_finds_pairs_and_repeats),
        cmocka_unit_test(test_cookie_pair_walks_every_pair_once),
        cmocka_unit_test(test_cookie_next_is_case_sensitive_and_exact),
        cmocka_unit_test(test_text_clean_keeps_valid_utf8_and_drops_controls),
        cmocka_unit_test(test_text_clean_replaces_invalid_sequences),
        cmocka_unit_test(test_text_clean_never_cuts_a_character),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
