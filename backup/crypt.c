/* crypt.c: chunk ids (SHA-256 or HMAC-SHA256), AES-256-GCM sealing, the
 * scrypt key-encryption key and the key fingerprint. Thread safe: every
 * call uses its own OpenSSL context. OpenSSL is fenced to backup/.
 */
#include "backup/bk_internal.h"

#include <endian.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/uuid.h"

#define KDF_MAXMEM (512ull * 1024 * 1024)

void bk_chunk_id(const struct bk_repo *repo, const void *data, size_t len,
                 unsigned char id_out[BK_ID_LEN])
{
    unsigned int n = 0;
    int ok;

    if (repo->encrypted)
        ok = HMAC(EVP_sha256(), repo->k_id, BK_KEY_LEN, data, len, id_out,
                  &n) != NULL;
    else
        ok = EVP_Digest(data, len, id_out, &n, EVP_sha256(), NULL);
    if (!ok || n != BK_ID_LEN) {
        fprintf(stderr, "xenith-backup: hashing failed\n");
        abort();
    }
}

/* bk_chunk_id2(), copying a to da and b to db as they are read when da
 * is not NULL. */
static void chunk_id2(const struct bk_repo *repo, const void *a, size_t la,
                      const void *b, size_t lb, void *da, void *db,
                      unsigned char ida[BK_ID_LEN],
                      unsigned char idb[BK_ID_LEN])
{
    unsigned char k[64] = { 0 }, pad[64], outer[64 + 32];
    unsigned char *ids[2] = { ida, idb };
    unsigned int n = 0;

    if (!bk_sha256_x2_ok()) {
        if (da) {
            memcpy(da, a, la);
            memcpy(db, b, lb);
            a = da;
            b = db;
        }
        bk_chunk_id(repo, a, la, ida);
        bk_chunk_id(repo, b, lb, idb);
        return;
    }
    if (!repo->encrypted) {
        if (da)
            bk_sha256_x2_copy(NULL, a, la, b, lb, da, db, ida, idb);
        else
            bk_sha256_x2(NULL, a, la, b, lb, ida, idb);
        return;
    }
    /* HMAC-SHA256 (RFC 2104): the inner hashes, both at once, then the
     * short outer ones. k_id is shorter than a block: zero-padded. */
    memcpy(k, repo->k_id, BK_KEY_LEN);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    if (da)
        bk_sha256_x2_copy(pad, a, la, b, lb, da, db, ida, idb);
    else
        bk_sha256_x2(pad, a, la, b, lb, ida, idb);
    for (int i = 0; i < 64; i++)
        outer[i] = k[i] ^ 0x5c;
    for (int j = 0; j < 2; j++) {
        memcpy(outer + 64, ids[j], 32);
        if (!EVP_Digest(outer, sizeof(outer), ids[j], &n, EVP_sha256(), NULL) ||
            n != BK_ID_LEN) {
            fprintf(stderr, "xenith-backup: hashing failed\n");
            abort();
        }
    }
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(outer, sizeof(outer));
}

void bk_chunk_id2(const struct bk_repo *repo, const void *a, size_t la,
                  const void *b, size_t lb, unsigned char ida[BK_ID_LEN],
                  unsigned char idb[BK_ID_LEN])
{
    chunk_id2(repo, a, la, b, lb, NULL, NULL, ida, idb);
}

void bk_chunk_id2_copy(const struct bk_repo *repo, const void *a, size_t la,
                       const void *b, size_t lb, void *da, void *db,
                       unsigned char ida[BK_ID_LEN],
                       unsigned char idb[BK_ID_LEN])
{
    chunk_id2(repo, a, la, b, lb, da, db, ida, idb);
}

static int gcm(int enc, const unsigned char *key, const unsigned char *nonce,
               const void *aad, size_t aad_len, const void *in, size_t len,
               unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, rc;

    if (!c)
        return ERR_INTERNAL;
    rc = ERR_INTERNAL;
    if (!EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, BK_NONCE_LEN, NULL) ||
        !EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc))
        goto out;
    if (aad_len && !EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len))
        goto out;
    if (len && !EVP_CipherUpdate(c, out, &n, in, (int)len))
        goto out;
    if (!enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, BK_TAG_LEN, tag))
        goto out;
    if (!EVP_CipherFinal_ex(c, out + n, &n)) {
        rc = enc ? ERR_INTERNAL : ERR_UNAUTH;
        goto out;
    }
    if (enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, BK_TAG_LEN, tag))
        goto out;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(c);
    return rc;
}

