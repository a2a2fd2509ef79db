/* Geo lookups in a MaxMind DB with libmaxminddb: opening with checks that
 * turn a bad file into one clear message, and allocation-free lookups. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <maxminddb.h>

#include "geo.h"
#include "text.h"

/* What opening reads of the search tree and decodes of the data section: a
 * few microseconds, enough to refuse a file that is damaged throughout. */
#define PROBE_NODES    4096
#define PROBE_RECORDS  64
#define PROBE_STACK    256     /* a depth-first walk of a 128-level tree */

struct mkt_geo_s {
    MMDB_s  mmdb;
};

static const char *const  path_country[] = { "country", "iso_code", NULL };
static const char *const  path_region[] = { "subdivisions", "0", "iso_code",
                                            NULL };
static const char *const  path_city[] = { "city", "names", "en", NULL };


static void
say(char *err, size_t size, const char *fmt, ...)
{
    va_list  ap;

    if (size == 0) {
        return;
    }

    va_start(ap, fmt);
    (void) vsnprintf(err, size, fmt, ap);
    va_end(ap);
}


/* A record decodes in full; notes whether it holds a country code. */
static int
probe_record(MMDB_entry_s *entry, int *has_country)
{
    int                      rc;
    MMDB_entry_data_s        data;
    MMDB_entry_data_list_s  *list;

    rc = MMDB_get_entry_data_list(entry, &list);
    MMDB_free_entry_data_list(list);

    if (rc != MMDB_SUCCESS) {
        return rc;
    }

    if (!*has_country
        && MMDB_aget_value(entry, &data, path_country) == MMDB_SUCCESS
        && data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING)
    {
        *has_country = 1;
    }

    return MMDB_SUCCESS;
}


/*
 * Walks the search tree depth first from the lowest addresses, decoding the
 * first PROBE_RECORDS data records: a corrupt tree or data section, and a
 * database without country data, show there.
 */
static int
probe(const MMDB_s *mmdb, int *has_country)
{
    int                 rc, i;
    size_t              top, nodes, records;
    uint8_t             type[2];
    uint32_t            stack[PROBE_STACK];
    uint64_t            rec[2];
    MMDB_entry_s        entry[2];
    MMDB_search_node_s  node;

    top = 0;
    stack[top++] = 0;
    nodes = 0;
    records = 0;

    while (top > 0 && nodes < PROBE_NODES && records < PROBE_RECORDS) {
        rc = MMDB_read_node(mmdb, stack[--top], &node);
        if (rc != MMDB_SUCCESS) {
            return rc;
        }

        nodes++;

        rec[0] = node.left_record;
        rec[1] = node.right_record;
        type[0] = node.left_record_type;
        type[1] = node.right_record_type;
        entry[0] = node.left_record_entry;
        entry[1] = node.right_record_entry;

        for (i = 0; i < 2; i++) {
            if (type[i] == MMDB_RECORD_TYPE_INVALID) {
                return MMDB_CORRUPT_SEARCH_TREE_ERROR;
            }

            if (type[i] == MMDB_RECORD_TYPE_DATA) {
                rc = probe_record(&entry[i], has_country);
                if (rc != MMDB_SUCCESS) {
                    return rc;
                }
                records++;
            }
        }

        /* the right child first, so that the left one is read next */
        for (i = 1; i >= 0; i--) {
            if (type[i] == MMDB_RECORD_TYPE_SEARCH_NODE && top < PROBE_STACK) {
                stack[top++] = (uint32_t) rec[i];
            }
        }
    }

    return MMDB_SUCCESS;
}


static const char *
open_reason(int rc, int saved_errno)
{
    if ((rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) && saved_errno) {
        return strerror(saved_errno);
    }

    return MMDB_strerror(rc);
}


mkt_geo_t *
mkt_geo_open(const char *path, char *err, size_t err_size)
{
    int           rc, saved_errno, has_country;
    const char   *type;
    mkt_geo_t    *geo;
    struct stat   st;

    if (err_size > 0) {
        err[0] = '\0';
    }

    if (path == NULL || path[0] == '\0') {
        say(err, err_size, "no MaxMind DB file given");
        return NULL;
    }

    /* libmaxminddb's messages for these say little ("failed to read") */
    if (stat(path, &st) != 0) {
        say(err, err_size, "cannot open MaxMind DB \"%s\": %s", path,
            strerror(errno));
        return NULL;
    }

    if (!S_ISREG(st.st_mode)) {
        say(err, err_size, "cannot open MaxMind DB \"%s\": not a regular file",
            path);
        return NULL;
    }

    if (st.st_size == 0) {
        say(err, err_size, "\"%s\" is not a MaxMind DB: the file is empty",
            path);
        return NULL;
    }

    geo = malloc(sizeof(mkt_geo_t));
    if (geo == NULL) {
        say(err, err_size, "cannot open MaxMind DB \"%s\": out of memory",
            path);
        return NULL;
    }

    errno = 0;
    rc = MMDB_open(path, MMDB_MODE_MMAP, &geo->mmdb);
    saved_errno = errno;

    if (rc != MMDB_SUCCESS) {
        free(geo);

        if (rc == MMDB_INVALID_METADATA_ERROR
            || rc == MMDB_UNKNOWN_DATABASE_FORMAT_ERROR)
        {
            say(err, err_size, "\"%s\" is not a valid MaxMind DB: %s", path,
                MMDB_strerror(rc));
        } else {
            say(err, err_size, "cannot open MaxMind DB \"%s\": %s", path,
                open_reason(rc, saved_errno));
        }

        return NULL;
    }

    has_country = 0;
    rc = probe(&geo->mmdb, &has_country);

    if (rc != MMDB_SUCCESS) {
        say(err, err_size, "MaxMind DB \"%s\" is corrupt: %s", path,
            MMDB_strerror(rc));
        mkt_geo_close(geo);
        return NULL;
    }

    type = geo->mmdb.metadata.database_type;
    if (type == NULL) {
        type = "";
    }

    if (!has_country && strstr(type, "City") == NULL
        && strstr(type, "Country") == NULL)
    {
        say(err, err_size, "MaxMind DB \"%s\" of type \"%s\" has no country "
            "data: expected a GeoIP2 or GeoLite2 City or Country database",
            path, type);
        mkt_geo_close(geo);
        return NULL;
    }

    return geo;
}


