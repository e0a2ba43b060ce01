/* repo.c: create and open repositories (config, keys/master), the
 * repository-wide stats, and the small helpers of long calls (threads,
 * progress, cancel). bk_repo objects are used from one thread at a time.
 */
#include "backup/bk_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"

#define KDF_N      32768
#define KDF_R      8
#define KDF_P      1
#define KEY_AAD    "xenith-backup master key v1"
#define MASTER_LEN 64

static const char *const subdirs[] = { "chunks", "snapshots", "indexes",
                                       "locks", "keys" };

static int unhex(const char *s, unsigned char *out, size_t n)
{
    char tmp[3] = { 0 };

    if (!s || strlen(s) != 2 * n)
        return ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        char *end;

        tmp[0] = s[2 * i];
        tmp[1] = s[2 * i + 1];
        out[i] = (unsigned char)strtol(tmp, &end, 16);
        if (*end)
            return ERR_INVALID;
    }
    return 0;
}

static struct bk_repo *repo_alloc(const char *dir, int dirfd)
{
    struct bk_repo *r = xcalloc(1, sizeof(*r));

    r->dir = xstrdup(dir);
    r->dirfd = dirfd;
    r->err = bk_errslot_new();
    return r;
}

static int write_keys(struct bk_repo *r, const char *passphrase,
                      const unsigned char master[MASTER_LEN])
{
    unsigned char salt[16], kek[32], nonce[BK_NONCE_LEN];
    unsigned char wrapped[MASTER_LEN + BK_TAG_LEN];
    char salt_hex[33], nonce_hex[25], wr_hex[2 * sizeof(wrapped) + 1], *txt;
    json_t *o;
    int rc;

    rand_bytes(salt, sizeof(salt));
    rand_bytes(nonce, sizeof(nonce));
    rc = bk_kdf(passphrase, salt, sizeof(salt), KDF_N, KDF_R, KDF_P, kek);
    if (!rc)
        rc = bk_gcm_seal(kek, nonce, KEY_AAD, strlen(KEY_AAD), master,
                         MASTER_LEN, wrapped);
    OPENSSL_cleanse(kek, sizeof(kek));
    if (rc)
        return rc;
    hex_encode(salt_hex, salt, sizeof(salt));
    hex_encode(nonce_hex, nonce, sizeof(nonce));
    hex_encode(wr_hex, wrapped, sizeof(wrapped));
    o = json_pack("{s:s,s:i,s:i,s:i,s:s,s:s,s:s}", "kdf", "scrypt", "n", KDF_N,
                  "r", KDF_R, "p", KDF_P, "salt", salt_hex, "nonce", nonce_hex,
                  "wrapped", wr_hex);
    txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    rc = bk_write_file_atomic(r, "keys/master", txt, strlen(txt));
    free(txt);
    return rc;
}

int bk_repo_init(const char *dir, const struct bk_init_opts *opts)
{
    struct bk_repo *r = NULL;
    unsigned char master[MASTER_LEN];
    char id[UUID_STRLEN], t[21], fp[33] = "", *txt = NULL;
    json_t *o;
    struct stat st;
    int fd, rc;

    if (opts->compression_level < 0 || opts->compression_level > 19)
        return ERR_INVALID;
    if (opts->passphrase && !opts->passphrase[0])
        return ERR_INVALID;
    if (opts->chunk_size &&
        (opts->chunk_size < BK_MIN_CHUNK || opts->chunk_size > BK_MAX_CHUNK ||
         (opts->chunk_size & (opts->chunk_size - 1))))
        return ERR_INVALID;
    if (mkdir(dir, 0700) && errno != EEXIST)
        return err_from_errno(errno);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_from_errno(errno);
    r = repo_alloc(dir, fd);
    if (!fstatat(fd, "config", &st, 0)) {
        rc = ERR_EXISTS;
        goto out;
    }
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        if (mkdirat(fd, subdirs[i], 0700) && errno != EEXIST) {
            rc = err_from_errno(errno);
            goto out;
        }
    }
    if (opts->passphrase) {
        rand_bytes(master, sizeof(master));
        bk_key_fingerprint(master, fp);
        rc = write_keys(r, opts->passphrase, master);
        OPENSSL_cleanse(master, sizeof(master));
        if (rc)
            goto out;
    }
    uuid_generate(id);
    time_rfc3339(time_now(), t);
    o = json_pack(
        "{s:s,s:i,s:s,s:i,s:s,s:i,s:s,s:o,s:s}", "format", "xenith-backup",
        "version", opts->passphrase ? BK_FORMAT : BK_FORMAT_PLAIN, "id", id,
        "chunk_size", opts->chunk_size ? (int)opts->chunk_size : BK_CHUNK_SIZE,
        "compression", "zstd", "compression_level", opts->compression_level,
        "encryption", opts->passphrase ? "aes-256-gcm" : "none",
        "key_fingerprint", fp[0] ? json_string(fp) : json_null(), "created", t);
    txt = json_dumps(o, JSON_INDENT(1));
    json_decref(o);
    /* config last: a directory without it is not a repository yet. */
    rc = bk_write_file_atomic(r, "config", txt, strlen(txt));
