/* HMAC-SHA256 (RFC 2104) over OpenSSL's digest API: the padded key blocks are
 * hashed once at creation, so a signature costs two digest finalisations. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "b64url.h"
#include "hmac.h"

#define SHA256_BLOCK  64

struct mkt_hmac_s {
    EVP_MD_CTX  *inner;     /* SHA-256 state after (key ^ ipad) */
    EVP_MD_CTX  *outer;     /* SHA-256 state after (key ^ opad) */
    EVP_MD_CTX  *work;
};


static int
hmac_init_pad(EVP_MD_CTX *ctx, const EVP_MD *md,
    const unsigned char key[SHA256_BLOCK], unsigned char pad)
{
    size_t          i;
    unsigned char   block[SHA256_BLOCK];

    for (i = 0; i < SHA256_BLOCK; i++) {
        block[i] = key[i] ^ pad;
    }

    return EVP_DigestInit_ex(ctx, md, NULL) == 1
           && EVP_DigestUpdate(ctx, block, SHA256_BLOCK) == 1 ? 0 : -1;
}


mkt_hmac_t *
mkt_hmac_create(const void *key, size_t len)
{
    int             rc;
    unsigned int    dlen;
    mkt_hmac_t     *h;
    const EVP_MD   *md;
    unsigned char   k[SHA256_BLOCK];

    h = calloc(1, sizeof(mkt_hmac_t));
    if (h == NULL) {
        return NULL;
    }

    md = EVP_sha256();
    h->inner = EVP_MD_CTX_new();
    h->outer = EVP_MD_CTX_new();
    h->work = EVP_MD_CTX_new();

    if (h->inner == NULL || h->outer == NULL || h->work == NULL) {
        goto failed;
    }

    memset(k, 0, sizeof(k));

    if (len > SHA256_BLOCK) {
        if (EVP_Digest(key, len, k, &dlen, md, NULL) != 1) {
            goto failed;
        }

    } else if (len > 0) {
        memcpy(k, key, len);
    }

    rc = hmac_init_pad(h->inner, md, k, 0x36);
    rc |= hmac_init_pad(h->outer, md, k, 0x5c);
    OPENSSL_cleanse(k, sizeof(k));

    if (rc != 0) {
        goto failed;
    }

    return h;

failed:

    mkt_hmac_destroy(h);
    return NULL;
}


void
mkt_hmac_destroy(mkt_hmac_t *h)
{
    if (h == NULL) {
        return;
    }

    EVP_MD_CTX_free(h->inner);
    EVP_MD_CTX_free(h->outer);
    EVP_MD_CTX_free(h->work);
    free(h);
}


int
mkt_hmac_sha256(mkt_hmac_t *h, const void *msg, size_t len,
    unsigned char out[MKT_SHA256_LEN])
{
    unsigned int    n;
    unsigned char   ihash[MKT_SHA256_LEN];

    if (EVP_MD_CTX_copy_ex(h->work, h->inner) != 1
        || EVP_DigestUpdate(h->work, msg, len) != 1
        || EVP_DigestFinal_ex(h->work, ihash, &n) != 1
        || EVP_MD_CTX_copy_ex(h->work, h->outer) != 1
        || EVP_DigestUpdate(h->work, ihash, sizeof(ihash)) != 1
        || EVP_DigestFinal_ex(h->work, out, &n) != 1)
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
