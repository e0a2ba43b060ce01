/* tls_cert.h: the public listener's certificate. When none is
 * configured, xenithd uses DATA/tls/cert.pem and DATA/tls/key.pem and
 * generates them on first start: a self-signed ECDSA P-256 certificate
 * with subjectAltName DNS:<hostname>, IP:127.0.0.1, valid ten years.
 * Thread safe (call once at start-up).
 */
#ifndef XENITH_SERVER_HTTP_TLS_CERT_H
#define XENITH_SERVER_HTTP_TLS_CERT_H

/* If neither file exists, create both (key mode 0600, each written to a
 * temp name, fsynced and renamed; the directory is created 0700). If
 * both exist, nothing happens. One without the other is ERR_CONFLICT
 * (never overwrite a key). 0 or an error, logged. */
int tls_cert_ensure(const char *cert_path, const char *key_path);

#endif
