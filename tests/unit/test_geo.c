/* Unit tests of src/geo.c against MaxMind's test databases and ours
 * (tests/data/maxmind/README.md lists what each holds): exact values for
 * IPv4, IPv6 and IPv4-mapped addresses, and the message for each kind of
 * bad file. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "geo.h"

#define DIR          "tests/data/maxmind/"
#define CITY_DB      DIR "GeoIP2-City-Test.mmdb"
#define COUNTRY_DB   DIR "GeoLite2-Country-Test.mmdb"
#define MKT_DB       DIR "mkt-test-city.mmdb"
#define IPV4_DB      DIR "mkt-test-geo-ipv4.mmdb"
#define CORRUPT_DB   DIR "mkt-test-corrupt.mmdb"

typedef enum { CITY = 0, COUNTRY, MKT, IPV4, CORRUPT, NDBS } db_e;

static const char  *db_paths[NDBS] = {
    CITY_DB, COUNTRY_DB, MKT_DB, IPV4_DB, CORRUPT_DB
};

static mkt_geo_t  *dbs[NDBS];

typedef struct {
    db_e          db;
    const char   *addr;
    mkt_geo_rc_e  rc;
    const char   *country;
    const char   *region;
    const char   *city;
} geo_case_t;


static int
open_dbs(void **state)
{
    char    err[MKT_GEO_ERR_MAX];
    size_t  i;

    for (i = 0; i < NDBS; i++) {
        dbs[i] = mkt_geo_open(db_paths[i], err, sizeof(err));
        if (dbs[i] == NULL) {
            print_error("%s\n", err);
            return -1;
        }
    }

    return 0;
}


static int
close_dbs(void **state)
{
    size_t  i;

    for (i = 0; i < NDBS; i++) {
        mkt_geo_close(dbs[i]);
        dbs[i] = NULL;
    }

    return 0;
}


static const char *
rc_name(mkt_geo_rc_e rc)
{
    switch (rc) {
    case MKT_GEO_FOUND: return "found";
    case MKT_GEO_NOT_FOUND: return "not found";
    case MKT_GEO_BAD_ADDRESS: return "bad address";
    case MKT_GEO_ERROR: return "error";
    }
    return "?";
}


static int
field_is(const char *got, size_t len, const char *want)
{
    return strlen(got) == len && strcmp(got, want) == 0;
}


static void
check_cases(const geo_case_t *cases, size_t n)
{
    size_t         i, failed = 0;
    mkt_geo_rc_e   rc;
    mkt_geo_loc_t  loc;

    for (i = 0; i < n; i++) {
        memset(&loc, 0xa5, sizeof(loc));
        rc = mkt_geo_lookup(dbs[cases[i].db], cases[i].addr,
                            strlen(cases[i].addr), &loc);

        if (rc != cases[i].rc
            || !field_is(loc.country, loc.country_len, cases[i].country)
            || !field_is(loc.region, loc.region_len, cases[i].region)
            || !field_is(loc.city, loc.city_len, cases[i].city)
            || (loc.error != NULL) != (rc == MKT_GEO_ERROR))
        {
            print_error("%s in %s: got %s %s/%s/%s, want %s %s/%s/%s\n",
                        cases[i].addr, db_paths[cases[i].db], rc_name(rc),
                        loc.country, loc.region, loc.city,
                        rc_name(cases[i].rc), cases[i].country,
                        cases[i].region, cases[i].city);
            failed++;
        }
    }

    if (failed) {
        fail_msg("%zu of %zu lookups wrong", failed, n);
    }
}

#define CHECK_CASES(cases)  check_cases(cases, sizeof(cases) / sizeof(cases[0]))
#define FOUND(db, a, c, r, ci)  { db, a, MKT_GEO_FOUND, c, r, ci }
#define NONE(db, a, rc)         { db, a, rc, "", "", "" }


static void
test_geo_finds_ipv4_in_a_city_database(void **state)
{
    static const geo_case_t  cases[] = {
        FOUND(CITY, "81.2.69.142", "GB", "ENG", "London"),
        FOUND(CITY, "81.2.69.160", "GB", "ENG", "London"),
        /* two subdivisions: the region is the first, the largest */
        FOUND(CITY, "2.125.160.216", "GB", "ENG", "Boxford"),
        FOUND(CITY, "89.160.20.112", "SE", "E", "Link\xc3\xb6ping"),
        FOUND(CITY, "175.16.199.1", "CN", "22", "Changchun"),
        FOUND(CITY, "214.0.0.1", "SG", "", "Singapore"),
        FOUND(CITY, "216.160.83.64", "US", "WA", ""),
        FOUND(CITY, "67.43.156.1", "BT", "", ""),
    };

    CHECK_CASES(cases);
}