out:
    free(txt);
    bk_repo_free(r);
    return rc;
}

static int unwrap_keys(struct bk_repo *r, const char *passphrase)
{
    unsigned char salt[16], nonce[BK_NONCE_LEN], kek[32];
    unsigned char wrapped[MASTER_LEN + BK_TAG_LEN], master[MASTER_LEN];
    char *txt = NULL, fp[33];
    size_t len;
    json_t *o = NULL;
    json_int_t n, rr, p;
    int rc;

    if (!passphrase || !passphrase[0]) {
        log_error("backup: %s is encrypted: a passphrase is needed", r->dir);
        return ERR_UNAUTH;
    }
    rc = bk_read_file(r, "keys/master", BK_CONFIG_MAX, &txt, &len);
    if (rc)
        return rc == ERR_NOTFOUND ? ERR_IO : rc;
    bk_fileid_note(r, "keys/master", txt, len, &r->id_master);
    o = json_loadb(txt, len, 0, NULL);
    n = json_integer_value(json_object_get(o, "n"));
    rr = json_integer_value(json_object_get(o, "r"));
    p = json_integer_value(json_object_get(o, "p"));
    rc = ERR_IO;
    if (!o ||
        strcmp(json_string_value(json_object_get(o, "kdf")) ?: "", "scrypt") ||
        n < 2 || n > (1 << 22) || rr < 1 || rr > 32 || p < 1 || p > 16 ||
        unhex(json_string_value(json_object_get(o, "salt")), salt,
              sizeof(salt)) ||
        unhex(json_string_value(json_object_get(o, "nonce")), nonce,
              sizeof(nonce)) ||
        unhex(json_string_value(json_object_get(o, "wrapped")), wrapped,
              sizeof(wrapped)))
        goto out;
    rc = bk_kdf(passphrase, salt, sizeof(salt), (uint64_t)n, (uint32_t)rr,
                (uint32_t)p, kek);
    if (rc)
        goto out;
    rc = bk_gcm_open(kek, nonce, KEY_AAD, strlen(KEY_AAD), wrapped,
                     sizeof(wrapped), master);
    OPENSSL_cleanse(kek, sizeof(kek));
    if (rc) {
        log_error("backup: %s: wrong passphrase", r->dir);
        rc = ERR_UNAUTH;
        goto out;
    }
    bk_key_fingerprint(master, fp);
    if (strcmp(fp, r->fingerprint)) {
        log_error("backup: %s: key does not match the config's fingerprint",
                  r->dir);
        rc = ERR_IO;
        goto out;
    }
    memcpy(r->k_enc, master, BK_KEY_LEN);
    memcpy(r->k_id, master + BK_KEY_LEN, BK_KEY_LEN);
    bk_meta_key(master, r->k_meta);
    rc = 0;
out:
    OPENSSL_cleanse(master, sizeof(master));
    json_decref(o);
    free(txt);
    return rc;
}

