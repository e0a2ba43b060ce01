#include "server/http/tls_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"

#define CERT_DAYS 3650

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return ERR_INTERNAL;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : ERR_INTERNAL;
}

static int set_serial(X509 *x)
{
    BIGNUM *bn = BN_new();
    int rc = ERR_INTERNAL;

    if (bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        rc = 0;
    BN_free(bn);
    return rc;
}

static int make_cert(EVP_PKEY *key, X509 **x_out)
{
    X509 *x = X509_new();
    X509_NAME *name;
    char host[256], san[512];
    int rc;

    *x_out = NULL;
    if (!x)
        return ERR_INTERNAL;
    if (gethostname(host, sizeof(host)) || !host[0])
        xstrlcpy(host, "localhost", sizeof(host));
    host[sizeof(host) - 1] = '\0';
    snprintf(san, sizeof(san), "DNS:%s,IP:127.0.0.1", host);

    rc = ERR_INTERNAL;
    if (!X509_set_version(x, 2) || set_serial(x) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 60L * 60 * 24 * CERT_DAYS) ||
        !X509_set_pubkey(x, key))
        goto out;
    name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                    (const unsigned char *)"xenith", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)host, -1, -1, 0) ||
        !X509_set_issuer_name(x, name))
        goto out;
    if (add_ext(x, NID_subject_alt_name, san) ||
        add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(x, NID_key_usage, "critical,digitalSignature") ||
        add_ext(x, NID_ext_key_usage, "serverAuth") ||
        add_ext(x, NID_subject_key_identifier, "hash"))
        goto out;
    if (!X509_sign(x, key, EVP_sha256()))
        goto out;
    *x_out = x;
    x = NULL;
    rc = 0;
out:
    X509_free(x);
    return rc;
}

/* Write a PEM file via temp + fsync + rename. which: 0 key, 1 cert. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *x)
{
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = NULL;
    int fd, ok, rc;

    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = err_from_errno(errno);
        log_error("tls: cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    f = fdopen(fd, "w");
    if (!f) {
        rc = err_from_errno(errno);
        close(fd);
        goto out;
    }
    ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
             : PEM_write_X509(f, x);
    if (!ok || fflush(f) || fsync(fileno(f))) {
        rc = ERR_IO;
        log_error("tls: cannot write %s", tmp);
        goto out;
    }
    if (fclose(f)) {
        f = NULL;
        rc = ERR_IO;
        goto out;
    }
    f = NULL;
    if (rename(tmp, path)) {
        rc = err_from_errno(errno);
        log_error("tls: cannot rename %s: %s", tmp, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int mkdir_parent(const char *path)
{
    char dir[PATH_MAX];
    char *slash;

    if (xstrlcpy(dir, path, sizeof(dir)))
        return ERR_INVALID;
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0700) && errno != EEXIST) {
        log_error("tls: cannot create %s: %s", dir, strerror(errno));
        return err_from_errno(errno);
    }
    return 0;
}

int tls_cert_ensure(const char *cert_path, const char *key_path)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    int have_cert = access(cert_path, F_OK) == 0;
    int have_key = access(key_path, F_OK) == 0;
    int rc;

    if (have_cert && have_key)
        return 0;
    if (have_cert || have_key) {
        log_error("tls: %s exists but %s does not; not generating a new "
                  "pair over it",
                  have_cert ? cert_path : key_path,
                  have_cert ? key_path : cert_path);
        return ERR_CONFLICT;
    }
    rc = mkdir_parent(cert_path);
    if (!rc)
        rc = mkdir_parent(key_path);
    if (rc)
        return rc;
    key = EVP_EC_gen("P-256");
    if (!key) {
        log_error("tls: cannot generate an ECDSA P-256 key");
        rc = ERR_INTERNAL;
        goto out;
    }
    rc = make_cert(key, &x);
    if (rc) {
        log_error("tls: cannot build the self-signed certificate");
        goto out;
    }
    rc = write_pem(key_path, 0600, key, NULL);
    if (!rc)
        rc = write_pem(cert_path, 0644, NULL, x);
    if (rc) {
        unlink(key_path);
        goto out;
    }
    log_info("tls: generated a self-signed certificate %s", cert_path);
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}
