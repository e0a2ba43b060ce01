#include "db/db_audit.h"

#include <inttypes.h>
#include <stdio.h>
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
    int rc;

    rc = db_query_text(db, sql, "last audit hash", out, 65, DB_NOARGS);
    if (rc == ERR_NOTFOUND) {
        xstrlcpy(out, audit_genesis, 65);
        rc = 0;
    }
    return rc;
}

int db_audit_append(struct db *db, struct db_audit *a)
{
    static const char sql[] =
        "INSERT INTO audit (ts, username, source, method, path, target, "
        "status, prev_hash, hash) VALUES (:ts, :username, :source, :method, "
        ":path, :target, :status, :prev_hash, :hash)";
    int rc;

    rc = db_begin(db);
    if (rc)
        return rc;
    rc = audit_last_hash(db, a->prev_hash);
    if (rc)
        goto out;
    audit_hash(a, a->hash);
    rc = db_exec(
        db, sql, "append audit",
        DB_ARGS(DB_INT(":ts", a->ts), DB_TEXT(":username", a->username),
                DB_TEXT(":source", a->source), DB_TEXT(":method", a->method),
                DB_TEXT(":path", a->path), DB_TEXT(":target", a->target),
                DB_INT(":status", a->status),
                DB_TEXT(":prev_hash", a->prev_hash),
                DB_TEXT(":hash", a->hash)));
out:
    if (rc) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db);
}

static void audit_row(sqlite3_stmt *st, void *p)
{
    struct db_audit *a = p;

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
    void *list;
    int rc;

    rc =
        db_query_list(db, sql, "list audit", audit_row, NULL,
                      sizeof(**list_out), &list, num_out,
                      DB_ARGS(DB_INT(":before", before), DB_TEXT(":user", user),
                              DB_INT(":limit", (int64_t)limit)));
    if (!rc)
        *list_out = list;
    return rc;
}

/* The highest seq ever handed out (AUTOINCREMENT keeps it even when the
 * last rows are deleted), 0 when none. */
static int audit_max_seq(struct db *db, int64_t *out)
{
    static const char sql[] =
        "SELECT seq FROM sqlite_sequence WHERE name = 'audit'";
    int rc;

    *out = 0;
    rc = db_query_int(db, sql, "audit sequence", out, DB_NOARGS);
    return rc == ERR_NOTFOUND ? 0 : rc;
}

/* db_audit_verify's walk along the chain, one row at a time. */
struct audit_walk {
    char prev[65];
    int64_t rows;
    int64_t last_seq;
    int64_t bad; /* first bad seq, 0 while none */
};

static void audit_walk_row(sqlite3_stmt *st, void *ctx)
{
    struct audit_walk *w = ctx;
    char want[SHA256_HEXLEN];
    struct db_audit a;

    audit_row(st, &a);
    w->rows++;
    if (w->bad)
        return;
    audit_hash(&a, want);
    if (a.seq != w->last_seq + 1 || strcmp(a.prev_hash, w->prev) ||
        !ct_streq(a.hash, want))
        w->bad = a.seq;
    w->last_seq = a.seq;
    xstrlcpy(w->prev, a.hash, sizeof(w->prev));
}

int db_audit_verify(struct db *db, int *ok_out, int64_t *first_bad_out,
                    int64_t *rows_out)
{
    static const char sql[] = "SELECT " AUDIT_COLS " FROM audit ORDER BY seq";
    struct audit_walk w = { .rows = 0 };
    int64_t max_seq = 0;
    int rc;

    xstrlcpy(w.prev, audit_genesis, sizeof(w.prev));
    db_lock(db); /* the walk and the sequence see one state */
    rc = db_query_each(db, sql, "verify audit", audit_walk_row, &w, DB_NOARGS);
    if (rc)
        goto out;
    rc = audit_max_seq(db, &max_seq);
    if (rc)
        goto out;
    if (!w.bad && max_seq > w.last_seq)
        w.bad = w.last_seq + 1; /* rows cut off at the end */
    *ok_out = w.bad == 0;
    *first_bad_out = w.bad;
    *rows_out = w.rows;
out:
    db_unlock(db);
    return rc;
}

int db_audit_count(struct db *db, int64_t *count_out)
{
    static const char sql[] = "SELECT COUNT(*) FROM audit";

    return db_query_int(db, sql, "count audit", count_out, DB_NOARGS);
}
