/* The VM handlers with fake requests against the test driver, the task
 * workers and a real SR directory: create/validate, every power action
 * and its state, illegal transitions, the shutdown timeout, one task per
 * VM, live PATCH, delete, snapshots with revert of the disk bytes,
 * events from the driver (crash), and reconcile at start. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_storage.h"
#include "db/db_vms.h"
#include "server/api/api.h"
#include "server/core/app.h"
#include "server/core/events.h"
#include "server/core/lifecycle.h"
#include "server/core/sr.h"
#include "server/core/tasks.h"
#include "server/core/vmstate.h"
#include "xen/hv.h"

#define NOID "00000000-0000-4000-8000-000000000000"

static struct app app;
static char tmpdir[] = "/tmp/xenith-vmtest-XXXXXX";
static char sr_id[37], sr_path[256], net_id[37];
static int num_vm_events;

static void on_event(void *opaque, const char *json, size_t len)
{
    (void)opaque;
    (void)len;
    if (strstr(json, "\"type\":\"vm\""))
        num_vm_events++;
}

static void make_disk(const char *name, char id_out[37])
{
    struct db_disk d;

    memset(&d, 0, sizeof(d));
    uuid_generate(d.id);
    xstrlcpy(d.name, name, sizeof(d.name));
    xstrlcpy(d.sr_id, sr_id, sizeof(d.sr_id));
    d.size_bytes = 1 << 20;
    xstrlcpy(d.format, "raw", sizeof(d.format));
    assert_int_equal(sr_image_create(sr_path, d.id, 1 << 20, d.file), 0);
    assert_int_equal(db_disk_insert(app.db, &d), 0);
    xstrlcpy(id_out, d.id, 37);
}

static int setup(void **state)
{
    struct db_sr sr;
    struct db_network n;

    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    xstrlcpy(app.cfg.data_dir, tmpdir, sizeof(app.cfg.data_dir));
    if (db_open(":memory:", &app.db) ||
        hv_open("test:///default?shutdown_ms=50", &app.hv))
        return -1;
    app.events = events_new();
    events_subscribe(app.events, on_event, NULL);
    if (tasks_start(&app, 2, &app.tasks) || vmstate_start(&app))
        return -1;
    memset(&sr, 0, sizeof(sr));
    uuid_generate(sr.id);
    xstrlcpy(sr.name, "local", sizeof(sr.name));
    xstrlcpy(sr.type, "file", sizeof(sr.type));
    snprintf(sr.path, sizeof(sr.path), "%s/sr", tmpdir);
    if (sr_prepare(sr.path) || db_sr_insert(app.db, &sr))
        return -1;
    xstrlcpy(sr_id, sr.id, sizeof(sr_id));
    xstrlcpy(sr_path, sr.path, sizeof(sr_path));
    memset(&n, 0, sizeof(n));
    uuid_generate(n.id);
    xstrlcpy(n.name, "lan", sizeof(n.name));
    xstrlcpy(n.bridge, "xenbr0", sizeof(n.bridge));
    n.mtu = 1500;
    if (db_network_insert(app.db, &n))
        return -1;
    xstrlcpy(net_id, n.id, sizeof(net_id));
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    tasks_stop(app.tasks);
    vmstate_stop(&app);
    hv_close(app.hv);
    events_free(app.events);
    db_close(app.db);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

struct call {
    int status;
    json_t *json;
    struct resp r;
};

static void call2(struct call *c, api_handler fn, const char *method,
                  const char *id, const char *id2, const char *query,
                  const char *body)
{
    struct req q;
    size_t n;

    memset(&q, 0, sizeof(q));
    q.method = method;
    q.path = "/api/v1/test";
    q.query = query;
    q.body = body;
    q.body_len = body ? strlen(body) : 0;
    q.body_fd = -1;
    xstrlcpy(q.who.username, "tester", sizeof(q.who.username));
    if (id) {
        xstrlcpy(q.param_buf, id, 128);
        q.params[q.num_params++] = q.param_buf;
    }
    if (id2) {
        n = strlen(q.param_buf) + 1;
        xstrlcpy(q.param_buf + n, id2, sizeof(q.param_buf) - n);
        q.params[q.num_params++] = q.param_buf + n;
    }
    resp_init(&c->r);
    fn(&app, &q, &c->r);
    c->status = c->r.status;
    c->json = c->r.body.len ? json_loads(c->r.body.data, 0, NULL) : NULL;
}

static void call(struct call *c, api_handler fn, const char *method,
                 const char *id, const char *body)
{
    call2(c, fn, method, id, NULL, NULL, body);
}

static void call_done(struct call *c)
{
    json_decref(c->json);
    c->json = NULL;
    resp_release(&c->r);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void expect(struct call *c, int status, const char *field,
                   const char *msg_part)
{
    json_t *e = json_object_get(c->json, "error");

    if (c->status != status)
        fail_msg("expected %d, got %d: %s", status, c->status,
                 buf_str(&c->r.body));
    if (field && (!str(e, "field") || strcmp(str(e, "field"), field)))
        fail_msg("expected field %s: %s", field, buf_str(&c->r.body));
    if (msg_part &&
        (!str(e, "message") || !strstr(str(e, "message"), msg_part)))
        fail_msg("expected message with '%s': %s", msg_part,
                 buf_str(&c->r.body));
}

static size_t count_vms(void)
{
    struct db_vm *list = NULL;
    size_t n = 0, i;

    assert_int_equal(db_vm_list(app.db, &list, &n), 0);
    for (i = 0; i < n; i++)
        db_vm_release(&list[i]);
    free(list);
    return n;
}

/* POST /vms with body; the new id into id_out. */
static void create_vm(const char *body, char id_out[37])
{
    struct call c;

    call(&c, api_vms_create, "POST", NULL, body);
    expect(&c, 201, NULL, NULL);
    xstrlcpy(id_out, str(c.json, "id"), 37);
    call_done(&c);
}

