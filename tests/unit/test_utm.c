/* Unit tests of src/utm.c: utm_* values, click ids and channel codes from
 * a query string, with decoding, cleaning, caps, repeats and bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "config_fixture.h"
#include "utm.h"

#define S(lit)  lit, sizeof(lit) - 1
#define FFFD    "\xef\xbf\xbd"


static int
setup(void **state)
{
    return load_fixture(
        "{\"channels\": {\"param\": \"utm_ch\", \"click_ids\": [\"bd_vid\"],"
        " \"codes\": {\"xhs01\": {\"source\": \"xiaohongshu\", "
        "\"medium\": \"social\", \"campaign\": \"w47\"}}}}");
}


static void
parse(const char *q, mkt_utm_t *u)
{
    mkt_utm_parse(mkt_config_channels(cfg), q, strlen(q), u);
}


static void
check_field(const mkt_utm_t *u, mkt_utm_field_e f, const char *want,
    int line)
{
    if (u->len[f] != strlen(want)
        || memcmp(u->value[f], want, u->len[f]) != 0)
    {
        fail_msg("line %d: utm_%s is \"%.*s\", expected \"%s\"", line,
                 mkt_utm_field_name(f), (int) u->len[f], u->value[f], want);
    }
}

#define assert_field(u, f, want)  check_field(u, f, want, __LINE__)


static void
test_reads_the_five_utm_parameters(void **state)
{
    mkt_utm_t  u;

    parse("a=1&utm_source=baidu&utm_medium=cpc&utm_campaign=w47"
          "&utm_term=shoes&utm_content=hero&b=2", &u);
    assert_field(&u, MKT_UTM_SOURCE, "baidu");
    assert_field(&u, MKT_UTM_MEDIUM, "cpc");
    assert_field(&u, MKT_UTM_CAMPAIGN, "w47");
    assert_field(&u, MKT_UTM_TERM, "shoes");
    assert_field(&u, MKT_UTM_CONTENT, "hero");
    assert_null(u.click_name);
    assert_int_equal(u.click_kind, MKT_CLICK_NONE);
    assert_null(u.code);
    assert_true(mkt_utm_present(&u));
}


static void
test_nothing_of_interest_is_not_present(void **state)
{
    mkt_utm_t  u;

    parse("q=shoes&page=2&utm_id=7&utm_=x&utm=y", &u);
    assert_false(mkt_utm_present(&u));
    mkt_utm_parse(NULL, NULL, 0, &u);
    assert_false(mkt_utm_present(&u));
}


static void
test_names_are_case_insensitive_and_not_decoded(void **state)
{
    mkt_utm_t  u;

    parse("UTM_Source=Google&Utm_MEDIUM=CPC&utm%5Fcampaign=x", &u);
    assert_field(&u, MKT_UTM_SOURCE, "Google");
    assert_field(&u, MKT_UTM_MEDIUM, "CPC");
    assert_field(&u, MKT_UTM_CAMPAIGN, "");
}


static void
test_values_are_percent_decoded_with_plus_as_space(void **state)
{
    mkt_utm_t  u;

    parse("utm_campaign=%E5%8F%8C11+sale&utm_term=a%2Bb%26c%3Dd"
          "&utm_content=x=y", &u);
    assert_field(&u, MKT_UTM_CAMPAIGN, "\xe5\x8f\x8c" "11 sale");
    assert_field(&u, MKT_UTM_TERM, "a+b&c=d");
    assert_field(&u, MKT_UTM_CONTENT, "x=y");
}


static void
test_percent_garbage_stays_literal(void **state)
{
    mkt_utm_t  u;

    parse("utm_source=%zz%4&utm_medium=%%41%&utm_term=100%", &u);
    assert_field(&u, MKT_UTM_SOURCE, "%zz%4");
    assert_field(&u, MKT_UTM_MEDIUM, "%A%");
    assert_field(&u, MKT_UTM_TERM, "100%");
}


static void
test_invalid_utf8_becomes_replacement_characters(void **state)
{
    mkt_utm_t  u;

    parse("utm_term=%FFab%C0%AF&utm_content=%E5%8F&utm_source=\xff\xfe", &u);
    assert_field(&u, MKT_UTM_TERM, FFFD "ab" FFFD FFFD);
    assert_field(&u, MKT_UTM_CONTENT, FFFD FFFD);
    assert_field(&u, MKT_UTM_SOURCE, FFFD FFFD);
}


static void
test_control_characters_are_stripped(void **state)
{
    mkt_utm_t  u;

    parse("utm_term=a%00b%0Ac%7Fd%C2%85e%09&utm_source=%0D%0A", &u);
    assert_field(&u, MKT_UTM_TERM, "abcde");
    assert_field(&u, MKT_UTM_SOURCE, "");
}


static void
test_values_are_trimmed_of_spaces(void **state)
{
    mkt_utm_t  u;

    parse("utm_source=+google+&utm_medium=%20%01%20cpc%20%00+"
          "&utm_term=a++b", &u);
    assert_field(&u, MKT_UTM_SOURCE, "google");
    assert_field(&u, MKT_UTM_MEDIUM, "cpc");
    assert_field(&u, MKT_UTM_TERM, "a  b");
}


static void
test_first_non_empty_value_of_a_repeated_parameter_wins(void **state)
{
    mkt_utm_t  u;

    parse("utm_source=&utm_source=+&utm_source=a&utm_source=b"
          "&utm_medium&utm_medium=m&UTM_MEDIUM=n", &u);
    assert_field(&u, MKT_UTM_SOURCE, "a");
    assert_field(&u, MKT_UTM_MEDIUM, "m");
}


static void
test_values_are_cut_to_128_bytes_at_a_character_boundary(void **state)
{
    char       q[2048];
    size_t     n, i;
    mkt_utm_t  u;

    n = (size_t) snprintf(q, sizeof(q), "utm_source=");
    memset(q + n, 'a', 300);
    n += 300;
    n += (size_t) snprintf(q + n, sizeof(q) - n, "&utm_term=");
    for (i = 0; i < 43; i++) {              /* 43 x U+4E2D: 129 bytes */
        n += (size_t) snprintf(q + n, sizeof(q) - n, "%%E4%%B8%%AD");
    }
    q[n] = '\0';

    parse(q, &u);
    assert_int_equal(u.len[MKT_UTM_SOURCE], MKT_UTM_VALUE_MAX);
    assert_int_equal(u.value[MKT_UTM_SOURCE][127], 'a');
    assert_int_equal(u.len[MKT_UTM_TERM], 126);
    assert_memory_equal(u.value[MKT_UTM_TERM] + 123, "\xe4\xb8\xad", 3);
}


