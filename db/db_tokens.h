/* db_tokens.h: the tokens table (API tokens, "Authorization: Bearer").
 * Only the SHA-256 hex of a token's secret is stored. Thread safe;
 * ERR_NOTFOUND means no such row. */
#ifndef XENITH_DB_DB_TOKENS_H
#define XENITH_DB_DB_TOKENS_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct db_token {
    char id[37];
    char user_id[37];
    char name[65];
    char role[16];
    char secret_hash[65];
    int64_t created_at;
    int64_t expires_at; /* 0 = never */
    int64_t last_used;  /* 0 = never */
};

int db_token_insert(struct db *db, const struct db_token *t);
int db_token_get_by_hash(struct db *db, const char *secret_hash,
                         struct db_token *out);
/* Tokens of user_id, newest first; *list_out **new** (free()). */
int db_token_list_user(struct db *db, const char *user_id,
                       struct db_token **list_out, size_t *num_out);
/* Delete token id if user_id owns it, else ERR_NOTFOUND. */
int db_token_delete_own(struct db *db, const char *id, const char *user_id);
/* Set last_used = now. */
int db_token_touch(struct db *db, const char *id, int64_t now);

#endif
