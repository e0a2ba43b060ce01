/* tls_cert_ensure(): first start makes an ECDSA P-256 self-signed
 * certificate with SAN 127.0.0.1 and a 0600 key; later starts keep
 * them; a lone cert or key is never overwritten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "server/http/tls_cert.h"

static char top[64];
static char cert[128], key[128];

static int setup(void **state)
{
    (void)state;
    xstrlcpy(top, "/tmp/xenith-tls-XXXXXX", sizeof(top));
    assert_non_null(mkdtemp(top));
    snprintf(cert, sizeof(cert), "%s/tls/cert.pem", top);
    snprintf(key, sizeof(key), "%s/tls/key.pem", top);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    return system(cmd) == 0 ? 0 : -1;
}

static X509 *load_cert(void)
{
    FILE *f = fopen(cert, "r");
    X509 *x;

    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

static void test_generate(void **state)
{
    unsigned char ip[4] = { 127, 0, 0, 1 };
    EVP_PKEY *pub;
    X509 *x;
    struct stat st;
    char curve[64];
    size_t n;

    (void)state;
    assert_int_equal(tls_cert_ensure(cert, key), 0);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    x = load_cert();
    pub = X509_get0_pubkey(x);
    assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
    assert_int_equal(
        EVP_PKEY_get_utf8_string_param(pub, "group", curve, sizeof(curve), &n),
        1);
    assert_string_equal(curve, "prime256v1");
    assert_int_equal(X509_check_ip(x, ip, sizeof(ip), 0), 1);
    assert_int_equal(X509_verify(x, pub), 1); /* self-signed */
    X509_free(x);
}

static void test_kept_on_restart(void **state)
{
    struct stat a, b;

    (void)state;
    assert_int_equal(stat(cert, &a), 0);
    assert_int_equal(tls_cert_ensure(cert, key), 0);
    assert_int_equal(stat(cert, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
}

static void test_lone_file_is_not_overwritten(void **state)
{
    struct stat st;

    (void)state;
    assert_int_equal(unlink(key), 0);
    assert_int_equal(tls_cert_ensure(cert, key), ERR_CONFLICT);
    assert_int_not_equal(stat(key, &st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_kept_on_restart),
        cmocka_unit_test(test_lone_file_is_not_overwritten),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
