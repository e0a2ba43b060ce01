/* index.c: per-disk indexes, the ordered chunk ids of one disk of one
 * snapshot (indexes/<snapshot>.<n>.idx), with a SHA-256 trailer, sealed
 * in format-2 encrypted repositories (metaseal.c). Not thread safe per
 * object.
 */
#include "backup/bk_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/uuid.h"
#include "common/xalloc.h"

#define IDX_MAGIC "XBKIDX1"
#define IDX_HDR   32
#define IDX_MAX   (1ull << 24) /* chunks per disk: 16 TiB at 1 MiB */

void bk_index_init(struct bk_index *ix, uint32_t chunk_size, uint64_t disk_size)
{
    ix->chunk_size = chunk_size;
    ix->disk_size = disk_size;
    ix->num = (disk_size + chunk_size - 1) / chunk_size;
    ix->ids = xcalloc(ix->num ? ix->num : 1, BK_ID_LEN);
}

void bk_index_release(struct bk_index *ix)
{
    if (!ix)
        return;
    free(ix->ids);
    ix->ids = NULL;
    ix->num = 0;
}

static void sha256(const void *p, size_t n, unsigned char md[32])
{
    unsigned int len = 0;

    if (!EVP_Digest(p, n, md, &len, EVP_sha256(), NULL))
        abort();
}

/* The index file stored at rel (**new**, *len_out bytes), sealed in
 * format-2 encrypted repositories; its SHA-256 (of the file as stored)
 * to sha_out. */
static unsigned char *index_encode(const struct bk_repo *repo,
                                   const struct bk_index *ix, const char *rel,
                                   char sha_out[65], size_t *len_out)
{
    size_t body = IDX_HDR + ix->num * BK_ID_LEN, len = body + 32, slen;
    unsigned char *f = xcalloc(1, len), *sealed = NULL, md[32];

    memcpy(f, IDX_MAGIC, 8);
    bk_put32(f + 8, ix->chunk_size);
    bk_put64(f + 16, ix->disk_size);
    bk_put64(f + 24, ix->num);
    memcpy(f + IDX_HDR, ix->ids, ix->num * BK_ID_LEN);
    sha256(f, body, f + body);
    if (bk_meta_sealed(repo)) {
        bk_meta_seal(repo, BK_META_INDEX, rel, f, len, &sealed, &slen);
        free(f);
        f = sealed;
        len = slen;
    }
    sha256(f, len, md);
    hex_encode(sha_out, md, 32);
    *len_out = len;
    return f;
}

/* Write the index atomically, or only stage it when tmp_out is set. */
static int index_store(const struct bk_repo *repo, const struct bk_index *ix,
                       const char *name, char sha_out[65], char *tmp_out)
{
    size_t len;
    unsigned char *f;
    char rel[128];
    int rc;

    snprintf(rel, sizeof(rel), "indexes/%s", name);
    f = index_encode(repo, ix, rel, sha_out, &len);
    rc = tmp_out ? bk_write_file_staged(repo, rel, f, len, tmp_out)
                 : bk_write_file_atomic(repo, rel, f, len);
    free(f);
    return rc;
}

int bk_index_write(const struct bk_repo *repo, const struct bk_index *ix,
                   const char *name, char sha_out[65])
{
    return index_store(repo, ix, name, sha_out, NULL);
}

int bk_index_stage(const struct bk_repo *repo, const struct bk_index *ix,
                   const char *name, char sha_out[65], char tmp_out[BK_TMP_LEN])
{
    return index_store(repo, ix, name, sha_out, tmp_out);
}

/* Open a sealed index file image f[*len] in place of the plain one:
 * 0, or an error after logging why. */
static int unseal(const struct bk_repo *repo, const char *rel, char **f,
                  size_t *len)
{
    unsigned char *plain;
    size_t plen;
    int rc;

    rc = bk_meta_open(repo, BK_META_INDEX, rel, *f, *len, &plain, &plen);
    if (rc) {
        log_error("backup: index %s: %s", rel, bk_meta_why(rc));
        return ERR_IO;
    }
    free(*f);
    *f = (char *)plain;
    *len = plen;
    return 0;
}

int bk_index_read(const struct bk_repo *repo, const char *name, const char *sha,
                  struct bk_index *ix)
{
    char rel[128], *f = NULL, hex[65];
    unsigned char md[32], *u;
    size_t len;
    uint64_t num, size;
    uint32_t cs;
    int rc;

    snprintf(rel, sizeof(rel), "indexes/%s", name);
    rc = bk_read_file(
        repo, rel, IDX_HDR + IDX_MAX * BK_ID_LEN + 32 + BK_META_OVER, &f, &len);
    if (rc) {
        log_error("backup: index %s: %s", name, err_str(rc));
        return rc == ERR_NOTFOUND ? rc : ERR_IO;
    }
    if (sha) {
        sha256(f, len, md);
        hex_encode(hex, md, 32);
        if (strcmp(hex, sha)) {
            log_error("backup: index %s is not the file its manifest names "
                      "(SHA-256 differs): damaged or replaced",
                      rel);
            free(f);
            return ERR_IO;
        }
    }
    if (bk_meta_sealed(repo) && unseal(repo, rel, &f, &len)) {
        free(f);
        return ERR_IO;
    }
    u = (unsigned char *)f;
    rc = ERR_IO;
    if (len < IDX_HDR + 32 || memcmp(u, IDX_MAGIC, 8))
        goto bad;
    cs = bk_get32(u + 8);
    size = bk_get64(u + 16);
    num = bk_get64(u + 24);
    if (cs < BK_MIN_CHUNK || cs > BK_MAX_CHUNK || num > IDX_MAX ||
        len != IDX_HDR + num * BK_ID_LEN + 32 || num != (size + cs - 1) / cs)
        goto bad;
    sha256(u, len - 32, md);
    if (memcmp(md, u + len - 32, 32))
        goto bad;
    ix->chunk_size = cs;
    ix->disk_size = size;
    ix->num = num;
    ix->ids = xmalloc(num ? num * BK_ID_LEN : 1);
    memcpy(ix->ids, u + IDX_HDR, num * BK_ID_LEN);
    free(f);
    return 0;
bad:
    log_error("backup: index %s is corrupt", rel);
    free(f);
    return rc;
}