static char *vm_body(const char *name, const char *disk, const char *extra)
{
    return xasprintf("{\"name\":\"%s\",\"vcpus\":1,\"memory_mib\":128,"
                     "\"boot\":{\"type\":\"pv\",\"kernel\":\"/boot/k\"%s},"
                     "\"disks\":[{\"disk\":\"%s\",\"device\":\"xvda\"}],"
                     "\"nics\":[{\"network\":\"%s\"}]}",
                     name, extra ? extra : "", disk, net_id);
}

static void vm_state(const char *id, char out[16])
{
    struct db_vm vm;

    assert_int_equal(db_vm_get(app.db, id, &vm), 0);
    xstrlcpy(out, vm.state, 16);
    db_vm_release(&vm);
}

/* Run a power action and wait for its task; the task row's status into
 * status_out and its error message (or "") into msg_out. */
static void power(api_handler fn, const char *id, const char *body,
                  char status_out[16], char msg_out[256])
{
    struct call c, t;
    const char *tid;

    call(&c, fn, "POST", id, body);
    expect(&c, 202, NULL, NULL);
    tid = str(c.json, "id");
    assert_non_null(tid);
    assert_string_equal(str(json_object_get(c.json, "target"), "id"), id);
    assert_int_equal(tasks_wait(app.tasks, tid, 10000), 0);
    call(&t, api_task_get, "GET", tid, NULL);
    expect(&t, 200, NULL, NULL);
    xstrlcpy(status_out, str(t.json, "status"), 16);
    msg_out[0] = '\0';
    if (json_is_object(json_object_get(t.json, "error")))
        xstrlcpy(msg_out, str(json_object_get(t.json, "error"), "message"),
                 256);
    call_done(&t);
    call_done(&c);
}

static void power_ok(api_handler fn, const char *id, const char *want_state)
{
    char status[16], msg[256], st[16];

    power(fn, id, NULL, status, msg);
    if (strcmp(status, "success"))
        fail_msg("task %s: %s", status, msg);
    vm_state(id, st);
    assert_string_equal(st, want_state);
}

