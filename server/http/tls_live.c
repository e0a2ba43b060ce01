#include "server/http/tls_live.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"

#define PEM_MAX (256 * 1024)

struct tls_pair {
    X509 *cert;
    STACK_OF(X509) * chain; /* the certificates after the first */
    EVP_PKEY *key;
};

struct tls_live {
    pthread_mutex_t lock; /* guards pair (swapped whole) */
    struct tls_pair pair;
    char cert_path[PATH_MAX];
    char key_path[PATH_MAX];
    int replaceable;
};

static void pair_release(struct tls_pair *p)
{
    X509_free(p->cert);
    sk_X509_pop_free(p->chain, X509_free);
    EVP_PKEY_free(p->key);
    memset(p, 0, sizeof(*p));
}

/* Parse and check a pair. On ERR_INVALID, why says what is wrong and
 * *field_out which part. */
static int pair_parse(const char *cert_pem, const char *key_pem,
                      struct tls_pair *out, const char **field_out, char *why,
                      size_t cap)
{
    struct tls_pair p = { 0 };
    BIO *b = NULL;
    X509 *extra;
    int rc = ERR_INVALID;

    *field_out = "certificate";
    b = BIO_new_mem_buf(cert_pem, -1);
    if (!b || !(p.cert = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        snprintf(why, cap, "certificate is not a PEM X.509 certificate");
        goto out;
    }
    p.chain = sk_X509_new_null();
    while ((extra = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        sk_X509_push(p.chain, extra);
    ERR_clear_error(); /* the loop ends on "no start line" */
    if (X509_cmp_current_time(X509_get0_notAfter(p.cert)) <= 0) {
        snprintf(why, cap, "certificate has expired");
        goto out;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(p.cert)) >= 0) {
        snprintf(why, cap, "certificate is not valid yet");
        goto out;
    }
    BIO_free(b);
    *field_out = "private_key";
    b = BIO_new_mem_buf(key_pem, -1);
    /* An empty passphrase callback result refuses encrypted keys. */
    if (!b || !(p.key = PEM_read_bio_PrivateKey(b, NULL, NULL, ""))) {
        snprintf(why, cap, "private_key is not an unencrypted PEM private key");
        goto out;
    }
    if (X509_check_private_key(p.cert, p.key) != 1) {
        snprintf(why, cap, "private_key does not match the certificate");
        goto out;
    }
    *out = p;
    memset(&p, 0, sizeof(p));
    rc = 0;
out:
    ERR_clear_error();
    BIO_free(b);
    pair_release(&p);
    return rc;
}

static int read_text(const char *path, char **out)
{
    FILE *f = fopen(path, "re");
    char *s;
    size_t n;

    *out = NULL;
    if (!f)
        return err_from_errno(errno);
    s = xmalloc(PEM_MAX + 1);
    n = fread(s, 1, PEM_MAX, f);
    fclose(f);
    s[n] = '\0';
    *out = s;
    return 0;
}

static int pair_load(const char *cert_path, const char *key_path,
                     struct tls_pair *out)
{
    char *cert = NULL, *key = NULL, why[160];
    const char *field;
    int rc;

    rc = read_text(cert_path, &cert);
    if (!rc)
        rc = read_text(key_path, &key);
    if (!rc) {
        rc = pair_parse(cert, key, out, &field, why, sizeof(why));
        if (rc)
            log_error("tls: %s and %s: %s", cert_path, key_path, why);
    } else {
        log_error("tls: cannot read %s or %s: %s", cert_path, key_path,
                  err_str(rc));
    }
    if (key)
        OPENSSL_cleanse(key, strlen(key));
    free(cert);
    free(key);
    return rc;
}

static void new_name(char *dst, size_t cap, const char *path)
{
    snprintf(dst, cap, "%s.new", path);
}

void tls_live_recover(const char *cert_path, const char *key_path)
{
    char cert_new[PATH_MAX + 8], key_new[PATH_MAX + 8];
    int have_cert, have_key;

    new_name(cert_new, sizeof(cert_new), cert_path);
    new_name(key_new, sizeof(key_new), key_path);
    have_cert = access(cert_new, F_OK) == 0;
    have_key = access(key_new, F_OK) == 0;
    if (have_cert && !have_key) {
        /* The key was renamed already: the certificate must follow. */
        if (rename(cert_new, cert_path) == 0) {
            file_sync_parent(cert_path);
            log_info("tls: finished an interrupted certificate replacement");
        }
        return;
    }
    if (have_key) {
        /* Nothing renamed yet: the old pair stands. */
        unlink(key_new);
        if (have_cert)
            unlink(cert_new);
        log_info("tls: discarded an interrupted certificate replacement");
    }
}

int tls_live_new(const char *cert_path, const char *key_path, int replaceable,
                 struct tls_live **out)
{
    struct tls_live *t;
    int rc;

    *out = NULL;
    t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    xstrlcpy(t->cert_path, cert_path, sizeof(t->cert_path));
    xstrlcpy(t->key_path, key_path, sizeof(t->key_path));
    t->replaceable = replaceable;
    rc = pair_load(cert_path, key_path, &t->pair);
    if (rc) {
        tls_live_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void tls_live_free(struct tls_live *t)
{
    if (!t)
        return;
    pair_release(&t->pair);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* OpenSSL's certificate callback: each handshake gets the pair current
 * at its start. */
static int cert_cb(SSL *ssl, void *arg)
{
    struct tls_live *t = arg;
    int ok;

    pthread_mutex_lock(&t->lock);
    ok = SSL_use_certificate(ssl, t->pair.cert) == 1 &&
         SSL_use_PrivateKey(ssl, t->pair.key) == 1 &&
         SSL_set1_chain(ssl, t->pair.chain) == 1;
    pthread_mutex_unlock(&t->lock);
    return ok ? 1 : 0;
}

int tls_live_attach(struct tls_live *t, void *ssl_ctx)
{
    SSL_CTX_set_cert_cb(ssl_ctx, cert_cb, t);
    return 0;
}

/* Write both .new files, then rename key, then certificate. */
static int store_pair(struct tls_live *t, const char *cert_pem,
                      const char *key_pem)
{
    char cert_new[PATH_MAX + 8], key_new[PATH_MAX + 8];
    int rc;

    new_name(cert_new, sizeof(cert_new), t->cert_path);
    new_name(key_new, sizeof(key_new), t->key_path);
    rc = file_write_synced(key_new, key_pem, strlen(key_pem), 0600);
    if (!rc)
        rc = file_write_synced(cert_new, cert_pem, strlen(cert_pem), 0644);
    if (!rc && rename(key_new, t->key_path))
        rc = err_from_errno(errno);
    if (!rc && rename(cert_new, t->cert_path))
        rc = err_from_errno(errno);
    if (!rc)
        rc = file_sync_parent(t->cert_path);
    if (rc) {
        log_error("tls: cannot store the new pair beside %s: %s", t->cert_path,
                  err_str(rc));
        tls_live_recover(t->cert_path, t->key_path);
    }
    return rc;
}

int tls_live_replace(struct tls_live *t, const char *cert_pem,
                     const char *key_pem, const char **field_out, char *why,
                     size_t cap)
{
    struct tls_pair p;
    int rc;

    *field_out = NULL;
    if (!t->replaceable) {
        snprintf(why, cap,
                 "the certificate is set in the configuration "
                 "(tls-cert, tls-key); change it there");
        return ERR_CONFLICT;
    }
    rc = pair_parse(cert_pem, key_pem, &p, field_out, why, cap);
    if (rc)
        return rc;
    pthread_mutex_lock(&t->lock);
    rc = store_pair(t, cert_pem, key_pem);
    if (!rc) {
        pair_release(&t->pair);
        t->pair = p;
        memset(&p, 0, sizeof(p));
    }
    pthread_mutex_unlock(&t->lock);
    pair_release(&p);
    if (rc)
        snprintf(why, cap, "cannot store the certificate: %s", err_str(rc));
    else
        log_info("tls: certificate replaced");
    return rc;
}

static void name_text(X509_NAME *n, char *dst, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    int len;

    dst[0] = '\0';
    if (!b)
        return;
    X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
    len = BIO_read(b, dst, (int)cap - 1);
    dst[len > 0 ? len : 0] = '\0';
    BIO_free(b);
}

static void san_text(X509 *x, char *dst, size_t cap)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    BIO *b = BIO_new(BIO_s_mem());
    int len;

    dst[0] = '\0';
    if (gens && b) {
        for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
            if (i)
                BIO_puts(b, ", ");
            GENERAL_NAME_print(b, sk_GENERAL_NAME_value(gens, i));
        }
        len = BIO_read(b, dst, (int)cap - 1);
        dst[len > 0 ? len : 0] = '\0';
    }
    BIO_free(b);
    GENERAL_NAMES_free(gens);
}

static int64_t asn1_epoch(const ASN1_TIME *at)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(at, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

int tls_live_info(struct tls_live *t, struct tls_info *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    size_t off = 0;
    X509 *x;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&t->lock);
    x = t->pair.cert;
    name_text(X509_get_subject_name(x), out->subject, sizeof(out->subject));
    name_text(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
    san_text(x, out->san, sizeof(out->san));
    out->not_before = asn1_epoch(X509_get0_notBefore(x));
    out->not_after = asn1_epoch(X509_get0_notAfter(x));
    /* Not X509_check_issued(): it also wants keyCertSign in a leaf. */
    out->self_signed =
        X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 &&
        X509_verify(x, X509_get0_pubkey(x)) == 1;
    if (X509_digest(x, EVP_sha256(), md, &n) != 1)
        n = 0;
    pthread_mutex_unlock(&t->lock);
    for (unsigned int i = 0; i < n && off + 3 < sizeof(out->sha256); i++)
        off += (size_t)snprintf(out->sha256 + off, sizeof(out->sha256) - off,
                                i ? ":%02X" : "%02X", md[i]);
    out->replaceable = t->replaceable;
    ERR_clear_error();
    return 0;
}
