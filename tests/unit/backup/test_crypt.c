/* backup/crypt.c and compress.c: GCM round trip and tamper detection,
 * ids (plain vs keyed), zero detection, hex, zstd raw fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backup/bk_internal.h"
#include "common/err.h"
#include "common/uuid.h"

static void test_gcm_round_trip_and_tamper(void **state)
{
    unsigned char key[32], nonce[12], in[1000], sealed[1016], out[1000];

    (void)state;
    rand_bytes(key, sizeof(key));
    rand_bytes(nonce, sizeof(nonce));
    rand_bytes(in, sizeof(in));
    assert_int_equal(bk_gcm_seal(key, nonce, "aad", 3, in, sizeof(in), sealed),
                     0);
    assert_int_equal(
        bk_gcm_open(key, nonce, "aad", 3, sealed, sizeof(sealed), out), 0);
    assert_memory_equal(in, out, sizeof(in));
    for (size_t bit = 0; bit < sizeof(sealed) * 8; bit += 997) {
        sealed[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_int_equal(
            bk_gcm_open(key, nonce, "aad", 3, sealed, sizeof(sealed), out),
            ERR_UNAUTH);
        sealed[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    assert_int_equal(
        bk_gcm_open(key, nonce, "aaD", 3, sealed, sizeof(sealed), out),
        ERR_UNAUTH);
}

static void test_ids_plain_and_keyed(void **state)
{
    struct bk_repo plain = { 0 }, enc = { 0 };
    unsigned char a[BK_ID_LEN], b[BK_ID_LEN], c[BK_ID_LEN];
    char hex[BK_ID_HEXLEN];

    (void)state;
    enc.encrypted = 1;
    memset(enc.k_id, 7, sizeof(enc.k_id));
    bk_chunk_id(&plain, "abc", 3, a);
    bk_id_hex(a, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    bk_chunk_id(&enc, "abc", 3, b);
    assert_memory_not_equal(a, b, BK_ID_LEN);
    memset(enc.k_id, 8, sizeof(enc.k_id));
    bk_chunk_id(&enc, "abc", 3, c);
    assert_memory_not_equal(b, c, BK_ID_LEN);
    assert_int_equal(bk_id_parse(hex, c), 0);
    assert_memory_equal(a, c, BK_ID_LEN);
    assert_int_equal(bk_id_parse("zz", c), ERR_INVALID);
}

/* bk_chunk_id2() and bk_chunk_id2_copy() give what bk_chunk_id() gives
 * for each message, and the copy holds the message (its destination
 * starts as other bytes). */
static void check_pair(const struct bk_repo *repo, const unsigned char *a,
                       size_t la, const unsigned char *b, size_t lb,
                       unsigned char *da, unsigned char *db)
{
    unsigned char ia[BK_ID_LEN], ib[BK_ID_LEN], ra[BK_ID_LEN], rb[BK_ID_LEN];

    bk_chunk_id(repo, a, la, ra);
    bk_chunk_id(repo, b, lb, rb);
    bk_chunk_id2(repo, a, la, b, lb, ia, ib);
    assert_memory_equal(ia, ra, BK_ID_LEN);
    assert_memory_equal(ib, rb, BK_ID_LEN);
    memset(da, 0x5a, la);
    memset(db, 0xa5, lb);
    memset(ia, 0, sizeof(ia));
    memset(ib, 0, sizeof(ib));
    bk_chunk_id2_copy(repo, a, la, b, lb, da, db, ia, ib);
    assert_memory_equal(ia, ra, BK_ID_LEN);
    assert_memory_equal(ib, rb, BK_ID_LEN);
    assert_memory_equal(da, a, la);
    assert_memory_equal(db, b, lb);
}

/* Every tail length around the 64-byte blocks and the padding's edge
 * (55/56 bytes), unequal lengths and chunk-sized messages; plain (two
 * SHA-256 streams at once where the CPU has them) and keyed. */
static void test_chunk_id2_matches_one_at_a_time(void **state)
{
    struct bk_repo plain = { 0 }, enc = { 0 };
    const struct bk_repo *repos[] = { &plain, &enc };
    size_t big = 1024 * 1024 + 77;
    unsigned char *a = malloc(big), *b = malloc(big);
    unsigned char *da = malloc(big), *db = malloc(big);

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(da);
    assert_non_null(db);
    rand_bytes(a, big);
    rand_bytes(b, big);
    enc.encrypted = 1;
    memset(enc.k_id, 9, sizeof(enc.k_id));
    for (size_t r = 0; r < 2; r++) {
        for (size_t la = 0; la < 300; la++)
            check_pair(repos[r], a, la, b, (la * 7 + 13) % 300, da, db);
        for (size_t i = 0; i < 6; i++)
            check_pair(repos[r], a, big - i * 4099, b,
                       big - (5 - i) * 65536 - i, da, db);
    }
    free(a);
    free(b);
    free(da);
    free(db);
}