int bk_repo_open(const char *dir, const char *passphrase,
                 struct bk_repo **repo_out)
{
    struct bk_repo *r;
    char *txt = NULL;
    size_t len;
    json_t *o = NULL;
    const char *enc, *fp;
    json_int_t cs, ver, lvl;
    struct stat st;
    int fd, rc;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ERR_NOTFOUND : err_from_errno(errno);
    r = repo_alloc(dir, fd);
    rc = bk_read_file(r, "config", BK_CONFIG_MAX, &txt, &len);
    if (rc)
        goto out;
    if (!fstat(fd, &st)) {
        r->dir_dev = (uint64_t)st.st_dev;
        r->dir_ino = (uint64_t)st.st_ino;
    }
    bk_fileid_note(r, "config", txt, len, &r->id_config);
    o = json_loadb(txt, len, 0, NULL);
    rc = ERR_IO;
    if (!o || strcmp(json_string_value(json_object_get(o, "format")) ?: "",
                     "xenith-backup"))
        goto out;
    ver = json_integer_value(json_object_get(o, "version"));
    if (ver < 1 || ver > BK_FORMAT) {
        log_error("backup: %s: format version %lld is not supported", dir,
                  (long long)ver);
        rc = ERR_UNSUPPORTED;
        goto out;
    }
    cs = json_integer_value(json_object_get(o, "chunk_size"));
    lvl = json_integer_value(json_object_get(o, "compression_level"));
    enc = json_string_value(json_object_get(o, "encryption"));
    fp = json_string_value(json_object_get(o, "key_fingerprint"));
    if (cs < BK_MIN_CHUNK || cs > BK_MAX_CHUNK || (cs & (cs - 1)) || !enc ||
        lvl < 0 || lvl > 19)
        goto out;
    r->chunk_size = (uint32_t)cs;
    r->level = (int)lvl;
    r->format = (int)ver;
    if (!strcmp(enc, "aes-256-gcm")) {
        r->encrypted = 1;
        if (!fp || strlen(fp) != 32)
            goto out;
        xstrlcpy(r->fingerprint, fp, sizeof(r->fingerprint));
        rc = unwrap_keys(r, passphrase);
        if (rc)
            goto out;
    } else if (strcmp(enc, "none")) {
        rc = ERR_UNSUPPORTED;
        goto out;
    } else if (ver >= 2) {
        goto out; /* version 2 is for encrypted repositories only */
    }
    *repo_out = r;
    r = NULL;
    rc = 0;
out:
    if (rc == ERR_IO)
        log_error("backup: %s: bad config", dir);
    json_decref(o);
    free(txt);
    bk_repo_free(r);
    return rc;
}

void bk_repo_free(struct bk_repo *repo)
{
    if (!repo)
        return;
    OPENSSL_cleanse(repo->k_enc, sizeof(repo->k_enc));
    OPENSSL_cleanse(repo->k_id, sizeof(repo->k_id));
    OPENSSL_cleanse(repo->k_meta, sizeof(repo->k_meta));
    if (repo->dirfd >= 0)
        close(repo->dirfd);
    free(repo->dir);
    bk_errslot_free(repo->err);
    free(repo);
}

void bk_repo_set_threads(struct bk_repo *repo, int n)
{
    repo->threads = n;
}

int bk_repo_encrypted(const struct bk_repo *repo)
{
    return repo->encrypted;
}

int bk_repo_threads(const struct bk_repo *repo)
{
    long n = repo->threads;

    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    return n > 64 ? 64 : (int)n;
}

int bk_cancelled(const struct bk_progress *prog)
{
    return prog && prog->cancel && atomic_load(prog->cancel);
}

void bk_progress_report(const struct bk_progress *prog, uint64_t done,
                        uint64_t total)
{
    if (prog && prog->cb)
        prog->cb(prog->opaque, done, total);
}

static void count_chunks(const struct bk_repo *repo, struct bk_stats *st)
{
    DIR *d = bk_opendir_at(repo->dirfd, "chunks");
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        DIR *sd;
        struct dirent *f;
        struct stat s;

        if (strlen(e->d_name) != 2 ||
            !(sd = bk_opendir_at(dirfd(d), e->d_name)))
            continue;
        while ((f = readdir(sd))) {
            if (strlen(f->d_name) != 64 || fstatat(dirfd(sd), f->d_name, &s, 0))
                continue;
            st->chunks++;
            st->stored_bytes += (uint64_t)s.st_size;
        }
        closedir(sd);
    }
    closedir(d);
}

int bk_stats(struct bk_repo *repo, struct bk_stats *st_out)
{
    struct bk_snapshot_info *s = NULL;
    size_t n = 0;
    int rc;

    memset(st_out, 0, sizeof(*st_out));
    rc = bk_snapshot_list(repo, &s, &n);
    if (rc)
        return rc;
    st_out->snapshots = n;
    for (size_t i = 0; i < n; i++)
        st_out->logical_bytes += s[i].size;
    free(s);
    count_chunks(repo, st_out);
    st_out->encrypted = repo->encrypted;
    st_out->compression_level = repo->level;
    st_out->chunk_size = repo->chunk_size;
    xstrlcpy(st_out->key_fingerprint, repo->fingerprint,
             sizeof(st_out->key_fingerprint));
    return 0;
}
