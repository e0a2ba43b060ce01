/* seal.h: sealing small secrets at rest (a backup repository's
 * passphrase in the database) with AES-256-GCM under a 32-byte key kept
 * in a file (DATA/secret.key, mode 0600, created atomically on first
 * use). A sealed secret is lower-case hex text of
 *   version byte (1) | nonce (12) | ciphertext | tag (16);
 * the aad string (for example the owning row's id) is authenticated
 * too, so a sealed value copied to another row does not open. Thread
 * safe.
 */
#ifndef XENITH_COMMON_SEAL_H
#define XENITH_COMMON_SEAL_H

#include <stddef.h>

#define SEAL_KEY_LEN   32
#define SEAL_PLAIN_MAX 256 /* longest secret sealed */
/* Hex text of a sealed SEAL_PLAIN_MAX secret, NUL included. */
#define SEAL_HEX_MAX (2 * (1 + 12 + SEAL_PLAIN_MAX + 16) + 1)

/* Read the key in path, creating it (random, 0600, written to a temp
 * name, fsynced and linked into place so concurrent first users agree
 * on one key) when it does not exist. ERR_IO, or ERR_INVALID when the
 * file is not a key. */
int seal_key_load(const char *path, unsigned char key[SEAL_KEY_LEN]);

/* Seal plain (at most SEAL_PLAIN_MAX bytes: else ERR_INVALID) into
 * out[cap] (cap >= SEAL_HEX_MAX). aad may be NULL. */
int seal_seal(const unsigned char key[SEAL_KEY_LEN], const char *aad,
              const char *plain, char *out, size_t cap);

/* Open what seal_seal wrote into out[cap] (NUL-terminated). ERR_UNAUTH
 * when the key, the aad or the text do not match; ERR_INVALID when it
 * is not sealed text; ERR_TOOBIG when out is too small. */
int seal_open(const unsigned char key[SEAL_KEY_LEN], const char *aad,
              const char *sealed, char *out, size_t cap);

/* Overwrite n bytes of p with zeroes in a way the compiler keeps. */
void seal_wipe(void *p, size_t n);

#endif
