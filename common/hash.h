/* hash.h: the few cryptographic primitives the daemon needs outside
 * TLS and backups, as thin wrappers over OpenSSL 3 (the only OpenSSL
 * use outside backup/ and server/http/): SHA-256, constant-time
 * comparison, and scrypt password hashes. Thread safe.
 */
#ifndef XENITH_COMMON_HASH_H
#define XENITH_COMMON_HASH_H

#include <stddef.h>

#define SHA256_HEXLEN 65 /* 64 hex digits + NUL */

/* Largest string password_hash() writes, NUL included. */
#define PASSWORD_HASH_MAX 192

/* Lower-case hex SHA-256 of data[len] into out[SHA256_HEXLEN]. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEXLEN]);

/* 1 if a[len] and b[len] are equal, else 0; the time taken does not
 * depend on where they differ. */
int ct_equal(const void *a, const void *b, size_t len);

/* 1 if NUL-terminated a and b are equal (constant time in the content;
 * different lengths answer 0 at once). */
int ct_streq(const char *a, const char *b);

/* Decode lower-case hex s[0..len) (len even, > 0) into out[cap]: bytes
 * written, or -1 for bad hex or too little room. */
long hex_decode(const char *s, size_t len, unsigned char *out, size_t cap);

/* Hash password pw with scrypt (N=2^15, r=8, p=1, 16-byte random salt,
 * 32-byte key) into out[cap] as
 * "$scrypt$ln=15,r=8,p=1$<salt hex>$<key hex>".
 * 0, ERR_INVALID when cap < PASSWORD_HASH_MAX, or ERR_INTERNAL. */
int password_hash(const char *pw, char *out, size_t cap);

/* Check pw against a string from password_hash(). The parameters come
 * from the string, so they can be raised later without breaking old
 * hashes. 0 on a match, ERR_UNAUTH on a mismatch, ERR_INVALID when
 * stored is not a hash this code understands. Constant time in the
 * comparison. */
int password_verify(const char *pw, const char *stored);

#endif