static void
test_geo_finds_ipv6_in_a_city_database(void **state)
{
    static const geo_case_t  cases[] = {
        FOUND(CITY, "2001:480:10::1", "US", "CA", "San Diego"),
        FOUND(CITY, "2001:480:10:0:0:0:0:ffff", "US", "CA", "San Diego"),
        FOUND(CITY, "2001:218::1", "JP", "", ""),
        FOUND(CITY, "2a02:d300::1", "UA", "", ""),
    };

    CHECK_CASES(cases);
}


static void
test_geo_finds_chinese_addresses(void **state)
{
    static const geo_case_t  cases[] = {
        FOUND(MKT, "113.108.1.1", "CN", "GD", "Shenzhen"),
        FOUND(MKT, "113.108.255.255", "CN", "GD", "Shenzhen"),
        FOUND(MKT, "202.96.128.86", "CN", "GD", "Guangzhou"),
        FOUND(MKT, "114.114.114.114", "CN", "JS", "Nanjing"),
        FOUND(MKT, "61.128.101.9", "CN", "XJ", "\xc3\x9cr\xc3\xbcmqi"),
        FOUND(MKT, "240e:ff::1", "CN", "GD", "Shenzhen"),
        FOUND(MKT, "2400:da00::6666", "CN", "BJ", "Beijing"),
        FOUND(MKT, "203.0.113.7", "HK", "", "Hong Kong"),
        FOUND(MKT, "8.8.8.8", "US", "CA", "Mountain View"),
        NONE(MKT, "113.109.0.1", MKT_GEO_NOT_FOUND),
    };

    CHECK_CASES(cases);
}


static void
test_geo_looks_up_ipv4_mapped_ipv6_as_ipv4(void **state)
{
    static const geo_case_t  cases[] = {
        /* MaxMind's database aliases ::ffff:0:0/96 to its IPv4 data ... */
        FOUND(CITY, "::ffff:81.2.69.142", "GB", "ENG", "London"),
        FOUND(CITY, "::ffff:5102:458e", "GB", "ENG", "London"),
        /* ... ours does not: the address is mapped before the lookup */
        FOUND(MKT, "::ffff:113.108.1.1", "CN", "GD", "Shenzhen"),
        FOUND(MKT, "::FFFF:202.96.128.86", "CN", "GD", "Guangzhou"),
        FOUND(IPV4, "::ffff:113.108.1.1", "CN", "GD", "Shenzhen"),
        /* IPv4-compatible (::a.b.c.d) is an IPv6 address, not mapped */
        FOUND(MKT, "::113.108.1.1", "CN", "GD", "Shenzhen"),
        NONE(IPV4, "::113.108.1.1", MKT_GEO_NOT_FOUND),
    };

    CHECK_CASES(cases);
}


static void
test_geo_reports_unknown_addresses_as_not_found(void **state)
{
    static const geo_case_t  cases[] = {
        NONE(CITY, "10.0.0.1", MKT_GEO_NOT_FOUND),
        NONE(CITY, "127.0.0.1", MKT_GEO_NOT_FOUND),
        NONE(CITY, "0.0.0.0", MKT_GEO_NOT_FOUND),
        NONE(CITY, "255.255.255.255", MKT_GEO_NOT_FOUND),
        NONE(CITY, "::1", MKT_GEO_NOT_FOUND),
        NONE(CITY, "::", MKT_GEO_NOT_FOUND),
        NONE(CITY, "2001:db8::1", MKT_GEO_NOT_FOUND),
        NONE(CITY, "::ffff:10.0.0.1", MKT_GEO_NOT_FOUND),
        /* an IPv4 database knows no IPv6 address */
        NONE(IPV4, "240e:ff::1", MKT_GEO_NOT_FOUND),
        NONE(IPV4, "1.1.1.1", MKT_GEO_NOT_FOUND),
    };

    CHECK_CASES(cases);
}


static void
test_geo_reads_only_the_country_from_a_country_database(void **state)
{
    static const geo_case_t  cases[] = {
        FOUND(COUNTRY, "81.2.69.142", "GB", "", ""),
        FOUND(COUNTRY, "2.125.160.216", "GB", "", ""),
        FOUND(COUNTRY, "2001:218::1", "JP", "", ""),
        NONE(COUNTRY, "10.0.0.1", MKT_GEO_NOT_FOUND),
    };

    CHECK_CASES(cases);
}


