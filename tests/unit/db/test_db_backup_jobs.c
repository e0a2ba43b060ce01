/* db_backup_jobs.c: jobs with VMs and tags (selection by id or tag),
 * runs (one running per job, interrupt at start-up), and the rules that
 * keep references honest: a repository in use cannot go, a running job
 * cannot be deleted, a deleted VM leaves the job and its bases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_backup_jobs.h"
#include "db/db_backup_repos.h"
#include "db/db_storage.h"
#include "db/db_vms.h"

static void mk_vm(struct db *db, const char *name, const char *tags,
                  char id_out[37])
{
    struct db_vm vm;

    memset(&vm, 0, sizeof(vm));
    uuid_generate(vm.id);
    xstrlcpy(vm.name, name, sizeof(vm.name));
    xstrlcpy(vm.state, "halted", sizeof(vm.state));
    vm.vcpus = 1;
    vm.memory_mib = 64;
    vm.boot = xstrdup("{}");
    vm.tags = xstrdup(tags);
    assert_int_equal(db_vm_insert(db, &vm), 0);
    memcpy(id_out, vm.id, 37);
    db_vm_release(&vm);
}

static void mk_job(struct db_backup_job *j, const char *name,
                   const char *repo_id)
{
    memset(j, 0, sizeof(*j));
    uuid_generate(j->id);
    xstrlcpy(j->name, name, sizeof(j->name));
    xstrlcpy(j->repo_id, repo_id, sizeof(j->repo_id));
    xstrlcpy(j->timezone, "UTC", sizeof(j->timezone));
    j->concurrency = 1;
    j->enabled = 1;
    j->keep_last = 3;
    j->created_at = j->updated_at = 100;
}

static void mk_run(struct db_backup_run *r, const char *job_id,
                   const char *vm_id)
{
    memset(r, 0, sizeof(*r));
    uuid_generate(r->id);
    xstrlcpy(r->job_id, job_id, sizeof(r->job_id));
    uuid_generate(r->task_id);
    xstrlcpy(r->trigger, "manual", sizeof(r->trigger));
    xstrlcpy(r->status, "running", sizeof(r->status));
    r->started_at = 200;
    r->vms = xcalloc(1, sizeof(*r->vms));
    r->num_vms = 1;
    xstrlcpy(r->vms[0].vm_id, vm_id, sizeof(r->vms[0].vm_id));
    xstrlcpy(r->vms[0].vm_name, "a", sizeof(r->vms[0].vm_name));
    xstrlcpy(r->vms[0].status, "pending", sizeof(r->vms[0].status));
}

static void test_backup_jobs(void **state)
{
    char dir[] = "/tmp/xenith-dbjob-XXXXXX", path[256];
    char vm_a[37], vm_b[37], vm_c[37];
    struct db_backup_repo repo;
    struct db_backup_job j, k, got, *list = NULL;
    struct db_backup_job_vm *sel = NULL;
    struct db_backup_run run, run2, rgot, *runs = NULL;
    struct db *db = NULL;
    size_t num = 0;
    int64_t n = -1;
    int count = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/x.db", dir);
    assert_int_equal(db_open(path, &db), 0);
    memset(&repo, 0, sizeof(repo));
    uuid_generate(repo.id);
    xstrlcpy(repo.name, "r", sizeof(repo.name));
    xstrlcpy(repo.path, "/srv/r", sizeof(repo.path));
    repo.compression_level = 1;
    assert_int_equal(db_backup_repo_insert(db, &repo), 0);
    mk_vm(db, "a", "[]", vm_a);
    mk_vm(db, "b", "[\"prod\",\"web\"]", vm_b);
    mk_vm(db, "c", "[\"dev\"]", vm_c);

    /* A job with one VM by id, one by tag (b twice: listed once). */
    mk_job(&j, "nightly", repo.id);
    j.vms = xcalloc(2, sizeof(*j.vms));
    memcpy(j.vms[0], vm_a, 37);
    memcpy(j.vms[1], vm_b, 37);
    j.num_vms = 2;
    j.tags = xcalloc(1, sizeof(*j.tags));
    xstrlcpy(j.tags[0], "prod", sizeof(j.tags[0]));
    j.num_tags = 1;
    j.last_due = 150;
    assert_int_equal(db_backup_job_insert(db, &j), 0);
    mk_job(&k, "nightly", repo.id);
    assert_int_equal(db_backup_job_insert(db, &k), ERR_EXISTS);
    mk_job(&k, "bad repo", "00000000-0000-0000-0000-000000000000");
    assert_int_equal(db_backup_job_insert(db, &k), ERR_CONFLICT);
    assert_int_equal(db_backup_job_list(db, &list, &num), 0);
    assert_int_equal(num, 1);
    db_backup_job_release(&list[0]);
    free(list);

    assert_int_equal(db_backup_job_get(db, j.id, &got), 0);
    assert_string_equal(got.name, "nightly");
    assert_int_equal(got.num_vms, 2);
    assert_int_equal(got.num_tags, 1);
    assert_string_equal(got.tags[0], "prod");
    assert_int_equal(got.keep_last, 3);
    assert_int_equal(got.last_due, 150);
    db_backup_job_release(&got);

    assert_int_equal(db_backup_job_select_vms(db, j.id, &sel, &num), 0);
    assert_int_equal(num, 2);
    assert_string_equal(sel[0].name, "a");
    assert_string_equal(sel[1].name, "b");
    free(sel);

    /* Update: tags only, now "dev". */
    xstrlcpy(j.tags[0], "dev", sizeof(j.tags[0]));
    j.num_vms = 0;
    j.last_due = 170;
    assert_int_equal(db_backup_job_update(db, &j), 0);
    assert_int_equal(db_backup_job_get(db, j.id, &got), 0);
    assert_int_equal(got.last_due, 170);
    assert_int_equal(got.num_tags, 1);
    db_backup_job_release(&got);
    assert_int_equal(db_backup_job_set_last_due(db, j.id, 180), 0);
    assert_int_equal(db_backup_job_select_vms(db, j.id, &sel, &num), 0);
    assert_int_equal(num, 1);
    assert_string_equal(sel[0].id, vm_c);
    free(sel);

    assert_int_equal(db_backup_job_repo_users(db, repo.id, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(db_backup_repo_delete(db, repo.id), ERR_CONFLICT);

    /* One running run per job. */
    mk_run(&run, j.id, vm_c);
    assert_int_equal(db_backup_run_insert(db, &run), 0);
    assert_int_equal(db_backup_run_active(db, j.id), 1);
    mk_run(&run2, j.id, vm_c);
    assert_int_equal(db_backup_run_insert(db, &run2), ERR_EXISTS);
    assert_int_equal(db_backup_job_delete(db, j.id), ERR_CONFLICT);

    xstrlcpy(run.vms[0].status, "success", sizeof(run.vms[0].status));
    xstrlcpy(run.vms[0].snapshot_id, run.id, sizeof(run.vms[0].snapshot_id));
    run.vms[0].bytes_read = 4096;
    run.vms[0].used_changemap = 1;
    xstrlcpy(run.vms[0].read_note, "read only what changed",
             sizeof(run.vms[0].read_note));
    assert_int_equal(db_backup_run_vm_update(db, run.id, &run.vms[0]), 0);
    assert_int_equal(
        db_backup_run_interrupt_all(db, "daemon restarted", &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(db_backup_run_get(db, run.id, &rgot), 0);
    assert_string_equal(rgot.status, "interrupted");
    assert_string_equal(rgot.error, "daemon restarted");
    assert_int_equal(rgot.num_vms, 1);
    assert_string_equal(rgot.vms[0].status, "success"); /* kept */
    assert_int_equal(rgot.vms[0].bytes_read, 4096);
    assert_int_equal(rgot.vms[0].used_changemap, 1);
    assert_string_equal(rgot.vms[0].read_note, "read only what changed");
    db_backup_run_release(&rgot);
    assert_int_equal(db_backup_run_active(db, j.id), 0);
    assert_int_equal(db_backup_run_insert(db, &run2), 0);
    xstrlcpy(run2.status, "success", sizeof(run2.status));
    run2.finished_at = 300;
    assert_int_equal(db_backup_run_finish(db, &run2), 0);
    assert_int_equal(db_backup_run_list(db, j.id, 10, &runs, &num), 0);
    assert_int_equal(num, 2);
    /* The run given a note has it; the other none (NULL). */
    assert_int_equal(
        !runs[0].vms[0].read_note[0] + !runs[1].vms[0].read_note[0], 1);
    db_backup_run_release(&runs[0]);
    db_backup_run_release(&runs[1]);
    free(runs);

    /* A kept clone: the round trip, then it goes with its VM. */
    {
        struct db_sr sr;
        struct db_disk disk;
        struct db_backup_base b, bgot, *bases = NULL;

        memset(&sr, 0, sizeof(sr));
        uuid_generate(sr.id);
        xstrlcpy(sr.name, "sr", sizeof(sr.name));
        xstrlcpy(sr.type, "file", sizeof(sr.type));
        xstrlcpy(sr.path, "/srv/sr", sizeof(sr.path));
        assert_int_equal(db_sr_insert(db, &sr), 0);
        memset(&disk, 0, sizeof(disk));
        uuid_generate(disk.id);
        xstrlcpy(disk.name, "d", sizeof(disk.name));
        xstrlcpy(disk.sr_id, sr.id, sizeof(disk.sr_id));
        xstrlcpy(disk.file, "d.raw", sizeof(disk.file));
        xstrlcpy(disk.format, "raw", sizeof(disk.format));
        disk.size_bytes = 4096;
        assert_int_equal(db_disk_insert(db, &disk), 0);
        memset(&b, 0, sizeof(b));
        memcpy(b.job_id, j.id, 37);
        memcpy(b.disk_id, disk.id, 37);
        memcpy(b.vm_id, vm_b, 37);
        xstrlcpy(b.device, "xvdb", sizeof(b.device));
        memcpy(b.sr_id, sr.id, 37);
        xstrlcpy(b.file, "x.bkbase", sizeof(b.file));
        memcpy(b.snapshot_id, run.id, 37);
        b.created_at = 5;
        assert_int_equal(db_backup_base_set(db, &b), 0);
        xstrlcpy(b.file, "y.bkbase", sizeof(b.file)); /* replaces */
        assert_int_equal(db_backup_base_set(db, &b), 0);
        assert_int_equal(db_backup_base_get(db, j.id, disk.id, &bgot), 0);
        assert_memory_equal(&bgot, &b, sizeof(b));
        assert_int_equal(db_backup_base_list(db, &bases, &num), 0);
        assert_int_equal(num, 1);
        free(bases);
        assert_int_equal(db_vm_delete(db, vm_b), 0);
        assert_int_equal(db_backup_base_get(db, j.id, disk.id, &bgot),
                         ERR_NOTFOUND);
    }

    /* Deleting the job takes its runs along; the repo is free again. */
    assert_int_equal(db_backup_job_delete(db, j.id), 0);
    assert_int_equal(db_backup_job_delete(db, j.id), ERR_NOTFOUND);
    assert_int_equal(db_backup_run_get(db, run.id, &rgot), ERR_NOTFOUND);
    assert_int_equal(db_backup_repo_delete(db, repo.id), 0);

    db_backup_job_release(&j);
    db_backup_run_release(&run);
    db_backup_run_release(&run2);
    db_close(db);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_jobs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
