#include "db/db_audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

#define AUDIT_COLS                                              \
    "seq, ts, username, source, method, path, target, status, " \
    "prev_hash, hash"

static const char audit_genesis[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static void hash_field(struct buf *b, const char *s)
{
    buf_printf(b, "%zu:%s|", strlen(s), s);
}

/* The chain hash of a (see db_audit.h) into out. */
static void audit_hash(const struct db_audit *a, char out[SHA256_HEXLEN])
{
    struct buf b = BUF_INIT;
    char num[24];

    hash_field(&b, a->prev_hash);
    snprintf(num, sizeof(num), "%" PRId64, a->ts);
    hash_field(&b, num);
    hash_field(&b, a->username);
    hash_field(&b, a->source);
    hash_field(&b, a->method);
    hash_field(&b, a->path);
    hash_field(&b, a->target);
    snprintf(num, sizeof(num), "%d", a->status);
    hash_field(&b, num);
    sha256_hex(buf_str(&b), b.len, out);
    buf_release(&b);
}

static int audit_last_hash(struct db *db, char out[65])
{
    static const char sql[] =
        "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1";
    sqlite3_stmt *st = db_stmt(db, sql);
    int rc;

    if (!st)
        return ERR_INTERNAL;
    rc = db_step(db, st, "last audit hash");
    if (rc == 1)
        db_col_text(st, 0, out, 65);
    else if (rc == 0)
        xstrlcpy(out, audit_genesis, 65);
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

int db_audit_append(struct db *db, struct db_audit *a)
{
    static const char sql[] =
        "INSERT INTO audit (ts, username, source, method, path, target, "
        "status, prev_hash, hash) VALUES (:ts, :username, :source, :method, "
        ":path, :target, :status, :prev_hash, :hash)";
    sqlite3_stmt *st;
    int rc;

    rc = db_begin(db);
    if (rc)
        return rc;
    rc = audit_last_hash(db, a->prev_hash);
    if (rc)
        goto out;
    audit_hash(a, a->hash);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_int(st, ":ts", a->ts);
        db_bind_text(st, ":username", a->username);
        db_bind_text(st, ":source", a->source);
        db_bind_text(st, ":method", a->method);
        db_bind_text(st, ":path", a->path);
        db_bind_text(st, ":target", a->target);
        db_bind_int(st, ":status", a->status);
        db_bind_text(st, ":prev_hash", a->prev_hash);
        db_bind_text(st, ":hash", a->hash);
    }
    rc = db_exec_stmt(db, st, "append audit");
out:
    if (rc) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db);
}

static void audit_row(sqlite3_stmt *st, struct db_audit *a)
{
    memset(a, 0, sizeof(*a));
    a->seq = sqlite3_column_int64(st, 0);
    a->ts = sqlite3_column_int64(st, 1);
    db_col_text(st, 2, a->username, sizeof(a->username));
    db_col_text(st, 3, a->source, sizeof(a->source));
    db_col_text(st, 4, a->method, sizeof(a->method));
    db_col_text(st, 5, a->path, sizeof(a->path));
    db_col_text(st, 6, a->target, sizeof(a->target));
    a->status = sqlite3_column_int(st, 7);
    db_col_text(st, 8, a->prev_hash, sizeof(a->prev_hash));
    db_col_text(st, 9, a->hash, sizeof(a->hash));
}

int db_audit_list(struct db *db, size_t limit, int64_t before, const char *user,
                  struct db_audit **list_out, size_t *num_out)
{
    static const char sql[] =
        "SELECT " AUDIT_COLS " FROM audit WHERE (:before = 0 OR seq < "
        ":before) AND (:user IS NULL OR username = :user) "
        "ORDER BY seq DESC LIMIT :limit";
    struct db_audit *list = NULL;
    size_t num = 0, alloc = 0;
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_int(st, ":before", before);
    db_bind_text(st, ":user", user);
    db_bind_int(st, ":limit", (int64_t)limit);
    while ((rc = db_step(db, st, "list audit")) == 1) {
        if (num == alloc) {
            alloc = alloc ? alloc * 2 : 32;
            list = xrealloc(list, alloc * sizeof(*list));
        }
        audit_row(st, &list[num++]);
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    if (rc < 0) {
        free(list);
        return rc;
    }
    *list_out = list;
    *num_out = num;
    return 0;
}

/* The highest seq ever handed out (AUTOINCREMENT keeps it even when the
 * last rows are deleted), 0 when none. */
static int audit_max_seq(struct db *db, int64_t *out)
{
    static const char sql[] =
        "SELECT seq FROM sqlite_sequence WHERE name = 'audit'";
    sqlite3_stmt *st = db_stmt(db, sql);
    int rc;

    if (!st)
        return ERR_INTERNAL;
    *out = 0;
    rc = db_step(db, st, "audit sequence");
    if (rc == 1)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

int db_audit_verify(struct db *db, int *ok_out, int64_t *first_bad_out,
                    int64_t *rows_out)
{
    static const char sql[] = "SELECT " AUDIT_COLS " FROM audit ORDER BY seq";
    char prev[65], want[SHA256_HEXLEN];
    int64_t rows = 0, last_seq = 0, bad = 0, max_seq = 0;
    struct db_audit a;
    sqlite3_stmt *st;
    int rc;

    xstrlcpy(prev, audit_genesis, sizeof(prev));
    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    while ((rc = db_step(db, st, "verify audit")) == 1) {
        audit_row(st, &a);
        rows++;
        if (bad)
            continue;
        audit_hash(&a, want);
        if (a.seq != last_seq + 1 || strcmp(a.prev_hash, prev) ||
            !ct_streq(a.hash, want))
            bad = a.seq;
        last_seq = a.seq;
        xstrlcpy(prev, a.hash, sizeof(prev));
    }
    sqlite3_reset(st);
    if (rc < 0)
        goto out;
    rc = audit_max_seq(db, &max_seq);
    if (rc)
        goto out;
    if (!bad && max_seq > last_seq)
        bad = last_seq + 1; /* rows cut off at the end */
    *ok_out = bad == 0;
    *first_bad_out = bad;
    *rows_out = rows;
out:
    db_unlock(db);
    return rc;
}

int db_audit_count(struct db *db, int64_t *count_out)
{
    static const char sql[] = "SELECT COUNT(*) FROM audit";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    rc = db_step(db, st, "count audit");
    if (rc == 1) {
        *count_out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_INTERNAL;
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    return rc;
}
