/* Unit tests of src/channel.c: every row of the channel rules table, the
 * order between rows, and the names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "channel.h"
#include "referrer.h"

typedef struct {
    const char        *source;
    const char        *medium;
    mkt_click_kind_e   click;
    const char        *want;
} case_t;

#define NONE    MKT_CLICK_NONE
#define SEARCH  MKT_CLICK_SEARCH
#define SOCIAL  MKT_CLICK_SOCIAL
#define OTHER   MKT_CLICK_OTHER


/* Each case: the source's flags from the built-in tables, as a touch
 * gives them. */
static void
run(const case_t *cases, size_t n)
{
    size_t             i;
    mkt_channel_e      ch;
    mkt_channel_in_t   in;

    for (i = 0; i < n; i++) {
        memset(&in, 0, sizeof(in));
        in.source = cases[i].source;
        in.source_len = strlen(cases[i].source);
        in.medium = cases[i].medium;
        in.medium_len = strlen(cases[i].medium);
        in.source_flags = mkt_source_flags(NULL, in.source, in.source_len);
        in.click = cases[i].click;

        ch = mkt_channel_classify(&in);
        if (strcmp(mkt_channel_name(ch), cases[i].want) != 0) {
            fail_msg("\"%s\" / \"%s\" (click %d) is %s, expected %s",
                     cases[i].source, cases[i].medium, (int) cases[i].click,
                     mkt_channel_name(ch), cases[i].want);
        }
    }
}

#define RUN(cases)  run(cases, sizeof(cases) / sizeof(cases[0]))


static void
test_direct_is_direct_whatever_else(void **state)
{
    mkt_channel_in_t  in;

    memset(&in, 0, sizeof(in));
    in.direct = 1;
    assert_int_equal(mkt_channel_classify(&in), MKT_CHANNEL_DIRECT);
    in.medium = "cpc";
    in.medium_len = 3;
    in.click = MKT_CLICK_SEARCH;
    assert_int_equal(mkt_channel_classify(&in), MKT_CHANNEL_DIRECT);
}


static void
test_search_click_ids_decide_before_source_and_medium(void **state)
{
    static const case_t  cases[] = {
        { "google", "cpc", SEARCH, "paid_search" },
        { "newsletter", "email", SEARCH, "paid_search" },
        { "facebook", "cpc", SOCIAL, "paid_social" },
        { "facebook", "social", SOCIAL, "organic_social" },
        { "", "cpc", OTHER, "paid_other" },
        { "baidu", "cpc", OTHER, "paid_search" },
        { "newsletter", "email", OTHER, "email" },
    };

    RUN(cases);
}


static void
test_paid_media_by_the_kind_of_source(void **state)
{
    static const case_t  cases[] = {
        { "baidu", "cpc", NONE, "paid_search" },
        { "Baidu", "PPC", NONE, "paid_search" },
        { "google", "paid", NONE, "paid_search" },
        { "bing", "retargeting", NONE, "paid_search" },
        { "sogou.com", "cpc", NONE, "paid_search" },
        { "weibo", "cpc", NONE, "paid_social" },
        { "xiaohongshu", "cpm", NONE, "paid_social" },
        { "wechat", "paid-kol", NONE, "paid_social" },
        { "youtube", "cpc", NONE, "paid_video" },
        { "bilibili", "cpv", NONE, "paid_video" },
        { "partner", "cpc", NONE, "paid_other" },
        { "partner", "paid-influencer", NONE, "paid_other" },
        { "", "cpa", NONE, "paid_other" },
    };

    RUN(cases);
}


static void
test_paid_media_spelled_out(void **state)
{
    static const case_t  cases[] = {
        { "newsletter", "paidsearch", NONE, "paid_search" },
        { "site", "Paid_Search", NONE, "paid_search" },
        { "site", "sem", NONE, "paid_search" },
        { "site", "paid-social", NONE, "paid_social" },
        { "site", "paidvideo", NONE, "paid_video" },
    };

    RUN(cases);
}


static void
test_display_before_paid_other(void **state)
{
    static const case_t  cases[] = {
        { "dsp", "display", NONE, "display" },
        { "dsp", "banner", NONE, "display" },
        { "dsp", "interstitial", NONE, "display" },
        { "dsp", "expandable", NONE, "display" },
        { "dsp", "cpm", NONE, "display" },
        { "google", "cpm", NONE, "paid_search" },
        { "dsp", "display-ads", NONE, "unassigned" },
    };

    RUN(cases);
}


