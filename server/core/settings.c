#include "server/core/settings.h"

#include "common/xalloc.h"
#include "db/db.h"
#include "server/core/tzfile.h"

void settings_timezone(struct db *db, char *out, size_t cap)
{
    if (db_setting_get(db, SETTINGS_TZ_KEY, out, cap) || !out[0])
        xstrlcpy(out, SETTINGS_TZ_DEFAULT, cap);
}

int settings_timezone_valid(const char *name)
{
    struct tz *z = NULL;
    int ok = tz_load(NULL, name, &z) == 0;

    tz_free(z);
    return ok;
}
