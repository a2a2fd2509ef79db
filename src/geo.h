/* Country, region and city of an IP address from a MaxMind DB (GeoIP2 or
 * GeoLite2 City or Country), copied into bounded buffers. */
#ifndef MKT_GEO_H
#define MKT_GEO_H

#include <stddef.h>
#include <sys/socket.h>

/* Buffer sizes, each with room for a terminating NUL.  A value that does not
 * fit is left empty: a cut code or name would be a wrong one. */
#define MKT_GEO_COUNTRY_MAX  3      /* ISO 3166-1 alpha-2: "CN" */
#define MKT_GEO_REGION_MAX   4      /* ISO 3166-2 subdivision: "GD", "ENG" */
#define MKT_GEO_CITY_MAX     128    /* English name, UTF-8 */

/* Longest address text accepted:
 * "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255". */
#define MKT_GEO_ADDR_MAX     45

/* Size for mkt_geo_open()'s message: a path and a reason fit. */
#define MKT_GEO_ERR_MAX      1024

typedef struct mkt_geo_s  mkt_geo_t;

typedef enum {
    MKT_GEO_FOUND = 0,      /* the database has a record for the address */
    MKT_GEO_NOT_FOUND,      /* it has none: every field empty */
    MKT_GEO_BAD_ADDRESS,    /* not an IPv4 or IPv6 address */
    MKT_GEO_ERROR           /* corrupt data: loc->error says what */
} mkt_geo_rc_e;

/*
 * A lookup's result.  Strings are NUL-terminated, valid UTF-8 without
 * control characters, empty when unknown; the *_len fields are their
 * lengths.
 */
typedef struct {
    char         country[MKT_GEO_COUNTRY_MAX];   /* country.iso_code */
    char         region[MKT_GEO_REGION_MAX];     /* subdivisions[0].iso_code */
    char         city[MKT_GEO_CITY_MAX];         /* city.names.en */
    size_t       country_len;
    size_t       region_len;
    size_t       city_len;
    const char  *error;     /* MKT_GEO_ERROR: static text, else NULL */
} mkt_geo_loc_t;

/*
 * Opens (memory-maps) a MaxMind DB and checks it: readable, valid metadata,
 * a City or Country database (by its database_type, else by country data in
 * its first records), and those first records decode.  NULL on failure, with
 * a message naming the file in err (err_size bytes, always NUL-terminated).
 */
mkt_geo_t *mkt_geo_open(const char *path, char *err, size_t err_size);
void mkt_geo_close(mkt_geo_t *geo);

/*
 * Look up an address: text (len bytes, not NUL-terminated, surrounding
 * spaces and tabs ignored) or a socket address.  An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is looked up as the IPv4 address.  No
 * allocation; loc is always filled (empty on anything but MKT_GEO_FOUND).
 */
mkt_geo_rc_e mkt_geo_lookup(const mkt_geo_t *geo, const char *addr,
    size_t len, mkt_geo_loc_t *loc);
mkt_geo_rc_e mkt_geo_lookup_sockaddr(const mkt_geo_t *geo,
    const struct sockaddr *sa, mkt_geo_loc_t *loc);

/*
 * The address parser mkt_geo_lookup() uses: an IPv4 dotted quad or an IPv6
 * address (no zone, no brackets, no port).  Fills *ss and returns 0, or -1.
 */
int mkt_geo_parse_addr(const char *addr, size_t len,
    struct sockaddr_storage *ss);

#endif
