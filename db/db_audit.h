/* db_audit.h: the audit table, append-only and hash-chained. There is
 * deliberately no function to change or delete a row.
 *
 * Each row's hash is the SHA-256 hex of its predecessor's hash and its
 * own fields, each written as "<length>:<bytes>|" so that no shift of
 * bytes between fields keeps the hash:
 *   prev_hash ts username source method path target status
 * The first row's prev_hash is 64 zeros. Thread safe.
 */
#ifndef XENITH_DB_DB_AUDIT_H
#define XENITH_DB_DB_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct db_audit {
    int64_t seq;
    int64_t ts;
    char username[65];
    char source[64];
    char method[16];
    char path[256];
    char target[128];
    int status;
    char prev_hash[65];
    char hash[65];
};

/* Append a row from a's ts..status (seq, prev_hash and hash are filled
 * in, in one transaction with reading the last hash, so concurrent
 * appends cannot fork the chain). */
int db_audit_append(struct db *db, struct db_audit *a);

/* Newest first: at most limit rows with seq < before (before 0: no
 * bound) and, if user is not NULL, that username. *list_out **new**
 * (free()). */
int db_audit_list(struct db *db, size_t limit, int64_t before, const char *user,
                  struct db_audit **list_out, size_t *num_out);

/* Walk the whole chain. *ok_out 1 if every row links to its
 * predecessor, hashes to its stored hash, seq has no gaps and no row is
 * missing at the end; else 0 and *first_bad_out the first bad seq.
 * *rows_out the number of rows. */
int db_audit_verify(struct db *db, int *ok_out, int64_t *first_bad_out,
                    int64_t *rows_out);

int db_audit_count(struct db *db, int64_t *count_out);

#endif
