/* tls_live.h: the public listener's key pair, replaceable while the
 * daemon runs (PUT /api/v1/settings/tls). Every TLS handshake takes the
 * current pair through OpenSSL's certificate callback, so a new pair
 * serves new connections at once and open ones keep theirs.
 *
 * The pair is kept in two files. A replacement writes key.pem.new and
 * cert.pem.new (each fsynced), then renames the key, then the
 * certificate, then fsyncs the directory; tls_live_recover() at
 * start-up finishes or discards a replacement a crash interrupted, so
 * the files on disk are always a matching pair.
 *
 * Thread safe. No OpenSSL types in this interface.
 */
#ifndef XENITH_SERVER_HTTP_TLS_LIVE_H
#define XENITH_SERVER_HTTP_TLS_LIVE_H

#include <stddef.h>
#include <stdint.h>

struct tls_live;

struct tls_info {
    char subject[256];
    char issuer[256];
    char san[512];    /* "DNS:host, IP Address:127.0.0.1" or "" */
    char sha256[100]; /* "AB:CD:..." */
    int64_t not_before;
    int64_t not_after;
    int self_signed;
    int replaceable; /* 0 when tls-cert/tls-key come from the config */
};

/* Finish or discard a replacement a crash left half done (see above). */
void tls_live_recover(const char *cert_path, const char *key_path);

/* Load the pair from the files. replaceable: whether uploads may
 * overwrite them (not when an operator configured the paths). *out
 * **new**; ERR_INVALID (logged) when the files do not hold a matching
 * pair. */
int tls_live_new(const char *cert_path, const char *key_path, int replaceable,
                 struct tls_live **out);
void tls_live_free(struct tls_live *t);

/* Hook the pair into a listener's SSL_CTX (passed as void *). */
int tls_live_attach(struct tls_live *t, void *ssl_ctx);

/* Check a PEM certificate (with its chain after it) and its unencrypted
 * PEM private key, store them durably and serve them from the next
 * handshake on. ERR_INVALID with the reason in why (field in *field_out:
 * "certificate" or "private_key"), ERR_CONFLICT when the pair is
 * configured, ERR_IO. */
int tls_live_replace(struct tls_live *t, const char *cert_pem,
                     const char *key_pem, const char **field_out, char *why,
                     size_t cap);

/* What the current certificate says. */
int tls_live_info(struct tls_live *t, struct tls_info *out);

#endif
