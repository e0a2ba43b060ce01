#include "db/db_stats.h"

#include <stdlib.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

int db_stats_tasks(struct db *db, struct db_count **list_out, size_t *num_out)
{
    static const char sql[] = "SELECT status, COUNT(*) FROM tasks "
                              "GROUP BY status ORDER BY status";
    struct db_count *list = NULL;
    size_t num = 0, alloc = 0;
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    while ((rc = db_step(db, st, "count tasks")) == 1) {
        if (num == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            list = xrealloc(list, alloc * sizeof(*list));
        }
        db_col_text(st, 0, list[num].key, sizeof(list[num].key));
        list[num].count = sqlite3_column_int64(st, 1);
        num++;
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
