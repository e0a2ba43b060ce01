/* compress.c: zstd compression of chunks, stored raw when zstd does not
 * save at least 1/32 (or samples of the chunk do not compress at all).
 * One compression context per thread (thread-local, freed at thread
 * exit). zstd is fenced to backup/.
 */
#include "backup/bk_internal.h"

#include <pthread.h>
#include <zstd.h>

#include "common/err.h"

static pthread_key_t cctx_key;
static pthread_once_t cctx_once = PTHREAD_ONCE_INIT;

static void cctx_free(void *p)
{
    ZSTD_freeCCtx(p);
}

static void cctx_make_key(void)
{
    pthread_key_create(&cctx_key, cctx_free);
}

static ZSTD_CCtx *cctx_get(void)
{
    ZSTD_CCtx *c;

    pthread_once(&cctx_once, cctx_make_key);
    c = pthread_getspecific(cctx_key);
    if (!c) {
        c = ZSTD_createCCtx();
        pthread_setspecific(cctx_key, c);
    }
    return c;
}

size_t bk_compress_bound(size_t len)
{
    return ZSTD_compressBound(len);
}

/* Incompressible data (random, already compressed or encrypted) costs
 * zstd a third of what text does and saves nothing: a chunk is only
 * given to zstd when one of SAMPLES samples of SAMPLE_LEN bytes spread
 * over it shrinks by an eighth. */
#define SAMPLES    4
#define SAMPLE_LEN 4096

static int samples_compress(ZSTD_CCtx *c, int level, const unsigned char *in,
                            size_t len, void *out, size_t cap)
{
    size_t step = len / SAMPLES;

    if (len < 16 * SAMPLES * SAMPLE_LEN)
        return 1; /* small: just try */
    for (size_t i = 0; i < SAMPLES; i++) {
        const unsigned char *s = in + i * step + (step - SAMPLE_LEN) / 2;
        size_t n = ZSTD_compressCCtx(c, out, cap, s, SAMPLE_LEN, level);

        if (!ZSTD_isError(n) && n < SAMPLE_LEN - SAMPLE_LEN / 8)
            return 1;
    }
    return 0;
}

int bk_compress(int level, const void *in, size_t len, void *out, size_t cap,
                size_t *out_len)
{
    ZSTD_CCtx *c;
    size_t n;

    if (level <= 0)
        return 0;
    c = cctx_get();
    if (!samples_compress(c, level, in, len, out, cap))
        return 0;
    n = ZSTD_compressCCtx(c, out, cap, in, len, level);
    if (ZSTD_isError(n) || n >= len - len / 32)
        return 0;
    *out_len = n;
    return 1;
}

int bk_decompress(const void *in, size_t len, void *out, size_t exp_len)
{
    unsigned long long fsz = ZSTD_getFrameContentSize(in, len);
    size_t n;

    if (fsz != exp_len)
        return ERR_IO;
    n = ZSTD_decompress(out, exp_len, in, len);
    if (ZSTD_isError(n) || n != exp_len)
        return ERR_IO;
    return 0;
}
