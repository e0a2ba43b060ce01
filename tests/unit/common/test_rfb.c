/* test_rfb.c: common/des.c against known answers (FIPS 46 and vectors
 * from `openssl enc -des-ecb -provider legacy`), the VNC authentication
 * answer, the client handshake against scripted servers on a
 * socketpair, and the browser-side handshake fed in every chunking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/des.h"
#include "common/err.h"
#include "common/rfb.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        sscanf(s + 2 * i, "%2hhx", &out[i]);
}

static void test_des_known_answers(void **state)
{
    static const char *const v[][3] = {
        /* key, plaintext, ciphertext */
        { "133457799bbcdff1", "0123456789abcdef", "85e813540f0ab405" },
        { "7867f9ab4b99ef83", "cddedec4239a319b", "9b28dce809a087dd" },
        { "91c5ef8c0ffaa6f1", "251900b2bf7bc41d", "c7f9f799891b2b5a" },
        { "dd6a1288cc346699", "2998caca58b8052e", "e1771e8349401728" },
        { "a0940003abd97d07", "b0dbbbbc5fc0b3e9", "4e07c3a223a53c4c" },
        { "ec67b56ffbb1ba99", "4ab9a329469a746e", "4bee4de11197255b" },
    };
    uint8_t key[8], in[8], want[8], out[8];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        unhex(v[i][0], key, 8);
        unhex(v[i][1], in, 8);
        unhex(v[i][2], want, 8);
        des_encrypt_block(key, in, out);
        assert_memory_equal(out, want, 8);
    }
}

static void test_vnc_response(void **state)
{
    uint8_t challenge[16], want[16], out[16];
    int i;

    (void)state;
    for (i = 0; i < 16; i++)
        challenge[i] = (uint8_t)i;
    /* key "secret\0\0" with each byte's bits mirrored: cea6c64ea62e0000 */
    unhex("ee22539f33a5983ec12f9c2edbc995dd", want, 16);
    rfb_vnc_response(challenge, "secret", out);
    assert_memory_equal(out, want, 16);
    /* only 8 bytes of a password count */
    rfb_vnc_response(challenge, "secret\0\0", out);
    assert_memory_equal(out, want, 16);
    rfb_vnc_response(challenge, "secre7", out);
    assert_memory_not_equal(out, want, 16);
}

/* A scripted server on the other end of a socketpair. */
struct server {
    int fd;
    const char *version;  /* what it sends first */
    const char *sec;      /* bytes after the client's version */
    size_t sec_len;
    const char *password; /* VNC auth: check the answer with it */
    int result_reason;    /* send a reason after a failed result */
    int got_choice;
    char got_version[13];
    int answer_ok;
};

static void srv_read(int fd, void *p, size_t n)
{
    char *c = p;

    while (n) {
        ssize_t r = read(fd, c, n);

        if (r <= 0)
            return;
        c += r;
        n -= (size_t)r;
    }
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    uint8_t challenge[16], answer[16], expect[16], choice = 0;
    int i;

    if (write(s->fd, s->version, strlen(s->version)) < 0)
        return NULL;
    srv_read(s->fd, s->got_version, 12);
    if (s->sec_len && write(s->fd, s->sec, s->sec_len) < 0)
        return NULL;
    if (!s->password && s->sec_len < 4) {
        srv_read(s->fd, &choice, 1);
        s->got_choice = choice;
        if (choice == RFB_SEC_NONE && write(s->fd, "\0\0\0\0", 4) < 0)
            return NULL;
        return NULL;
    }
    if (s->password) {
        if (s->sec_len < 4) {
            srv_read(s->fd, &choice, 1);
            s->got_choice = choice;
        }
        for (i = 0; i < 16; i++)
            challenge[i] = (uint8_t)(i * 7 + 3);
        if (write(s->fd, challenge, 16) < 0)
            return NULL;
        srv_read(s->fd, answer, 16);
        rfb_vnc_response(challenge, s->password, expect);
        s->answer_ok = !memcmp(answer, expect, 16);
        if (s->answer_ok) {
            if (write(s->fd, "\0\0\0\0", 4) < 0)
                return NULL;
        } else if (write(s->fd, "\0\0\0\1", 4) < 0 ||
                   (s->result_reason &&
                    write(s->fd, "\0\0\0\6denied", 10) < 0)) {
            return NULL;
        }
    }
    return NULL;
}

static int run_client(struct server *s, const char *password, char *why,
                      size_t cap)
{
    pthread_t t;
    int sv[2], rc;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s->fd = sv[0];
    assert_int_equal(pthread_create(&t, NULL, server_main, s), 0);
    rc = rfb_client_handshake(sv[1], password, 2000, why, cap);
    close(sv[1]);
    pthread_join(t, NULL);
    close(sv[0]);
    return rc;
}