static void
test_geo_accepts_a_database_with_country_data_of_another_type(void **state)
{
    static const geo_case_t  cases[] = {
        FOUND(IPV4, "113.108.1.1", "CN", "GD", "Shenzhen"),
    };

    CHECK_CASES(cases);
}


static void
test_geo_leaves_odd_values_empty_or_cleaned(void **state)
{
    static const geo_case_t  cases[] = {
        /* control characters dropped */
        FOUND(MKT, "198.51.100.1", "CN", "GD", "BadCity"),
        /* too long for the buffer: empty, never cut */
        FOUND(MKT, "198.51.100.17", "CN", "GD", ""),
        FOUND(MKT, "198.51.100.33", "", "", "Shenzhen"),
        /* an empty subdivisions array */
        FOUND(MKT, "198.51.100.49", "CN", "", ""),
        /* registered_country is where the network is registered, not
         * where the visitor is: not used */
        FOUND(MKT, "198.51.100.65", "", "", ""),
        /* 127 bytes fit (with the NUL), 128 do not */
        FOUND(MKT, "198.51.100.97", "CN", "GD", ""),
    };
    char           want[MKT_GEO_CITY_MAX];
    size_t         i;
    mkt_geo_loc_t  loc;

    CHECK_CASES(cases);

    for (i = 0; i < 63; i++) {
        memcpy(want + 2 * i, "\xce\xa3", 2);        /* U+03A3 SIGMA */
    }
    want[126] = 'a';
    want[127] = '\0';

    assert_int_equal(mkt_geo_lookup(dbs[MKT], "198.51.100.81", 13, &loc),
                     MKT_GEO_FOUND);
    assert_int_equal(loc.city_len, 127);
    assert_string_equal(loc.city, want);
}


static void
test_geo_trims_spaces_and_tabs_around_the_address(void **state)
{
    static const geo_case_t  cases[] = {
        FOUND(CITY, " 81.2.69.142", "GB", "ENG", "London"),
        FOUND(CITY, "81.2.69.142\t ", "GB", "ENG", "London"),
        FOUND(CITY, " \t2001:218::1 ", "JP", "", ""),
    };

    CHECK_CASES(cases);
}


static void
test_geo_rejects_what_is_not_an_address(void **state)
{
    static const geo_case_t  cases[] = {
        NONE(CITY, "", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, " \t ", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "localhost", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "unix:", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "81.2.69", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "81.2.69.256", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "081.2.69.142", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "0x51.2.69.142", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "1361249678", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "81.2.69.142x", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "81.2.69.142:80", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "81.2.69.142, 10.0.0.1", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "81.2. 69.142", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "[2001:218::1]", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "2001:218::1%eth0", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "2001:218:::1", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, "2001:218::1::2", MKT_GEO_BAD_ADDRESS),
        NONE(CITY, ":::", MKT_GEO_BAD_ADDRESS),
        /* 46 characters: one past the longest address text */
        NONE(CITY, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555",
             MKT_GEO_BAD_ADDRESS),
    };

    CHECK_CASES(cases);
}


static void
test_geo_reads_only_len_bytes(void **state)
{
    mkt_geo_loc_t  loc;

    assert_int_equal(mkt_geo_lookup(dbs[CITY], "81.2.69.142999", 11, &loc),
                     MKT_GEO_FOUND);
    assert_string_equal(loc.city, "London");

    /* a NUL inside the text is not the end of it */
    assert_int_equal(mkt_geo_lookup(dbs[CITY], "81.2.69.142\0x", 13, &loc),
                     MKT_GEO_BAD_ADDRESS);
    assert_int_equal(mkt_geo_lookup(dbs[CITY], "81.2.69.142\0", 12, &loc),
                     MKT_GEO_BAD_ADDRESS);
}


static void
test_geo_parses_the_longest_address_text(void **state)
{
    const char               *longest;
    struct sockaddr_in6      *sin6;
    struct sockaddr_storage   ss;

    longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
    assert_int_equal(strlen(longest), MKT_GEO_ADDR_MAX);
    assert_int_equal(mkt_geo_parse_addr(longest, strlen(longest), &ss), 0);

    sin6 = (struct sockaddr_in6 *) &ss;
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_memory_equal(sin6->sin6_addr.s6_addr,
                        "\xff\xff\xff\xff\xff\xff\xff\xff"
                        "\xff\xff\xff\xff\xff\xff\xff\xff", 16);
}


