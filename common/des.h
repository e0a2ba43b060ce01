/* des.h: single-block DES (FIPS 46-3), for the one place xenith needs
 * it: the RFB "VNC authentication" challenge (RFC 6143 7.2.2), which
 * OpenSSL 3 keeps in its legacy provider. Not for anything else: DES is
 * broken as a cipher. Pure functions, thread safe.
 */
#ifndef XENITH_COMMON_DES_H
#define XENITH_COMMON_DES_H

#include <stdint.h>

/* Encrypt one 8-byte block in with the 8-byte key (parity bits
 * ignored) into out (may be in). */
void des_encrypt_block(const uint8_t key[8], const uint8_t in[8],
                       uint8_t out[8]);

#endif
