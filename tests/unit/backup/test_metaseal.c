/* backup/metaseal.c and the sealed index and manifest paths of format 2:
 * the metadata key (a known answer, HKDF-Expand as documented), seal and
 * open round trip, every flipped bit, another path (a swapped file),
 * another kind and another key refused; indexes and manifests of an
 * encrypted repository on disk are sealed, read back, and a file put
 * under another's name is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup/bk.h"
#include "backup/bk_internal.h"
#include "common/err.h"
#include "common/log.h"
#include "common/uuid.h"
#include "common/xalloc.h"

#define PASS "unit passphrase"

static char tmpdir[] = "/tmp/xenith-bkseal-XXXXXX";
static char repo_dir[128];

static void test_meta_key_known_answer(void **state)
{
    unsigned char master[64], key[32];
    char hex[65];

    (void)state;
    for (int i = 0; i < 64; i++)
        master[i] = (unsigned char)i;
    bk_meta_key(master, key);
    hex_encode(hex, key, 32);
    /* Python: hmac.new(bytes(range(64)),
     *     b"xenith-backup metadata v2\x01", sha256).hexdigest() */
    assert_string_equal(hex, "665aad0de8bb2a0154566af8f022da93"
                             "b8b230b7a6d3422c53c1beac307278fd");
}

static void test_seal_open_tamper_swap(void **state)
{
    struct bk_repo r = { 0 }, other = { 0 };
    const char *rel = "indexes/a.0.idx", msg[] = "the ordered chunk ids";
    unsigned char *f = NULL, *p = NULL;
    size_t flen, plen;

    (void)state;
    r.encrypted = other.encrypted = 1;
    r.format = other.format = 2;
    rand_bytes(r.k_meta, sizeof(r.k_meta));
    rand_bytes(other.k_meta, sizeof(other.k_meta));
    assert_true(bk_meta_sealed(&r));
    bk_meta_seal(&r, BK_META_INDEX, rel, msg, sizeof(msg), &f, &flen);
    assert_int_equal(flen, sizeof(msg) + BK_META_OVER);
    assert_memory_equal(f, "XBKS\x02\x02\0\0", 8);
    assert_null(memmem(f, flen, "chunk ids", 9));
    assert_int_equal(bk_meta_open(&r, BK_META_INDEX, rel, f, flen, &p, &plen),
                     0);
    assert_int_equal(plen, sizeof(msg));
    assert_memory_equal(p, msg, plen);
    free(p);
    for (size_t bit = 0; bit < flen * 8; bit++) {
        f[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_true(bk_meta_open(&r, BK_META_INDEX, rel, f, flen, &p, &plen) <
                    0);
        f[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    assert_int_equal(
        bk_meta_open(&r, BK_META_INDEX, "indexes/b.0.idx", f, flen, &p, &plen),
        ERR_UNAUTH);
    assert_int_equal(
        bk_meta_open(&r, BK_META_MANIFEST, rel, f, flen, &p, &plen),
        ERR_UNAUTH);
    assert_int_equal(
        bk_meta_open(&other, BK_META_INDEX, rel, f, flen, &p, &plen),
        ERR_UNAUTH);
    assert_int_equal(bk_meta_open(&r, BK_META_INDEX, rel, f, 10, &p, &plen),
                     ERR_IO);
    free(f);
    r.format = 1;
    assert_false(bk_meta_sealed(&r));
}

static void test_sealed_index_on_disk(void **state)
{
    struct bk_init_opts o = { .compression_level = 1, .passphrase = PASS };
    struct bk_repo *r = NULL;
    struct bk_index ix, back;
    char sha[65], path[256], path2[256], *txt = NULL;
    size_t len;

    (void)state;
    assert_int_equal(bk_repo_init(repo_dir, &o), 0);
    assert_int_equal(bk_repo_open(repo_dir, PASS, &r), 0);
    assert_true(bk_meta_sealed(r));
    bk_index_init(&ix, r->chunk_size, 5ull * r->chunk_size + 3);
    for (uint64_t i = 0; i < ix.num * BK_ID_LEN; i++)
        ix.ids[i] = (unsigned char)(i * 7);
    assert_int_equal(bk_index_write(r, &ix, "x.0.idx", sha), 0);
    assert_int_equal(bk_read_file(r, "indexes/x.0.idx", 1 << 20, &txt, &len),
                     0);
    assert_memory_equal(txt, "XBKS", 4);
    assert_null(memmem(txt, len, "XBKIDX", 6));
    free(txt);
    assert_int_equal(bk_index_read(r, "x.0.idx", sha, &back), 0);
    assert_int_equal(back.num, ix.num);
    assert_int_equal(back.disk_size, ix.disk_size);
    assert_memory_equal(back.ids, ix.ids, ix.num * BK_ID_LEN);
    bk_index_release(&back);
    /* Put under another name: even without the manifest's hash, the
     * path bound as additional data refuses it. */
    snprintf(path, sizeof(path), "%s/indexes/x.0.idx", repo_dir);
    snprintf(path2, sizeof(path2), "%s/indexes/y.1.idx", repo_dir);
    assert_int_equal(rename(path, path2), 0);
    assert_int_equal(bk_index_read(r, "y.1.idx", NULL, &back), ERR_IO);
    assert_int_equal(bk_index_read(r, "y.1.idx", sha, &back), ERR_IO);
    assert_int_equal(bk_index_read(r, "x.0.idx", NULL, &back), ERR_NOTFOUND);
    bk_index_release(&ix);
    bk_repo_free(r);
}

static void test_sealed_manifest_on_disk(void **state)
{
    struct bk_repo *r = NULL;
    struct bk_manifest m = { 0 }, back;
    struct bk_disk_meta d = { .name = "xvda",
                              .size = 1234,
                              .index = "i.0.idx" };
    char a[UUID_STRLEN], b[UUID_STRLEN], pa[256], pb[256], cmd[600];

    (void)state;
    assert_int_equal(bk_repo_open(repo_dir, PASS, &r), 0);
    uuid_generate(a);
    uuid_generate(b);
    xstrlcpy(m.info.id, a, sizeof(m.info.id));
    xstrlcpy(m.info.name, "secret-name", sizeof(m.info.name));
    m.info.time = 1795312800;
    m.info.time_ms = 1795312800123;
    m.vm_config = "{\"memory_mib\":512}";
    m.disks = &d;
    m.num_disks = 1;
    assert_int_equal(bk_manifest_write(r, &m), 0);
    assert_int_equal(bk_manifest_read(r, a, &back), 0);
    assert_string_equal(back.info.name, "secret-name");
    assert_int_equal(back.info.time_ms, 1795312800123);
    assert_string_equal(back.vm_config, "{\"memory_mib\":512}");
    assert_string_equal(back.disks[0].index, "i.0.idx");
    bk_manifest_release(&back);
    snprintf(pa, sizeof(pa), "%s/snapshots/%s.json", repo_dir, a);
    snprintf(pb, sizeof(pb), "%s/snapshots/%s.json", repo_dir, b);
    snprintf(cmd, sizeof(cmd), "grep -q secret-name %s", pa);
    assert_int_not_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "cp %s %s", pa, pb);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(bk_manifest_read(r, b, &back), ERR_IO);
    bk_repo_free(r);
}

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR + 1);
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(repo_dir, sizeof(repo_dir), "%s/repo", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_key_known_answer),
        cmocka_unit_test(test_seal_open_tamper_swap),
        cmocka_unit_test(test_sealed_index_on_disk),
        cmocka_unit_test(test_sealed_manifest_on_disk),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
