/* The SR, disk, network, host and pool handlers, called with fake
 * requests (no front-end, no auth: the router does those): happy paths,
 * bad input naming the field with nothing changed, 409s, events, and a
 * disk import/export round trip. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_storage.h"
#include "server/api/api.h"
#include "server/core/app.h"
#include "server/core/events.h"
#include "xen/hv.h"

#define MIB (1024 * 1024)

static struct app app;
static char tmpdir[] = "/tmp/xenith-apitest-XXXXXX";
static int num_events;
static char last_event[512];

static void on_event(void *opaque, const char *json, size_t len)
{
    (void)opaque;
    num_events++;
    xstrlcpy(last_event, json,
             len < sizeof(last_event) ? len + 1 : sizeof(last_event));
}

static char dbpath[300];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    /* A file, so the sqlite3 shell can write VM rows beside us. */
    snprintf(dbpath, sizeof(dbpath), "%s/x.db", tmpdir);
    if (db_open(dbpath, &app.db) || hv_open("test:///default", &app.hv))
        return -1;
    app.events = events_new();
    events_subscribe(app.events, on_event, NULL);
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    events_free(app.events);
    hv_close(app.hv);
    db_close(app.db);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

struct call {
    int status;
    json_t *json; /* parsed body or NULL */
    struct resp r;
};

/* Run handler fn on a fake request; id (may be NULL) is path param 0. */
static void call(struct call *c, api_handler fn, const char *method,
                 const char *id, const char *query, const char *body)
{
    struct req q;

    memset(&q, 0, sizeof(q));
    q.method = method;
    q.path = "/api/v1/test";
    q.query = query;
    q.body = body;
    q.body_len = body ? strlen(body) : 0;
    q.body_fd = -1;
    if (id) {
        xstrlcpy(q.param_buf, id, sizeof(q.param_buf));
        q.params[0] = q.param_buf;
        q.num_params = 1;
    }
    resp_init(&c->r);
    fn(&app, &q, &c->r);
    c->status = c->r.status;
    c->json = c->r.body.len ? json_loads(c->r.body.data, 0, NULL) : NULL;
}

static void call_done(struct call *c)
{
    json_decref(c->json);
    c->json = NULL;
    resp_release(&c->r);
}