static void
test_organic_channels(void **state)
{
    static const case_t  cases[] = {
        { "youtube", "", NONE, "organic_video" },
        { "youtu.be", "referral", NONE, "organic_video" },
        { "site", "video", NONE, "organic_video" },
        { "site", "short-Video", NONE, "organic_video" },
        { "weibo", "", NONE, "organic_social" },
        { "xhs", "social", NONE, "organic_social" },
        { "x", "", NONE, "organic_social" },
        { "m.weibo.cn", "referral", NONE, "organic_social" },
        { "community", "social-network", NONE, "organic_social" },
        { "community", "social media", NONE, "organic_social" },
        { "community", "sm", NONE, "organic_social" },
        { "baidu", "organic", NONE, "organic_search" },
        { "baidu", "referral", NONE, "organic_search" },
        { "site", "organic", NONE, "organic_search" },
        { "google.co.uk", "", NONE, "organic_search" },
    };

    RUN(cases);
}


static void
test_referral_email_and_the_rest(void **state)
{
    static const case_t  cases[] = {
        { "news.ycombinator.com", "referral", NONE, "referral" },
        { "site", "app", NONE, "referral" },
        { "site", "link", NONE, "referral" },
        { "newsletter", "email", NONE, "email" },
        { "newsletter", "E-Mail", NONE, "email" },
        { "email", "", NONE, "email" },
        { "e mail", "x", NONE, "email" },
        { "qqmail", "email", NONE, "email" },
        { "qqmail", "", NONE, "email" },
        { "partner", "affiliate", NONE, "affiliate" },
        { "partner", "Affiliates", NONE, "affiliate" },
        { "ximalaya", "audio", NONE, "audio" },
        { "sms", "x", NONE, "sms" },
        { "site", "SMS", NONE, "sms" },
        { "site", "web-push", NONE, "mobile_push" },
        { "site", "mobile", NONE, "mobile_push" },
        { "site", "app-notification", NONE, "mobile_push" },
        { "firebase", "x", NONE, "mobile_push" },
        { "site", "y", NONE, "unassigned" },
        { "", "", NONE, "unassigned" },
        { "email-list", "pushy", NONE, "unassigned" },
    };

    RUN(cases);
}


static void
test_names_are_stable(void **state)
{
    static const char *const  want[] = {
        "direct", "paid_search", "paid_social", "paid_video", "display",
        "paid_other", "organic_search", "organic_social", "organic_video",
        "email", "affiliate", "referral", "audio", "sms", "mobile_push",
        "unassigned"
    };
    size_t                    i;

    assert_int_equal(sizeof(want) / sizeof(want[0]), MKT_CHANNEL_COUNT);
    for (i = 0; i < MKT_CHANNEL_COUNT; i++) {
        assert_string_equal(mkt_channel_name((mkt_channel_e) i), want[i]);
    }
    assert_string_equal(mkt_channel_name(MKT_CHANNEL_COUNT), "unassigned");
}


/* The table of docs/attribution.md is the code's, row by row. */
static void
test_docs_show_the_rules_of_the_code(void **state)
{
    int     in_section;
    char    line[512], want[512];
    size_t  i, n, rows;
    FILE   *f;

    f = fopen("docs/attribution.md", "r");
    if (f == NULL) {
        fail_msg("docs/attribution.md: cannot open (run from the repo root)");
    }

    i = 0;
    rows = 0;
    in_section = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "## ", 3) == 0) {
            in_section = strcmp(line, "## Channels") == 0;
        }
        if (!in_section || line[0] != '|' || line[1] != ' ' || line[2] < '0'
            || line[2] > '9')
        {
            continue;
        }
        rows++;
        n = mkt_channel_rule_text(i, want, sizeof(want));
        if (n == 0 || strcmp(line, want) != 0) {
            fclose(f);
            fail_msg("docs/attribution.md has \"%s\", the code \"%s\"",
                     line, n ? want : "(no more rules)");
        }
        i++;
    }
    fclose(f);

    assert_int_equal(mkt_channel_rule_text(i, want, sizeof(want)), 0);
    assert_int_equal(rows, i);
    assert_true(rows > 20);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_direct_is_direct_whatever_else),
        cmocka_unit_test(test_search_click_ids_decide_before_source_and_medium),
        cmocka_unit_test(test_paid_media_by_the_kind_of_source),
        cmocka_unit_test(test_paid_media_spelled_out),
        cmocka_unit_test(test_display_before_paid_other),
        cmocka_unit_test(test_organic_channels),
        cmocka_unit_test(test_referral_email_and_the_rest),
        cmocka_unit_test(test_names_are_stable),
        cmocka_unit_test(test_docs_show_the_rules_of_the_code),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
