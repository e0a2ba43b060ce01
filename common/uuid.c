#include "common/uuid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void rand_bytes(void *p, size_t n)
{
    unsigned char *c = p;

    while (n) {
        ssize_t r = getrandom(c, n, 0);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "xenith: getrandom failed\n");
            abort();
        }
        c += r;
        n -= (size_t)r;
    }
}

void hex_encode(char *out, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void rand_hex(char *out, size_t n)
{
    unsigned char tmp[64];

    while (n) {
        size_t k = n < sizeof(tmp) ? n : sizeof(tmp);

        rand_bytes(tmp, k);
        hex_encode(out, tmp, k);
        out += 2 * k;
        n -= k;
    }
}

void uuid_generate(char out[UUID_STRLEN])
{
    unsigned char b[16];

    rand_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, UUID_STRLEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
}

int uuid_valid(const char *s)
{
    size_t i;

    if (!s || strlen(s) != 36)
        return 0;
    for (i = 0; i < 36; i++) {
        char c = s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                     (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return 1;
}
