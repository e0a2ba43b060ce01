/* The test:///default driver: its state machine, timing, suspend files,
 * consoles, stats, failure injection, events and thread safety, through
 * the public hv.h interface only. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "xen/hv.h"

#define MAX_EVENTS 1024

/* Events as the subscriber saw them. */
struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct hv_event ev[MAX_EVENTS];
    size_t num;
};

struct fixture {
    char dir[64];
    char disk[128]; /* an image with a marker */
    struct hv *hv;
    struct recorder rec;
};

static void on_event(void *opaque, const struct hv_event *ev)
{
    struct recorder *r = opaque;

    pthread_mutex_lock(&r->lock);
    if (r->num < MAX_EVENTS)
        r->ev[r->num++] = *ev;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* Wait up to ms for an event (uuid, state, reason); reason NULL = any.
 * Returns its index or -1. */
static int wait_event(struct recorder *r, const char *uuid, enum hv_state s,
                      const char *reason, int ms)
{
    int64_t deadline = time_mono_ms() + ms;
    size_t i;
    int found = -1;

    pthread_mutex_lock(&r->lock);
    while (found < 0) {
        for (i = 0; i < r->num && found < 0; i++)
            if (!strcmp(r->ev[i].uuid, uuid) && r->ev[i].state == s &&
                (!reason || !strcmp(r->ev[i].reason, reason)))
                found = (int)i;
        if (found >= 0 || time_mono_ms() >= deadline)
            break;
        pthread_mutex_unlock(&r->lock);
        time_sleep_ms(5);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return found;
}

static void write_file(const char *path, const char *text, off_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
}

static int setup_uri(void **state, const char *uri)
{
    struct fixture *f = xcalloc(1, sizeof(*f));

    xstrlcpy(f->dir, "/tmp/xenith-hvtest-XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->disk, sizeof(f->disk), "%s/a.img", f->dir);
    write_file(f->disk, "XENITH-MARKER-42\n", 1 << 20);
    pthread_mutex_init(&f->rec.lock, NULL);
    pthread_cond_init(&f->rec.cond, NULL);
    assert_int_equal(hv_open(uri, &f->hv), 0);
    assert_int_equal(hv_subscribe(f->hv, on_event, &f->rec), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_uri(state, "test:///default?shutdown_ms=200");
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    hv_close(f->hv);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&f->rec.lock);
    pthread_cond_destroy(&f->rec.cond);
    free(f);
    return 0;
}

static void cfg_init(struct hv_vm_config *c, const struct fixture *f)
{
    memset(c, 0, sizeof(*c));
    uuid_generate(c->uuid);
    xstrlcpy(c->name, "vm1", sizeof(c->name));
    c->vcpus = 2;
    c->memory_mib = 256;
    c->boot = HV_BOOT_PV;
    xstrlcpy(c->kernel, "/boot/vmlinuz", sizeof(c->kernel));
    xstrlcpy(c->cmdline, "root=/dev/xvda1 console=hvc0", sizeof(c->cmdline));
    xstrlcpy(c->disks[0].path, f->disk, sizeof(c->disks[0].path));
    xstrlcpy(c->disks[0].vdev, "xvda", sizeof(c->disks[0].vdev));
    c->num_disks = 1;
    xstrlcpy(c->nics[0].bridge, "xenbr0", sizeof(c->nics[0].bridge));
    xstrlcpy(c->nics[0].mac, "00:16:3e:00:00:01", sizeof(c->nics[0].mac));
    c->num_nics = 1;
}

static enum hv_state state_of(struct hv *hv, const char *uuid)
{
    struct hv_domain d;
    int rc = hv_lookup(hv, uuid, &d);

    return rc ? HV_HALTED : d.state;
}

static void test_default_uri(void **state)
{
    (void)state;
    /* This machine has no Xen. */
    assert_string_equal(hv_default_uri(), "test:///default");
}

static void test_open_uris(void **state)
{
    struct hv *hv = NULL;

    (void)state;
    assert_int_equal(hv_open("test:///other", &hv), ERR_INVALID);
    assert_int_equal(hv_open("test:///default?shutdown_ms=x", &hv),
                     ERR_INVALID);
    assert_int_equal(hv_open("test:///default?bogus=1", &hv), ERR_INVALID);
    assert_int_equal(hv_open("nope:///x", &hv), ERR_INVALID);
    assert_int_equal(hv_open("test:///default?shutdown_ms=0&state=/tmp", &hv),
                     0);
    assert_string_equal(hv_driver_name(hv), "test");
    hv_close(hv);
}

static void test_host_info(void **state)
{
    struct fixture *f = *state;
    struct hv_host_info hi;
    char host[256] = "";

    assert_int_equal(hv_host_info(f->hv, &hi), 0);
    gethostname(host, sizeof(host) - 1);
    assert_string_equal(hi.hostname, host);
    assert_string_equal(hi.driver, "test");
    assert_string_equal(hi.hv_version, "test-1.0");
    assert_int_equal(hi.cpus, (int)sysconf(_SC_NPROCESSORS_ONLN));
    assert_true(hi.mem_total_bytes > 0);
    assert_true(hi.mem_free_bytes <= hi.mem_total_bytes);
    assert_true(hi.uptime_s >= 0 && hi.uptime_s < 5);
}

static void test_lifecycle(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    struct hv_domain d, *list;
    size_t n;

    cfg_init(&c, f);
    assert_int_equal(hv_lookup(f->hv, c.uuid, &d), ERR_NOTFOUND);
    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(hv_lookup(f->hv, c.uuid, &d), 0);
    assert_int_equal(d.state, HV_RUNNING);
    assert_int_equal(d.domid, 1);
    assert_int_equal(d.vcpus, 2);
    assert_int_equal(d.memory_mib, 256);
    assert_string_equal(d.name, "vm1");
    assert_int_equal(hv_start(f->hv, &c), ERR_CONFLICT);
    assert_non_null(strstr(hv_last_error(), "running"));

    assert_int_equal(hv_pause(f->hv, c.uuid), 0);
    assert_int_equal(state_of(f->hv, c.uuid), HV_PAUSED);
    assert_int_equal(hv_pause(f->hv, c.uuid), ERR_CONFLICT);
    assert_non_null(strstr(hv_last_error(), "is paused"));
    assert_int_equal(hv_shutdown(f->hv, c.uuid, 1), ERR_CONFLICT);
    assert_non_null(strstr(hv_last_error(), "is paused"));
    assert_int_equal(hv_reboot(f->hv, c.uuid, 1), ERR_CONFLICT);
    assert_int_equal(hv_resume(f->hv, c.uuid), 0);
    assert_int_equal(hv_resume(f->hv, c.uuid), ERR_CONFLICT);
    assert_non_null(strstr(hv_last_error(), "is running"));

    assert_int_equal(hv_list(f->hv, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].uuid, c.uuid);
    free(list);

    /* destroy works from paused too */
    assert_int_equal(hv_pause(f->hv, c.uuid), 0);
    assert_int_equal(hv_destroy(f->hv, c.uuid), 0);
    assert_int_equal(hv_lookup(f->hv, c.uuid, &d), ERR_NOTFOUND);
    assert_int_equal(hv_destroy(f->hv, c.uuid), ERR_NOTFOUND);
    assert_int_equal(hv_pause(f->hv, c.uuid), ERR_NOTFOUND);
    assert_int_equal(hv_list(f->hv, &list, &n), 0);
    assert_int_equal(n, 0);
    free(list);

    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(hv_lookup(f->hv, c.uuid, &d), 0);
    assert_int_equal(d.domid, 2);

    /* Every change was an event, in order. */
    assert_true(wait_event(&f->rec, c.uuid, HV_HALTED, "destroy", 2000) >= 0);
    assert_true(wait_event(&f->rec, c.uuid, HV_RUNNING, "start", 2000) >= 0);
    assert_true(wait_event(&f->rec, c.uuid, HV_PAUSED, "pause", 2000) >= 0);
    assert_true(wait_event(&f->rec, c.uuid, HV_RUNNING, "resume", 2000) >= 0);
    assert_true(wait_event(&f->rec, c.uuid, HV_RUNNING, "start", 2000) <
                wait_event(&f->rec, c.uuid, HV_PAUSED, "pause", 2000));
    pthread_mutex_lock(&f->rec.lock);
    assert_int_equal(f->rec.num, 6);
    assert_int_equal(f->rec.ev[5].state, HV_RUNNING);
    pthread_mutex_unlock(&f->rec.lock);
}

static void test_start_checks(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;

    cfg_init(&c, f);
    snprintf(c.disks[0].path, sizeof(c.disks[0].path), "%s/missing.img",
             f->dir);
    assert_int_equal(hv_start(f->hv, &c), ERR_NOTFOUND);
    assert_non_null(strstr(hv_last_error(), c.disks[0].path));

    xstrlcpy(c.disks[0].path, f->dir, sizeof(c.disks[0].path));
    assert_int_equal(hv_start(f->hv, &c), ERR_NOTFOUND);
    assert_non_null(strstr(hv_last_error(), f->dir));

    cfg_init(&c, f);
    c.vcpus = 0;
    assert_int_equal(hv_start(f->hv, &c), ERR_INVALID);
    cfg_init(&c, f);
    c.memory_mib = 15;
    assert_int_equal(hv_start(f->hv, &c), ERR_INVALID);
    cfg_init(&c, f);
    c.memory_mib = 16;
    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(state_of(f->hv, c.uuid), HV_RUNNING);
}

struct shutdown_arg {
    struct hv *hv;
    const char *uuid;
    int timeout_s;
    int rc;
    int64_t took_ms;
};

static void *shutdown_thread(void *p)
{
    struct shutdown_arg *a = p;
    int64_t t0 = time_mono_ms();

    a->rc = hv_shutdown(a->hv, a->uuid, a->timeout_s);
    a->took_ms = time_mono_ms() - t0;
    return NULL;
}

static void test_shutdown_takes_a_moment(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    struct shutdown_arg a;
    pthread_t t;
    int seen = 0, down, gone;

    cfg_init(&c, f);
    assert_int_equal(hv_start(f->hv, &c), 0);
    a = (struct shutdown_arg){ f->hv, c.uuid, 5, 1, 0 };
    assert_int_equal(pthread_create(&t, NULL, shutdown_thread, &a), 0);
    while (!seen && state_of(f->hv, c.uuid) != HV_HALTED)
        seen = state_of(f->hv, c.uuid) == HV_SHUTTING_DOWN;
    /* While it shuts down, other transitions are refused. */
    if (seen)
        assert_int_equal(hv_pause(f->hv, c.uuid), ERR_CONFLICT);
    pthread_join(t, NULL);
    assert_true(seen);
    assert_int_equal(a.rc, 0);
    assert_true(a.took_ms >= 180);
    assert_true(a.took_ms < 2000);
    assert_int_equal(state_of(f->hv, c.uuid), HV_HALTED);
    down = wait_event(&f->rec, c.uuid, HV_SHUTTING_DOWN, "shutdown", 2000);
    gone = wait_event(&f->rec, c.uuid, HV_HALTED, "shutdown", 2000);
    assert_true(down >= 0);
    assert_true(gone > down);
}

static void test_shutdown_ignored_times_out(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    int64_t t0;

    cfg_init(&c, f);
    xstrlcpy(c.cmdline, "console=hvc0 xenith.ignore_shutdown",
             sizeof(c.cmdline));
    assert_int_equal(hv_start(f->hv, &c), 0);
    t0 = time_mono_ms();
    assert_int_equal(hv_shutdown(f->hv, c.uuid, 1), ERR_TIMEOUT);
    assert_true(time_mono_ms() - t0 >= 990);
    assert_non_null(strstr(hv_last_error(), c.uuid));
    assert_int_equal(state_of(f->hv, c.uuid), HV_RUNNING);
    assert_int_equal(hv_reboot(f->hv, c.uuid, 0), ERR_TIMEOUT);
    assert_int_equal(state_of(f->hv, c.uuid), HV_RUNNING);
    assert_int_equal(hv_shutdown(f->hv, c.uuid, -1), ERR_INVALID);
    assert_int_equal(hv_destroy(f->hv, c.uuid), 0);
}

static void test_reboot(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    struct hv_domain d;
    int down, up;

    cfg_init(&c, f);
    c.vcpus = 3;
    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(hv_reboot(f->hv, c.uuid, 5), 0);
    assert_int_equal(hv_lookup(f->hv, c.uuid, &d), 0);
    assert_int_equal(d.state, HV_RUNNING);
    assert_int_equal(d.domid, 2);
    assert_int_equal(d.vcpus, 3);
    down = wait_event(&f->rec, c.uuid, HV_SHUTTING_DOWN, "reboot", 2000);
    up = wait_event(&f->rec, c.uuid, HV_RUNNING, "reboot", 2000);
    assert_true(down >= 0);
    assert_true(up > down);
    assert_true(wait_event(&f->rec, c.uuid, HV_HALTED, NULL, 0) < 0);
}

static char *slurp(const char *path)
{
    struct buf b = BUF_INIT;
    char tmp[4096];
    size_t n;
    FILE *fp = fopen(path, "r");

    assert_non_null(fp);
    while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
        buf_append(&b, tmp, n);
    fclose(fp);
    return buf_detach(&b, NULL);
}

static void test_suspend_restore(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    struct hv_disk extra;
    struct hv_domain d;
    char path[256], bad[256], other[256], *text;
    struct stat st;

    cfg_init(&c, f);
    assert_int_equal(hv_start(f->hv, &c), 0);
    memset(&extra, 0, sizeof(extra));
    snprintf(extra.path, sizeof(extra.path), "%s/b.img", f->dir);
    write_file(extra.path, "", 4096);
    xstrlcpy(extra.vdev, "xvdb", sizeof(extra.vdev));
    assert_int_equal(hv_disk_attach(f->hv, c.uuid, &extra), 0);
    assert_int_equal(hv_set_memory(f->hv, c.uuid, 512), 0);

    snprintf(path, sizeof(path), "%s/vm1.state", f->dir);
    assert_int_equal(hv_suspend(f->hv, c.uuid, path), 0);
    assert_int_equal(hv_lookup(f->hv, c.uuid, &d), ERR_NOTFOUND);
    assert_true(wait_event(&f->rec, c.uuid, HV_SUSPENDED, "suspend", 2000) >=
                0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    text = slurp(path);
    assert_non_null(strstr(text, "xenith-test-state"));
    assert_non_null(strstr(text, c.uuid));
    assert_non_null(strstr(text, "xvdb"));
    free(text);
    /* Suspending what is not a domain is an error. */
    assert_int_equal(hv_suspend(f->hv, c.uuid, path), ERR_NOTFOUND);

    /* Bad state files. */
    snprintf(bad, sizeof(bad), "%s/bad.state", f->dir);
    write_file(bad, "{\"magic\":\"xenith-test-state\",\"version\":1,", 40);
    assert_int_equal(hv_restore(f->hv, &c, bad), ERR_INVALID);
    write_file(bad, "{\"magic\":\"something-else\",\"version\":1}", 38);
    assert_int_equal(hv_restore(f->hv, &c, bad), ERR_INVALID);
    snprintf(other, sizeof(other), "%s/none.state", f->dir);
    assert_int_equal(hv_restore(f->hv, &c, other), ERR_NOTFOUND);
    {
        struct hv_vm_config c2 = c;

        uuid_generate(c2.uuid);
        assert_int_equal(hv_restore(f->hv, &c2, path), ERR_INVALID);
        assert_non_null(strstr(hv_last_error(), "not for vm"));
    }
    /* A corrupted copy of the real file. */
    text = slurp(path);
    text[strlen(text) / 2] = '\0';
    write_file(bad, text, (off_t)strlen(text));
    free(text);
    assert_int_equal(hv_restore(f->hv, &c, bad), ERR_INVALID);
    assert_int_equal(hv_lookup(f->hv, c.uuid, &d), ERR_NOTFOUND);

    assert_int_equal(hv_restore(f->hv, &c, path), 0);
    assert_int_equal(hv_lookup(f->hv, c.uuid, &d), 0);
    assert_int_equal(d.state, HV_RUNNING);
    assert_int_equal(d.memory_mib, 512);
    assert_true(wait_event(&f->rec, c.uuid, HV_RUNNING, "restore", 2000) >= 0);
    assert_int_equal(hv_restore(f->hv, &c, path), ERR_CONFLICT);
    /* The restored domain still has the hot-plugged disk. */
    assert_int_equal(hv_disk_attach(f->hv, c.uuid, &extra), ERR_CONFLICT);
    /* No temporary file left behind. */
    text = xasprintf("ls %s | grep -c tmp >/dev/null", f->dir);
    assert_int_not_equal(system(text), 0);
    free(text);
}

/* Read from fd until the output contains needle or ms pass; returns 1 if
 * found. Appends what was read to b. */
static int read_until(int fd, struct buf *b, const char *needle, int ms)
{
    int64_t deadline = time_mono_ms() + ms;

    while (!strstr(buf_str(b), needle)) {
        struct pollfd p = { fd, POLLIN, 0 };
        int64_t left = deadline - time_mono_ms();
        char tmp[4096];
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return 0;
        n = read(fd, tmp, sizeof(tmp));
        if (n <= 0)
            return 0;
        buf_append(b, tmp, (size_t)n);
    }
    return 1;
}

static void test_console(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    struct buf out1 = BUF_INIT, out2 = BUF_INIT;
    int fd1, fd2;
    char tmp[64];

    cfg_init(&c, f);
    assert_int_equal(hv_console_open(f->hv, c.uuid, &fd1), ERR_NOTFOUND);
    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(hv_console_open(f->hv, c.uuid, &fd1), 0);
    assert_true(read_until(fd1, &out1, "login: ", 2000));
    assert_non_null(strstr(out1.data, "Linux version"));
    assert_non_null(strstr(out1.data, "xenith-test: disk xvda 1048576 bytes"));
    assert_non_null(strstr(out1.data, "xenith-test: xvda marker: "
                                      "XENITH-MARKER-42\n"));

    assert_int_equal(write(fd1, "hello world\n", 12), 12);
    assert_true(read_until(fd1, &out1, "# hello world\n", 2000));

    /* A second console gets the history and then live output. */
    assert_int_equal(hv_console_open(f->hv, c.uuid, &fd2), 0);
    assert_true(read_until(fd2, &out2, "# hello world\n", 2000));
    assert_non_null(strstr(out2.data, "XENITH-MARKER-42"));
    assert_int_equal(write(fd2, "uname\r\n", 7), 7);
    assert_true(read_until(fd1, &out1, "# uname\n", 2000));
    assert_true(read_until(fd2, &out2, "# uname\n", 2000));

    /* poweroff from inside the guest */
    assert_int_equal(write(fd1, "poweroff\n", 9), 9);
    assert_true(
        wait_event(&f->rec, c.uuid, HV_SHUTTING_DOWN, "poweroff", 2000) >= 0);
    assert_true(wait_event(&f->rec, c.uuid, HV_HALTED, "poweroff", 2000) >= 0);
    assert_int_equal(state_of(f->hv, c.uuid), HV_HALTED);
    /* The domain is gone: its consoles see end of file. */
    while (read(fd1, tmp, sizeof(tmp)) > 0)
        ;
    assert_int_equal(read(fd1, tmp, sizeof(tmp)), 0);
    close(fd1);
    close(fd2);
    buf_release(&out1);
    buf_release(&out2);
}

static void test_console_reboot_and_ring(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    struct buf out = BUF_INIT;
    int fd, i;

    cfg_init(&c, f);
    assert_int_equal(hv_start(f->hv, &c), 0);
    /* More output than the ring holds (read as it comes, since output to
     * a console that does not keep up is dropped). */
    assert_int_equal(hv_console_open(f->hv, c.uuid, &fd), 0);
    for (i = 0; i < 3000; i++) {
        char line[64];
        int n = snprintf(line, sizeof(line), "line-%04d-padding-padding\n", i);

        assert_int_equal(write(fd, line, (size_t)n), n);
        if (i % 100 == 99) {
            line[n - 1] = '\0';
            assert_true(read_until(fd, &out, line, 5000));
            buf_reset(&out);
        }
    }
    buf_reset(&out);
    close(fd);
    assert_int_equal(hv_console_open(f->hv, c.uuid, &fd), 0);
    assert_true(read_until(fd, &out, "# line-2999", 2000));
    assert_null(strstr(out.data, "Linux version")); /* pushed out */
    assert_true(out.len <= 64 * 1024);
    assert_true(out.len > 60 * 1024);

    assert_int_equal(write(fd, "reboot\n", 7), 7);
    assert_true(wait_event(&f->rec, c.uuid, HV_RUNNING, "reboot", 2000) >= 0);
    assert_true(read_until(fd, &out, "domid 2", 2000));
    assert_true(read_until(fd, &out, "login: ", 2000));
    close(fd);
    buf_release(&out);
}

static void test_stats_move(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    struct hv_stats a, b, p1, p2;
    int i, moved = 0;

    cfg_init(&c, f);
    assert_int_equal(hv_stats(f->hv, c.uuid, &a), ERR_NOTFOUND);
    assert_int_equal(hv_start(f->hv, &c), 0);
    time_sleep_ms(20);
    assert_int_equal(hv_stats(f->hv, c.uuid, &a), 0);
    for (i = 0; i < 10; i++) {
        time_sleep_ms(20);
        assert_int_equal(hv_stats(f->hv, c.uuid, &b), 0);
        assert_true(b.cpu_pct > 0.0 && b.cpu_pct <= 200.0);
        if (b.cpu_pct != a.cpu_pct)
            moved = 1;
        assert_true(b.disk_rd_bytes > a.disk_rd_bytes);
        assert_true(b.disk_wr_bytes > a.disk_wr_bytes);
        assert_true(b.net_rx_bytes > a.net_rx_bytes);
        assert_true(b.net_tx_bytes > a.net_tx_bytes);
        assert_true(b.disk_rd_bps > 0.0);
        assert_true(b.net_tx_bps > 0.0);
        a = b;
    }
    assert_true(moved);
    assert_int_equal(b.mem_bytes, 256ULL << 20);
    assert_int_equal(b.mem_max_bytes, 256ULL << 20);

    /* Paused: nothing moves. */
    assert_int_equal(hv_pause(f->hv, c.uuid), 0);
    assert_int_equal(hv_stats(f->hv, c.uuid, &p1), 0);
    time_sleep_ms(30);
    assert_int_equal(hv_stats(f->hv, c.uuid, &p2), 0);
    assert_true(p2.cpu_pct == 0.0);
    assert_int_equal(p2.disk_rd_bytes, p1.disk_rd_bytes);
    assert_true(p2.disk_rd_bps == 0.0);

    /* vcpus bound the cpu figure */
    assert_int_equal(hv_resume(f->hv, c.uuid), 0);
    assert_int_equal(hv_set_vcpus(f->hv, c.uuid, 1), 0);
    for (i = 0; i < 50; i++) {
        assert_int_equal(hv_stats(f->hv, c.uuid, &b), 0);
        assert_true(b.cpu_pct <= 100.0);
    }
}

static void test_failure_injection(void **state)
{
    static const char *const ops[] = {
        "start",        "shutdown",    "reboot",     "destroy",    "pause",
        "resume",       "suspend",     "restore",    "set_vcpus",  "set_memory",
        "disk_attach",  "disk_detach", "nic_attach", "nic_detach", "stats",
        "console_open", "vnc_open",
    };
    struct fixture *f = *state;
    struct hv_vm_config c;
    struct hv_stats st;
    size_t i;
    int fd;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        assert_int_equal(hv_inject_failure(f->hv, ops[i], ERR_IO), 0);
        assert_int_equal(hv_inject_failure(f->hv, ops[i], 0), 0);
    }
    assert_int_equal(hv_inject_failure(f->hv, "fly", ERR_IO), ERR_INVALID);

    cfg_init(&c, f);
    assert_int_equal(hv_inject_failure(f->hv, "start", ERR_NOSPACE), 0);
    assert_int_equal(hv_start(f->hv, &c), ERR_NOSPACE);
    assert_string_equal(hv_last_error(), "injected failure");
    assert_int_equal(hv_start(f->hv, &c), ERR_NOSPACE); /* until cleared */
    assert_int_equal(state_of(f->hv, c.uuid), HV_HALTED);
    assert_int_equal(hv_inject_failure(f->hv, "start", 0), 0);
    assert_int_equal(hv_start(f->hv, &c), 0);

    assert_int_equal(hv_inject_failure(f->hv, "pause", ERR_IO), 0);
    assert_int_equal(hv_pause(f->hv, c.uuid), ERR_IO);
    assert_int_equal(state_of(f->hv, c.uuid), HV_RUNNING);
    assert_int_equal(hv_inject_failure(f->hv, "stats", ERR_BUSY), 0);
    assert_int_equal(hv_stats(f->hv, c.uuid, &st), ERR_BUSY);
    assert_int_equal(hv_inject_failure(f->hv, "console_open", ERR_IO), 0);
    assert_int_equal(hv_console_open(f->hv, c.uuid, &fd), ERR_IO);
    assert_int_equal(hv_inject_failure(f->hv, "destroy", ERR_INTERNAL), 0);
    assert_int_equal(hv_destroy(f->hv, c.uuid), ERR_INTERNAL);
    assert_int_equal(state_of(f->hv, c.uuid), HV_RUNNING);
    assert_int_equal(hv_inject_failure(f->hv, "destroy", 0), 0);
    assert_int_equal(hv_destroy(f->hv, c.uuid), 0);
}

/* Read exactly n bytes (the driver thread answers on its own). */
static void read_all(int fd, void *p, size_t n)
{
    char *c = p;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    while (n) {
        ssize_t r;

        assert_int_equal(poll(&pfd, 1, 5000), 1);
        r = read(fd, c, n);
        assert_true(r > 0);
        c += r;
        n -= (size_t)r;
    }
}

static void test_vnc(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    unsigned char init[24], req[10] = { 3, 0, 0, 0, 0, 0, 0, 2, 0, 1 };
    unsigned char hdr[16], px[8];
    int fd;

    cfg_init(&c, f);
    assert_int_equal(hv_vnc_open(f->hv, c.uuid, &fd), ERR_NOTFOUND);
    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(hv_vnc_open(f->hv, c.uuid, &fd), ERR_CONFLICT);
    assert_non_null(strstr(hv_last_error(), "not HVM"));
    assert_int_equal(hv_destroy(f->hv, c.uuid), 0);

    c.boot = HV_BOOT_HVM;
    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(hv_inject_failure(f->hv, "vnc_open", ERR_IO), 0);
    assert_int_equal(hv_vnc_open(f->hv, c.uuid, &fd), ERR_IO);
    assert_int_equal(hv_inject_failure(f->hv, "vnc_open", 0), 0);
    /* Handshake done by the driver: ClientInit is next. */
    assert_int_equal(hv_vnc_open(f->hv, c.uuid, &fd), 0);
    assert_int_equal(write(fd, "\1", 1), 1);
    read_all(fd, init, sizeof(init));
    assert_int_equal(init[0] << 8 | init[1], 320);
    assert_int_equal(init[2] << 8 | init[3], 200);
    assert_int_equal(init[4], 32);
    assert_int_equal(init[23], 3); /* name length: "vm1" */
    read_all(fd, init, 3);
    assert_memory_equal(init, "vm1", 3);
    /* A 2x1 update at 0,0: two white pixels of the colour bars. */
    assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
    read_all(fd, hdr, sizeof(hdr));
    assert_int_equal(hdr[0], 0);
    assert_int_equal(hdr[3], 1);  /* one rectangle */
    assert_int_equal(hdr[9], 2);  /* w */
    assert_int_equal(hdr[11], 1); /* h */
    read_all(fd, px, sizeof(px));
    assert_memory_equal(px, "\xff\xff\xff\0\xff\xff\xff\0", 8);
    /* The domain goes: its consoles close. */
    assert_int_equal(hv_destroy(f->hv, c.uuid), 0);
    assert_int_equal(read(fd, px, 1), 0);
    close(fd);
}

static void test_live_changes(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    struct hv_domain d;
    struct hv_disk disk;
    struct hv_nic nic;

    cfg_init(&c, f);
    assert_int_equal(hv_set_vcpus(f->hv, c.uuid, 2), ERR_NOTFOUND);
    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(hv_set_vcpus(f->hv, c.uuid, 4), 0);
    assert_int_equal(hv_set_vcpus(f->hv, c.uuid, 0), ERR_INVALID);
    assert_int_equal(hv_set_memory(f->hv, c.uuid, 1024), 0);
    assert_int_equal(hv_set_memory(f->hv, c.uuid, 8), ERR_INVALID);
    assert_int_equal(hv_lookup(f->hv, c.uuid, &d), 0);
    assert_int_equal(d.vcpus, 4);
    assert_int_equal(d.memory_mib, 1024);

    disk = c.disks[0];
    assert_int_equal(hv_disk_attach(f->hv, c.uuid, &disk), ERR_CONFLICT);
    xstrlcpy(disk.vdev, "xvdc", sizeof(disk.vdev));
    snprintf(disk.path, sizeof(disk.path), "%s/nope.img", f->dir);
    assert_int_equal(hv_disk_attach(f->hv, c.uuid, &disk), ERR_NOTFOUND);
    xstrlcpy(disk.path, f->disk, sizeof(disk.path));
    assert_int_equal(hv_disk_attach(f->hv, c.uuid, &disk), 0);
    assert_int_equal(hv_disk_detach(f->hv, c.uuid, "xvdc"), 0);
    assert_int_equal(hv_disk_detach(f->hv, c.uuid, "xvdc"), ERR_NOTFOUND);

    nic = c.nics[0];
    assert_int_equal(hv_nic_attach(f->hv, c.uuid, &nic), ERR_CONFLICT);
    xstrlcpy(nic.mac, "00:16:3E:00:00:01", sizeof(nic.mac));
    assert_int_equal(hv_nic_attach(f->hv, c.uuid, &nic), ERR_CONFLICT);
    xstrlcpy(nic.mac, "00:16:3e:00:00:02", sizeof(nic.mac));
    assert_int_equal(hv_nic_attach(f->hv, c.uuid, &nic), 0);
    xstrlcpy(nic.mac, "zz", sizeof(nic.mac));
    assert_int_equal(hv_nic_attach(f->hv, c.uuid, &nic), ERR_INVALID);
    assert_int_equal(hv_nic_detach(f->hv, c.uuid, "00:16:3e:00:00:02"), 0);
    assert_int_equal(hv_nic_detach(f->hv, c.uuid, "00:16:3e:00:00:02"),
                     ERR_NOTFOUND);

    /* Not while shutting down. */
    assert_int_equal(hv_inject_failure(f->hv, "shutdown", 0), 0);
    {
        int fd;

        assert_int_equal(hv_console_open(f->hv, c.uuid, &fd), 0);
        assert_int_equal(write(fd, "poweroff\n", 9), 9);
        assert_true(wait_event(&f->rec, c.uuid, HV_SHUTTING_DOWN, "poweroff",
                               2000) >= 0);
        assert_int_equal(hv_set_vcpus(f->hv, c.uuid, 2), ERR_CONFLICT);
        assert_non_null(strstr(hv_last_error(), "shutting_down"));
        close(fd);
    }
}

/* A guest that crashes stays as a crashed domain until destroyed. */
static void test_crash(void **state)
{
    struct fixture *f = *state;
    struct hv_vm_config c;
    int fd;

    cfg_init(&c, f);
    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(hv_console_open(f->hv, c.uuid, &fd), 0);
    assert_int_equal(write(fd, "crash\n", 6), 6);
    assert_true(wait_event(&f->rec, c.uuid, HV_CRASHED, "crash", 2000) >= 0);
    assert_int_equal(state_of(f->hv, c.uuid), HV_CRASHED);
    assert_int_equal(hv_resume(f->hv, c.uuid), ERR_CONFLICT);
    assert_non_null(strstr(hv_last_error(), "is crashed"));
    assert_int_equal(hv_shutdown(f->hv, c.uuid, 1), ERR_CONFLICT);
    assert_int_equal(hv_suspend(f->hv, c.uuid, "/nonexistent/x"), ERR_CONFLICT);
    assert_int_equal(hv_destroy(f->hv, c.uuid), 0);
    assert_true(wait_event(&f->rec, c.uuid, HV_HALTED, "destroy", 2000) >= 0);
    close(fd);
}

/* The subscriber is called without the driver lock: it can look the
 * domain up (this would deadlock otherwise) and sees the new state. */
struct reentrant {
    struct hv *hv;
    pthread_mutex_t lock;
    int calls;
    int agreed;
};

static void on_event_lookup(void *opaque, const struct hv_event *ev)
{
    struct reentrant *r = opaque;
    struct hv_domain d;
    int rc = hv_lookup(r->hv, ev->uuid, &d);
    int ok = ev->state == HV_HALTED ? rc == ERR_NOTFOUND : rc == 0;

    pthread_mutex_lock(&r->lock);
    r->calls++;
    r->agreed += ok;
    pthread_mutex_unlock(&r->lock);
}

static void test_events_without_lock(void **state)
{
    struct fixture *f = *state;
    struct reentrant r = { f->hv, PTHREAD_MUTEX_INITIALIZER, 0, 0 };
    struct hv_vm_config c;
    int i, calls = 0;

    assert_int_equal(hv_subscribe(f->hv, on_event_lookup, &r), 0);
    cfg_init(&c, f);
    assert_int_equal(hv_start(f->hv, &c), 0);
    assert_int_equal(hv_destroy(f->hv, c.uuid), 0);
    for (i = 0; i < 200 && calls < 2; i++) {
        time_sleep_ms(5);
        pthread_mutex_lock(&r.lock);
        calls = r.calls;
        pthread_mutex_unlock(&r.lock);
    }
    /* Unsubscribing waits out a delivery in progress. */
    assert_int_equal(hv_subscribe(f->hv, NULL, NULL), 0);
    assert_int_equal(r.calls, 2);
    assert_true(r.agreed >= 1); /* the halted one at least */
}

#define WORKERS 4
#define ROUNDS  25

struct worker {
    struct fixture *f;
    int failures;
};

static void *worker_main(void *p)
{
    struct worker *w = p;
    struct hv_vm_config c;
    struct hv_stats st;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        cfg_init(&c, w->f);
        w->failures += hv_start(w->f->hv, &c) != 0;
        w->failures += hv_pause(w->f->hv, c.uuid) != 0;
        w->failures += hv_resume(w->f->hv, c.uuid) != 0;
        w->failures += hv_stats(w->f->hv, c.uuid, &st) != 0;
        w->failures += hv_destroy(w->f->hv, c.uuid) != 0;
    }
    return NULL;
}

static void test_concurrency(void **state)
{
    struct fixture *f = *state;
    struct worker w[WORKERS];
    pthread_t t[WORKERS];
    struct hv_domain *list;
    size_t n;
    int i;

    for (i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){ f, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (i = 0; i < WORKERS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(hv_list(f->hv, &list, &n), 0);
    assert_int_equal(n, 0);
    free(list);
    /* 4 events per round per worker, each delivered once. */
    for (i = 0; i < 200; i++) {
        pthread_mutex_lock(&f->rec.lock);
        n = f->rec.num;
        pthread_mutex_unlock(&f->rec.lock);
        if (n == WORKERS * ROUNDS * 4)
            break;
        time_sleep_ms(10);
    }
    assert_int_equal(n, WORKERS * ROUNDS * 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_uri),
        cmocka_unit_test(test_open_uris),
        cmocka_unit_test_setup_teardown(test_host_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_takes_a_moment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_ignored_times_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reboot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspend_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_console, setup, teardown),
        cmocka_unit_test_setup_teardown(test_console_reboot_and_ring, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stats_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_injection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_live_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_without_lock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vnc, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
