/* Unit tests of the attribution sections of the config file
 * (src/config_attribution.c): "channels" and "referrers" compiled into
 * the model, their lookups, and every error with its exact message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "config_diag.h"

#define S(lit)  lit, sizeof(lit) - 1

/* "channels" with the given members */
#define CH(members)  "{\"channels\": {" members "}}"
#define CODES(codes) CH("\"param\": \"ch\", \"codes\": {" codes "}")
#define REFS(lists)  "{\"referrers\": {" lists "}}"


static void
test_channels_compile_param_codes_and_click_ids(void **state)
{
    mkt_config_t              *cfg;
    const mkt_channels_t      *ch;
    const mkt_channel_code_t  *c;

    cfg = load(CH("\"param\": \"ch\", \"click_ids\": [\"bd_vid\", "
                  "\"qz_gdt\"], \"codes\": {"
                  "\"xhs01\": {\"source\": \"xiaohongshu\", "
                  "\"medium\": \"social\", \"campaign\": \"w47\"},"
                  "\"bd02\": {\"source\": \"baidu\", \"medium\": \"cpc\"},"
                  "\"A\": {\"source\": \"a\", \"medium\": \"b\"}}"));
    assert_non_null(cfg);
    assert_int_equal(diag.nwarnings, 0);

    ch = mkt_config_channels(cfg);
    assert_true(str_is(ch->param, "ch"));
    assert_int_equal(ch->nclick_ids, 2);
    assert_true(str_is(ch->click_ids[0], "bd_vid"));
    assert_true(str_is(ch->click_ids[1], "qz_gdt"));

    /* sorted bytewise: "A" < "bd02" < "xhs01" */
    assert_int_equal(ch->ncodes, 3);
    assert_true(str_is(ch->codes[0].code, "A"));
    assert_true(str_is(ch->codes[1].code, "bd02"));
    assert_true(str_is(ch->codes[2].code, "xhs01"));

    c = mkt_channels_find_code(ch, S("xhs01"));
    assert_non_null(c);
    assert_true(str_is(c->source, "xiaohongshu"));
    assert_true(str_is(c->medium, "social"));
    assert_true(str_is(c->campaign, "w47"));
    c = mkt_channels_find_code(ch, S("bd02"));
    assert_non_null(c);
    assert_int_equal(c->campaign.len, 0);

    /* codes are exact: no case folding, no prefixes */
    assert_null(mkt_channels_find_code(ch, S("XHS01")));
    assert_null(mkt_channels_find_code(ch, S("xhs0")));
    assert_null(mkt_channels_find_code(ch, S("xhs011")));
    assert_null(mkt_channels_find_code(NULL, S("xhs01")));
    mkt_config_free(cfg);
}


static void
test_absent_sections_compile_empty(void **state)
{
    mkt_config_t           *cfg;
    const mkt_channels_t   *ch;
    const mkt_referrers_t  *r;

    cfg = load("{}");
    assert_non_null(cfg);
    ch = mkt_config_channels(cfg);
    r = mkt_config_referrers(cfg);
    assert_int_equal(ch->param.len, 0);
    assert_int_equal(ch->ncodes + ch->nclick_ids, 0);
    assert_int_equal(r->same_site.n + r->search.n + r->social.n, 0);
    assert_null(mkt_channels_find_code(ch, S("x")));
    assert_null(mkt_host_list_match(&r->same_site, S("example.com")));
    mkt_config_free(cfg);
}


