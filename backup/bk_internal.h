/* bk_internal.h: what the backup engine's files share and nobody else
 * sees: the opened repository, and one section per module (crypt,
 * compress, chunk store, index, snapshot manifests, locks, change map).
 * Thread safety is stated per section.
 */
#ifndef XENITH_BACKUP_BK_INTERNAL_H
#define XENITH_BACKUP_BK_INTERNAL_H

#include <dirent.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "backup/bk.h"

#define BK_KEY_LEN     32
#define BK_NONCE_LEN   12
#define BK_TAG_LEN     16
#define BK_CHDR_LEN    24 /* header incl. the payload checksum */
#define BK_CHDR_AAD    16 /* header bytes sealed as GCM additional data */
#define BK_CHUNK_MAGIC "XBKC"
#define BK_FLAG_ZSTD   1
#define BK_FLAG_ENC    2
#define BK_MAX_CHUNK   (64u * 1024 * 1024)
#define BK_MIN_CHUNK   (64u * 1024)
#define BK_CONFIG_MAX  65536  /* config and keys/master */
#define BK_TMP_LEN     256    /* a temp file's path in the repository */
#define BK_META_MAGIC  "XBKS" /* a sealed manifest or index (v2) */
#define BK_META_HDR    8
#define BK_META_OVER   (BK_META_HDR + BK_NONCE_LEN + BK_TAG_LEN)

/* Little-endian integers in headers. */
static inline void bk_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void bk_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t bk_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t bk_get64(const unsigned char *p)
{
    return (uint64_t)bk_get32(p) | (uint64_t)bk_get32(p + 4) << 32;
}

/* What a small file of the repository was when it was read. */
struct bk_fileid {
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    unsigned char sha[32]; /* SHA-256 of its bytes */
    int present;
};

struct bk_repo {
    char *dir;
    int dirfd;
    uint32_t chunk_size;
    int level;
    int encrypted;
    int format; /* the config's version: 2 = sealed metadata */
    int threads;
    unsigned char k_enc[BK_KEY_LEN];
    unsigned char k_id[BK_KEY_LEN];
    unsigned char k_meta[BK_KEY_LEN]; /* manifests and indexes (v2) */
    char fingerprint[33];
    struct bk_errslot *err; /* why the last call failed (error.c) */
    const char *dead_host;  /* its locks are stale (bk_unlock() only) */
    /* What was opened (repo_ident.c): the directory, and the config and
     * key file the keys came from. */
    uint64_t dir_dev, dir_ino;
    struct bk_fileid id_config, id_master;
};

/* ---- repo_ident.c ---- */

/* Fill *id_out with relpath's identity and the SHA-256 of data[len],
 * the bytes just read from it. 0, or -1 when it cannot be stat'ed. */
int bk_fileid_note(const struct bk_repo *repo, const char *relpath,
                   const void *data, size_t len, struct bk_fileid *id_out);

/* ---- error.c: the reason of a failed call. Thread safe. ---- */

struct bk_errslot *bk_errslot_new(void);
void bk_errslot_free(struct bk_errslot *e);

/* A public call starts: forget the reason of the previous one. */
void bk_error_clear(const struct bk_repo *repo);

/* A failure found: log "backup: <what>" (ERR_BUSY, a lock held, at
 * debug level only: callers retry) and keep it as the call's reason
 * unless one is kept already (later failures are consequences).
 * What names the operation, the object and why, never a secret, e.g.
 * "writing chunk <hex> into <dir>: No space left on device". Returns
 * rc. */
