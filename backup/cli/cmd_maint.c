/* cmd_maint.c: the maintenance commands: verify, prune, gc, unlock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/cli/cli.h"
#include "common/err.h"

static json_t *strv_json(char **v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

int cmd_verify(const struct cli *c)
{
    struct bk_repo *repo = NULL;
    struct bk_verify_report rep;
    struct bk_progress prog;
    struct cli_progress cp;
    int rc = cli_open(c, &repo), bad;

    if (rc)
        return rc;
    if (c->sample < 1 || c->sample > 100) {
        bk_repo_free(repo);
        fprintf(stderr, "xenith-backup: --sample is 1..100\n");
        return EXIT_USAGE;
    }
    cli_progress_start(&cp, &prog, c, "verify (chunks)", 0);
    rc = bk_verify(repo, c->sample, &prog, &rep);
    cli_progress_end(&cp);
    if (rc)
        rc = cli_fail_repo(c, repo, "verify failed", rc);
    bk_repo_free(repo);
    if (rc)
        return rc;
    bad = rep.num_bad || rep.num_bad_indexes;
    if (c->json) {
        json_t *arr = json_array();

        for (size_t i = 0; i < rep.num_bad; i++)
            json_array_append_new(
                arr,
                json_pack(
                    "{s:s,s:s,s:o}", "chunk", rep.bad[i].id, "problem",
                    rep.bad[i].missing ? "missing" : "corrupt", "snapshots",
                    strv_json(rep.bad[i].snapshots, rep.bad[i].num_snapshots)));
        cli_print_json(json_pack(
            "{s:b,s:I,s:I,s:I,s:o,s:o,s:o}", "ok", !bad, "chunks_checked",
            (json_int_t)rep.chunks_checked, "chunks_total",
            (json_int_t)rep.chunks_total, "bytes_checked",
            (json_int_t)rep.bytes_checked, "bad_chunks", arr,
            "damaged_snapshots",
            strv_json(rep.bad_indexes, rep.num_bad_indexes), "damaged_files",
            strv_json(rep.bad_files, rep.num_bad_files)));
    } else {
        for (size_t i = 0; i < rep.num_bad; i++) {
            printf("chunk %s is %s; breaks snapshots:", rep.bad[i].id,
                   rep.bad[i].missing ? "missing" : "corrupt");
            for (size_t s = 0; s < rep.bad[i].num_snapshots; s++)
                printf(" %s", rep.bad[i].snapshots[s]);
            putchar('\n');
        }
        for (size_t i = 0; i < rep.num_bad_indexes; i++)
            printf("snapshot %s: manifest or index is damaged\n",
                   rep.bad_indexes[i]);
        for (size_t i = 0; i < rep.num_bad_files; i++)
            printf("%s: damaged, tampered with or replaced\n",
                   rep.bad_files[i]);
        printf("verify: %llu of %llu chunks checked, %zu bad: %s\n",
               (unsigned long long)rep.chunks_checked,
               (unsigned long long)rep.chunks_total, rep.num_bad,
               bad ? "FAILED" : "ok");
    }
    bk_verify_report_release(&rep);
    return bad ? EXIT_PROBLEM : EXIT_OK;
}

int cmd_prune(const struct cli *c)
{
    struct bk_repo *repo = NULL;
    char **rm = NULL;
    size_t n = 0;
    const struct bk_retention *k = &c->keep;
    int rc;

    if (!k->last && !k->hourly && !k->daily && !k->weekly && !k->monthly &&
        !k->yearly) {
        fprintf(stderr, "xenith-backup: prune needs at least one --keep-* "
                        "(refusing to remove every snapshot)\n");
        return EXIT_USAGE;
    }
    rc = cli_open(c, &repo);
    if (rc)
        return rc;
    rc = bk_prune(repo, k, c->dry_run, &rm, &n);
    if (rc)
        rc = cli_fail_repo(c, repo, "prune failed", rc);
    bk_repo_free(repo);
    if (rc)
        return rc;
    if (c->json) {
        cli_print_json(json_pack("{s:o,s:b}", "removed", strv_json(rm, n),
                                 "dry_run", c->dry_run));
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%s %s\n", c->dry_run ? "would remove" : "removed", rm[i]);
    }
    bk_strv_free(rm, n);
    return EXIT_OK;
}

int cmd_gc(const struct cli *c)
{
    struct bk_repo *repo = NULL;
    struct bk_gc_result r;
    struct bk_progress prog;
    struct cli_progress cp;
    int rc = cli_open(c, &repo);

    if (rc)
        return rc;
    cli_progress_start(&cp, &prog, c, "gc (dirs)", 0);
    rc = bk_gc(repo, &prog, &r);
    cli_progress_end(&cp);
    if (rc)
        rc = cli_fail_repo(c, repo, "gc failed", rc);
    bk_repo_free(repo);
    if (rc)
        return rc;
    if (c->json)
        cli_print_json(json_pack("{s:I,s:I,s:I,s:I}", "chunks_removed",
                                 (json_int_t)r.chunks_removed, "bytes_removed",
                                 (json_int_t)r.bytes_removed, "chunks_kept",
                                 (json_int_t)r.chunks_kept, "tmp_removed",
                                 (json_int_t)r.tmp_removed));
    else if (!c->quiet)
        printf("gc: removed %llu chunks (%llu bytes), kept %llu\n",
               (unsigned long long)r.chunks_removed,
               (unsigned long long)r.bytes_removed,
               (unsigned long long)r.chunks_kept);
    return EXIT_OK;
}

int cmd_unlock(const struct cli *c)
{
    struct bk_repo *repo = NULL;
    struct bk_unlock_result r;
    int rc = cli_open(c, &repo);

    if (rc)
        return rc;
    rc = bk_unlock(repo, c->host, &r);
    if (!rc && c->json)
        cli_print_json(json_pack("{s:I,s:I,s:I,s:b}", "backup_locks_removed",
                                 (json_int_t)r.backup_locks_removed,
                                 "chunks_checked", (json_int_t)r.chunks_checked,
                                 "chunks_removed", (json_int_t)r.chunks_removed,
                                 "exclusive_removed", r.exclusive_removed));
    /* What was removed is said even when a live lock is left. */
    else if ((!rc || rc == ERR_BUSY) && !c->json && !c->quiet)
        printf("unlock: removed %llu stale backup lock(s) (%llu chunks "
               "checked, %llu removed)%s\n",
               (unsigned long long)r.backup_locks_removed,
               (unsigned long long)r.chunks_checked,
               (unsigned long long)r.chunks_removed,
               r.exclusive_removed ? " and the stale exclusive lock" : "");
    if (rc)
        rc = cli_fail_repo(c, repo, "unlock failed", rc);
    bk_repo_free(repo);
    return rc ? rc : EXIT_OK;
}
