/* verify.c: bk_verify(). Collects every chunk id named by a snapshot
 * (and checks every manifest and index on the way), then N worker
 * threads re-read and re-hash all of them or a random sample (their
 * files read ahead by prefetch.c), and each missing or corrupt chunk is
 * reported with the snapshots it breaks.
 */
#include "backup/bk_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/uuid.h"
#include "common/xalloc.h"

struct ref {
    unsigned char id[BK_ID_LEN];
    uint32_t snap; /* index into the ids array */
};

struct vjob {
    struct bk_repo *repo;
    const struct bk_progress *prog;
    struct ref *refs;
    size_t *uniq; /* first ref of each distinct id to check */
    size_t num_uniq;
    int *status; /* per uniq: 0 ok, ERR_NOTFOUND, ERR_IO */
    pthread_mutex_t mu;
    size_t next;
    uint64_t bytes;
    size_t done;
    int cancelled;
    struct bk_prefetch pf; /* reads ahead of next */
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    int c = memcmp(x->id, y->id, BK_ID_LEN);

    if (c)
        return c;
    return x->snap < y->snap ? -1 : x->snap > y->snap;
}

static const unsigned char *verify_id_at(void *arg, uint64_t i)
{
    const struct vjob *j = arg;

    return j->refs[j->uniq[i]].id;
}

static void *vworker(void *arg)
{
    struct vjob *j = arg;
    unsigned char *buf = xmalloc(j->repo->chunk_size);

    for (;;) {
        size_t k, len = 0;
        int rc;

        pthread_mutex_lock(&j->mu);
        if (bk_cancelled(j->prog))
            j->cancelled = 1;
        if (j->cancelled || j->next >= j->num_uniq) {
            pthread_mutex_unlock(&j->mu);
            break;
        }
        k = j->next++;
        pthread_mutex_unlock(&j->mu);
        bk_prefetch_at(&j->pf, k + 1);
        rc = bk_chunk_read(j->repo, j->refs[j->uniq[k]].id, buf,
                           j->repo->chunk_size, &len);
        pthread_mutex_lock(&j->mu);
        j->status[k] = rc;
        j->bytes += len;
        j->done++;
        bk_progress_report(j->prog, j->done, j->num_uniq);
        pthread_mutex_unlock(&j->mu);
    }
    free(buf);
    return NULL;
}

/* Load every index into refs: one (id, snapshot) per non-zero chunk. */
/* Note a damaged manifest or index: the file dir/name suffix. */
static void add_bad_file(struct bk_verify_report *rep, const char *dir,
                         const char *name, const char *suffix)
{
    char rel[160];

    snprintf(rel, sizeof(rel), "%s/%s%s", dir, name, suffix);
    rep->bad_files =
        xrealloc(rep->bad_files, (rep->num_bad_files + 1) * sizeof(char *));
    rep->bad_files[rep->num_bad_files++] = xstrdup(rel);
}

/* Load every index into refs: one (id, snapshot) per non-zero chunk. */
static void collect(struct bk_repo *repo, char **ids, size_t nids,
                    struct ref **refs_out, size_t *nrefs_out,
                    struct bk_verify_report *rep)
{
    struct ref *refs = NULL;
    size_t n = 0, cap = 0;

    for (size_t s = 0; s < nids; s++) {
        struct bk_manifest m;
        int bad = 0;

        if (bk_manifest_read(repo, ids[s], &m)) {
            add_bad_file(rep, "snapshots", ids[s], ".json");
            bad = 1;
            goto next;
        }
        for (size_t d = 0; d < m.num_disks; d++) {
            struct bk_index ix;

            if (bk_index_read(repo, m.disks[d].index, m.disks[d].index_sha,
                              &ix)) {
                add_bad_file(rep, "indexes", m.disks[d].index, "");
                bad = 1;
                continue;
            }
            for (uint64_t c = 0; c < ix.num; c++) {
                const unsigned char *id = ix.ids + c * BK_ID_LEN;

                if (bk_id_is_zero(id))
                    continue;
                if (n == cap) {
                    cap = cap ? 2 * cap : 1024;
                    refs = xrealloc(refs, cap * sizeof(*refs));
                }
                memcpy(refs[n].id, id, BK_ID_LEN);
                refs[n++].snap = (uint32_t)s;
            }
            bk_index_release(&ix);
        }
        bk_manifest_release(&m);
next:
        if (bad) {
            rep->bad_indexes = xrealloc(
                rep->bad_indexes, (rep->num_bad_indexes + 1) * sizeof(char *));
            rep->bad_indexes[rep->num_bad_indexes++] = xstrdup(ids[s]);
        }
    }
    if (n)
        qsort(refs, n, sizeof(*refs), cmp_ref);
    *refs_out = refs;
    *nrefs_out = n;
}