static void
test_builtin_click_ids_carry_their_network(void **state)
{
    static const struct {
        const char        *q;
        const char        *name;
        const char        *source;
        mkt_click_kind_e   kind;
    } cases[] = {
        { "gclid=Cj0K", "gclid", "google", MKT_CLICK_SEARCH },
        { "gbraid=0AA", "gbraid", "google", MKT_CLICK_SEARCH },
        { "wbraid=CkE", "wbraid", "google", MKT_CLICK_SEARCH },
        { "MSCLKID=abc", "msclkid", "bing", MKT_CLICK_SEARCH },
        { "fbclid=IwAR", "fbclid", "facebook", MKT_CLICK_SOCIAL },
        { "ttclid=E.C", "ttclid", "tiktok", MKT_CLICK_SOCIAL },
        { "li_fat_id=1-2", "li_fat_id", "linkedin", MKT_CLICK_SOCIAL },
        { "twclid=2-x", "twclid", "twitter", MKT_CLICK_SOCIAL },
        { "bd_vid=11", "bd_vid", "", MKT_CLICK_OTHER },
    };
    size_t     i;
    mkt_utm_t  u;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse(cases[i].q, &u);
        assert_non_null(u.click_name);
        assert_string_equal(u.click_name, cases[i].name);
        assert_int_equal(u.click_name_len, strlen(cases[i].name));
        assert_string_equal(u.click_source, cases[i].source);
        assert_int_equal(u.click_kind, cases[i].kind);
        assert_int_equal(u.click_len, strlen(strchr(cases[i].q, '=') + 1));
        assert_memory_equal(u.click, strchr(cases[i].q, '=') + 1,
                            u.click_len);
        assert_true(mkt_utm_present(&u));
    }
}


static void
test_first_click_id_in_the_query_wins(void **state)
{
    mkt_utm_t  u;

    parse("gclid=&fbclid=%00&bd_vid=B&gclid=G&fbclid=F", &u);
    assert_string_equal(u.click_name, "bd_vid");
    assert_int_equal(u.click_len, 1);
    assert_int_equal(u.click[0], 'B');
}


static void
test_configured_click_ids_need_the_config(void **state)
{
    mkt_utm_t  u;

    mkt_utm_parse(NULL, S("bd_vid=1&utm_ch=xhs01"), &u);
    assert_false(mkt_utm_present(&u));
    mkt_utm_parse(NULL, S("gclid=1"), &u);
    assert_string_equal(u.click_name, "gclid");
}


static void
test_click_ids_are_cut_to_256_bytes(void **state)
{
    char       q[700];
    mkt_utm_t  u;

    memcpy(q, "gclid=", 6);
    memset(q + 6, 'x', 600);
    q[606] = '\0';
    parse(q, &u);
    assert_int_equal(u.click_len, MKT_CLICK_ID_MAX);
}


static void
test_channel_code_maps_to_the_configured_code(void **state)
{
    mkt_utm_t  u;

    parse("utm_ch=%78hs01", &u);
    assert_non_null(u.code);
    assert_true(u.code->source.len == 11
                && memcmp(u.code->source.data, "xiaohongshu", 11) == 0);
    assert_true(mkt_utm_present(&u));

    parse("UTM_CH=xhs01", &u);
    assert_non_null(u.code);

    parse("utm_ch=XHS01", &u);
    assert_null(u.code);
    assert_false(mkt_utm_present(&u));

    /* the first value decides, found or not */
    parse("utm_ch=&utm_ch=nope&utm_ch=xhs01", &u);
    assert_null(u.code);
    parse("utm_ch=xhs01&utm_ch=nope", &u);
    assert_non_null(u.code);
}


