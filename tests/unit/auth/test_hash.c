/* common/hash: SHA-256 vectors, constant-time compare, scrypt password
 * hashes (round trip, wrong password, salt, parameters parsed from the
 * string, malformed strings). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/hash.h"

static void test_sha256_vectors(void **state)
{
    char out[SHA256_HEXLEN];

    (void)state;
    sha256_hex("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(ct_equal("abcd", "abcd", 4));
    assert_false(ct_equal("abcd", "abce", 4));
    assert_true(ct_streq("token", "token"));
    assert_false(ct_streq("token", "token2"));
    assert_false(ct_streq("", "x"));
}

static void test_password_roundtrip(void **state)
{
    char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

    (void)state;
    assert_int_equal(password_hash("correct horse", h1, sizeof(h1)), 0);
    assert_int_equal(strncmp(h1, "$scrypt$ln=15,r=8,p=1$", 22), 0);
    assert_int_equal(strlen(h1), 22 + 32 + 1 + 64);
    assert_int_equal(password_verify("correct horse", h1), 0);
    assert_int_equal(password_verify("correct horsE", h1), ERR_UNAUTH);
    assert_int_equal(password_verify("", h1), ERR_UNAUTH);
    /* A fresh salt every time. */
    assert_int_equal(password_hash("correct horse", h2, sizeof(h2)), 0);
    assert_string_not_equal(h1, h2);
    assert_int_equal(password_verify("correct horse", h2), 0);
    assert_int_equal(password_hash("x", h2, 10), ERR_INVALID);
}

/* Parameters come from the string: a hash made with other (cheap)
 * parameters still verifies. Generated with Python's hashlib.scrypt
 * (password "pw", salt "0123456789abcdef" as bytes, n=16, r=1, p=1). */
static void test_password_params_from_string(void **state)
{
    static const char h[] =
        "$scrypt$ln=4,r=1,p=1$30313233343536373839616263646566$"
        "f60e863885ba06006555f341b2d7519d40d72808c66b8678baf38c9e95cc35c5";

    (void)state;
    assert_int_equal(password_verify("pw", h), 0);
    assert_int_equal(password_verify("pW", h), ERR_UNAUTH);
}

static void test_password_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "plain",
        "$scrypt$",
        "$scrypt$ln=15,r=8,p=1$",
        "$scrypt$ln=15,r=8,p=1$zz$00",
        "$scrypt$ln=15,r=8,p=1$0011223344556677$",
        "$scrypt$ln=15,r=8,p=1$0011223344556677",
        "$scrypt$ln=40,r=8,p=1$00112233445566778899aabbccddeeff$"
        "00112233445566778899aabbccddeeff",
        "$scrypt$ln=0,r=8,p=1$00112233445566778899aabbccddeeff$"
        "00112233445566778899aabbccddeeff",
        "$pbkdf2$i=1$00$00",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(password_verify("whatever", bad[i]), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_password_roundtrip),
        cmocka_unit_test(test_password_params_from_string),
        cmocka_unit_test(test_password_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
