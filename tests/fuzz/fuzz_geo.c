/* libFuzzer target for src/geo.c: lookups of arbitrary address text against
 * the test databases.  The first input byte picks the database, the rest is
 * the address.  The parser is checked against getaddrinfo(AI_NUMERICHOST),
 * text and socket lookups against each other, and every result for bounds,
 * termination and cleanliness. */

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "geo.h"
#include "text.h"

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

/* paths from the repository root, where tests/fuzz/run.sh runs targets */
static const char  *db_paths[] = {
    "tests/data/maxmind/GeoIP2-City-Test.mmdb",
    "tests/data/maxmind/mkt-test-city.mmdb",
    "tests/data/maxmind/mkt-test-geo-ipv4.mmdb",
    "tests/data/maxmind/mkt-test-corrupt.mmdb",
};

#define NDBS  (sizeof(db_paths) / sizeof(db_paths[0]))

static mkt_geo_t  *dbs[NDBS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
open_dbs(void)
{
    char    err[MKT_GEO_ERR_MAX];
    size_t  i;

    for (i = 0; i < NDBS; i++) {
        dbs[i] = mkt_geo_open(db_paths[i], err, sizeof(err));
        if (dbs[i] == NULL) {
            fprintf(stderr, "fuzz_geo: %s (run from the repository root)\n",
                    err);
            abort();
        }
    }
}


static void
check_field(const char *s, size_t len, size_t size)
{
    char  clean[MKT_GEO_CITY_MAX];

    CHECK(len < size);
    CHECK(s[len] == '\0');
    CHECK(strlen(s) == len);
    CHECK(mkt_text_clean(clean, sizeof(clean), s, len) == len);
    CHECK(memcmp(clean, s, len) == 0);
}


static void
check_loc(mkt_geo_rc_e rc, const mkt_geo_loc_t *loc)
{
    CHECK(rc == MKT_GEO_FOUND || rc == MKT_GEO_NOT_FOUND
          || rc == MKT_GEO_BAD_ADDRESS || rc == MKT_GEO_ERROR);
    CHECK((loc->error != NULL) == (rc == MKT_GEO_ERROR));

    check_field(loc->country, loc->country_len, sizeof(loc->country));
    check_field(loc->region, loc->region_len, sizeof(loc->region));
    check_field(loc->city, loc->city_len, sizeof(loc->city));

    if (rc != MKT_GEO_FOUND) {
        CHECK(loc->country_len + loc->region_len + loc->city_len == 0);
    }
}


static void
same_loc(mkt_geo_rc_e rc1, const mkt_geo_loc_t *a, mkt_geo_rc_e rc2,
    const mkt_geo_loc_t *b)
{
    CHECK(rc1 == rc2);
    CHECK(strcmp(a->country, b->country) == 0);
    CHECK(strcmp(a->region, b->region) == 0);
    CHECK(strcmp(a->city, b->city) == 0);
}


/* The address getaddrinfo() reads from the same text, as the reference. */
static int
ref_parse(const char *s, size_t len, struct sockaddr_storage *ss)
{
    char             *z;
    int               rc;
    struct addrinfo   hints, *res;

    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }

    z = malloc(len + 1);
    CHECK(z != NULL);
    memcpy(z, s, len);
    z[len] = '\0';

    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST;
    hints.ai_family = AF_UNSPEC;

    rc = getaddrinfo(z, NULL, &hints, &res);
    free(z);

    if (rc != 0) {
        return -1;
    }

    memset(ss, 0, sizeof(*ss));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}


static void
check_same_address(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
    CHECK(a->ss_family == b->ss_family);

    if (a->ss_family == AF_INET) {
        CHECK(memcmp(&((const struct sockaddr_in *) a)->sin_addr,
                     &((const struct sockaddr_in *) b)->sin_addr, 4) == 0);
    } else {
        CHECK(a->ss_family == AF_INET6);
        CHECK(memcmp(&((const struct sockaddr_in6 *) a)->sin6_addr,
                     &((const struct sockaddr_in6 *) b)->sin6_addr, 16) == 0);
    }
}


/* An IPv4 address looks up as its IPv4-mapped IPv6 form and back. */
static void
check_mapped(const mkt_geo_t *geo, const struct sockaddr_storage *ss,
    mkt_geo_rc_e rc, const mkt_geo_loc_t *loc)
{
    char                 text[INET6_ADDRSTRLEN];
    mkt_geo_rc_e         rc2;
    mkt_geo_loc_t        loc2;
    struct sockaddr_in6  sin6;

    if (ss->ss_family != AF_INET) {
        return;
    }

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr.s6_addr[10] = 0xff;
    sin6.sin6_addr.s6_addr[11] = 0xff;
    memcpy(&sin6.sin6_addr.s6_addr[12],
           &((const struct sockaddr_in *) ss)->sin_addr, 4);

    rc2 = mkt_geo_lookup_sockaddr(geo, (struct sockaddr *) &sin6, &loc2);
    same_loc(rc, loc, rc2, &loc2);

    /* the canonical text of the mapped address, through the parser */
    CHECK(inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text)) != NULL);
    rc2 = mkt_geo_lookup(geo, text, strlen(text), &loc2);
    same_loc(rc, loc, rc2, &loc2);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                     *copy;
    size_t                    len;
    mkt_geo_t                *geo;
    mkt_geo_rc_e              rc, rc2;
    mkt_geo_loc_t             loc, loc2;
    struct sockaddr_storage   ss, ref;

    if (dbs[0] == NULL) {
        open_dbs();
    }

    if (size == 0) {
        return 0;
    }

    geo = dbs[data[0] % NDBS];
    len = size - 1;

    /* an exact-size heap copy, so ASan sees any read past len */
    copy = malloc(len ? len : 1);
    CHECK(copy != NULL);
    memcpy(copy, data + 1, len);

    memset(&loc, 0xa5, sizeof(loc));
    rc = mkt_geo_lookup(geo, copy, len, &loc);
    check_loc(rc, &loc);

    if (mkt_geo_parse_addr(copy, len, &ss) != 0) {
        CHECK(rc == MKT_GEO_BAD_ADDRESS);
        free(copy);
        return 0;
    }

    CHECK(rc != MKT_GEO_BAD_ADDRESS);

    /* whatever we accept, the C library reads as the same address */
    CHECK(ref_parse(copy, len, &ref) == 0);
    check_same_address(&ss, &ref);

    rc2 = mkt_geo_lookup_sockaddr(geo, (struct sockaddr *) &ss, &loc2);
    check_loc(rc2, &loc2);
    same_loc(rc, &loc, rc2, &loc2);

    check_mapped(geo, &ss, rc, &loc);

    free(copy);
    return 0;
}