static void test_create_and_validate(void **state)
{
    char disk[37], disk2[37], id[37], id2[37];
    char *body;
    struct call c;
    int ev;

    (void)state;
    make_disk("d1", disk);
    make_disk("d2", disk2);
    ev = num_vm_events;
    /* Bad input: 400 naming the field, nothing created, no event. */
    call(&c, api_vms_create, "POST", NULL, "{");
    expect(&c, 400, NULL, NULL);
    call_done(&c);
    call(&c, api_vms_create, "POST", NULL, "{\"name\":\"a\",\"id\":\"x\"}");
    expect(&c, 400, "id", NULL);
    call_done(&c);
    body = vm_body("a", NOID, NULL);
    call(&c, api_vms_create, "POST", NULL, body);
    expect(&c, 400, "disks", NULL);
    call_done(&c);
    free(body);
    body = xasprintf("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":128,"
                     "\"boot\":{\"type\":\"hvm\"},\"nics\":[{\"network\":"
                     "\"%s\"}]}",
                     NOID);
    call(&c, api_vms_create, "POST", NULL, body);
    expect(&c, 400, "nics", NULL);
    call_done(&c);
    free(body);
    call(&c, api_vms_create, "POST", NULL,
         "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":128,\"boot\":{\"type\":"
         "\"hvm\",\"cdrom\":\"" NOID "\"}}");
    expect(&c, 400, "boot", NULL);
    call_done(&c);
    assert_int_equal(count_vms(), 0);
    assert_int_equal(num_vm_events, ev);

    body = vm_body("web", disk, NULL);
    call(&c, api_vms_create, "POST", NULL, body);
    expect(&c, 201, NULL, NULL);
    xstrlcpy(id, str(c.json, "id"), sizeof(id));
    assert_true(uuid_valid(id));
    assert_string_equal(str(c.json, "state"), "halted");
    assert_true(json_is_null(json_object_get(c.json, "domid")));
    assert_string_equal(str(json_object_get(c.json, "boot"), "type"), "pv");
    assert_int_equal(json_array_size(json_object_get(c.json, "disks")), 1);
    assert_true(str(c.json, "created_at") != NULL);
    {
        const char *mac =
            str(json_array_get(json_object_get(c.json, "nics"), 0), "mac");

        assert_non_null(mac);
        assert_int_equal(strncmp(mac, "00:16:3e:", 9), 0);
    }
    call_done(&c);
    assert_int_equal(num_vm_events, ev + 1);
    /* The same disk again: 409 naming disks. */
    call(&c, api_vms_create, "POST", NULL, body);
    expect(&c, 409, "disks", NULL);
    call_done(&c);
    free(body);

    body = xasprintf("{\"name\":\"db\",\"vcpus\":2,\"memory_mib\":256,"
                     "\"boot\":{\"type\":\"hvm\",\"cdrom\":\"%s\"},"
                     "\"tags\":[\"prod\"]}",
                     disk2);
    create_vm(body, id2);
    free(body);

    /* List and filters. */
    call2(&c, api_vms_list, "GET", NULL, NULL, NULL, NULL);
    expect(&c, 200, NULL, NULL);
    assert_int_equal(json_array_size(c.json), 2);
    call_done(&c);
    call2(&c, api_vms_list, "GET", NULL, NULL, "tag=prod", NULL);
    assert_int_equal(json_array_size(c.json), 1);
    assert_string_equal(str(json_array_get(c.json, 0), "id"), id2);
    call_done(&c);
    call2(&c, api_vms_list, "GET", NULL, NULL, "state=running", NULL);
    assert_int_equal(json_array_size(c.json), 0);
    call_done(&c);
    call2(&c, api_vms_list, "GET", NULL, NULL, "state=bogus", NULL);
    expect(&c, 400, "state", NULL);
    call_done(&c);

    call(&c, api_vm_get, "GET", "nope", NULL);
    expect(&c, 400, "id", NULL);
    call_done(&c);
    call(&c, api_vm_get, "GET", NOID, NULL);
    expect(&c, 404, NULL, NULL);
    call_done(&c);

    /* PATCH: bad input changes nothing. */
    call(&c, api_vm_patch, "PATCH", id, "{\"vcpus\":0,\"name\":\"x\"}");
    expect(&c, 400, "vcpus", NULL);
    call_done(&c);
    call(&c, api_vm_patch, "PATCH", id, "{\"state\":\"running\"}");
    expect(&c, 400, "state", NULL);
    call_done(&c);
    call(&c, api_vm_get, "GET", id, NULL);
    assert_string_equal(str(c.json, "name"), "web");
    call_done(&c);
    call(&c, api_vm_patch, "PATCH", id,
         "{\"name\":\"web2\",\"tags\":[\"a\",\"b\"],\"description\":\"d\"}");
    expect(&c, 200, NULL, NULL);
    assert_string_equal(str(c.json, "name"), "web2");
    assert_int_equal(json_array_size(json_object_get(c.json, "tags")), 2);
    assert_int_equal(json_array_size(json_object_get(c.json, "disks")), 1);
    call_done(&c);

    /* DELETE a halted VM: its disk stays, detached. */
    call(&c, api_vm_delete, "DELETE", id2, NULL);
    expect(&c, 204, NULL, NULL);
    call_done(&c);
    call(&c, api_vm_get, "GET", id2, NULL);
    expect(&c, 404, NULL, NULL);
    call_done(&c);
    call(&c, api_vm_delete, "DELETE", id, NULL);
    expect(&c, 204, NULL, NULL);
    call_done(&c);
    {
        struct db_disk d;

        assert_int_equal(db_disk_get(app.db, disk, &d), 0);
        assert_string_equal(d.attached_vm, "");
    }
}