/* POST /disks/{id}/import with the upload spooled in fd; the status. */
static int import_call(const char *id, int fd, char *body_out, size_t cap)
{
    struct resp r;
    struct req q;
    int status;

    memset(&q, 0, sizeof(q));
    q.method = "POST";
    q.path = "/api/v1/disks/x/import";
    xstrlcpy(q.param_buf, id, sizeof(q.param_buf));
    q.params[0] = q.param_buf;
    q.num_params = 1;
    q.body_fd = fd;
    resp_init(&r);
    api_disk_import(&app, &q, &r);
    status = r.status;
    if (body_out)
        xstrlcpy(body_out, buf_str(&r.body), cap);
    resp_release(&r);
    return status;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Expect status and, for errors, the field named. */
static void expect(struct call *c, int status, const char *field)
{
    if (c->status != status)
        fail_msg("expected %d, got %d: %s", status, c->status,
                 buf_str(&c->r.body));
    if (field) {
        json_t *e = json_object_get(c->json, "error");

        assert_non_null(e);
        if (!str(e, "field") || strcmp(str(e, "field"), field))
            fail_msg("expected field %s: %s", field, buf_str(&c->r.body));
    }
}

/* One bad request: status/field, and it must publish no event. */
static void bad(api_handler fn, const char *method, const char *id,
                const char *body, int status, const char *field)
{
    struct call c;
    int before = num_events;

    call(&c, fn, method, id, NULL, body);
    expect(&c, status, field);
    assert_int_equal(num_events, before);
    call_done(&c);
}

static size_t count_srs(void)
{
    struct db_sr *list = NULL;
    size_t num = 0;

    assert_int_equal(db_sr_list(app.db, &list, &num), 0);
    free(list);
    return num;
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Create an SR in tmpdir/sub; its id into id_out. */
static void make_sr(const char *name, const char *sub, char *id_out)
{
    char body[512];
    struct call c;

    snprintf(body, sizeof(body),
             "{\"name\":\"%s\",\"type\":\"file\",\"path\":\"%s/%s\"}", name,
             tmpdir, sub);
    call(&c, api_srs_create, "POST", NULL, NULL, body);
    expect(&c, 201, NULL);
    xstrlcpy(id_out, str(c.json, "id"), UUID_STRLEN);
    call_done(&c);
}

static void test_srs(void **state)
{
    char body[512], path[300], id[UUID_STRLEN], id2[UUID_STRLEN];
    char longname[80];
    struct db_pool pool;
    struct call c;
    struct stat st;
    int ev;

    (void)state;
    memset(longname, 'a', 65);
    longname[65] = '\0';
    snprintf(path, sizeof(path), "%s/sr1", tmpdir);
    bad(api_srs_create, "POST", NULL, "{", 400, NULL);
    bad(api_srs_create, "POST", NULL, "[]", 400, NULL);
    bad(api_srs_create, "POST", NULL, NULL, 400, NULL);
    snprintf(body, sizeof(body),
             "{\"name\":\"a\",\"type\":\"file\",\"path\":"
             "\"%s\",\"x\":1}",
             path);
    bad(api_srs_create, "POST", NULL, body, 400, "x");
    snprintf(body, sizeof(body),
             "{\"name\":5,\"type\":\"file\",\"path\":\"%s\"}", path);
    bad(api_srs_create, "POST", NULL, body, 400, "name");
    snprintf(body, sizeof(body),
             "{\"name\":\"%s\",\"type\":\"file\",\"path\":\"%s\"}", longname,
             path);
    bad(api_srs_create, "POST", NULL, body, 400, "name");
    snprintf(body, sizeof(body),
             "{\"name\":\"a/b\",\"type\":\"file\",\"path\":\"%s\"}", path);
    bad(api_srs_create, "POST", NULL, body, 400, "name");
    snprintf(body, sizeof(body),
             "{\"name\":\"a\",\"type\":\"nfs\",\"path\":\"%s\"}", path);
    bad(api_srs_create, "POST", NULL, body, 400, "type");
    bad(api_srs_create, "POST", NULL,
        "{\"name\":\"a\",\"type\":\"file\",\"path\":\"rel/dir\"}", 400, "path");
    bad(api_srs_create, "POST", NULL,
        "{\"name\":\"a\",\"type\":\"file\",\"path\":\"/etc\"}", 400, "path");
    bad(api_srs_create, "POST", NULL,
        "{\"name\":\"a\",\"type\":\"file\",\"path\":\"/\"}", 400, "path");
    snprintf(body, sizeof(body),
             "{\"name\":\"a\",\"type\":\"file\",\"path\":\"%s/../x\"}", path);
    bad(api_srs_create, "POST", NULL, body, 400, "path");
    snprintf(body, sizeof(body), "{\"name\":\"a\",\"path\":\"%s\"}", path);
    bad(api_srs_create, "POST", NULL, body, 400, "type");
    /* Nothing was created. */
    assert_int_equal(count_srs(), 0);
    assert_int_equal(stat(path, &st), -1);

    ev = num_events;
    snprintf(body, sizeof(body),
             "{\"name\":\"local\",\"type\":\"file\",\"path\":\"%s//\"}", path);
    call(&c, api_srs_create, "POST", NULL, NULL, body);
    expect(&c, 201, NULL);
    assert_true(uuid_valid(str(c.json, "id")));
    xstrlcpy(id, str(c.json, "id"), sizeof(id));
    assert_string_equal(str(c.json, "name"), "local");
    assert_string_equal(str(c.json, "path"), path); /* cleaned */
    assert_true(json_integer_value(json_object_get(c.json, "size_bytes")) > 0);
    assert_true(json_is_integer(json_object_get(c.json, "free_bytes")));
    assert_int_equal(json_integer_value(json_object_get(c.json, "used_bytes")),
                     0);
    assert_true(json_is_boolean(json_object_get(c.json, "reflink")));
    assert_int_equal(json_integer_value(json_object_get(c.json, "disks")), 0);
    call_done(&c);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* sr created + pool updated (the first SR became the default). */
    assert_int_equal(num_events, ev + 2);
    assert_int_equal(db_pool_get(app.db, &pool), 0);
    assert_string_equal(pool.default_sr, id);

    /* Taken name, taken path: 409 naming the field. */
    snprintf(body, sizeof(body),
             "{\"name\":\"local\",\"type\":\"file\",\"path\":\"%s/o\"}",
             tmpdir);
    bad(api_srs_create, "POST", NULL, body, 409, "name");
    snprintf(body, sizeof(body),
             "{\"name\":\"other\",\"type\":\"file\",\"path\":\"%s/\"}", path);
    bad(api_srs_create, "POST", NULL, body, 409, "path");
    snprintf(path, sizeof(path), "%s/o", tmpdir);
    assert_int_equal(stat(path, &st), -1);

    /* A second SR does not take the default. */
    make_sr("second", "sr2", id2);
    assert_int_equal(db_pool_get(app.db, &pool), 0);
    assert_string_equal(pool.default_sr, id);

    call(&c, api_srs_list, "GET", NULL, NULL, NULL);
    expect(&c, 200, NULL);
    assert_int_equal(json_array_size(c.json), 2);
    call_done(&c);
    call(&c, api_sr_get, "GET", id2, NULL, NULL);
    expect(&c, 200, NULL);
    assert_string_equal(str(c.json, "name"), "second");
    call_done(&c);
    bad(api_sr_get, "GET", "not-a-uuid", NULL, 400, "id");
    bad(api_sr_get, "GET", "00000000-0000-4000-8000-000000000000", NULL, 404,
        NULL);

    /* Forget the second: 204, the directory stays. */
    ev = num_events;
    call(&c, api_sr_delete, "DELETE", id2, NULL, NULL);
    expect(&c, 204, NULL);
    call_done(&c);
    assert_int_equal(num_events, ev + 1);
    snprintf(path, sizeof(path), "%s/sr2", tmpdir);
    assert_int_equal(stat(path, &st), 0);
    bad(api_sr_delete, "DELETE", id2, NULL, 404, NULL);
}

static void sr_id_of(const char *name, char *id_out)
{
    struct db_sr *list = NULL;
    size_t i, num = 0;

    assert_int_equal(db_sr_list(app.db, &list, &num), 0);
    for (i = 0; i < num; i++)
        if (!strcmp(list[i].name, name))
            xstrlcpy(id_out, list[i].id, UUID_STRLEN);
    free(list);
}

static void test_disks(void **state)
{
    char sr[UUID_STRLEN], id[UUID_STRLEN], body[512], dir[300];
    char img[400], q[80];
    struct call c;
    struct stat st;
    int ev;

    (void)state;
    make_sr("disks", "srd", sr);
    snprintf(dir, sizeof(dir), "%s/srd", tmpdir);

    snprintf(body, sizeof(body),
             "{\"name\":\"d\",\"sr\":\"%s\",\"size_bytes\":1000}", sr);
    bad(api_disks_create, "POST", NULL, body, 400, "size_bytes");
    snprintf(body, sizeof(body),
             "{\"name\":\"d\",\"sr\":\"%s\",\"size_bytes\":1048577}", sr);
    bad(api_disks_create, "POST", NULL, body, 400, "size_bytes");
    snprintf(body, sizeof(body),
             "{\"name\":\"d\",\"sr\":\"%s\",\"size_bytes\":\"1\"}", sr);
    bad(api_disks_create, "POST", NULL, body, 400, "size_bytes");
    snprintf(body, sizeof(body),
             "{\"name\":\"d\",\"sr\":\"%s\",\"size_bytes\":70368744177664000}",
             sr);
    bad(api_disks_create, "POST", NULL, body, 400, "size_bytes");
    bad(api_disks_create, "POST", NULL,
        "{\"name\":\"d\",\"sr\":\"00000000-0000-4000-8000-000000000000\","
        "\"size_bytes\":1048576}",
        400, "sr");
    bad(api_disks_create, "POST", NULL,
        "{\"name\":\"d\",\"sr\":\"nope\",\"size_bytes\":1048576}", 400, "sr");
    snprintf(body, sizeof(body), "{\"sr\":\"%s\",\"size_bytes\":1048576}", sr);
    bad(api_disks_create, "POST", NULL, body, 400, "name");
    assert_int_equal(count_files(dir), 0);

    /* A failed row insert leaves no image behind. */
    db_inject_failure(app.db, "INSERT INTO disks", 1);
    snprintf(body, sizeof(body),
             "{\"name\":\"d\",\"sr\":\"%s\",\"size_bytes\":8388608}", sr);
    bad(api_disks_create, "POST", NULL, body, 500, NULL);
    assert_int_equal(count_files(dir), 0);

    ev = num_events;
    call(&c, api_disks_create, "POST", NULL, NULL, body);
    expect(&c, 201, NULL);
    xstrlcpy(id, str(c.json, "id"), sizeof(id));
    assert_true(uuid_valid(id));
    assert_string_equal(str(c.json, "sr"), sr);
    assert_string_equal(str(c.json, "format"), "raw");
    assert_int_equal(json_integer_value(json_object_get(c.json, "size_bytes")),
                     8 * MIB);
    assert_true(json_is_integer(json_object_get(c.json, "used_bytes")));
    assert_true(json_is_null(json_object_get(c.json, "attached")));
    assert_true(json_is_null(json_object_get(c.json, "snapshot_of")));
    call_done(&c);
    assert_int_equal(num_events, ev + 1);
    snprintf(img, sizeof(img), "%s/%s.raw", dir, id);
    assert_int_equal(stat(img, &st), 0);
    assert_int_equal(st.st_size, 8 * MIB);

    /* List, filtered. */
    snprintf(q, sizeof(q), "sr=%s", sr);
    call(&c, api_disks_list, "GET", NULL, q, NULL);
    expect(&c, 200, NULL);
    assert_int_equal(json_array_size(c.json), 1);
    call_done(&c);
    call(&c, api_disks_list, "GET", NULL,
         "sr=00000000-0000-4000-8000-000000000000", NULL);
    expect(&c, 200, NULL);
    assert_int_equal(json_array_size(c.json), 0);
    call_done(&c);
    call(&c, api_disks_list, "GET", NULL, "sr=junk", NULL);
    expect(&c, 400, "sr");
    call_done(&c);

    /* PATCH: shrink refused, grow and rename work. */
    bad(api_disk_patch, "PATCH", id, "{\"size_bytes\":1048576}", 400,
        "size_bytes");
    bad(api_disk_patch, "PATCH", id, "{\"size\":1}", 400, "size");
    bad(api_disk_patch, "PATCH", id, "{\"name\":\"\"}", 400, "name");
    call(&c, api_disk_patch, "PATCH", id, NULL,
         "{\"name\":\"bigger\",\"size_bytes\":16777216}");
    expect(&c, 200, NULL);
    assert_string_equal(str(c.json, "name"), "bigger");
    call_done(&c);
    assert_int_equal(stat(img, &st), 0);
    assert_int_equal(st.st_size, 16 * MIB);
    call(&c, api_disk_get, "GET", id, NULL, NULL);
    expect(&c, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(c.json, "size_bytes")),
                     16 * MIB);
    call_done(&c);

    /* The SR cannot go while it holds the disk. */
    bad(api_sr_delete, "DELETE", sr, NULL, 409, NULL);

    /* Export: the open image, its size, a file name. */
    call(&c, api_disk_export, "GET", id, NULL, NULL);
    expect(&c, 200, NULL);
    assert_true(c.r.body_fd >= 0);
    assert_int_equal(c.r.body_fd_len, 16 * MIB);
    assert_string_equal(c.r.content_type, "application/octet-stream");
    assert_string_equal(c.r.extra[c.r.num_extra - 1].value,
                        "attachment; filename=\"bigger.raw\"");
    call_done(&c);

    ev = num_events;
    call(&c, api_disk_delete, "DELETE", id, NULL, NULL);
    expect(&c, 204, NULL);
    call_done(&c);
    assert_int_equal(num_events, ev + 1);
    assert_int_equal(stat(img, &st), -1);
    bad(api_disk_get, "GET", id, NULL, 404, NULL);
    bad(api_disk_delete, "DELETE", id, NULL, 404, NULL);
    call(&c, api_sr_delete, "DELETE", sr, NULL, NULL);
    expect(&c, 204, NULL);
    call_done(&c);
}

static void test_disk_import(void **state)
{
    char sr[UUID_STRLEN], id[UUID_STRLEN], body[512], img[400];
    unsigned char *data, *back;
    struct call c;
    char err[512];
    struct stat st;
    int fd, i;

    (void)state;
    make_sr("imports", "sri", sr);
    snprintf(body, sizeof(body),
             "{\"name\":\"img\",\"sr\":\"%s\",\"size_bytes\":4194304}", sr);
    call(&c, api_disks_create, "POST", NULL, NULL, body);
    expect(&c, 201, NULL);
    xstrlcpy(id, str(c.json, "id"), sizeof(id));
    call_done(&c);
    snprintf(img, sizeof(img), "%s/sri/%s.raw", tmpdir, id);

    /* 3 MiB with a hole in the middle, spooled in a file. */
    data = calloc(1, 3 * MIB);
    for (i = 0; i < 256 * 1024; i++)
        data[i] = (unsigned char)(i * 13 + 5);
    memset(data + 2 * MIB, 0xee, MIB);
    fd = memfd_create("up", 0);
    assert_int_equal(write(fd, data, 3 * MIB), 3 * MIB);

    assert_int_equal(import_call(id, fd, NULL, 0), 200);

    assert_int_equal(stat(img, &st), 0);
    assert_int_equal(st.st_size, 4 * MIB); /* the disk's size is kept */
    /* The hole stayed a hole: about 256 KiB + 1 MiB allocated. */
    assert_true((uint64_t)st.st_blocks * 512 < 2 * MIB);
    back = malloc(4 * MIB);
    i = open(img, O_RDONLY);
    assert_int_equal(read(i, back, 4 * MIB), 4 * MIB);
    close(i);
    assert_memory_equal(back, data, 3 * MIB);
    for (i = 3 * MIB; i < 4 * MIB; i++)
        assert_int_equal(back[i], 0);

    /* Over size_bytes: 413 naming size_bytes, image unchanged. */
    data = realloc(data, 5 * MIB);
    memset(data, 0x99, 5 * MIB);
    close(fd);
    fd = memfd_create("up2", 0);
    assert_int_equal(write(fd, data, 5 * MIB), 5 * MIB);
    assert_int_equal(import_call(id, fd, err, sizeof(err)), 413);
    assert_non_null(strstr(err, "size_bytes"));
    i = open(img, O_RDONLY);
    assert_int_equal(read(i, data, 4 * MIB), 4 * MIB);
    close(i);
    assert_memory_equal(back, data, 4 * MIB);
    close(fd);
    free(data);
    free(back);
}

static void test_networks(void **state)
{
    char id[UUID_STRLEN];
    struct call c;
    int ev;

    (void)state;
    bad(api_networks_create, "POST", NULL, "{\"name\":\"lan\"}", 400, "bridge");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\".\"}", 400, "bridge");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\"..\"}", 400, "bridge");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\"abcdefghijklmnop\"}", 400, "bridge");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\"br 0\"}", 400, "bridge");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\"br/0\"}", 400, "bridge");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\"xenbr0\",\"mtu\":67}", 400, "mtu");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\"xenbr0\",\"mtu\":65536}", 400, "mtu");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\"xenbr0\",\"mtu\":\"9000\"}", 400,
        "mtu");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\"xenbr0\",\"vlan\":1}", 400, "vlan");

    ev = num_events;
    call(&c, api_networks_create, "POST", NULL, NULL,
         "{\"name\":\"lan\",\"bridge\":\"xen-br_0.1\"}");
    expect(&c, 201, NULL);
    xstrlcpy(id, str(c.json, "id"), sizeof(id));
    assert_int_equal(json_integer_value(json_object_get(c.json, "mtu")), 1500);
    /* made through the (test) driver, so xenith owns it */
    assert_true(json_is_true(json_object_get(c.json, "bridge_exists")));
    assert_true(json_is_true(json_object_get(c.json, "bridge_owned")));
    call_done(&c);
    assert_int_equal(num_events, ev + 1);
    assert_non_null(strstr(last_event, "\"network\""));

    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan\",\"bridge\":\"xenbr9\"}", 409, "name");
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"lan2\",\"bridge\":\"xen-br_0.1\"}", 409, "bridge");

    /* "lo" exists (on the test driver's pretend host too): no bridge */
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"loop\",\"bridge\":\"lo\"}", 409, "bridge");
    /* a driver that cannot make the bridge: its error, nothing recorded */
    assert_int_equal(hv_inject_failure(app.hv, "net_create", ERR_IO), 0);
    bad(api_networks_create, "POST", NULL,
        "{\"name\":\"io\",\"bridge\":\"xenbr5\"}", 500, "bridge");
    assert_int_equal(hv_inject_failure(app.hv, "net_create", 0), 0);
    call(&c, api_networks_create, "POST", NULL, NULL,
         "{\"name\":\"loop\",\"bridge\":\"xenbr6\",\"mtu\":65535}");
    expect(&c, 201, NULL);
    assert_true(json_is_true(json_object_get(c.json, "bridge_exists")));
    call_done(&c);

    call(&c, api_networks_list, "GET", NULL, NULL, NULL);
    expect(&c, 200, NULL);
    assert_int_equal(json_array_size(c.json), 2);
    call_done(&c);
    call(&c, api_network_get, "GET", id, NULL, NULL);
    expect(&c, 200, NULL);
    assert_string_equal(str(c.json, "bridge"), "xen-br_0.1");
    call_done(&c);
    /* the bridge will not go: the record stays too */
    assert_int_equal(hv_inject_failure(app.hv, "net_delete", ERR_IO), 0);
    bad(api_network_delete, "DELETE", id, NULL, 500, NULL);
    assert_int_equal(hv_inject_failure(app.hv, "net_delete", 0), 0);
    call(&c, api_network_get, "GET", id, NULL, NULL);
    expect(&c, 200, NULL);
    assert_true(json_is_true(json_object_get(c.json, "bridge_exists")));
    call_done(&c);
    call(&c, api_network_delete, "DELETE", id, NULL, NULL);
    expect(&c, 204, NULL);
    call_done(&c);
    bad(api_network_get, "GET", id, NULL, 404, NULL);
    bad(api_network_delete, "DELETE", "zz", NULL, 400, "id");
}

