/* HMAC-SHA256 (RFC 2104): the padded key blocks are hashed once at
 * creation, and a signature starts from copies of those two states.
 * OpenSSL's SHA-256 block functions, not its EVP layer: a state is a plain
 * struct to copy, where EVP_MD_CTX_copy_ex() costs about as much as the
 * hashing itself on a cookie-sized message. */

/* SHA256_Init() and friends are deprecated in OpenSSL 3 for application
 * code, not removed; they are what a fixed-algorithm MAC wants. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "b64url.h"
#include "hmac.h"

#define SHA256_BLOCK  64

struct mkt_hmac_s {
    SHA256_CTX  inner;      /* SHA-256 state after (key ^ ipad) */
    SHA256_CTX  outer;      /* SHA-256 state after (key ^ opad) */
};


static void
hmac_init_pad(SHA256_CTX *ctx, const unsigned char key[SHA256_BLOCK],
    unsigned char pad)
{
    size_t          i;
    unsigned char   block[SHA256_BLOCK];

    for (i = 0; i < SHA256_BLOCK; i++) {
        block[i] = key[i] ^ pad;
    }

    SHA256_Init(ctx);
    SHA256_Update(ctx, block, SHA256_BLOCK);
    OPENSSL_cleanse(block, sizeof(block));
}


mkt_hmac_t *
mkt_hmac_create(const void *key, size_t len)
{
    mkt_hmac_t     *h;
    unsigned char   k[SHA256_BLOCK];

    h = calloc(1, sizeof(mkt_hmac_t));
    if (h == NULL) {
        return NULL;
    }

    memset(k, 0, sizeof(k));

    if (len > SHA256_BLOCK) {
        SHA256(key, len, k);

    } else if (len > 0) {
        memcpy(k, key, len);
    }

    hmac_init_pad(&h->inner, k, 0x36);
    hmac_init_pad(&h->outer, k, 0x5c);
    OPENSSL_cleanse(k, sizeof(k));

    return h;
}


void
mkt_hmac_destroy(mkt_hmac_t *h)
{
    if (h == NULL) {
        return;
    }

    OPENSSL_cleanse(h, sizeof(mkt_hmac_t));
    free(h);
}


int
mkt_hmac_sha256(mkt_hmac_t *h, const void *msg, size_t len,
    unsigned char out[MKT_SHA256_LEN])
{
    SHA256_CTX     work;
    unsigned char  ihash[MKT_SHA256_LEN];

    work = h->inner;
    if (SHA256_Update(&work, msg, len) != 1
        || SHA256_Final(ihash, &work) != 1)
    {
        return -1;
    }

    work = h->outer;
    if (SHA256_Update(&work, ihash, sizeof(ihash)) != 1
        || SHA256_Final(out, &work) != 1)
    {
        return -1;
    }

    return 0;
}


int
mkt_sign(mkt_hmac_t *h, const void *msg, size_t len, char sig[MKT_SIG_LEN])
{
    unsigned char  mac[MKT_SHA256_LEN];

    if (mkt_hmac_sha256(h, msg, len, mac) != 0) {
        return -1;
    }

    /* 12 bytes encode to exactly 16 chars: the first 16 of the full MAC */
    (void) mkt_b64url_encode(sig, mac, MKT_SIG_LEN / 4 * 3);

    return 0;
}


int
mkt_sig_verify(mkt_hmac_t *h, const void *msg, size_t len, const char *sig)
{
    char  expect[MKT_SIG_LEN];

    if (mkt_sign(h, msg, len, expect) != 0) {
        return 0;
    }

    return CRYPTO_memcmp(expect, sig, MKT_SIG_LEN) == 0;
}
