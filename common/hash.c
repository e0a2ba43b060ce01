#include "common/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/uuid.h"

#define SCRYPT_LN       15
#define SCRYPT_R        8
#define SCRYPT_P        1
#define SCRYPT_SALT_LEN 16
#define SCRYPT_KEY_LEN  32
#define SCRYPT_MAX_LEN  64 /* salt or key bytes accepted when parsing */
#define SCRYPT_MAXMEM   (256ull * 1024 * 1024)

void sha256_hex(const void *data, size_t len, char out[SHA256_HEXLEN])
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) ||
        mdlen != sizeof(md)) {
        fprintf(stderr, "xenith: SHA-256 failed\n");
        abort();
    }
    hex_encode(out, md, sizeof(md));
}

int ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

int ct_streq(const char *a, const char *b)
{
    size_t len = strlen(a);

    if (len != strlen(b))
        return 0;
    return ct_equal(a, b, len);
}

/* One password hash at a time in the process: each takes 32 MiB and
 * ~0.1 s of a core, and logins arriving together (a browser tab per
 * user, or a guessing storm from many addresses) would otherwise take
 * 32 MiB per handler thread at once. They wait their turn instead. */
static pthread_mutex_t scrypt_mu = PTHREAD_MUTEX_INITIALIZER;

static int scrypt_derive(const char *pw, const unsigned char *salt,
                         size_t salt_len, unsigned ln, unsigned r, unsigned p,
                         unsigned char *key, size_t key_len)
{
    int ok;

    pthread_mutex_lock(&scrypt_mu);
    ok = EVP_PBE_scrypt(pw, strlen(pw), salt, salt_len, (uint64_t)1 << ln, r, p,
                        SCRYPT_MAXMEM, key, key_len);
    pthread_mutex_unlock(&scrypt_mu);
    return ok ? 0 : ERR_INTERNAL;
}

int password_hash(const char *pw, char *out, size_t cap)
{
    unsigned char salt[SCRYPT_SALT_LEN], key[SCRYPT_KEY_LEN];
    char salt_hex[2 * SCRYPT_SALT_LEN + 1], key_hex[2 * SCRYPT_KEY_LEN + 1];
    int rc;

    if (cap < PASSWORD_HASH_MAX)
        return ERR_INVALID;
    rand_bytes(salt, sizeof(salt));
    rc = scrypt_derive(pw, salt, sizeof(salt), SCRYPT_LN, SCRYPT_R, SCRYPT_P,
                       key, sizeof(key));
    if (rc)
        goto out;
    hex_encode(salt_hex, salt, sizeof(salt));
    hex_encode(key_hex, key, sizeof(key));
    snprintf(out, cap, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", SCRYPT_LN, SCRYPT_R,
             SCRYPT_P, salt_hex, key_hex);
out:
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

long hex_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
    size_t i;

    if (len == 0 || len % 2 || len / 2 > cap)
        return -1;
    for (i = 0; i < len; i += 2) {
        int hi = hex_val(s[i]), lo = hex_val(s[i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(len / 2);
}

int password_verify(const char *pw, const char *stored)
{
    unsigned char salt[SCRYPT_MAX_LEN], want[SCRYPT_MAX_LEN];
    unsigned char got[SCRYPT_MAX_LEN];
    unsigned ln, r, p;
    const char *s, *d;
    long salt_len, key_len;
    int used = 0, rc;

    if (sscanf(stored, "$scrypt$ln=%u,r=%u,p=%u$%n", &ln, &r, &p, &used) != 3 ||
        used == 0)
        return ERR_INVALID;
    if (ln < 1 || ln > 22 || r < 1 || r > 32 || p < 1 || p > 16)
        return ERR_INVALID;
    s = stored + used;
    d = strchr(s, '$');
    if (!d)
        return ERR_INVALID;
    salt_len = hex_decode(s, (size_t)(d - s), salt, sizeof(salt));
    key_len = hex_decode(d + 1, strlen(d + 1), want, sizeof(want));
    if (salt_len < 8 || key_len < 16)
        return ERR_INVALID;
    rc = scrypt_derive(pw, salt, (size_t)salt_len, ln, r, p, got,
                       (size_t)key_len);
    if (rc)
        goto out;
    rc = ct_equal(got, want, (size_t)key_len) ? 0 : ERR_UNAUTH;
out:
    OPENSSL_cleanse(got, sizeof(got));
    return rc;
}
