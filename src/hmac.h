/* HMAC-SHA256 with the key schedule done once, and the 16-character
 * base64url signatures that every mkt cookie carries. */
#ifndef MKT_HMAC_H
#define MKT_HMAC_H

#include <stddef.h>

#define MKT_SHA256_LEN  32
#define MKT_SIG_LEN     16      /* base64url chars of the MAC kept in cookies */

typedef struct mkt_hmac_s  mkt_hmac_t;

/* NULL on allocation or crypto-library failure. */
mkt_hmac_t *mkt_hmac_create(const void *key, size_t len);
void mkt_hmac_destroy(mkt_hmac_t *h);

/* 0 on success; not reentrant per key (one worker process, one thread). */
int mkt_hmac_sha256(mkt_hmac_t *h, const void *msg, size_t len,
    unsigned char out[MKT_SHA256_LEN]);

/* sig = first MKT_SIG_LEN chars of base64url(HMAC(key, msg)). */
int mkt_sign(mkt_hmac_t *h, const void *msg, size_t len,
    char sig[MKT_SIG_LEN]);

/* 1 when sig (exactly MKT_SIG_LEN chars) matches; constant time. */
int mkt_sig_verify(mkt_hmac_t *h, const void *msg, size_t len,
    const char *sig);

#endif