static void
test_geo_looks_up_socket_addresses(void **state)
{
    mkt_geo_loc_t        loc;
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, "113.108.1.1", &sin.sin_addr);

    assert_int_equal(mkt_geo_lookup_sockaddr(dbs[MKT],
                                             (struct sockaddr *) &sin, &loc),
                     MKT_GEO_FOUND);
    assert_string_equal(loc.country, "CN");
    assert_string_equal(loc.region, "GD");
    assert_string_equal(loc.city, "Shenzhen");

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:113.108.1.1", &sin6.sin6_addr);

    assert_int_equal(mkt_geo_lookup_sockaddr(dbs[MKT],
                                             (struct sockaddr *) &sin6, &loc),
                     MKT_GEO_FOUND);
    assert_string_equal(loc.city, "Shenzhen");

    inet_pton(AF_INET6, "2001:480:10::1", &sin6.sin6_addr);

    assert_int_equal(mkt_geo_lookup_sockaddr(dbs[CITY],
                                             (struct sockaddr *) &sin6, &loc),
                     MKT_GEO_FOUND);
    assert_string_equal(loc.country, "US");
    assert_string_equal(loc.region, "CA");
    assert_string_equal(loc.city, "San Diego");
}


static void
test_geo_rejects_other_socket_families(void **state)
{
    mkt_geo_loc_t    loc;
    struct sockaddr  sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_family = AF_UNIX;

    memset(&loc, 0xa5, sizeof(loc));
    assert_int_equal(mkt_geo_lookup_sockaddr(dbs[CITY], &sa, &loc),
                     MKT_GEO_BAD_ADDRESS);
    assert_string_equal(loc.country, "");
    assert_null(loc.error);
}


static void
test_geo_returns_an_error_for_corrupt_data(void **state)
{
    mkt_geo_loc_t  loc;

    memset(&loc, 0xa5, sizeof(loc));

    assert_int_equal(mkt_geo_lookup(dbs[CORRUPT], "223.5.5.5", 9, &loc),
                     MKT_GEO_ERROR);
    assert_string_equal(loc.error, "The MaxMind DB file's data section "
                        "contains bad data (unknown data type or corrupt "
                        "data)");
    assert_string_equal(loc.country, "");
    assert_string_equal(loc.region, "");
    assert_string_equal(loc.city, "");
    assert_int_equal(loc.country_len + loc.region_len + loc.city_len, 0);

    /* the rest of the file still answers */
    assert_int_equal(mkt_geo_lookup(dbs[CORRUPT], "10.0.42.1", 9, &loc),
                     MKT_GEO_FOUND);
    assert_string_equal(loc.city, "Filler 42");
    assert_null(loc.error);
}


/* --- opening ------------------------------------------------------------ */

static void
assert_open_fails(const char *path, const char *want)
{
    char        err[MKT_GEO_ERR_MAX];
    mkt_geo_t  *geo;

    memset(err, 'x', sizeof(err));
    geo = mkt_geo_open(path, err, sizeof(err));

    if (geo != NULL) {
        mkt_geo_close(geo);
        fail_msg("%s opened", path);
    }

    assert_string_equal(err, want);
}


static void
test_geo_open_names_a_missing_file(void **state)
{
    assert_open_fails(DIR "missing.mmdb", "cannot open MaxMind DB \""
                      DIR "missing.mmdb\": No such file or directory");
}


static void
test_geo_open_refuses_a_directory(void **state)
{
    assert_open_fails(DIR, "cannot open MaxMind DB \"" DIR "\": not a "
                      "regular file");
}


static void
test_geo_open_names_an_unreadable_file(void **state)
{
    char   path[] = "/tmp/mkt-geo-XXXXXX";
    int    fd;
    char   want[256];

    if (geteuid() == 0) {
        skip();         /* root reads any file */
    }

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    assert_int_equal(chmod(path, 0), 0);

    snprintf(want, sizeof(want), "cannot open MaxMind DB \"%s\": Permission "
             "denied", path);
    assert_open_fails(path, want);
    unlink(path);
}


static void
test_geo_open_refuses_an_empty_file(void **state)
{
    char   path[] = "/tmp/mkt-geo-XXXXXX";
    int    fd;
    char   want[256];

    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);

    snprintf(want, sizeof(want), "\"%s\" is not a MaxMind DB: the file is "
             "empty", path);
    assert_open_fails(path, want);
    unlink(path);
}