static void
test_referrers_are_normalised_sorted_and_matched_with_subdomains(void **s)
{
    mkt_config_t           *cfg;
    const mkt_referrers_t  *r;

    cfg = load(REFS("\"same_site\": [\"Example.COM\", \"example.cn.\"], "
                    "\"search\": [\"search.example.net\"], "
                    "\"social\": [\"my-community.cn\", \"bbs.foo.org\"]"));
    assert_non_null(cfg);
    r = mkt_config_referrers(cfg);

    assert_int_equal(r->same_site.n, 2);
    assert_true(str_is(r->same_site.names[0], "example.cn"));
    assert_true(str_is(r->same_site.names[1], "example.com"));
    assert_int_equal(r->social.n, 2);
    assert_true(str_is(r->social.names[0], "bbs.foo.org"));
    assert_true(str_is(r->social.names[1], "my-community.cn"));

    assert_non_null(mkt_host_list_match(&r->same_site, S("example.com")));
    assert_non_null(mkt_host_list_match(&r->same_site, S("www.example.com")));
    assert_non_null(mkt_host_list_match(&r->same_site, S("a.b.example.cn")));
    assert_null(mkt_host_list_match(&r->same_site, S("notexample.com")));
    assert_null(mkt_host_list_match(&r->same_site, S("example.com.evil")));
    assert_null(mkt_host_list_match(&r->same_site, S("com")));
    assert_non_null(mkt_host_list_match(&r->search, S("search.example.net")));
    assert_null(mkt_host_list_match(&r->search, S("example.net")));
    assert_ptr_equal(mkt_host_list_match(&r->social, S("m.bbs.foo.org")),
                     &r->social.names[0]);
    assert_null(mkt_host_list_match(&r->social, S("foo.org")));
    assert_null(mkt_host_list_match(&r->social, S("")));
    assert_null(mkt_host_list_match(NULL, S("foo.org")));
    mkt_config_free(cfg);
}


static void
test_bad_channel_param(void **state)
{
    assert_error(CH("\"param\": \"c h\""),
                 "t.json: channels.param: expected a parameter name of 1 to "
                 "64 characters A-Z a-z 0-9 _ . -");
    assert_error(CH("\"param\": 7"),
                 "t.json: channels.param: expected a parameter name of 1 to "
                 "64 characters A-Z a-z 0-9 _ . -");
    assert_error(CH("\"param\": \"UTM_Source\""),
                 "t.json: channels.param: \"UTM_Source\" is a utm parameter");
    assert_error(CH("\"param\": \"GCLID\""),
                 "t.json: channels.param: \"GCLID\" is a built-in click id");
    assert_error(CH("\"param\": \"bd_vid\", \"click_ids\": [\"BD_VID\"]"),
                 "t.json: channels.param: \"bd_vid\" is also in "
                 "channels.click_ids");
}


static void
test_bad_channel_codes(void **state)
{
    assert_error(CH("\"codes\": {\"x\": {\"source\": \"a\", "
                    "\"medium\": \"b\"}}"),
                 "t.json: channels: \"codes\" without \"param\", the query "
                 "parameter that carries them");
    assert_error(CH("\"param\": \"ch\", \"codes\": []"),
                 "t.json: channels.codes: expected an object of channel "
                 "codes");
    assert_error(CODES("\"a b\": {\"source\": \"a\", \"medium\": \"b\"}"),
                 "t.json: channels.codes[\"a b\"]: expected a channel code "
                 "of 1 to 64 characters A-Z a-z 0-9 _ . -");
    assert_error(CODES("\"x\": \"baidu\""),
                 "t.json: channels.codes.x: expected an object like "
                 "{\"source\": ..., \"medium\": ...}");
    assert_error(CODES("\"x\": {\"medium\": \"b\"}"),
                 "t.json: channels.codes.x: missing \"source\"");
    assert_error(CODES("\"x\": {\"source\": \"a\"}"),
                 "t.json: channels.codes.x: missing \"medium\"");
    assert_error(CODES("\"x\": {\"source\": \"\", \"medium\": \"b\"}"),
                 "t.json: channels.codes.x.source: expected a string of 1 "
                 "to 128 bytes");
    assert_error(CODES("\"x\": {\"source\": \"a\", \"medium\": \"b\", "
                       "\"campaign\": \"w\\u007f47\"}"),
                 "t.json: channels.codes.x.campaign: control characters are "
                 "not allowed");
    assert_error(CODES("\"x\": {\"source\": \"a\", \"medium\": \"b\\u0085\"}"),
                 "t.json: channels.codes.x.medium: control characters are "
                 "not allowed");
    assert_warning(CODES("\"x\": {\"source\": \"a\", \"medium\": \"b\", "
                         "\"chanel\": \"c\"}"),
                   "t.json: channels.codes.x: unknown key \"chanel\" "
                   "ignored");
}