static void test_power_cycle(void **state)
{
    char disk[37], id[37], status[16], msg[256], path[512];
    char *body;
    struct call c;
    struct stat st;

    (void)state;
    make_disk("p1", disk);
    body = vm_body("pw", disk, NULL);
    create_vm(body, id);
    free(body);

    call(&c, api_vm_stats, "GET", id, NULL);
    expect(&c, 409, NULL, "vm is halted");
    call_done(&c);
    call(&c, api_vm_shutdown, "POST", id, NULL);
    expect(&c, 409, "state", "vm is halted");
    call_done(&c);
    call(&c, api_vm_start, "POST", id, "{\"x\":1}");
    expect(&c, 400, "x", NULL);
    call_done(&c);

    power_ok(api_vm_start, id, "running");
    call(&c, api_vm_get, "GET", id, NULL);
    assert_true(json_is_integer(json_object_get(c.json, "domid")));
    call_done(&c);
    call(&c, api_vm_start, "POST", id, NULL);
    expect(&c, 409, "state", "vm is running");
    call_done(&c);
    call(&c, api_vm_stats, "GET", id, NULL);
    expect(&c, 200, NULL, NULL);
    assert_true(json_is_number(json_object_get(c.json, "cpu_pct")));
    assert_true(
        json_integer_value(json_object_get(c.json, "memory_max_bytes")) > 0);
    assert_true(json_is_integer(json_object_get(c.json, "net_rx_bytes")));
    call_done(&c);
    /* Boot/disks only while halted; name any time. */
    call(&c, api_vm_patch, "PATCH", id, "{\"boot\":{\"type\":\"hvm\"}}");
    expect(&c, 409, "state", "vm is running");
    call_done(&c);
    /* Live vcpus change. */
    call(&c, api_vm_patch, "PATCH", id, "{\"vcpus\":2}");
    expect(&c, 200, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(c.json, "vcpus")), 2);
    call_done(&c);
    call(&c, api_vm_delete, "DELETE", id, NULL);
    expect(&c, 409, "state", "vm is running");
    call_done(&c);

    power_ok(api_vm_pause, id, "paused");
    call(&c, api_vm_pause, "POST", id, NULL);
    expect(&c, 409, "state", "vm is paused");
    call_done(&c);
    power_ok(api_vm_resume, id, "running");
    power_ok(api_vm_reboot, id, "running");
    power_ok(api_vm_suspend, id, "suspended");
    snprintf(path, sizeof(path), "%s/%s.suspend", sr_path, id);
    assert_int_equal(stat(path, &st), 0);
    call(&c, api_vm_start, "POST", id, NULL);
    expect(&c, 409, "state", "use resume");
    call_done(&c);
    power_ok(api_vm_resume, id, "running");
    assert_int_equal(stat(path, &st), -1);
    power(api_vm_shutdown, id, "{\"timeout_s\":5}", status, msg);
    assert_string_equal(status, "success");
    vm_state(id, status);
    assert_string_equal(status, "halted");
    call(&c, api_vm_shutdown, "POST", id, "{\"timeout_s\":0}");
    expect(&c, 400, "timeout_s", NULL);
    call_done(&c);
    power_ok(api_vm_start, id, "running");
    power_ok(api_vm_destroy, id, "halted");
    call(&c, api_vm_destroy, "POST", id, NULL);
    expect(&c, 409, "state", "vm is halted");
    call_done(&c);
}