void
mkt_geo_close(mkt_geo_t *geo)
{
    if (geo == NULL) {
        return;
    }

    MMDB_close(&geo->mmdb);
    free(geo);
}


static void
loc_clear(mkt_geo_loc_t *loc)
{
    loc->country[0] = '\0';
    loc->region[0] = '\0';
    loc->city[0] = '\0';
    loc->country_len = 0;
    loc->region_len = 0;
    loc->city_len = 0;
    loc->error = NULL;
}


/* A string at path, cleaned, into dst; absent, of another type or too long
 * for dst leaves it empty.  An error only for data that does not decode. */
static int
get_field(MMDB_entry_s *entry, const char *const *path, char *dst,
    size_t size, size_t *len)
{
    int                rc;
    MMDB_entry_data_s  data;

    rc = MMDB_aget_value(entry, &data, path);

    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR
        || rc == MMDB_INVALID_LOOKUP_PATH_ERROR)
    {
        return MMDB_SUCCESS;
    }

    if (rc != MMDB_SUCCESS) {
        return rc;
    }

    if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING
        || data.data_size >= size)
    {
        return MMDB_SUCCESS;
    }

    *len = mkt_text_clean(dst, size - 1, data.utf8_string, data.data_size);
    dst[*len] = '\0';

    return MMDB_SUCCESS;
}


static mkt_geo_rc_e
lookup_failed(mkt_geo_loc_t *loc, int rc)
{
    loc_clear(loc);
    loc->error = MMDB_strerror(rc);

    return MKT_GEO_ERROR;
}


mkt_geo_rc_e
mkt_geo_lookup_sockaddr(const mkt_geo_t *geo, const struct sockaddr *sa,
    mkt_geo_loc_t *loc)
{
    int                         rc, err;
    struct sockaddr_in          sin;
    MMDB_lookup_result_s        res;
    const struct sockaddr_in6  *sin6;

    loc_clear(loc);

    if (sa->sa_family == AF_INET6) {
        sin6 = (const struct sockaddr_in6 *) sa;

        /* dual-stack listeners see IPv4 clients so; not every database
         * aliases ::ffff:0:0/96 to its IPv4 data */
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            memset(&sin, 0, sizeof(sin));
            sin.sin_family = AF_INET;
            memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
            sa = (const struct sockaddr *) &sin;
        }

    } else if (sa->sa_family != AF_INET) {
        return MKT_GEO_BAD_ADDRESS;
    }

    res = MMDB_lookup_sockaddr(&geo->mmdb, sa, &err);

    if (err == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
        return MKT_GEO_NOT_FOUND;
    }

    if (err != MMDB_SUCCESS) {
        return lookup_failed(loc, err);
    }

    if (!res.found_entry) {
        return MKT_GEO_NOT_FOUND;
    }

    rc = get_field(&res.entry, path_country, loc->country,
                   sizeof(loc->country), &loc->country_len);
    if (rc == MMDB_SUCCESS) {
        rc = get_field(&res.entry, path_region, loc->region,
                       sizeof(loc->region), &loc->region_len);
    }
    if (rc == MMDB_SUCCESS) {
        rc = get_field(&res.entry, path_city, loc->city, sizeof(loc->city),
                       &loc->city_len);
    }

    if (rc != MMDB_SUCCESS) {
        return lookup_failed(loc, rc);
    }

    return MKT_GEO_FOUND;
}


int
mkt_geo_parse_addr(const char *addr, size_t len, struct sockaddr_storage *ss)
{
    char                  buf[MKT_GEO_ADDR_MAX + 1];
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    while (len > 0 && (addr[0] == ' ' || addr[0] == '\t')) {
        addr++;
        len--;
    }

    while (len > 0 && (addr[len - 1] == ' ' || addr[len - 1] == '\t')) {
        len--;
    }

    /* inet_pton() would stop at a NUL and accept what came before it */
    if (len == 0 || len > MKT_GEO_ADDR_MAX || memchr(addr, '\0', len)) {
        return -1;
    }

    memcpy(buf, addr, len);
    buf[len] = '\0';
    memset(ss, 0, sizeof(*ss));

    if (memchr(buf, ':', len) != NULL) {
        sin6 = (struct sockaddr_in6 *) ss;
        if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1) {
            return -1;
        }
        sin6->sin6_family = AF_INET6;
        return 0;
    }

    sin = (struct sockaddr_in *) ss;
    if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1) {
        return -1;
    }
    sin->sin_family = AF_INET;
    return 0;
}


mkt_geo_rc_e
mkt_geo_lookup(const mkt_geo_t *geo, const char *addr, size_t len,
    mkt_geo_loc_t *loc)
{
    struct sockaddr_storage  ss;

    if (mkt_geo_parse_addr(addr, len, &ss) != 0) {
        loc_clear(loc);
        return MKT_GEO_BAD_ADDRESS;
    }

    return mkt_geo_lookup_sockaddr(geo, (struct sockaddr *) &ss, loc);
}