static void test_host_and_pool(void **state)
{
    struct hv_host_info h;
    char sr[UUID_STRLEN] = "", body[200];
    struct call c;
    int rc;

    (void)state;
    rc = hv_host_info(app.hv, &h);
    call(&c, api_host_get, "GET", NULL, NULL, NULL);
    if (rc == 0) {
        expect(&c, 200, NULL);
        assert_string_equal(str(c.json, "driver"), "test");
        assert_string_equal(str(c.json, "version"), XENITH_VERSION);
        assert_true(json_is_integer(json_object_get(c.json, "cpus")));
        assert_true(json_is_integer(json_object_get(c.json, "uptime_s")));
    } else {
        /* The driver cannot say yet: its error, e.g. 501. */
        expect(&c, err_http_status(rc), NULL);
    }
    call_done(&c);

    call(&c, api_pool_get, "GET", NULL, NULL, NULL);
    expect(&c, 200, NULL);
    assert_true(uuid_valid(str(c.json, "id")));
    assert_int_equal(json_array_size(json_object_get(c.json, "hosts")), 1);
    assert_string_equal(
        str(json_array_get(json_object_get(c.json, "hosts"), 0), "driver"),
        "test");
    call_done(&c);

    bad(api_pool_patch, "PATCH", NULL, "{\"default_sr\":\"x\"}", 400,
        "default_sr");
    bad(api_pool_patch, "PATCH", NULL,
        "{\"default_sr\":\"00000000-0000-4000-8000-000000000000\"}", 400,
        "default_sr");
    bad(api_pool_patch, "PATCH", NULL, "{\"default_sr\":1}", 400, "default_sr");
    bad(api_pool_patch, "PATCH", NULL, "{\"name\":\"\"}", 400, "name");
    bad(api_pool_patch, "PATCH", NULL, "{\"hosts\":[]}", 400, "hosts");
    bad(api_pool_patch, "PATCH", NULL, "{\"name\":\"ok\",\"x\":1}", 400, "x");

    call(&c, api_pool_patch, "PATCH", NULL, NULL,
         "{\"name\":\"lab\",\"description\":\"the lab\",\"default_sr\":null}");
    expect(&c, 200, NULL);
    assert_string_equal(str(c.json, "name"), "lab");
    assert_string_equal(str(c.json, "description"), "the lab");
    assert_true(json_is_null(json_object_get(c.json, "default_sr")));
    call_done(&c);

    sr_id_of("local", sr);
    assert_true(uuid_valid(sr));
    snprintf(body, sizeof(body), "{\"default_sr\":\"%s\"}", sr);
    call(&c, api_pool_patch, "PATCH", NULL, NULL, body);
    expect(&c, 200, NULL);
    assert_string_equal(str(c.json, "default_sr"), sr);
    assert_string_equal(str(c.json, "name"), "lab");
    call_done(&c);
}

