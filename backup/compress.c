/* compress.c: zstd compression of chunks, stored raw when zstd does not
 * save at least 1/32. One compression context per thread (thread-local,
 * freed at thread exit). zstd is fenced to backup/.
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

int bk_compress(int level, const void *in, size_t len, void *out, size_t cap,
                size_t *out_len)
{
    size_t n;

    if (level <= 0)
        return 0;
    n = ZSTD_compressCCtx(cctx_get(), out, cap, in, len, level);
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