static void test_zero_detection(void **state)
{
    static unsigned char buf[1 << 20];

    (void)state;
    memset(buf, 0, sizeof(buf));
    assert_true(bk_is_zero(buf, sizeof(buf)));
    assert_true(bk_is_zero(buf, 0));
    buf[sizeof(buf) - 1] = 1;
    assert_false(bk_is_zero(buf, sizeof(buf)));
    buf[sizeof(buf) - 1] = 0;
    buf[0] = 1;
    assert_false(bk_is_zero(buf, sizeof(buf)));
    memset(buf, 0, BK_ID_LEN);
    assert_true(bk_id_is_zero(buf));
}

static void test_compress_raw_fallback(void **state)
{
    static unsigned char in[65536], out[70000], back[65536];
    size_t n = 0;

    (void)state;
    memset(in, 'x', sizeof(in));
    assert_int_equal(bk_compress(1, in, sizeof(in), out, sizeof(out), &n), 1);
    assert_true(n < 1000);
    assert_int_equal(bk_decompress(out, n, back, sizeof(back)), 0);
    assert_memory_equal(in, back, sizeof(in));
    assert_int_equal(bk_decompress(out, n, back, sizeof(back) - 1), ERR_IO);
    rand_bytes(in, sizeof(in));
    assert_int_equal(bk_compress(1, in, sizeof(in), out, sizeof(out), &n), 0);
    assert_int_equal(bk_compress(0, in, sizeof(in), out, sizeof(out), &n), 0);
}

/* The unrolled checksum equals the definition in docs/backup-format.md:
 * h = n, then h = (h + w) * P for each of the n / 8 + 1 little-endian
 * words (the last one holds the n % 8 trailing bytes, zero-padded). */
static uint64_t sum_by_definition(const unsigned char *c, size_t n)
{
    uint64_t h = n;

    for (size_t i = 0; i <= n - n % 8; i += 8) {
        uint64_t w = 0;

        for (size_t k = 0; k < 8 && i + k < n; k++)
            w |= (uint64_t)c[i + k] << (8 * k);
        h = (h + w) * 0x9e3779b97f4a7c15ull;
    }
    return h;
}

static void test_payload_sum_definition(void **state)
{
    static unsigned char buf[4099];

    (void)state;
    rand_bytes(buf, sizeof(buf));
    for (size_t n = 0; n <= sizeof(buf); n += n < 80 ? 1 : 61)
        assert_true(bk_payload_sum(buf, n) == sum_by_definition(buf, n));
}

/* Chunks whose samples do not compress are stored raw without running
 * zstd over them; a compressible quarter is enough to compress. */
static void test_compress_samples(void **state)
{
    static unsigned char in[1 << 20], out[(1 << 20) + 65536];
    static unsigned char back[1 << 20];
    size_t n = 0;

    (void)state;
    rand_bytes(in, sizeof(in));
    assert_int_equal(bk_compress(1, in, sizeof(in), out, sizeof(out), &n), 0);
    for (size_t i = 0; i < sizeof(in) / 4; i++)
        in[sizeof(in) / 2 + i] = (unsigned char)"xenith kernel "[i % 14];
    assert_int_equal(bk_compress(1, in, sizeof(in), out, sizeof(out), &n), 1);
    assert_true(n < sizeof(in) - sizeof(in) / 5);
    assert_int_equal(bk_decompress(out, n, back, sizeof(back)), 0);
    assert_memory_equal(in, back, sizeof(in));
}

static void test_kdf_and_fingerprint(void **state)
{
    unsigned char k1[32], k2[32], master[64] = { 1 };
    char fp[33], fp2[33];

    (void)state;
    assert_int_equal(
        bk_kdf("pw", (const unsigned char *)"salt", 4, 1024, 8, 1, k1), 0);
    assert_int_equal(
        bk_kdf("pw", (const unsigned char *)"salt", 4, 1024, 8, 1, k2), 0);
    assert_memory_equal(k1, k2, 32);
    assert_int_equal(
        bk_kdf("pW", (const unsigned char *)"salt", 4, 1024, 8, 1, k2), 0);
    assert_memory_not_equal(k1, k2, 32);
    bk_key_fingerprint(master, fp);
    master[63] = 1;
    bk_key_fingerprint(master, fp2);
    assert_int_equal(strlen(fp), 32);
    assert_string_not_equal(fp, fp2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_round_trip_and_tamper),
        cmocka_unit_test(test_ids_plain_and_keyed),
        cmocka_unit_test(test_chunk_id2_matches_one_at_a_time),
        cmocka_unit_test(test_zero_detection),
        cmocka_unit_test(test_compress_raw_fallback),
        cmocka_unit_test(test_compress_samples),
        cmocka_unit_test(test_payload_sum_definition),
        cmocka_unit_test(test_kdf_and_fingerprint),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
