/* Unit tests of src/domain.c: host normalisation, registrable domains
 * and subdomain matching. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "domain.h"

#define S(lit)  lit, sizeof(lit) - 1


static void
check_norm(const char *in, const char *want, int line)
{
    char    out[MKT_HOST_MAX], again[MKT_HOST_MAX];
    size_t  n;

    n = mkt_host_normalize(in, strlen(in), out);
    if (n != strlen(want) || memcmp(out, want, n) != 0) {
        fail_msg("line %d: \"%s\" normalised to \"%.*s\", expected \"%s\"",
                 line, in, (int) n, out, want);
    }
    if (n && (mkt_host_normalize(out, n, again) != n
              || memcmp(out, again, n) != 0))
    {
        fail_msg("line %d: normalising \"%s\" is not idempotent", line, in);
    }
}

#define assert_norm(in, want)  check_norm(in, want, __LINE__)


static void
check_site(const char *host, const char *want, int line)
{
    size_t  at;

    at = mkt_host_site(host, strlen(host));
    if (strcmp(host + at, want) != 0) {
        fail_msg("line %d: site of \"%s\" is \"%s\", expected \"%s\"", line,
                 host, host + at, want);
    }
}

#define assert_site(host, want)  check_site(host, want, __LINE__)


static void
test_normalise_lowercases_and_drops_port_and_trailing_dot(void **state)
{
    assert_norm("Example.COM:8080", "example.com");
    assert_norm("www.baidu.com.", "www.baidu.com");
    assert_norm("a.b.:443", "a.b");
    assert_norm("host:", "host");
    assert_norm("1.2.3.4:80", "1.2.3.4");
    assert_norm("xn--fiqs8s.cn", "xn--fiqs8s.cn");
    assert_norm("my_host-1.example", "my_host-1.example");
}


static void
test_normalise_keeps_ipv6_literals_in_brackets(void **state)
{
    assert_norm("[2001:DB8::1]:443", "[2001:db8::1]");
    assert_norm("[::1]", "[::1]");
    assert_norm("[::ffff:1.2.3.4]", "[::ffff:1.2.3.4]");
    assert_norm("[::1", "");
    assert_norm("[]", "");
    assert_norm("[::1]x", "");
    assert_norm("[::1]:x", "");
    assert_norm("[g::1]", "");
    assert_norm("[1]", "");
}


static void
test_normalise_rejects_what_is_not_a_host(void **state)
{
    char    long_label[80], long_host[300], out[MKT_HOST_MAX];
    size_t  i;

    assert_norm("", "");
    assert_norm(".", "");
    assert_norm(".a", "");
    assert_norm("a..b", "");
    assert_norm("a.b..", "");
    assert_norm("a b", "");
    assert_norm("a/b", "");
    assert_norm("user@a", "");
    assert_norm("a:b", "");
    assert_norm("a:123456", "");
    assert_norm("\xe4\xbe\x8b.cn", "");
    assert_int_equal(mkt_host_normalize(S("a\0b"), out), 0);

    memset(long_label, 'a', 63);
    long_label[63] = '\0';
    assert_norm(long_label, long_label);
    long_label[63] = 'a';
    long_label[64] = '\0';
    assert_norm(long_label, "");

    for (i = 0; i < 253; i++) {
        long_host[i] = i % 2 ? '.' : 'a';
    }
    long_host[252] = 'b';
    long_host[253] = '\0';
    assert_norm(long_host, long_host);
    long_host[253] = '.';                  /* a trailing dot is allowed */
    assert_int_equal(mkt_host_normalize(long_host, 254, out), 253);
    long_host[253] = 'c';
    assert_int_equal(mkt_host_normalize(long_host, 254, out), 0);
}


static void
test_site_of_generic_and_country_domains(void **state)
{
    assert_site("www.baidu.com", "baidu.com");
    assert_site("baidu.com", "baidu.com");
    assert_site("a.b.c.example.de", "example.de");
    assert_site("www.bbc.co.uk", "bbc.co.uk");
    assert_site("www.google.com.hk", "google.com.hk");
    assert_site("news.yahoo.co.jp", "yahoo.co.jp");
    assert_site("shop.example.com.cn", "example.com.cn");
    assert_site("www.gov.cn", "www.gov.cn");
    assert_site("m.sm.cn", "sm.cn");
    assert_site("www.example.com.gt", "example.com.gt");
    assert_site("x.t.co", "t.co");
    assert_site("t.co", "t.co");
}


static void
test_site_of_irregular_and_private_suffixes(void **state)
{
    assert_site("a.b.bj.cn", "b.bj.cn");
    assert_site("www.foo.idv.tw", "foo.idv.tw");
    assert_site("x.nhs.uk", "x.nhs.uk");
    assert_site("www.city.lg.jp", "city.lg.jp");
    assert_site("a.foo.github.io", "foo.github.io");
    assert_site("foo.github.io", "foo.github.io");
    assert_site("github.io", "github.io");
}


static void
test_suffixes_ips_and_single_labels_stand_for_themselves(void **state)
{
    assert_site("co.uk", "co.uk");
    assert_site("com.cn", "com.cn");
    assert_site("uk", "uk");
    assert_site("localhost", "localhost");
    assert_site("10.1.2.3", "10.1.2.3");
    assert_site("[::1]", "[::1]");
    assert_site("", "");
}


static void
test_within_matches_the_domain_and_its_subdomains_only(void **state)
{
    assert_true(mkt_host_within(S("baidu.com"), S("baidu.com")));
    assert_true(mkt_host_within(S("www.baidu.com"), S("baidu.com")));
    assert_false(mkt_host_within(S("notbaidu.com"), S("baidu.com")));
    assert_false(mkt_host_within(S("baidu.com.evil.io"), S("baidu.com")));
    assert_false(mkt_host_within(S("com"), S("baidu.com")));
    assert_false(mkt_host_within(S("a.com"), S("")));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(
            test_normalise_lowercases_and_drops_port_and_trailing_dot),
        cmocka_unit_test(test_normalise_keeps_ipv6_literals_in_brackets),
        cmocka_unit_test(test_normalise_rejects_what_is_not_a_host),
        cmocka_unit_test(test_site_of_generic_and_country_domains),
        cmocka_unit_test(test_site_of_irregular_and_private_suffixes),
        cmocka_unit_test(
            test_suffixes_ips_and_single_labels_stand_for_themselves),
        cmocka_unit_test(
            test_within_matches_the_domain_and_its_subdomains_only),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
