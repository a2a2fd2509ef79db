/* Version strings for $veq $vne $vgt $vgte $vlt $vlte, compared as
 * GrowthBook's paddedVersionString() orders them (internal). */
#ifndef MKT_CONDITION_VERSION_H
#define MKT_CONDITION_VERSION_H

#include <stddef.h>
#include <stdint.h>

/* A padded version, as code points so that comparing needs no decoding. */
typedef struct {
    uint32_t  *cp;
    size_t     len;
} mkt_cond_version_t;

/* Pads s once, at compile time; -1 when out of memory. */
int mkt_cond_version_pad(const char *s, size_t len, mkt_cond_version_t *v);

/* paddedVersionString(s) compared with v: <0, 0, >0; no allocation. */
int mkt_cond_version_compare(const char *s, size_t len,
    const mkt_cond_version_t *v);

void mkt_cond_version_free(mkt_cond_version_t *v);

#endif
