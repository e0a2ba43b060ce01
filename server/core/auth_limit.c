#include "server/core/auth_limit.h"

#include <pthread.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/xalloc.h"

#define AUTH_LIMIT_SLOTS 1024

struct limit_slot {
    char key[80]; /* "u:NAME" or "a:ADDR"; "" = free */
    int64_t start;
    int failures;
};

static pthread_mutex_t limit_mu = PTHREAD_MUTEX_INITIALIZER;
static struct limit_slot limit_slots[AUTH_LIMIT_SLOTS];

static void limit_key(char *out, size_t cap, char kind, const char *s)
{
    out[0] = kind;
    out[1] = ':';
    xstrlcpy(out + 2, s, cap - 2);
}

/* The live slot for key, or NULL. Caller holds limit_mu. */
static struct limit_slot *limit_find(const char *key, int64_t now)
{
    size_t i;

    for (i = 0; i < AUTH_LIMIT_SLOTS; i++) {
        struct limit_slot *s = &limit_slots[i];

        if (!s->key[0] || strcmp(s->key, key))
            continue;
        if (now - s->start >= AUTH_LIMIT_WINDOW_S) {
            s->key[0] = '\0';
            return NULL;
        }
        return s;
    }
    return NULL;
}

/* A free or expired slot, else the oldest one. Caller holds limit_mu. */
static struct limit_slot *limit_alloc(int64_t now)
{
    struct limit_slot *oldest = &limit_slots[0];
    size_t i;

    for (i = 0; i < AUTH_LIMIT_SLOTS; i++) {
        struct limit_slot *s = &limit_slots[i];

        if (!s->key[0] || now - s->start >= AUTH_LIMIT_WINDOW_S)
            return s;
        if (s->start < oldest->start)
            oldest = s;
    }
    return oldest;
}

static int64_t limit_wait(const char *key, int max, int64_t now)
{
    struct limit_slot *s = limit_find(key, now);

    if (!s || s->failures < max)
        return 0;
    return s->start + AUTH_LIMIT_WINDOW_S - now;
}

int64_t auth_limit_check(const char *username, const char *addr)
{
    char ku[80], ka[80];
    int64_t now = time_mono_ms() / 1000, wu, wa;

    limit_key(ku, sizeof(ku), 'u', username);
    limit_key(ka, sizeof(ka), 'a', addr);
    pthread_mutex_lock(&limit_mu);
    wu = limit_wait(ku, AUTH_LIMIT_USER, now);
    wa = limit_wait(ka, AUTH_LIMIT_ADDR, now);
    pthread_mutex_unlock(&limit_mu);
    return wu > wa ? wu : wa;
}

static void limit_count(const char *key, int64_t now)
{
    struct limit_slot *s = limit_find(key, now);

    if (!s) {
        s = limit_alloc(now);
        xstrlcpy(s->key, key, sizeof(s->key));
        s->start = now;
        s->failures = 0;
    }
    s->failures++;
}

void auth_limit_fail(const char *username, const char *addr)
{
    char ku[80], ka[80];
    int64_t now = time_mono_ms() / 1000;

    limit_key(ku, sizeof(ku), 'u', username);
    limit_key(ka, sizeof(ka), 'a', addr);
    pthread_mutex_lock(&limit_mu);
    limit_count(ku, now);
    limit_count(ka, now);
    pthread_mutex_unlock(&limit_mu);
}

void auth_limit_success(const char *username)
{
    char ku[80];
    struct limit_slot *s;

    limit_key(ku, sizeof(ku), 'u', username);
    pthread_mutex_lock(&limit_mu);
    s = limit_find(ku, time_mono_ms() / 1000);
    if (s)
        s->key[0] = '\0';
    pthread_mutex_unlock(&limit_mu);
}

void auth_limit_reset(void)
{
    pthread_mutex_lock(&limit_mu);
    memset(limit_slots, 0, sizeof(limit_slots));
    pthread_mutex_unlock(&limit_mu);
}