static void
test_a_128_byte_value_passes_129_fails(void **state)
{
    char           json[512];
    char           v[130];
    mkt_config_t  *cfg;

    memset(v, 'v', 128);
    v[128] = '\0';
    snprintf(json, sizeof(json), CODES("\"x\": {\"source\": \"%s\", "
                                       "\"medium\": \"b\"}"), v);
    cfg = load(json);
    assert_non_null(cfg);
    assert_int_equal(mkt_config_channels(cfg)->codes[0].source.len, 128);
    mkt_config_free(cfg);

    v[128] = 'v';
    v[129] = '\0';
    snprintf(json, sizeof(json), CODES("\"x\": {\"source\": \"%s\", "
                                       "\"medium\": \"b\"}"), v);
    assert_error(json, "t.json: channels.codes.x.source: expected a string "
                 "of 1 to 128 bytes");
}


static void
test_bad_click_ids(void **state)
{
    char    json[1024];
    size_t  i, n;

    assert_error(CH("\"click_ids\": \"bd_vid\""),
                 "t.json: channels.click_ids: expected an array of query "
                 "parameter names");
    assert_error(CH("\"click_ids\": [\"fbclid\"]"),
                 "t.json: channels.click_ids[0]: \"fbclid\" is a built-in "
                 "click id");
    assert_error(CH("\"click_ids\": [\"utm_term\"]"),
                 "t.json: channels.click_ids[0]: \"utm_term\" is a utm "
                 "parameter");
    assert_error(CH("\"click_ids\": [\"bd_vid\", \"BD_VID\"]"),
                 "t.json: channels.click_ids[1]: duplicate click id "
                 "\"BD_VID\"");
    assert_error(CH("\"click_ids\": [\"\"]"),
                 "t.json: channels.click_ids[0]: expected a parameter name "
                 "of 1 to 64 characters A-Z a-z 0-9 _ . -");

    n = (size_t) snprintf(json, sizeof(json), "{\"channels\": {\"click_ids\""
                          ": [");
    for (i = 0; i <= MKT_CLICK_IDS_MAX; i++) {
        n += (size_t) snprintf(json + n, sizeof(json) - n, "%s\"c%zu\"",
                               i ? ", " : "", i);
    }
    snprintf(json + n, sizeof(json) - n, "]}}");
    assert_error(json, "t.json: channels.click_ids: more than 32 click ids");
}


static void
test_bad_referrer_hosts(void **state)
{
    static const char *const  bad[] = {
        "https://example.com", "example.com/", "*.example.com",
        ".example.com", "example.com:8080", "[::1]", "exa mple.com",
        "例子.cn", "", "a..b"
    };
    char                      json[256];
    size_t                    i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(json, sizeof(json), REFS("\"search\": [\"%s\"]"), bad[i]);
        assert_error(json, "t.json: referrers.search[0]: expected a host "
                     "name like \"example.com\" (its subdomains match too)");
    }

    assert_error(REFS("\"social\": [\"a.com\", \"b.com\", \"A.com.\"]"),
                 "t.json: referrers.social[2]: duplicate host \"a.com\"");
    assert_error(REFS("\"same_site\": [\"a.com\"], \"social\": [\"A.COM\"]"),
                 "t.json: referrers.social[0]: \"a.com\" is also in "
                 "referrers.same_site");
    assert_error(REFS("\"search\": [\"a.com\"], \"social\": [\"a.com\"]"),
                 "t.json: referrers.social[0]: \"a.com\" is also in "
                 "referrers.search");
    assert_error(REFS("\"same_site\": [1]"),
                 "t.json: referrers.same_site[0]: expected a host name like "
                 "\"example.com\" (its subdomains match too)");
    assert_warning(REFS("\"sites\": []"),
                   "t.json: referrers: unknown key \"sites\" ignored");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_channels_compile_param_codes_and_click_ids),
        cmocka_unit_test(test_absent_sections_compile_empty),
        cmocka_unit_test(
            test_referrers_are_normalised_sorted_and_matched_with_subdomains),
        cmocka_unit_test(test_bad_channel_param),
        cmocka_unit_test(test_bad_channel_codes),
        cmocka_unit_test(test_a_128_byte_value_passes_129_fails),
        cmocka_unit_test(test_bad_click_ids),
        cmocka_unit_test(test_bad_referrer_hosts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
