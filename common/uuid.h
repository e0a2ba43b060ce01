/* uuid.h: random (version 4) UUIDs and random bytes from the kernel's
 * CSPRNG (getrandom(2)). Thread safe.
 */
#ifndef XENITH_COMMON_UUID_H
#define XENITH_COMMON_UUID_H

#include <stddef.h>

#define UUID_STRLEN 37 /* 36 characters + NUL */

/* Fill out[UUID_STRLEN] with a new lower-case v4 UUID. */
void uuid_generate(char out[UUID_STRLEN]);

/* 1 if s is a canonical UUID (8-4-4-4-12 hex digits), else 0. */
int uuid_valid(const char *s);

/* n bytes from the CSPRNG; aborts if the kernel cannot provide them. */
void rand_bytes(void *p, size_t n);

/* 2*n lower-case hex characters of n random bytes into out[2*n+1]. */
void rand_hex(char *out, size_t n);

/* Hex-encode n bytes into out[2*n+1]. */
void hex_encode(char *out, const unsigned char *p, size_t n);

#endif
