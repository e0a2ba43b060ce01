/* common/seal.c: a sealed secret opens with the same key and aad only;
 * a flipped bit anywhere is refused; the key file is created once,
 * 0600, 32 bytes, and loaded again unchanged. */
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

#include "common/err.h"
#include "common/seal.h"

static void test_seal_roundtrip(void **state)
{
    unsigned char key[SEAL_KEY_LEN], key2[SEAL_KEY_LEN];
    char sealed[SEAL_HEX_MAX], again[SEAL_HEX_MAX], out[SEAL_PLAIN_MAX + 1];
    char long_pw[SEAL_PLAIN_MAX + 2];
    size_t i;

    (void)state;
    memset(key, 7, sizeof(key));
    memset(key2, 8, sizeof(key2));
    assert_int_equal(
        seal_seal(key, "repo-1", "correct horse", sealed, sizeof(sealed)), 0);
    assert_null(strstr(sealed, "correct"));
    assert_int_equal(seal_open(key, "repo-1", sealed, out, sizeof(out)), 0);
    assert_string_equal(out, "correct horse");

    /* A fresh nonce each time. */
    assert_int_equal(
        seal_seal(key, "repo-1", "correct horse", again, sizeof(again)), 0);
    assert_string_not_equal(sealed, again);

    assert_int_equal(seal_open(key2, "repo-1", sealed, out, sizeof(out)),
                     ERR_UNAUTH);
    assert_int_equal(seal_open(key, "repo-2", sealed, out, sizeof(out)),
                     ERR_UNAUTH);
    assert_int_equal(seal_open(key, NULL, sealed, out, sizeof(out)),
                     ERR_UNAUTH);
    for (i = 2; sealed[i]; i++) {
        char c = sealed[i];

        sealed[i] = c == '0' ? '1' : '0';
        assert_int_not_equal(seal_open(key, "repo-1", sealed, out, sizeof(out)),
                             0);
        sealed[i] = c;
    }
    assert_int_equal(seal_open(key, "repo-1", "zz", out, sizeof(out)),
                     ERR_INVALID);
    assert_int_equal(seal_open(key, "repo-1", sealed, out, 4), ERR_TOOBIG);

    memset(long_pw, 'x', sizeof(long_pw) - 1);
    long_pw[sizeof(long_pw) - 1] = '\0';
    assert_int_equal(seal_seal(key, NULL, long_pw, sealed, sizeof(sealed)),
                     ERR_INVALID);
    long_pw[SEAL_PLAIN_MAX] = '\0';
    assert_int_equal(seal_seal(key, NULL, long_pw, sealed, sizeof(sealed)), 0);
    assert_int_equal(seal_open(key, NULL, sealed, out, sizeof(out)), 0);
    assert_string_equal(out, long_pw);
}

static void test_seal_key_file(void **state)
{
    char dir[] = "/tmp/xenith-seal-XXXXXX", path[256];
    unsigned char k1[SEAL_KEY_LEN], k2[SEAL_KEY_LEN];
    struct stat st;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/secret.key", dir);
    assert_int_equal(seal_key_load(path, k1), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, SEAL_KEY_LEN);
    assert_int_equal(seal_key_load(path, k2), 0);
    assert_memory_equal(k1, k2, SEAL_KEY_LEN);

    /* A damaged key file is refused, never replaced. */
    f = fopen(path, "a");
    assert_non_null(f);
    fputc('x', f);
    fclose(f);
    assert_int_equal(seal_key_load(path, k2), ERR_INVALID);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, SEAL_KEY_LEN + 1);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_roundtrip),
        cmocka_unit_test(test_seal_key_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