static void test_shutdown_timeout_and_busy(void **state)
{
    char disk[37], id[37], status[16], msg[256];
    char *body;
    struct call c, c2;
    const char *tid;

    (void)state;
    make_disk("t1", disk);
    body = vm_body("stubborn", disk, ",\"cmdline\":\"xenith.ignore_shutdown\"");
    create_vm(body, id);
    free(body);
    power_ok(api_vm_start, id, "running");
    power(api_vm_shutdown, id, "{\"timeout_s\":1}", status, msg);
    assert_string_equal(status, "failure");
    assert_non_null(strstr(msg, "timeout"));
    vm_state(id, status);
    assert_string_equal(status, "running");

    /* One task per VM: a second action while the first runs -> 409. */
    call(&c, api_vm_shutdown, "POST", id, "{\"timeout_s\":2}");
    expect(&c, 202, NULL, NULL);
    tid = str(c.json, "id");
    call(&c2, api_vm_destroy, "POST", id, NULL);
    expect(&c2, 409, NULL, "a task is already running for this vm");
    call_done(&c2);
    call(&c2, api_vm_patch, "PATCH", id, "{\"vcpus\":2}");
    expect(&c2, 409, NULL, "a task is already running");
    call_done(&c2);
    assert_int_equal(tasks_wait(app.tasks, tid, 10000), 0);
    call_done(&c);
    power_ok(api_vm_destroy, id, "halted");
}

static void test_crash_event_halts(void **state)
{
    char disk[37], id[37], st[16];
    char *body;
    int fd, i;

    (void)state;
    make_disk("c1", disk);
    body = vm_body("crashy", disk, NULL);
    create_vm(body, id);
    free(body);
    power_ok(api_vm_start, id, "running");
    assert_int_equal(hv_console_open(app.hv, id, &fd), 0);
    assert_int_equal(write(fd, "crash\n", 6), 6);
    for (i = 0; i < 200; i++) {
        vm_state(id, st);
        if (!strcmp(st, "halted"))
            break;
        time_sleep_ms(10);
    }
    close(fd);
    assert_string_equal(st, "halted");
    /* The crashed domain was destroyed: the VM starts again. */
    power_ok(api_vm_start, id, "running");
    power_ok(api_vm_destroy, id, "halted");
}

static void disk_file(const char *disk_id, char *path, size_t cap)
{
    struct db_disk d;

    assert_int_equal(db_disk_get(app.db, disk_id, &d), 0);
    assert_int_equal(sr_image_path(sr_path, d.file, path, cap), 0);
}

static void write_at0(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);

    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, text, strlen(text), 0), (ssize_t)strlen(text));
    close(fd);
}

static void read_at0(const char *path, char *out, size_t n)
{
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, out, n, 0), (ssize_t)n);
    out[n] = '\0';
    close(fd);
}

