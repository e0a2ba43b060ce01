/* db_stats.h: read-only counts across tables for GET /metrics.
 * Thread safe. */
#ifndef XENITH_DB_DB_STATS_H
#define XENITH_DB_DB_STATS_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct db_count {
    char key[32];
    int64_t count;
};

/* Number of tasks per status (only statuses that occur); *list_out
 * **new** (free()). */
int db_stats_tasks(struct db *db, struct db_count **list_out, size_t *num_out);

#endif
