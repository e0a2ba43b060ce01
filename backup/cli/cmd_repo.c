/* cmd_repo.c: the repository-wide commands: init, snapshots, stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/cli/cli.h"
#include "common/err.h"
#include "common/timeutil.h"

int cmd_init(const struct cli *c)
{
    struct bk_init_opts o = { .compression_level = c->compression,
                              .chunk_size = (uint32_t)c->chunk_kib * 1024 };
    char *pass = NULL;
    int rc;

    if (c->encrypt) {
        pass = cli_passphrase(c);
        if (!pass) {
            fprintf(stderr, "xenith-backup: --encrypt needs a passphrase "
                            "(--passphrase-file or "
                            "XENITH_BACKUP_PASSPHRASE)\n");
            return EXIT_USAGE;
        }
        o.passphrase = pass;
    }
    rc = bk_repo_init(c->repo, &o);
    if (pass) {
        explicit_bzero(pass, strlen(pass));
        free(pass);
    }
    if (rc)
        return cli_fail(c, "init failed", rc);
    if (c->json)
        cli_print_json(json_pack("{s:s,s:b,s:i}", "repo", c->repo, "encrypted",
                                 c->encrypt, "compression", c->compression));
    else if (!c->quiet)
        printf("initialised %s repository in %s\n",
               c->encrypt ? "an encrypted" : "a", c->repo);
    return EXIT_OK;
}

int cmd_snapshots(const struct cli *c)
{
    struct bk_repo *repo = NULL;
    struct bk_snapshot_info *s = NULL;
    size_t n = 0;
    json_t *arr;
    int rc = cli_open(c, &repo);

    if (rc)
        return rc;
    rc = bk_snapshot_list(repo, &s, &n);
    bk_repo_free(repo);
    if (rc)
        return cli_fail(c, "cannot list snapshots", rc);
    arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char t[21], sz[32];

        time_rfc3339(s[i].time, t);
        if (c->json) {
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:s,s:s?,s:I,s:I,s:b}", "id", s[i].id,
                               "name", s[i].name, "time", t, "parent",
                               s[i].parent[0] ? s[i].parent : NULL, "size",
                               (json_int_t)s[i].size, "disks",
                               (json_int_t)s[i].num_disks, "protected",
                               s[i].protected_));
            continue;
        }
        cli_human_bytes(s[i].size, sz);
        printf("%s  %s  %-20s %12s%s\n", s[i].id, t, s[i].name, sz,
               s[i].protected_ ? "  protected" : "");
    }
    if (c->json)
        cli_print_json(json_pack("{s:o}", "snapshots", arr));
    else
        json_decref(arr);
    free(s);
    return EXIT_OK;
}

int cmd_stats(const struct cli *c)
{
    struct bk_repo *repo = NULL;
    struct bk_stats st;
    double ratio;
    int rc = cli_open(c, &repo);

    if (rc)
        return rc;
    rc = bk_stats(repo, &st);
    bk_repo_free(repo);
    if (rc)
        return cli_fail(c, "cannot read stats", rc);
    ratio = st.stored_bytes ? (double)st.logical_bytes / st.stored_bytes : 0;
    if (c->json) {
        cli_print_json(json_pack(
            "{s:I,s:I,s:I,s:I,s:f,s:b,s:i,s:I,s:s?}", "snapshots",
            (json_int_t)st.snapshots, "logical_bytes",
            (json_int_t)st.logical_bytes, "stored_bytes",
            (json_int_t)st.stored_bytes, "chunks", (json_int_t)st.chunks,
            "dedup_ratio", ratio, "encrypted", st.encrypted, "compression",
            st.compression_level, "chunk_size", (json_int_t)st.chunk_size,
            "key_fingerprint",
            st.key_fingerprint[0] ? st.key_fingerprint : NULL));
        return EXIT_OK;
    }
    printf("snapshots:      %llu\n"
           "logical bytes:  %llu\n"
           "stored bytes:   %llu\n"
           "chunks:         %llu\n"
           "ratio:          %.2f\n"
           "encrypted:      %s\n"
           "compression:    zstd %d\n"
           "chunk size:     %u\n",
           (unsigned long long)st.snapshots,
           (unsigned long long)st.logical_bytes,
           (unsigned long long)st.stored_bytes, (unsigned long long)st.chunks,
           ratio, st.encrypted ? st.key_fingerprint : "no",
           st.compression_level, st.chunk_size);
    return EXIT_OK;
}
