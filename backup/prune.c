/* prune.c: bk_prune(), the retention policy (docs/backup-format.md,
 * "Retention"). Holds locks/exclusive while it removes snapshots; a
 * snapshot disappears when its manifest is unlinked, its indexes go
 * next, and its chunks are left to gc.
 */
#include "backup/bk_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"

enum period {
    P_HOUR,
    P_DAY,
    P_WEEK,
    P_MONTH,
    P_YEAR,
    P_COUNT
};

static void bucket(int64_t t, enum period p, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    switch (p) {
    case P_HOUR:
        strftime(out, 32, "%Y-%m-%d %H", &tm);
        break;
    case P_DAY:
        strftime(out, 32, "%Y-%m-%d", &tm);
        break;
    case P_WEEK:
        strftime(out, 32, "%G-W%V", &tm);
        break;
    case P_MONTH:
        strftime(out, 32, "%Y-%m", &tm);
        break;
    default:
        strftime(out, 32, "%Y", &tm);
        break;
    }
}

/* Mark keep[] for the snapshots of one name, given newest first in
 * idx[n]. */
static void apply(const struct bk_snapshot_info *s, const size_t *idx, size_t n,
                  const struct bk_retention *k, int *keep)
{
    const int counts[P_COUNT] = { k->hourly, k->daily, k->weekly, k->monthly,
                                  k->yearly };

    for (size_t i = 0; i < n; i++)
        if ((int)i < k->last || s[idx[i]].protected_)
            keep[idx[i]] = 1;
    for (int p = 0; p < P_COUNT; p++) {
        int left = counts[p];
        char last[32] = "", b[32];

        for (size_t i = 0; i < n && left > 0; i++) {
            bucket(s[idx[i]].time, (enum period)p, b);
            if (!strcmp(b, last))
                continue;
            xstrlcpy(last, b, sizeof(last));
            keep[idx[i]] = 1;
            left--;
        }
    }
}

int bk_prune(struct bk_repo *repo, const struct bk_retention *keep, int dry_run,
             char ***removed_out, size_t *num_removed_out)
{
    return bk_prune_name(repo, NULL, keep, dry_run, removed_out,
                         num_removed_out);
}

int bk_prune_name(struct bk_repo *repo, const char *name,
                  const struct bk_retention *keep, int dry_run,
                  char ***removed_out, size_t *num_removed_out)
{
    struct bk_snapshot_info *s = NULL;
    size_t n = 0, nrm = 0, *idx = NULL;
    int *kp = NULL, locked = 0, rc;
    char **rm = NULL;

    bk_error_clear(repo);
    if (keep->last < 0 || keep->hourly < 0 || keep->daily < 0 ||
        keep->weekly < 0 || keep->monthly < 0 || keep->yearly < 0)
        return ERR_INVALID;
    if (!dry_run) {
        rc = bk_lock_take(repo, "exclusive", "prune");
        if (rc)
            return rc;
        locked = 1;
    }
    rc = bk_snapshot_list(repo, &s, &n);
    if (rc)
        goto out;
    kp = xcalloc(n ? n : 1, sizeof(*kp));
    idx = xmalloc((n ? n : 1) * sizeof(*idx));
    for (size_t i = 0; i < n; i++) {
        size_t m = 0;
        int seen = 0;

        if (name && strcmp(s[i].name, name)) {
            kp[i] = 1; /* another name: not this call's business */
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s[j].name, s[i].name))
                seen = 1;
        if (seen)
            continue;
        for (size_t j = n; j-- > 0;) /* newest first */
            if (!strcmp(s[j].name, s[i].name))
                idx[m++] = j;
        apply(s, idx, m, keep, kp);
    }
    rm = xcalloc(n ? n : 1, sizeof(*rm));
    for (size_t i = 0; i < n; i++) {
        if (kp[i])
            continue;
        if (!dry_run) {
            rc = bk_manifest_remove(repo, s[i].id);
            if (rc) {
                bk_fail(repo, rc, "prune: removing snapshot %s: %s", s[i].id,
                        err_str(rc));
                goto out;
            }
        }
        rm[nrm++] = xstrdup(s[i].id);
    }
    rc = 0;
out:
    if (locked)
        bk_lock_drop(repo, "exclusive");
    if (!rc && removed_out) {
        *removed_out = rm;
        *num_removed_out = nrm;
        rm = NULL;
    }
    bk_strv_free(rm, nrm);
    free(idx);
    free(kp);
    free(s);
    return rc;
}
