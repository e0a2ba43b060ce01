#include "db/db_stats.h"

#include <string.h>

#include "db/db_internal.h"

static void count_row(sqlite3_stmt *st, void *p)
{
    struct db_count *c = p;

    memset(c, 0, sizeof(*c));
    db_col_text(st, 0, c->key, sizeof(c->key));
    c->count = sqlite3_column_int64(st, 1);
}

int db_stats_tasks(struct db *db, struct db_count **list_out, size_t *num_out)
{
    static const char sql[] = "SELECT status, COUNT(*) FROM tasks "
                              "GROUP BY status ORDER BY status";
    void *list;
    int rc;

    rc = db_query_list(db, sql, "count tasks", count_row, NULL,
                       sizeof(**list_out), &list, num_out, DB_NOARGS);
    if (!rc)
        *list_out = list;
    return rc;
}