static void
test_scan_stops_at_the_bound(void **state)
{
    char       *q;
    size_t      n;
    mkt_utm_t   u;

    q = malloc(MKT_QUERY_SCAN_MAX * 2);
    assert_non_null(q);

    /* utm_source ends exactly at the bound; utm_medium straddles it */
    n = MKT_QUERY_SCAN_MAX - strlen("&utm_source=s");
    memset(q, 'x', n);
    memcpy(q + n, "&utm_source=s&utm_medium=m&utm_term=t", 38);
    mkt_utm_parse(mkt_config_channels(cfg), q, n + 38, &u);
    assert_field(&u, MKT_UTM_SOURCE, "s");
    assert_field(&u, MKT_UTM_MEDIUM, "");
    assert_field(&u, MKT_UTM_TERM, "");

    /* a value running past the bound is ignored, not cut */
    memcpy(q, "utm_campaign=", 13);
    memset(q + 13, 'c', MKT_QUERY_SCAN_MAX * 2 - 13);
    mkt_utm_parse(mkt_config_channels(cfg), q, MKT_QUERY_SCAN_MAX * 2, &u);
    assert_false(mkt_utm_present(&u));

    free(q);
}


static void
test_huge_and_binary_queries_are_safe(void **state)
{
    char       *q;
    size_t      i, n, f;
    mkt_utm_t   u;

    n = 1 << 20;
    q = malloc(n);
    assert_non_null(q);
    for (i = 0; i < n; i++) {
        q[i] = (char) (i * 131 + (i >> 8));
    }
    memcpy(q, "utm_source=%00\xc3\x28&", 18);
    mkt_utm_parse(mkt_config_channels(cfg), q, n, &u);
    assert_field(&u, MKT_UTM_SOURCE, FFFD "(");
    for (f = 0; f < MKT_UTM_FIELDS; f++) {
        assert_true(u.len[f] <= MKT_UTM_VALUE_MAX);
    }

    /* every byte value as a value */
    memcpy(q, "utm_term=", 9);
    for (i = 0; i < 256; i++) {
        q[9 + i] = i == '&' ? 'x' : (char) i;
    }
    mkt_utm_parse(NULL, q, 9 + 256, &u);
    /* 94 printable bytes (C0 and DEL dropped, the leading space trimmed),
     * then 11 U+FFFD of 0x80..0x8a; a 12th would pass 128 */
    assert_int_equal(u.len[MKT_UTM_TERM], 94 + 11 * 3);
    for (i = 0; i < u.len[MKT_UTM_TERM]; i++) {
        assert_true((unsigned char) u.value[MKT_UTM_TERM][i] >= 0x20);
    }
    free(q);
}


static void
test_builtin_parameter_names(void **state)
{
    assert_int_equal(mkt_utm_builtin_param(S("utm_content")), 1);
    assert_int_equal(mkt_utm_builtin_param(S("UTM_TERM")), 1);
    assert_int_equal(mkt_utm_builtin_param(S("utm_id")), 0);
    assert_int_equal(mkt_utm_builtin_param(S("Li_Fat_Id")), 2);
    assert_int_equal(mkt_utm_builtin_param(S("gclid2")), 0);
    assert_string_equal(mkt_utm_field_name(MKT_UTM_CONTENT), "content");
    assert_string_equal(mkt_utm_field_name(MKT_UTM_FIELDS), "");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_reads_the_five_utm_parameters),
        cmocka_unit_test(test_nothing_of_interest_is_not_present),
        cmocka_unit_test(test_names_are_case_insensitive_and_not_decoded),
        cmocka_unit_test(test_values_are_percent_decoded_with_plus_as_space),
        cmocka_unit_test(test_percent_garbage_stays_literal),
        cmocka_unit_test(test_invalid_utf8_becomes_replacement_characters),
        cmocka_unit_test(test_control_characters_are_stripped),
        cmocka_unit_test(test_values_are_trimmed_of_spaces),
        cmocka_unit_test(
            test_first_non_empty_value_of_a_repeated_parameter_wins),
        cmocka_unit_test(
            test_values_are_cut_to_128_bytes_at_a_character_boundary),
        cmocka_unit_test(test_builtin_click_ids_carry_their_network),
        cmocka_unit_test(test_first_click_id_in_the_query_wins),
        cmocka_unit_test(test_configured_click_ids_need_the_config),
        cmocka_unit_test(test_click_ids_are_cut_to_256_bytes),
        cmocka_unit_test(test_channel_code_maps_to_the_configured_code),
        cmocka_unit_test(test_scan_stops_at_the_bound),
        cmocka_unit_test(test_huge_and_binary_queries_are_safe),
        cmocka_unit_test(test_builtin_parameter_names),
    };

    return cmocka_run_group_tests(tests, setup, free_fixture);
}