static void test_client_none(void **state)
{
    struct server s = { .version = "RFB 003.008\n",
                        .sec = "\x02\x02\x01",
                        .sec_len = 3 };
    char why[128];

    (void)state;
    assert_int_equal(run_client(&s, NULL, why, sizeof(why)), 0);
    assert_string_equal(s.got_version, "RFB 003.008\n");
    assert_int_equal(s.got_choice, RFB_SEC_NONE); /* None preferred */
}

static void test_client_vnc_auth(void **state)
{
    struct server s = { .version = "RFB 003.008\n",
                        .sec = "\x01\x02",
                        .sec_len = 2,
                        .password = "Pw4xenit" };
    char why[128];

    (void)state;
    assert_int_equal(run_client(&s, "Pw4xenit", why, sizeof(why)), 0);
    assert_int_equal(s.got_choice, RFB_SEC_VNC);
    assert_true(s.answer_ok);

    memset(&s.got_version, 0, sizeof(s.got_version));
    s.result_reason = 1;
    assert_int_equal(run_client(&s, "wrong", why, sizeof(why)), ERR_FORBIDDEN);
    assert_false(s.answer_ok);
    assert_non_null(strstr(why, "denied"));
}

static void test_client_vnc_auth_needs_a_password(void **state)
{
    struct server s = { .version = "RFB 003.008\n",
                        .sec = "\x01\x02",
                        .sec_len = 2 };
    char why[128];

    (void)state;
    assert_int_equal(run_client(&s, NULL, why, sizeof(why)), ERR_UNSUPPORTED);
    assert_non_null(strstr(why, "no security type"));
}

static void test_client_version_33(void **state)
{
    struct server s = { .version = "RFB 003.003\n",
                        .sec = "\0\0\0\2",
                        .sec_len = 4,
                        .password = "abc" };
    char why[128];

    (void)state;
    assert_int_equal(run_client(&s, "abc", why, sizeof(why)), 0);
    assert_string_equal(s.got_version, "RFB 003.003\n");
    assert_true(s.answer_ok);
}

static void test_client_refusals(void **state)
{
    struct server notrfb = { .version = "SSH-2.0-xx\r\n" };
    struct server refused = { .version = "RFB 003.008\n",
                              .sec = "\x00\x00\x00\x00\x04" "busy",
                              .sec_len = 9 };
    struct server silent = { .version = "RFB 0" };
    char why[128];

    (void)state;
    assert_int_equal(run_client(&notrfb, NULL, why, sizeof(why)), ERR_IO);
    assert_int_equal(run_client(&refused, NULL, why, sizeof(why)),
                     ERR_FORBIDDEN);
    assert_non_null(strstr(why, "busy"));
    assert_int_equal(run_client(&silent, NULL, why, sizeof(why)), ERR_TIMEOUT);
}

/* Feed `in` to a fresh front in chunks of `step`; the replies joined. */
static int front_run(const char *in, size_t n, size_t step, struct buf *out,
                     size_t *rest_out)
{
    struct rfb_front f;
    size_t off = 0, used;
    int rc = 0;

    rfb_front_init(&f);
    while (off < n) {
        size_t k = n - off < step ? n - off : step;

        rc = rfb_front_feed(&f, in + off, k, out, &used);
        if (rc)
            break;
        assert_int_equal(used, k);
        off += k;
    }
    *rest_out = rc == 1 ? n - off - used : 0;
    return rc;
}

static void test_front_handshake(void **state)
{
    static const char in38[] = "RFB 003.008\n\x01\x01rest";
    static const char in33[] = "RFB 003.003\n\x01";
    struct buf out = BUF_INIT;
    size_t step, rest;

    (void)state;
    for (step = 1; step <= sizeof(in38) - 1; step++) {
        buf_reset(&out);
        assert_int_equal(front_run(in38, sizeof(in38) - 1, step, &out, &rest),
                         1);
        /* one type (None), then SecurityResult OK */
        assert_int_equal(out.len, 6);
        assert_memory_equal(out.data, "\x01\x01\0\0\0\0", 6);
        /* ClientInit and what follows belong to the server */
        assert_int_equal(rest, 5);
    }
    buf_reset(&out);
    assert_int_equal(front_run(in33, sizeof(in33) - 1, 3, &out, &rest), 1);
    assert_int_equal(out.len, 4); /* 3.3: the server picks None */
    assert_memory_equal(out.data, "\0\0\0\1", 4);
    assert_int_equal(rest, 1);

    buf_reset(&out);
    assert_int_equal(front_run("GET / HTTP/1.1\r\n", 16, 16, &out, &rest),
                     ERR_INVALID);
    buf_reset(&out);
    assert_int_equal(front_run("RFB 003.008\n\x02", 13, 13, &out, &rest),
                     ERR_INVALID); /* VNC auth was not offered */
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_des_known_answers),
        cmocka_unit_test(test_vnc_response),
        cmocka_unit_test(test_client_none),
        cmocka_unit_test(test_client_vnc_auth),
        cmocka_unit_test(test_client_vnc_auth_needs_a_password),
        cmocka_unit_test(test_client_version_33),
        cmocka_unit_test(test_client_refusals),
        cmocka_unit_test(test_front_handshake),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
