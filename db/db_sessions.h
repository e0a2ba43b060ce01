/* db_sessions.h: the sessions table (browser log-ins). A session is
 * keyed by the SHA-256 hex of its cookie secret; the secret itself is
 * never stored. Thread safe; ERR_NOTFOUND means no such row. */
#ifndef XENITH_DB_DB_SESSIONS_H
#define XENITH_DB_DB_SESSIONS_H

#include <stdint.h>

struct db;

struct db_session {
    char id[65]; /* sha256_hex(cookie secret) */
    char user_id[37];
    char csrf_token[65];
    char source[64]; /* peer address at log-in */
    int64_t created_at;
    int64_t last_seen;
    int64_t expires_at; /* absolute expiry */
};

int db_session_insert(struct db *db, const struct db_session *s);
int db_session_get(struct db *db, const char *id, struct db_session *out);
/* Set last_seen = now. */
int db_session_touch(struct db *db, const char *id, int64_t now);
int db_session_delete(struct db *db, const char *id);
/* Delete every session of user_id except keep_id (NULL: all). */
int db_session_delete_user(struct db *db, const char *user_id,
                           const char *keep_id);
/* Delete sessions past expires_at or idle since before idle_before. */
int db_session_prune(struct db *db, int64_t now, int64_t idle_before);
/* Sessions neither expired nor idle since before idle_before. */
int db_session_count_active(struct db *db, int64_t now, int64_t idle_before,
                            int64_t *count_out);

#endif