/* Raw SQL through the sqlite3 shell: VM rows without db_vms.c. */
static void shell_sql(const char *fmt, ...)
{
    char q[1024], cmd[1500];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd),
             "sqlite3 -bail '%s' \".timeout 5000\" "
             "\"PRAGMA foreign_keys = ON\" \"%s\"",
             dbpath, q);
    if (system(cmd) != 0)
        fail_msg("sqlite3 failed: %s", q);
}

/* A disk attached to a VM, a network with its NIC: 409s, and no import
 * while the VM runs. */
static void test_attached(void **state)
{
    char sr[UUID_STRLEN], disk[UUID_STRLEN], net[UUID_STRLEN];
    char vm[UUID_STRLEN], body[512], img[400];
    struct call c;
    int fd;

    (void)state;
    make_sr("attach", "sra", sr);
    snprintf(body, sizeof(body),
             "{\"name\":\"vmdisk\",\"sr\":\"%s\",\"size_bytes\":1048576}", sr);
    call(&c, api_disks_create, "POST", NULL, NULL, body);
    expect(&c, 201, NULL);
    xstrlcpy(disk, str(c.json, "id"), sizeof(disk));
    call_done(&c);
    call(&c, api_networks_create, "POST", NULL, NULL,
         "{\"name\":\"vmnet\",\"bridge\":\"xenbr5\"}");
    expect(&c, 201, NULL);
    xstrlcpy(net, str(c.json, "id"), sizeof(net));
    call_done(&c);

    uuid_generate(vm);
    shell_sql("INSERT INTO vms (id, name, state, vcpus, memory_mib, boot, "
              "created_at, updated_at) VALUES ('%s', 'vm', 'running', 1, "
              "128, '{}', 1, 1); INSERT INTO vm_disks (vm_id, device, "
              "disk_id) VALUES ('%s', 'xvdb', '%s'); INSERT INTO vm_nics "
              "(vm_id, idx, network_id, mac) VALUES ('%s', 0, '%s', "
              "'00:16:3e:00:00:09');",
              vm, vm, disk, vm, net);

    call(&c, api_disk_get, "GET", disk, NULL, NULL);
    expect(&c, 200, NULL);
    assert_string_equal(str(json_object_get(c.json, "attached"), "vm"), vm);
    assert_string_equal(str(json_object_get(c.json, "attached"), "device"),
                        "xvdb");
    call_done(&c);
    bad(api_disk_delete, "DELETE", disk, NULL, 409, NULL);
    bad(api_network_delete, "DELETE", net, NULL, 409, NULL);
    snprintf(img, sizeof(img), "%s/sra/%s.raw", tmpdir, disk);
    assert_int_equal(access(img, F_OK), 0);

    /* Growing is allowed; the guest sees it after a reboot. */
    call(&c, api_disk_patch, "PATCH", disk, NULL, "{\"size_bytes\":2097152}");
    expect(&c, 200, NULL);
    assert_non_null(str(c.json, "note"));
    call_done(&c);

    /* No import into the disk of a running VM. */
    fd = memfd_create("up", 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    assert_int_equal(import_call(disk, fd, NULL, 0), 409);
    /* Halted: allowed. */
    shell_sql("UPDATE vms SET state = 'halted' WHERE id = '%s'", vm);
    assert_int_equal(import_call(disk, fd, NULL, 0), 200);
    close(fd);

    /* VM gone: both can go. */
    shell_sql("DELETE FROM vms WHERE id = '%s'", vm);
    call(&c, api_disk_delete, "DELETE", disk, NULL, NULL);
    expect(&c, 204, NULL);
    call_done(&c);
    assert_int_equal(access(img, F_OK), -1);
    call(&c, api_network_delete, "DELETE", net, NULL, NULL);
    expect(&c, 204, NULL);
    call_done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srs),           cmocka_unit_test(test_disks),
        cmocka_unit_test(test_disk_import),   cmocka_unit_test(test_networks),
        cmocka_unit_test(test_host_and_pool), cmocka_unit_test(test_attached),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
