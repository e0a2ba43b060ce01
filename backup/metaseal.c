/* metaseal.c: sealed metadata (format version 2, encrypted repositories):
 * snapshot manifests and disk indexes wrapped in AES-256-GCM under the
 * metadata key, with the object's kind and repository path bound as
 * additional data so that one file cannot stand in for another
 * (docs/backup-format.md, "Sealed metadata"). Thread safe: no shared
 * state.
 */
#include "backup/bk_internal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/uuid.h"
#include "common/xalloc.h"

#define META_INFO "xenith-backup metadata v2"
#define AAD_MAX   (BK_META_HDR + 256)

void bk_meta_key(const unsigned char master[64], unsigned char key_out[32])
{
    /* HKDF-Expand (RFC 5869) with PRK = the master secret, one block:
     * HMAC-SHA256(master, info || 0x01). The master secret is uniformly
     * random, so no extract step is needed. */
    unsigned char msg[sizeof(META_INFO)];
    unsigned int n = 0;

    memcpy(msg, META_INFO, sizeof(META_INFO) - 1);
    msg[sizeof(META_INFO) - 1] = 0x01;
    if (!HMAC(EVP_sha256(), master, 64, msg, sizeof(msg), key_out, &n) ||
        n != 32)
        abort();
}

int bk_meta_sealed(const struct bk_repo *repo)
{
    return repo->encrypted && repo->format >= 2;
}

/* The additional data: the 8 header bytes, then relpath (no NUL). */
static size_t make_aad(const unsigned char *hdr, const char *relpath,
                       unsigned char aad[AAD_MAX])
{
    size_t l = strlen(relpath);

    if (l > AAD_MAX - BK_META_HDR)
        l = AAD_MAX - BK_META_HDR; /* callers' paths are < 128 bytes */
    memcpy(aad, hdr, BK_META_HDR);
    memcpy(aad + BK_META_HDR, relpath, l);
    return BK_META_HDR + l;
}

void bk_meta_seal(const struct bk_repo *repo, enum bk_meta_kind kind,
                  const char *relpath, const void *in, size_t len,
                  unsigned char **file_out, size_t *file_len_out)
{
    size_t flen = BK_META_HDR + BK_NONCE_LEN + len + BK_TAG_LEN, alen;
    unsigned char *f = xmalloc(flen), aad[AAD_MAX];

    memcpy(f, BK_META_MAGIC, 4);
    f[4] = 2;
    f[5] = (unsigned char)kind;
    f[6] = f[7] = 0;
    rand_bytes(f + BK_META_HDR, BK_NONCE_LEN);
    alen = make_aad(f, relpath, aad);
    if (bk_gcm_seal(repo->k_meta, f + BK_META_HDR, aad, alen, in, len,
                    f + BK_META_HDR + BK_NONCE_LEN))
        abort(); /* only on an OpenSSL failure, never on input */
    *file_out = f;
    *file_len_out = flen;
}

int bk_meta_open(const struct bk_repo *repo, enum bk_meta_kind kind,
                 const char *relpath, const void *file, size_t len,
                 unsigned char **plain_out, size_t *plain_len_out)
{
    const unsigned char *f = file;
    unsigned char aad[AAD_MAX], *p;
    size_t alen, plen;
    int rc;

    if (len < BK_META_HDR + BK_NONCE_LEN + BK_TAG_LEN ||
        memcmp(f, BK_META_MAGIC, 4) || f[4] != 2 || f[6] || f[7])
        return ERR_IO;
    if (f[5] != (unsigned char)kind)
        return ERR_UNAUTH;
    plen = len - BK_META_HDR - BK_NONCE_LEN - BK_TAG_LEN;
    p = xmalloc(plen + 1);
    alen = make_aad(f, relpath, aad);
    rc = bk_gcm_open(repo->k_meta, f + BK_META_HDR, aad, alen,
                     f + BK_META_HDR + BK_NONCE_LEN,
                     len - BK_META_HDR - BK_NONCE_LEN, p);
    if (rc) {
        OPENSSL_cleanse(p, plen);
        free(p);
        return ERR_UNAUTH;
    }
    p[plen] = 0; /* manifests are text */
    *plain_out = p;
    *plain_len_out = plen;
    return 0;
}

const char *bk_meta_why(int rc)
{
    if (rc == ERR_UNAUTH)
        return "it cannot be authenticated (tampered with, damaged, or "
               "another file put in its place)";
    return "it is not a sealed object (damaged, or not written by this "
           "repository's format version 2)";
}