static void test_snapshots(void **state)
{
    char disk[37], id[37], sid[37], path[600], buf[32], clone_path[600];
    char *body;
    struct call c;
    struct stat st;
    const char *clone;

    (void)state;
    make_disk("s1", disk);
    body = vm_body("snappy", disk, NULL);
    create_vm(body, id);
    free(body);
    disk_file(disk, path, sizeof(path));
    write_at0(path, "before-snapshot");
    power_ok(api_vm_start, id, "running");

    call(&c, api_vm_snapshot_create, "POST", id, "{\"name\":\"a/b\"}");
    expect(&c, 400, "name", NULL);
    call_done(&c);
    call(&c, api_vm_snapshot_create, "POST", id, "{\"name\":\"s1\"}");
    expect(&c, 201, NULL, NULL);
    xstrlcpy(sid, str(c.json, "id"), sizeof(sid));
    assert_true(json_is_integer(json_object_get(c.json, "pause_ms")));
    assert_int_equal(json_array_size(json_object_get(c.json, "disks")), 1);
    clone = str(json_array_get(json_object_get(c.json, "disks"), 0), "disk");
    {
        struct db_disk d;

        assert_int_equal(db_disk_get(app.db, clone, &d), 0);
        assert_string_equal(d.snapshot_of, disk);
        assert_string_equal(d.name, "s1@s1");
    }
    disk_file(clone, clone_path, sizeof(clone_path));
    call_done(&c);
    /* The VM was resumed after the clone. */
    vm_state(id, buf);
    assert_string_equal(buf, "running");

    call(&c, api_vm_snapshots_list, "GET", id, NULL);
    expect(&c, 200, NULL, NULL);
    assert_int_equal(json_array_size(c.json), 1);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_array_get(c.json, 0), "config"), "vcpus")),
        1);
    call_done(&c);

    write_at0(path, "after--snapshot");
    call(&c, api_vm_patch, "PATCH", id, "{\"vcpus\":3}");
    expect(&c, 200, NULL, NULL);
    call_done(&c);
    call2(&c, api_vm_snapshot_revert, "POST", id, sid, NULL, NULL);
    expect(&c, 409, "state", "vm is running");
    call_done(&c);
    power_ok(api_vm_destroy, id, "halted");
    call2(&c, api_vm_snapshot_revert, "POST", id, NOID, NULL, NULL);
    expect(&c, 404, NULL, NULL);
    call_done(&c);
    call2(&c, api_vm_snapshot_revert, "POST", id, sid, NULL, NULL);
    expect(&c, 200, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(c.json, "vcpus")), 1);
    call_done(&c);
    read_at0(path, buf, 15);
    assert_string_equal(buf, "before-snapshot");
    /* The snapshot stays usable: revert twice. */
    write_at0(path, "changed-again!!");
    call2(&c, api_vm_snapshot_revert, "POST", id, sid, NULL, NULL);
    expect(&c, 200, NULL, NULL);
    call_done(&c);
    read_at0(path, buf, 15);
    assert_string_equal(buf, "before-snapshot");

    call2(&c, api_vm_snapshot_delete, "DELETE", id, sid, NULL, NULL);
    expect(&c, 204, NULL, NULL);
    call_done(&c);
    assert_int_equal(stat(clone_path, &st), -1);
    call(&c, api_vm_snapshots_list, "GET", id, NULL);
    assert_int_equal(json_array_size(c.json), 0);
    call_done(&c);
}