int bk_fail(const struct bk_repo *repo, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- crypt.c: ids, AES-256-GCM, key wrapping. Thread safe. ---- */

/* Chunk id of data[len]: SHA-256, or HMAC-SHA256 under k_id when the
 * repository is encrypted. */
void bk_chunk_id(const struct bk_repo *repo, const void *data, size_t len,
                 unsigned char id_out[BK_ID_LEN]);

/* Chunk ids of a[la] and of b[lb] (bk_chunk_id() of each), both at
 * once where the CPU allows it (bk_sha256_x2()). */
void bk_chunk_id2(const struct bk_repo *repo, const void *a, size_t la,
                  const void *b, size_t lb, unsigned char ida[BK_ID_LEN],
                  unsigned char idb[BK_ID_LEN]);

/* bk_chunk_id2() of a and b copied to da[la] and db[lb]: the ids are
 * those of the copies (bk_sha256_x2_copy() where the CPU allows it). */
void bk_chunk_id2_copy(const struct bk_repo *repo, const void *a, size_t la,
                       const void *b, size_t lb, void *da, void *db,
                       unsigned char ida[BK_ID_LEN],
                       unsigned char idb[BK_ID_LEN]);

/* Seal in[len] into out (len + BK_TAG_LEN bytes: ciphertext then tag)
 * with key, nonce and aad. 0 or ERR_INTERNAL. */
int bk_gcm_seal(const unsigned char *key, const unsigned char *nonce,
                const void *aad, size_t aad_len, const void *in, size_t len,
                unsigned char *out);

/* Open in[len] (ciphertext then tag) into out[len - BK_TAG_LEN].
 * 0, or ERR_UNAUTH when the tag does not match. */
int bk_gcm_open(const unsigned char *key, const unsigned char *nonce,
                const void *aad, size_t aad_len, const void *in, size_t len,
                unsigned char *out);

/* Derive the 32-byte key-encryption key from a passphrase with scrypt. */
int bk_kdf(const char *passphrase, const unsigned char *salt, size_t salt_len,
           uint64_t n, uint32_t r, uint32_t p, unsigned char key_out[32]);

/* Fingerprint (32 hex + NUL) of the 64-byte master secret. */
void bk_key_fingerprint(const unsigned char master[64], char out[33]);

/* 1 when id is the zero id (an all-zero chunk). */
int bk_id_is_zero(const unsigned char id[BK_ID_LEN]);

/* 1 when data[len] is all zero bytes. */
int bk_is_zero(const void *data, size_t len);

void bk_id_hex(const unsigned char id[BK_ID_LEN], char out[BK_ID_HEXLEN]);
int bk_id_parse(const char *hex, unsigned char id_out[BK_ID_LEN]);

/* Checksum of the stored bytes after a chunk header: h = (h + w) * P
 * over little-endian 64-bit words (the tail zero-padded), P odd, so any
 * single-bit flip changes it. Not a MAC: GCM guards encrypted chunks. */
uint64_t bk_payload_sum(const void *p, size_t n);

/* ---- metaseal.c: sealed manifests and indexes (format 2). Thread
 * safe. ---- */

enum bk_meta_kind {
    BK_META_MANIFEST = 1,
    BK_META_INDEX = 2,
};

/* The metadata key of the 64-byte master secret:
 * HKDF-Expand(master, "xenith-backup metadata v2", 32). */
void bk_meta_key(const unsigned char master[64], unsigned char key_out[32]);

/* 1 when repo's manifests and indexes are sealed (encrypted, format 2). */
int bk_meta_sealed(const struct bk_repo *repo);

/* Seal in[len], the object of kind stored at relpath (e.g.
 * "indexes/<name>"), into a file image: *file_out is **new**,
 * *file_len_out = len + BK_META_OVER. */
void bk_meta_seal(const struct bk_repo *repo, enum bk_meta_kind kind,
                  const char *relpath, const void *in, size_t len,
                  unsigned char **file_out, size_t *file_len_out);

/* Open a sealed file image read from relpath: *plain_out is **new**
 * (NUL-terminated beyond *plain_len_out). ERR_IO when it is not a sealed
 * object, ERR_UNAUTH when it fails authentication (tampered, damaged,
 * another object's file, or another kind). */
int bk_meta_open(const struct bk_repo *repo, enum bk_meta_kind kind,
                 const char *relpath, const void *file, size_t len,
                 unsigned char **plain_out, size_t *plain_len_out);

/* Why bk_meta_open failed with rc, in words. **borrowed**, static. */
const char *bk_meta_why(int rc);

/* ---- sha256x2.c: two SHA-256 streams at once. Thread safe. ---- */

/* 1 when bk_sha256_x2() can run on this CPU (x86 SHA extensions). */
int bk_sha256_x2_ok(void);

/* SHA-256 of pre[64] || a[la] into ida and of pre[64] || b[lb] into
 * idb (pre NULL: of a and b alone), ~2x the throughput of hashing them
 * one after the other. Only when bk_sha256_x2_ok(). */
void bk_sha256_x2(const unsigned char *pre, const void *a, size_t la,
                  const void *b, size_t lb, unsigned char ida[32],
                  unsigned char idb[32]);

/* bk_sha256_x2() that also copies a to da[la] and b to db[lb] as it
 * reads them: the digests are those of the bytes copied, even when a or
 * b change meanwhile (a mapped source), and the copy costs next to
 * nothing. Only when bk_sha256_x2_ok(). */
void bk_sha256_x2_copy(const unsigned char *pre, const void *a, size_t la,
                       const void *b, size_t lb, void *da, void *db,
                       unsigned char ida[32], unsigned char idb[32]);

/* ---- compress.c: zstd. Thread safe (per-thread contexts). ---- */

/* Compress in[len] at level into out[cap]; *out_len is the size. Returns
 * 1 when compressed, 0 when the data should be stored raw (zstd did not
 * save 1/32, samples of it do not compress, or level is 0). */
int bk_compress(int level, const void *in, size_t len, void *out, size_t cap,
                size_t *out_len);
size_t bk_compress_bound(size_t len);

/* Decompress in[len] into out[exp_len]; 0 or ERR_IO when the frame is bad
 * or does not give exactly exp_len bytes. */
int bk_decompress(const void *in, size_t len, void *out, size_t exp_len);

/* ---- chunkstore.c: chunk files. Thread safe. ---- */

/* "chunks/ab/<hex>" relative to the repository dir into out[80]. */
void bk_chunk_relpath(const unsigned char id[BK_ID_LEN], char out[80]);

/* Largest chunk file image for len bytes of plaintext. */
size_t bk_chunk_file_bound(size_t len);

/* Encode plaintext data[len] with id into the chunk file image out (at
 * least bk_chunk_file_bound(len) bytes); returns its size. scratch
 * (bk_compress_bound(len) bytes) holds the compressed data before it is
 * sealed in encrypted repositories; NULL for plain ones. When raw_out
 * is not NULL and the chunk is stored raw in a plain repository, data
 * is not copied: out holds only the header (the size returned), the
 * file continues with data[len] and *raw_out points at it; otherwise
 * *raw_out is NULL. */
size_t bk_chunk_encode_into(const struct bk_repo *repo,
                            const unsigned char id[BK_ID_LEN], const void *data,
                            size_t len, unsigned char *out,
                            unsigned char *scratch, const void **raw_out);

/* Encode plaintext data[len] with id into a chunk file image. *file_out is
 * **new** (free()), *file_len_out its size. */
void bk_chunk_encode(const struct bk_repo *repo,
                     const unsigned char id[BK_ID_LEN], const void *data,
                     size_t len, unsigned char **file_out,
                     size_t *file_len_out);

/* 1 when the chunk exists; touch sets its mtime to now (for gc). */
int bk_chunk_exists(const struct bk_repo *repo,
                    const unsigned char id[BK_ID_LEN], int touch);

/* Write an encoded chunk file (temp + rename; no fsync: callers flush
 * with bk_repo_sync before naming the chunk in an index). An existing
 * chunk is left alone. 0 or an error. */
int bk_chunk_write(const struct bk_repo *repo,
                   const unsigned char id[BK_ID_LEN], const unsigned char *file,
                   size_t file_len);

/* bk_chunk_write() of a file given in two parts: head[head_len] then
 * tail[tail_len] (tail may be NULL when tail_len is 0), for a caller that
 * has just looked the chunk up: it is written without a second look (a
 * concurrent writer of the same chunk renames identical content). */
int bk_chunk_write_split(const struct bk_repo *repo,
                         const unsigned char id[BK_ID_LEN],
                         const unsigned char *head, size_t head_len,
                         const void *tail, size_t tail_len);

/* Why the chunk file image h[flen] is bad, checking what needs no key
 * and no decompression: the header, the lengths (plaintext at most cap
 * bytes), the file size and the payload checksum. NULL when it is
 * sound. Catches a file a power loss left empty or zero-filled. */
const char *bk_chunk_file_bad(const struct bk_repo *repo,
                              const unsigned char *h, size_t flen, size_t cap);

/* bk_chunk_read() without its last step, the check of the content
 * against the id: the caller does it, two chunks at a time, with
 * bk_chunk_verify2(). */
int bk_chunk_load(const struct bk_repo *repo, const unsigned char id[BK_ID_LEN],
                  unsigned char *out, size_t cap, size_t *len_out);

/* Check that a[la] is the chunk ida and b[lb] the chunk idb (b NULL:
 * only a), both hashed at once. 0, or ERR_IO (logged with the id) and
 * *bad_out 0 when a is wrong, 1 when b is. */
int bk_chunk_verify2(const struct bk_repo *repo,
                     const unsigned char ida[BK_ID_LEN], const void *a,
                     size_t la, const unsigned char idb[BK_ID_LEN],
                     const void *b, size_t lb, int *bad_out);

/* Read, decrypt, decompress and verify a chunk into out[cap]; *len_out is
 * the plaintext length. 0, ERR_NOTFOUND (missing) or ERR_IO (corrupt:
 * the reason is logged with the id). */
int bk_chunk_read(const struct bk_repo *repo, const unsigned char id[BK_ID_LEN],
                  unsigned char *out, size_t cap, size_t *len_out);

/* syncfs() the repository's file system. */
int bk_repo_sync(const struct bk_repo *repo);

/* Write data[len] to relpath (temp + fsync + rename + fsync dir). */
int bk_write_file_atomic(const struct bk_repo *repo, const char *relpath,
                         const void *data, size_t len);

/* Write data[len] to a temp file beside relpath (its path to tmp_out),
 * without renaming it or waiting for the disk: a file that appears with
 * bk_rename_staged() once a bk_repo_sync() made its bytes durable. */
int bk_write_file_staged(const struct bk_repo *repo, const char *relpath,
                         const void *data, size_t len,
                         char tmp_out[BK_TMP_LEN]);

/* Rename the staged file tmp to relpath (on failure the temp file is
 * removed); durable once bk_sync_dir() synced relpath's directory. */
int bk_rename_staged(const struct bk_repo *repo, const char *tmp,
                     const char *relpath);

/* fsync() the directory of relpath (a name in it is durable). */
int bk_sync_dir(const struct bk_repo *repo, const char *relpath);

/* Write data[len] to relpath (temp + rename: never seen half-written),
 * without waiting for it to reach the disk. */
int bk_write_file_whole(const struct bk_repo *repo, const char *relpath,
                        const void *data, size_t len);

/* opendir() of relpath below dirfd, or NULL. **new** (closedir()). */
DIR *bk_opendir_at(int dirfd, const char *relpath);

/* Read a whole file below the repository (at most cap bytes): **new**. */
int bk_read_file(const struct bk_repo *repo, const char *relpath, size_t cap,
                 char **data_out, size_t *len_out);

/* ---- index.c: per-disk chunk lists. Not thread safe per object. ---- */

struct bk_index {
    uint32_t chunk_size;
    uint64_t disk_size;
    uint64_t num;
    unsigned char *ids; /* num * BK_ID_LEN */
};

void bk_index_init(struct bk_index *ix, uint32_t chunk_size,
                   uint64_t disk_size);
void bk_index_release(struct bk_index *ix);

/* Serialise and write to indexes/<name>; the SHA-256 of the file (hex)
 * goes to sha_out. */
int bk_index_write(const struct bk_repo *repo, const struct bk_index *ix,
                   const char *name, char sha_out[65]);

/* The first half of bk_index_write(): the index in a temp file of
 * indexes/ (its name to tmp_out), not yet synced. It gets its name with
 * bk_rename_staged() after a bk_repo_sync(). */
int bk_index_stage(const struct bk_repo *repo, const struct bk_index *ix,
                   const char *name, char sha_out[65],
                   char tmp_out[BK_TMP_LEN]);

/* Read indexes/<name>, checking the trailer and, when sha is not NULL,
 * the file's hash. ERR_NOTFOUND or ERR_IO. */
int bk_index_read(const struct bk_repo *repo, const char *name, const char *sha,
                  struct bk_index *ix);

/* ---- snapshot.c: manifests. ---- */

struct bk_disk_meta {
    char name[64];
    uint64_t size;
    char index[96];
    char index_sha[65];
    uint64_t bytes_read;
    int changemap;
};

struct bk_manifest {
    struct bk_snapshot_info info;
    char job[64];
    char *vm_config; /* JSON text or NULL */
    struct bk_disk_meta *disks;
    size_t num_disks;
};

void bk_manifest_release(struct bk_manifest *m);

/* Write snapshots/<id>.json atomically (the snapshot appears). */
int bk_manifest_write(const struct bk_repo *repo, const struct bk_manifest *m);

/* The first half of bk_manifest_write(): the manifest in a temp file of
 * snapshots/ (its name to tmp_out), not yet synced. The snapshot
 * appears with bk_rename_staged() after a bk_repo_sync(). */
int bk_manifest_stage(const struct bk_repo *repo, const struct bk_manifest *m,
                      char tmp_out[BK_TMP_LEN]);
int bk_manifest_read(const struct bk_repo *repo, const char *id,
                     struct bk_manifest *m);

/* Ids of every snapshot (**new**). */
int bk_manifest_ids(const struct bk_repo *repo, char ***ids_out,
                    size_t *num_out);

/* Remove a snapshot: manifest first, then its indexes. */
int bk_manifest_remove(const struct bk_repo *repo, const char *id);

/* ---- lock.c: lock files with stale detection. ---- */

/* Create locks/<name> for op; ERR_BUSY when a live holder has it (a stale
 * one is removed first). */
int bk_lock_take(const struct bk_repo *repo, const char *name, const char *op);
void bk_lock_drop(const struct bk_repo *repo, const char *name);
/* The mtime of locks/<name>: when it was written by the repository's
 * clock (on NFS the server's), or INT64_MAX. */
int64_t bk_lock_written(const struct bk_repo *repo, const char *name);
/* The run that took backup lock name is over, and its file stays as a
 * mark (a failed run's chunks not known durable): from now on it is
 * stale, in this process as after its exit. */
void bk_lock_keep(const char *name);

/* bk_lock_take() that returns only once the lock file and its name are
 * durable (fsync of the file and of locks/): a backup's lock survives a
 * power loss and then marks a run whose chunks may be damaged. */
int bk_lock_take_durable(const struct bk_repo *repo, const char *name,
                         const char *op);

/* When the oldest live backup lock was taken, or INT64_MAX when none:
 * the earlier of its holder's clock and its file's mtime (the
 * repository's clock), so that neither clock running ahead of the
 * other makes it later than the chunks that backup touches. Stale
 * backup locks are not counted, and left in place. */
int64_t bk_lock_oldest_backup(const struct bk_repo *repo);

/* ERR_BUSY naming the holder of a live backup lock but own, or 0. */
int bk_lock_live_backup(const struct bk_repo *repo, const char *own);

/* Names (in locks/) of the stale backup locks but own (NULL: none):
 * runs that did not finish. **new** (bk_strv_free()). */
void bk_lock_stale_backups(const struct bk_repo *repo, const char *own,
                           char ***names_out, size_t *num_out);

/* ---- recover.c: chunks left by an interrupted backup. ---- */

/* Before a backup looks at any chunk (its own lock own taken durably):
 * when stale backup locks mark runs that did not finish, check every
 * chunk file changed since the oldest of them was created (header,
 * size, payload checksum), remove the bad ones (a power loss may have
 * kept their names and lost their data), sync, then remove those
 * locks. *checked_out and *removed_out count the chunks. 0, or the
 * error of the sync (the locks stay, the next backup checks again). */
int bk_recover_interrupted(struct bk_repo *repo, const char *own,
                           uint64_t *checked_out, uint64_t *removed_out);

/* ---- changemap.c: FIEMAP comparison of two reflink clones. ---- */

/* Mark in changed[num_chunks] (1 = read it) the chunks of cur that may
 * differ from old: everything but extents shared at the same offset and
 * holes in both. ERR_UNSUPPORTED when FIEMAP is not available. */
int bk_changemap(const char *old_path, const char *cur_path,
                 uint32_t chunk_size, uint64_t num_chunks,
                 unsigned char *changed);

/* ---- dropq.c: written chunk files to drop from the page cache. ---- */

struct bk_dropq {
    unsigned char (*ids)[BK_ID_LEN];
    size_t n, cap;
};

void bk_dropq_push(struct bk_dropq *q, const unsigned char id[BK_ID_LEN]);
/* Move q's ids to *out (q is left empty). */
void bk_dropq_take(struct bk_dropq *q, struct bk_dropq *out);
/* Move from's ids to the end of q (from is left empty). */
void bk_dropq_append(struct bk_dropq *q, struct bk_dropq *from);
/* Drop the page cache of q's chunk files (call after a sync made them
 * clean), then empty q. */
void bk_dropq_drop(const struct bk_repo *repo, struct bk_dropq *q);
void bk_dropq_free(struct bk_dropq *q);

/* ---- prefetch.c: chunk files read ahead of restore/verify. ---- */

#define BK_PREFETCH 32 /* chunk files kept on their way in */

struct bk_prefetch {
    const struct bk_repo *repo;
    const unsigned char *(*id_at)(void *arg, uint64_t i);
    void *arg;
    uint64_t num;
    pthread_t th;
    int running;
    pthread_mutex_t mu; /* guards what follows */
    pthread_cond_t cv;
    uint64_t at; /* the next position the workers take */
    int stop;
};

/* Read ahead the chunk files id_at(arg, i) for i in [0, num) (zero ids
 * are skipped) as the workers move on. */
void bk_prefetch_start(struct bk_prefetch *pf, const struct bk_repo *repo,
                       const unsigned char *(*id_at)(void *arg, uint64_t i),
                       void *arg, uint64_t num);
/* The workers have taken every position below i. */
void bk_prefetch_at(struct bk_prefetch *pf, uint64_t i);
void bk_prefetch_stop(struct bk_prefetch *pf);

/* ---- srcmap.c: a source disk mapped in windows. Thread safe. ---- */

#define BK_SRCWIN_BYTES (256ull << 20) /* window size (whole chunks) */

struct bk_srcmap {
    int fd;
    uint64_t size;
    uint64_t win_len; /* a multiple of the chunk size */
    uint64_t num;
    struct bk_srcwin *w;
    pthread_mutex_t mu;
};

/* The regular file fd of size bytes, nothing mapped yet. */
void bk_srcmap_init(struct bk_srcmap *sm, int fd, uint64_t size,
                    uint64_t chunk_size);

/* One more todo entry will work in the window of off (before the
 * workers start; its mapping stays until all are done). */
void bk_srcmap_expect(struct bk_srcmap *sm, uint64_t off);

/* [off, off + len) mapped (one chunk: it lies in one window), or NULL
 * when it cannot be mapped; bk_srcmap_put() when done with it. Not
 * populated: MADV_POPULATE_READ reports a range past the end of a file
 * that shrank as an error rather than a SIGBUS later. */
const unsigned char *bk_srcmap_get(struct bk_srcmap *sm, uint64_t off,
                                   size_t len);
void bk_srcmap_put(struct bk_srcmap *sm, uint64_t off);

/* The todo entry at off is done (its window is unmapped after the last). */
void bk_srcmap_done(struct bk_srcmap *sm, uint64_t off);

/* Unmap everything. */
void bk_srcmap_release(struct bk_srcmap *sm);

/* ---- repo.c helpers ---- */

/* Number of worker threads for a call. */
int bk_repo_threads(const struct bk_repo *repo);

/* 1 when the progress' cancel flag is set. */
int bk_cancelled(const struct bk_progress *prog);
void bk_progress_report(const struct bk_progress *prog, uint64_t done,
                        uint64_t total);

#endif
