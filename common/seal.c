#include "common/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileutil.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/uuid.h"

#define SEAL_VERSION   1
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
#define SEAL_RAW_MAX   (1 + SEAL_NONCE_LEN + SEAL_PLAIN_MAX + SEAL_TAG_LEN)

void seal_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

static int read_key(const char *path, unsigned char key[SEAL_KEY_LEN])
{
    unsigned char buf[SEAL_KEY_LEN + 1];
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ERR_NOTFOUND : err_from_errno(errno);
    n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n != SEAL_KEY_LEN) {
        log_error("seal: %s is not a %d-byte key", path, SEAL_KEY_LEN);
        seal_wipe(buf, sizeof(buf));
        return ERR_INVALID;
    }
    memcpy(key, buf, SEAL_KEY_LEN);
    seal_wipe(buf, sizeof(buf));
    return 0;
}

/* A new random key in a 0600 temp file, fsynced, then linked to path:
 * link() fails with EEXIST when another thread or process won, and
 * then its key is the one. */
static int create_key(const char *path)
{
    unsigned char key[SEAL_KEY_LEN];
    char tmp[4096];
    int fd, rc = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
        return ERR_INVALID;
    fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0)
        return err_from_errno(errno);
    rand_bytes(key, sizeof(key));
    if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) < 0)
        rc = err_from_errno(errno ? errno : EIO);
    seal_wipe(key, sizeof(key));
    close(fd);
    if (!rc && link(tmp, path) < 0 && errno != EEXIST)
        rc = err_from_errno(errno);
    unlink(tmp);
    if (!rc)
        rc = file_sync_parent(path);
    if (rc)
        log_error("seal: cannot create the key %s: %s", path, err_str(rc));
    return rc;
}

int seal_key_load(const char *path, unsigned char key[SEAL_KEY_LEN])
{
    int rc;

    rc = read_key(path, key);
    if (rc != ERR_NOTFOUND)
        return rc;
    rc = create_key(path);
    if (rc)
        return rc;
    log_info("seal: created the secret key %s", path);
    return read_key(path, key);
}

int seal_seal(const unsigned char key[SEAL_KEY_LEN], const char *aad,
              const char *plain, char *out, size_t cap)
{
    unsigned char raw[SEAL_RAW_MAX];
    size_t len = strlen(plain), off = 1 + SEAL_NONCE_LEN;
    EVP_CIPHER_CTX *ctx = NULL;
    int n, rc = ERR_INTERNAL;

    if (len > SEAL_PLAIN_MAX || cap < 2 * (off + len + SEAL_TAG_LEN) + 1)
        return ERR_INVALID;
    raw[0] = SEAL_VERSION;
    rand_bytes(raw + 1, SEAL_NONCE_LEN);
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx ||
        !EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw + 1) ||
        (aad && !EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad,
                                   (int)strlen(aad))) ||
        !EVP_EncryptUpdate(ctx, raw + off, &n, (const unsigned char *)plain,
                           (int)len) ||
        !EVP_EncryptFinal_ex(ctx, raw + off + len, &n) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
                             raw + off + len))
        goto out;
    hex_encode(out, raw, off + len + SEAL_TAG_LEN);
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    seal_wipe(raw, sizeof(raw));
    return rc;
}

int seal_open(const unsigned char key[SEAL_KEY_LEN], const char *aad,
              const char *sealed, char *out, size_t cap)
{
    unsigned char raw[SEAL_RAW_MAX], plain[SEAL_PLAIN_MAX];
    size_t off = 1 + SEAL_NONCE_LEN, len;
    EVP_CIPHER_CTX *ctx = NULL;
    long rawlen;
    int n, rc = ERR_UNAUTH;

    rawlen = hex_decode(sealed, strlen(sealed), raw, sizeof(raw));
    if (rawlen < (long)(off + SEAL_TAG_LEN) || raw[0] != SEAL_VERSION)
        return ERR_INVALID;
    len = (size_t)rawlen - off - SEAL_TAG_LEN;
    if (len + 1 > cap)
        return ERR_TOOBIG;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx ||
        !EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw + 1) ||
        (aad && !EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad,
                                   (int)strlen(aad))) ||
        !EVP_DecryptUpdate(ctx, plain, &n, raw + off, (int)len) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
                             raw + off + len) ||
        EVP_DecryptFinal_ex(ctx, plain + len, &n) <= 0)
        goto out;
    memcpy(out, plain, len);
    out[len] = '\0';
    if (strlen(out) != len) /* a NUL inside: not what seal_seal wrote */
        goto out;
    rc = 0;
out:
    if (rc)
        seal_wipe(out, cap);
    EVP_CIPHER_CTX_free(ctx);
    seal_wipe(plain, sizeof(plain));
    seal_wipe(raw, sizeof(raw));
    return rc;
}