int bk_gcm_seal(const unsigned char *key, const unsigned char *nonce,
                const void *aad, size_t aad_len, const void *in, size_t len,
                unsigned char *out)
{
    return gcm(1, key, nonce, aad, aad_len, in, len, out, out + len);
}

int bk_gcm_open(const unsigned char *key, const unsigned char *nonce,
                const void *aad, size_t aad_len, const void *in, size_t len,
                unsigned char *out)
{
    unsigned char tag[BK_TAG_LEN];

    if (len < BK_TAG_LEN)
        return ERR_UNAUTH;
    len -= BK_TAG_LEN;
    memcpy(tag, (const unsigned char *)in + len, BK_TAG_LEN);
    return gcm(0, key, nonce, aad, aad_len, in, len, out, tag);
}

int bk_kdf(const char *passphrase, const unsigned char *salt, size_t salt_len,
           uint64_t n, uint32_t r, uint32_t p, unsigned char key_out[32])
{
    if (!EVP_PBE_scrypt(passphrase, strlen(passphrase), salt, salt_len, n, r, p,
                        KDF_MAXMEM, key_out, 32))
        return ERR_INVALID;
    return 0;
}

void bk_key_fingerprint(const unsigned char master[64], char out[33])
{
    static const char label[] = "xenith-backup fingerprint v1";
    unsigned char buf[sizeof(label) - 1 + 64], md[32];
    unsigned int n = 0;

    memcpy(buf, label, sizeof(label) - 1);
    memcpy(buf + sizeof(label) - 1, master, 64);
    if (!EVP_Digest(buf, sizeof(buf), md, &n, EVP_sha256(), NULL))
        abort();
    hex_encode(out, md, 16);
}

int bk_id_is_zero(const unsigned char id[BK_ID_LEN])
{
    return bk_is_zero(id, BK_ID_LEN);
}

int bk_is_zero(const void *data, size_t len)
{
    const unsigned char *p = data;

    /* Compare with a shifted copy of itself: one pass, libc-fast. */
    if (len == 0)
        return 1;
    return p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

void bk_id_hex(const unsigned char id[BK_ID_LEN], char out[BK_ID_HEXLEN])
{
    hex_encode(out, id, BK_ID_LEN);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int bk_id_parse(const char *hex, unsigned char id_out[BK_ID_LEN])
{
    for (size_t i = 0; i < BK_ID_LEN; i++) {
        int hi = hexval(hex[2 * i]), lo;

        if (hi < 0)
            return ERR_INVALID;
        lo = hexval(hex[2 * i + 1]);
        if (lo < 0)
            return ERR_INVALID;
        id_out[i] = (unsigned char)(hi << 4 | lo);
    }
    return hex[2 * BK_ID_LEN] ? ERR_INVALID : 0;
}

#define SUM_P 0x9e3779b97f4a7c15ull

static uint64_t word_at(const unsigned char *c)
{
    uint64_t w;

    memcpy(&w, c, 8);
    return le64toh(w);
}

/* h = (h + w) * P over each word. Four steps at once unrolled as
 * h = (h + w0) * P^4 + w1 * P^3 + w2 * P^2 + w3 * P: the same value, but
 * only one multiply per 32 bytes on the dependency chain. */
uint64_t bk_payload_sum(const void *p, size_t n)
{
    const uint64_t p2 = SUM_P * SUM_P, p3 = p2 * SUM_P, p4 = p3 * SUM_P;
    const unsigned char *c = p;
    uint64_t h = n, w = 0;
    size_t i = 0;

    for (; i + 32 <= n; i += 32)
        h = (h + word_at(c + i)) * p4 + word_at(c + i + 8) * p3 +
            word_at(c + i + 16) * p2 + word_at(c + i + 24) * SUM_P;
    for (; i + 8 <= n; i += 8)
        h = (h + word_at(c + i)) * SUM_P;
    for (size_t k = 0; i + k < n; k++)
        w |= (uint64_t)c[i + k] << (8 * k);
    return (h + w) * SUM_P;
}
