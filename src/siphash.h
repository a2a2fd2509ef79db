/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash that
 * clients cannot steer into collisions without the key. */
#ifndef MKT_SIPHASH_H
#define MKT_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define MKT_SIPHASH_KEY_LEN  16

uint64_t mkt_siphash(const unsigned char key[MKT_SIPHASH_KEY_LEN],
    const void *msg, size_t len);

#endif