static void add_bad(struct bk_verify_report *rep, const struct ref *refs,
                    size_t nrefs, size_t first, int rc, char **ids)
{
    struct bk_bad_chunk *b;

    rep->bad = xrealloc(rep->bad, (rep->num_bad + 1) * sizeof(*rep->bad));
    b = &rep->bad[rep->num_bad++];
    memset(b, 0, sizeof(*b));
    bk_id_hex(refs[first].id, b->id);
    b->missing = rc == ERR_NOTFOUND;
    for (size_t r = first;
         r < nrefs && !memcmp(refs[r].id, refs[first].id, BK_ID_LEN); r++) {
        if (b->num_snapshots &&
            !strcmp(b->snapshots[b->num_snapshots - 1], ids[refs[r].snap]))
            continue;
        b->snapshots =
            xrealloc(b->snapshots, (b->num_snapshots + 1) * sizeof(char *));
        b->snapshots[b->num_snapshots++] = xstrdup(ids[refs[r].snap]);
    }
}

int bk_verify(struct bk_repo *repo, int sample_pct,
              const struct bk_progress *prog, struct bk_verify_report *rep)
{
    struct vjob j = { 0 };
    char **ids = NULL;
    size_t nids = 0, nrefs = 0;
    pthread_t th[64];
    int n = bk_repo_threads(repo), started = 0, rc;
    uint32_t limit;

    memset(rep, 0, sizeof(*rep));
    bk_error_clear(repo);
    if (sample_pct < 1 || sample_pct > 100)
        return ERR_INVALID;
    limit = (uint32_t)((uint64_t)sample_pct * UINT32_MAX / 100);
    rc = bk_manifest_ids(repo, &ids, &nids);
    if (rc)
        return rc;
    collect(repo, ids, nids, &j.refs, &nrefs, rep);
    j.uniq = xmalloc((nrefs ? nrefs : 1) * sizeof(*j.uniq));
    for (size_t r = 0; r < nrefs; r++) {
        uint32_t x;

        if (r && !memcmp(j.refs[r].id, j.refs[r - 1].id, BK_ID_LEN))
            continue;
        rep->chunks_total++;
        rand_bytes(&x, sizeof(x));
        if (sample_pct == 100 || x <= limit)
            j.uniq[j.num_uniq++] = r;
    }
    j.status = xcalloc(j.num_uniq ? j.num_uniq : 1, sizeof(*j.status));
    j.repo = repo;
    j.prog = prog;
    pthread_mutex_init(&j.mu, NULL);
    bk_prefetch_start(&j.pf, repo, verify_id_at, &j, j.num_uniq);
    for (; started < n; started++)
        if (pthread_create(&th[started], NULL, vworker, &j))
            break;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    bk_prefetch_stop(&j.pf);
    pthread_mutex_destroy(&j.mu);
    rc = started ? 0 : ERR_INTERNAL;
    if (j.cancelled)
        rc = ERR_CANCELLED;
    rep->chunks_checked = j.done;
    rep->bytes_checked = j.bytes;
    for (size_t k = 0; !rc && k < j.num_uniq; k++)
        if (j.status[k])
            add_bad(rep, j.refs, nrefs, j.uniq[k], j.status[k], ids);
    free(j.status);
    free(j.uniq);
    free(j.refs);
    bk_strv_free(ids, nids);
    return rc;
}

void bk_verify_report_release(struct bk_verify_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->num_bad; i++)
        bk_strv_free(rep->bad[i].snapshots, rep->bad[i].num_snapshots);
    free(rep->bad);
    bk_strv_free(rep->bad_indexes, rep->num_bad_indexes);
    bk_strv_free(rep->bad_files, rep->num_bad_files);
    memset(rep, 0, sizeof(*rep));
}
