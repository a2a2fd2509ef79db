/* Host names: normalising a Host header or a URL's authority, the
 * registrable domain (eTLD+1) from an embedded public-suffix subset, and
 * "is this host that domain or under it". */
#ifndef MKT_DOMAIN_H
#define MKT_DOMAIN_H

#include <stddef.h>

#define MKT_HOST_MAX  253           /* bytes of a normalised host */

/*
 * Normalises "host[:port]" as a Host header or a URL authority (without
 * userinfo) carries it: ASCII lowercase, the port and one trailing dot
 * removed, an IPv6 literal kept in its brackets ("[2001:db8::1]").
 * Writes it to out (MKT_HOST_MAX bytes) and returns its length; 0 when
 * it is neither a DNS name (labels of 1 to 63 of a-z 0-9 - _, at most
 * MKT_HOST_MAX bytes) nor an IP literal.  Normalising is idempotent.
 */
size_t mkt_host_normalize(const char *in, size_t len, char *out);

/*
 * Where the registrable domain of a normalised host starts ("www.bbc.co.uk"
 * -> 4, "bbc.co.uk").  The public suffix is the longest of: an entry of
 * the embedded table (co.uk's irregular siblings, .cn's provinces, a few
 * hosting platforms such as github.io); a generic second level (ac co com
 * edu go gob gov mil ne net or org) under a two-letter country TLD; the
 * last label.  0 for a host that is a registrable domain, a public suffix
 * or an IP literal: then the whole host stands for its site.
 */
size_t mkt_host_site(const char *host, size_t len);

/* 1 when the normalised host is domain or one of its subdomains. */
int mkt_host_within(const char *host, size_t len, const char *domain,
    size_t domain_len);

#endif