static void test_driver_failures(void **state)
{
    char disk[37], id[37], status[16], msg[256];
    struct hv_domain dom;
    struct call c;
    char *body;

    (void)state;
    make_disk("f1", disk);
    body = vm_body("failing", disk, NULL);
    create_vm(body, id);
    free(body);
    /* A failed start: the task fails with the driver's reason. */
    assert_int_equal(hv_inject_failure(app.hv, "start", ERR_IO), 0);
    power(api_vm_start, id, NULL, status, msg);
    assert_string_equal(status, "failure");
    assert_non_null(strstr(msg, "start failed"));
    vm_state(id, status);
    assert_string_equal(status, "halted");
    assert_int_equal(hv_inject_failure(app.hv, "start", 0), 0);
    power_ok(api_vm_start, id, "running");

    /* A driver that cannot change vcpus live: 501, nothing changed. */
    assert_int_equal(hv_inject_failure(app.hv, "set_vcpus", ERR_UNSUPPORTED),
                     0);
    call(&c, api_vm_patch, "PATCH", id, "{\"vcpus\":3,\"name\":\"n2\"}");
    expect(&c, 501, "vcpus", NULL);
    call_done(&c);
    assert_int_equal(hv_inject_failure(app.hv, "set_vcpus", 0), 0);
    /* Memory fails after vcpus worked: vcpus are put back. */
    assert_int_equal(hv_inject_failure(app.hv, "set_memory", ERR_IO), 0);
    call(&c, api_vm_patch, "PATCH", id, "{\"vcpus\":3,\"memory_mib\":512}");
    expect(&c, 500, "memory_mib", NULL);
    call_done(&c);
    assert_int_equal(hv_inject_failure(app.hv, "set_memory", 0), 0);
    assert_int_equal(hv_lookup(app.hv, id, &dom), 0);
    assert_int_equal(dom.vcpus, 1);
    call(&c, api_vm_get, "GET", id, NULL);
    assert_string_equal(str(c.json, "name"), "failing");
    assert_int_equal(json_integer_value(json_object_get(c.json, "vcpus")), 1);
    call_done(&c);

    /* A failed pause leaves the state the hypervisor reports. */
    assert_int_equal(hv_inject_failure(app.hv, "pause", ERR_IO), 0);
    power(api_vm_pause, id, NULL, status, msg);
    assert_string_equal(status, "failure");
    vm_state(id, status);
    assert_string_equal(status, "running");
    assert_int_equal(hv_inject_failure(app.hv, "pause", 0), 0);
    power_ok(api_vm_destroy, id, "halted");
}

/* 1 when the test driver's domain id has a disk at vdev (probed by
 * attaching it again: "already has disk"). */
static int dom_has_disk(const char *id, const char *vdev, const char *disk)
{
    struct hv_disk d;
    char path[600];

    disk_file(disk, path, sizeof(path));
    memset(&d, 0, sizeof(d));
    xstrlcpy(d.path, path, sizeof(d.path));
    xstrlcpy(d.vdev, vdev, sizeof(d.vdev));
    if (hv_disk_attach(app.hv, id, &d) == ERR_CONFLICT)
        return 1;
    assert_int_equal(hv_disk_detach(app.hv, id, vdev), 0);
    return 0;
}

static size_t num_disks(const char *id)
{
    struct call c;
    size_t n;

    call(&c, api_vm_get, "GET", id, NULL);
    expect(&c, 200, NULL, NULL);
    n = json_array_size(json_object_get(c.json, "disks"));
    call_done(&c);
    return n;
}

/* A PATCH body: disks xvda and xvdb, then extra (",..." or ""). */
static char *two_disks(const char *xvda, const char *xvdb, const char *extra)
{
    return xasprintf("{\"disks\":[{\"disk\":\"%s\",\"device\":\"xvda\"},"
                     "{\"disk\":\"%s\",\"device\":\"xvdb\"}]%s}",
                     xvda, xvdb, extra);
}

/* Live disk/NIC changes that fail part-way leave the domain and the
 * record as they were. */
