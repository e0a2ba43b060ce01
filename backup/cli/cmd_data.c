/* cmd_data.c: the commands that move disk data: backup-file and
 * restore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/cli/cli.h"
#include "backup/cli/outfile.h"
#include "common/err.h"
#include "common/timeutil.h"

#define VM_CONFIG_MAX (512 * 1024)

/* The --vm-config file as compact JSON text (**new**), NULL when none;
 * *bad_out is set when it cannot be read or is not a JSON object. */
static char *vm_config(const struct cli *c, int *bad_out)
{
    json_error_t je;
    json_t *o;
    char *txt;

    *bad_out = 0;
    if (!c->vm_config_file)
        return NULL;
    o = json_load_file(c->vm_config_file, 0, &je);
    if (!json_is_object(o)) {
        fprintf(stderr, "xenith-backup: --vm-config %s: %s\n",
                c->vm_config_file, o ? "not a JSON object" : je.text);
        json_decref(o);
        *bad_out = 1;
        return NULL;
    }
    txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (strlen(txt) > VM_CONFIG_MAX) {
        fprintf(stderr, "xenith-backup: --vm-config %s: over %d bytes\n",
                c->vm_config_file, VM_CONFIG_MAX);
        free(txt);
        *bad_out = 1;
        return NULL;
    }
    return txt;
}

int cmd_backup_file(const struct cli *c)
{
    struct bk_repo *repo = NULL;
    struct bk_backup_opts o = { 0 };
    struct bk_disk_src d = { 0 };
    struct bk_backup_result r;
    struct bk_progress prog;
    struct cli_progress cp;
    long long t0;
    double secs;
    char *cfg;
    int rc, bad;

    if (c->num_args != 1 || !c->name) {
        fprintf(stderr, "xenith-backup: backup-file needs --name NAME and "
                        "one FILE\n");
        return EXIT_USAGE;
    }
    cfg = vm_config(c, &bad);
    if (bad)
        return EXIT_USAGE;
    rc = cli_open(c, &repo);
    if (rc) {
        free(cfg);
        return rc;
    }
    o.name = c->name;
    o.vm_config = cfg;
    o.parent = c->no_parent ? "" : c->parent;
    o.protect = c->protect;
    d.name = c->disk_name ? c->disk_name : "disk0";
    d.path = c->args[0];
    d.changed_since = c->changed_since;
    cli_progress_start(&cp, &prog, c, "backup", 1);
    t0 = time_mono_ms();
    rc = bk_backup(repo, &o, &d, 1, &prog, &r);
    cli_progress_end(&cp);
    free(cfg);
    secs = (double)(time_mono_ms() - t0) / 1000.0;
    if (rc)
        rc = cli_fail_repo(c, repo, "backup failed", rc);
    bk_repo_free(repo);
    if (rc)
        return rc;
    if (c->json) {
        cli_print_json(json_pack(
            "{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:I,s:I,s:f}", "snapshot",
            r.snapshot_id, "logical_bytes", (json_int_t)r.logical_bytes,
            "bytes_read", (json_int_t)r.bytes_read, "chunks",
            (json_int_t)r.chunks_total, "chunks_zero",
            (json_int_t)r.chunks_zero, "chunks_new", (json_int_t)r.chunks_new,
            "stored_bytes", (json_int_t)r.stored_bytes, "changemap",
            r.used_changemap, "interrupted_checked",
            (json_int_t)r.interrupted_checked, "interrupted_removed",
            (json_int_t)r.interrupted_removed, "seconds", secs));
        return EXIT_OK;
    }
    if (!c->quiet)
        fprintf(stderr,
                "read %llu of %llu bytes%s, %llu new chunks (%llu bytes) "
                "in %.2fs\n",
                (unsigned long long)r.bytes_read,
                (unsigned long long)r.logical_bytes,
                r.used_changemap ? " (change map)" : "",
                (unsigned long long)r.chunks_new,
                (unsigned long long)r.stored_bytes, secs);
    puts(r.snapshot_id);
    return EXIT_OK;
}

int cmd_restore(const struct cli *c)
{
    struct bk_repo *repo = NULL;
    struct bk_progress prog;
    struct cli_progress cp;
    struct cli_outfile of;
    char id[BK_SNAPID_LEN];
    long long t0;
    int rc;

    if (c->num_args != 2) {
        fprintf(stderr, "xenith-backup: restore needs SNAPSHOT OUTFILE\n");
        return EXIT_USAGE;
    }
    rc = cli_open(c, &repo);
    if (rc)
        return rc;
    rc = bk_snapshot_resolve(repo, c->args[0], id);
    if (rc) {
        bk_repo_free(repo);
        return cli_fail(c, "no such snapshot", rc);
    }
    rc = cli_outfile_begin(&of, c->args[1]);
    if (rc) {
        rc = cli_fail(c, of.why, rc);
        goto out;
    }
    cli_progress_start(&cp, &prog, c, "restore", 1);
    t0 = time_mono_ms();
    rc = bk_restore(repo, id, (size_t)c->disk, cli_outfile_target(&of), &prog);
    cli_progress_end(&cp);
    if (rc) {
        rc = cli_fail_repo(c, repo, "restore failed", rc);
        goto out;
    }
    /* Durable before success is reported: fsync, rename, fsync dir. */
    rc = cli_outfile_commit(&of);
    if (rc) {
        rc = cli_fail(c, of.why, rc);
        goto out;
    }
    if (c->json)
        cli_print_json(json_pack("{s:s,s:s,s:f}", "snapshot", id, "file",
                                 c->args[1], "seconds",
                                 (double)(time_mono_ms() - t0) / 1000.0));
    rc = EXIT_OK;
out:
    cli_outfile_release(&of);
    bk_repo_free(repo);
    return rc;
}