static void
test_geo_open_refuses_a_file_of_another_format(void **state)
{
    assert_open_fails(DIR "LICENSE-MIT", "\"" DIR "LICENSE-MIT\" is not a "
                      "valid MaxMind DB: The MaxMind DB file contains "
                      "invalid metadata");
}


static void
test_geo_open_refuses_invalid_metadata(void **state)
{
    assert_open_fails(DIR "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
                      "\"" DIR "GeoIP2-City-Test-Invalid-Node-Count.mmdb\" "
                      "is not a valid MaxMind DB: The MaxMind DB file "
                      "contains invalid metadata");
}


static void
test_geo_open_refuses_a_corrupt_data_section(void **state)
{
    assert_open_fails(DIR "GeoIP2-City-Test-Broken-Double-Format.mmdb",
                      "MaxMind DB \"" DIR "GeoIP2-City-Test-Broken-Double-"
                      "Format.mmdb\" is corrupt: The MaxMind DB file's data "
                      "section contains bad data (unknown data type or "
                      "corrupt data)");
}


static void
test_geo_open_refuses_a_database_without_country_data(void **state)
{
    assert_open_fails(DIR "mkt-test-asn.mmdb", "MaxMind DB \"" DIR
                      "mkt-test-asn.mmdb\" of type \"Mkt-Test-ASN\" has no "
                      "country data: expected a GeoIP2 or GeoLite2 City or "
                      "Country database");
}


static void
test_geo_open_refuses_no_path(void **state)
{
    assert_open_fails("", "no MaxMind DB file given");
    assert_open_fails(NULL, "no MaxMind DB file given");
}


static void
test_geo_open_cuts_the_message_to_the_buffer(void **state)
{
    char  err[16];

    memset(err, 'x', sizeof(err));
    assert_null(mkt_geo_open(DIR "missing.mmdb", err, sizeof(err)));
    assert_string_equal(err, "cannot open Max");

    /* and writes nothing without room */
    assert_null(mkt_geo_open(DIR "missing.mmdb", err, 0));
    assert_string_equal(err, "cannot open Max");
}


static void
test_geo_close_accepts_null(void **state)
{
    mkt_geo_close(NULL);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geo_finds_ipv4_in_a_city_database),
        cmocka_unit_test(test_geo_finds_ipv6_in_a_city_database),
        cmocka_unit_test(test_geo_finds_chinese_addresses),
        cmocka_unit_test(test_geo_looks_up_ipv4_mapped_ipv6_as_ipv4),
        cmocka_unit_test(test_geo_reports_unknown_addresses_as_not_found),
        cmocka_unit_test(
            test_geo_reads_only_the_country_from_a_country_database),
        cmocka_unit_test(
            test_geo_accepts_a_database_with_country_data_of_another_type),
        cmocka_unit_test(test_geo_leaves_odd_values_empty_or_cleaned),
        cmocka_unit_test(test_geo_trims_spaces_and_tabs_around_the_address),
        cmocka_unit_test(test_geo_rejects_what_is_not_an_address),
        cmocka_unit_test(test_geo_reads_only_len_bytes),
        cmocka_unit_test(test_geo_parses_the_longest_address_text),
        cmocka_unit_test(test_geo_looks_up_socket_addresses),
        cmocka_unit_test(test_geo_rejects_other_socket_families),
        cmocka_unit_test(test_geo_returns_an_error_for_corrupt_data),
        cmocka_unit_test(test_geo_open_names_a_missing_file),
        cmocka_unit_test(test_geo_open_refuses_a_directory),
        cmocka_unit_test(test_geo_open_names_an_unreadable_file),
        cmocka_unit_test(test_geo_open_refuses_an_empty_file),
        cmocka_unit_test(test_geo_open_refuses_a_file_of_another_format),
        cmocka_unit_test(test_geo_open_refuses_invalid_metadata),
        cmocka_unit_test(test_geo_open_refuses_a_corrupt_data_section),
        cmocka_unit_test(
            test_geo_open_refuses_a_database_without_country_data),
        cmocka_unit_test(test_geo_open_refuses_no_path),
        cmocka_unit_test(test_geo_open_cuts_the_message_to_the_buffer),
        cmocka_unit_test(test_geo_close_accepts_null),
    };

    return cmocka_run_group_tests_name("geo", tests, open_dbs, close_dbs);
}