static void test_hotplug_failures(void **state)
{
    char disk[37], disk2[37], id[37], *body, *nics;
    struct call c;

    (void)state;
    make_disk("h1", disk);
    make_disk("h2", disk2);
    body = vm_body("hot", disk, NULL);
    create_vm(body, id);
    free(body);
    power_ok(api_vm_start, id, "running");

    /* the attach worked, then memory failed: the disk goes again */
    body = two_disks(disk, disk2, ",\"memory_mib\":512");
    assert_int_equal(hv_inject_failure(app.hv, "set_memory", ERR_IO), 0);
    call(&c, api_vm_patch, "PATCH", id, body);
    expect(&c, 500, "memory_mib", NULL);
    call_done(&c);
    assert_int_equal(hv_inject_failure(app.hv, "set_memory", 0), 0);
    free(body);
    assert_false(dom_has_disk(id, "xvdb", disk2));
    assert_int_equal(num_disks(id), 1);

    /* the database refuses the record: the attach is undone */
    body = two_disks(disk, disk2, "");
    db_inject_failure(app.db, "UPDATE vms", 1);
    call(&c, api_vm_patch, "PATCH", id, body);
    expect(&c, 500, NULL, NULL);
    call_done(&c);
    free(body);
    assert_false(dom_has_disk(id, "xvdb", disk2));
    assert_int_equal(num_disks(id), 1);

    /* a NIC attach fails after the disk attach: the disk goes again
     * (the VM's NIC keeps its MAC, so it stays as it is) */
    call(&c, api_vm_get, "GET", id, NULL);
    nics = xasprintf(
        ",\"nics\":[{\"network\":\"%s\",\"mac\":\"%s\"},"
        "{\"network\":\"%s\"}]",
        net_id, str(json_array_get(json_object_get(c.json, "nics"), 0), "mac"),
        net_id);
    call_done(&c);
    body = two_disks(disk, disk2, nics);
    assert_int_equal(hv_inject_failure(app.hv, "nic_attach", ERR_IO), 0);
    call(&c, api_vm_patch, "PATCH", id, body);
    expect(&c, 500, "nics", "cannot attach nic");
    call_done(&c);
    assert_int_equal(hv_inject_failure(app.hv, "nic_attach", 0), 0);
    free(body);
    free(nics);
    assert_false(dom_has_disk(id, "xvdb", disk2));

    /* a detach that fails: 500 naming disks, xvda still there */
    assert_int_equal(hv_inject_failure(app.hv, "disk_detach", ERR_IO), 0);
    call(&c, api_vm_patch, "PATCH", id, "{\"disks\":[]}");
    expect(&c, 500, "disks", "cannot detach disk xvda");
    call_done(&c);
    assert_int_equal(hv_inject_failure(app.hv, "disk_detach", 0), 0);
    assert_true(dom_has_disk(id, "xvda", disk));
    assert_int_equal(num_disks(id), 1);

    /* and the plain case works */
    call(&c, api_vm_patch, "PATCH", id, "{\"disks\":[]}");
    expect(&c, 200, NULL, NULL);
    call_done(&c);
    assert_int_equal(num_disks(id), 0);
    assert_false(dom_has_disk(id, "xvda", disk));
    power_ok(api_vm_destroy, id, "halted");
}

static void test_reconcile(void **state)
{
    char disk[37], id[37], stray[37], st[16], lost[37];
    struct hv_vm_config cfg;
    struct db_vm vm;
    char *body;

    (void)state;
    make_disk("r1", disk);
    body = vm_body("gone", disk, NULL);
    create_vm(body, id);
    free(body);
    /* The DB says running, the hypervisor has no such domain. */
    assert_int_equal(db_vm_set_state(app.db, id, "running", NULL), 0);
    /* A domain the DB does not know. */
    memset(&cfg, 0, sizeof(cfg));
    uuid_generate(stray);
    xstrlcpy(cfg.uuid, stray, sizeof(cfg.uuid));
    xstrlcpy(cfg.name, "stray vm!", sizeof(cfg.name));
    cfg.vcpus = 2;
    cfg.memory_mib = 512;
    assert_int_equal(hv_start(app.hv, &cfg), 0);

    /* Suspended, but the state file is gone. */
    make_disk("r2", disk);
    body = vm_body("lost", disk, NULL);
    create_vm(body, lost);
    free(body);
    assert_int_equal(
        db_vm_set_state(app.db, lost, "suspended", "/nonexistent/x.suspend"),
        0);

    assert_int_equal(reconcile_at_start(&app), 0);
    vm_state(id, st);
    assert_string_equal(st, "halted");
    vm_state(lost, st);
    assert_string_equal(st, "halted");
    assert_int_equal(db_vm_get(app.db, stray, &vm), 0);
    assert_string_equal(vm.state, "running");
    assert_string_equal(vm.name, "stray vm_");
    assert_int_equal(vm.vcpus, 2);
    assert_int_equal(vm.memory_mib, 512);
    db_vm_release(&vm);
    assert_int_equal(hv_destroy(app.hv, stray), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_validate),
        cmocka_unit_test(test_power_cycle),
        cmocka_unit_test(test_shutdown_timeout_and_busy),
        cmocka_unit_test(test_crash_event_halts),
        cmocka_unit_test(test_snapshots),
        cmocka_unit_test(test_driver_failures),
        cmocka_unit_test(test_hotplug_failures),
        cmocka_unit_test(test_reconcile),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
