#include "server/core/tzfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xalloc.h"

#define TZ_DIR      "/usr/share/zoneinfo"
#define TZ_MAX_FILE (1 << 20) /* real zone files are < 4 KiB */
#define TZ_MAX_NAME 127

/* A POSIX TZ rule date: Jn (julian 1..365, no Feb 29), n (0..365) or
 * Mm.w.d, plus the local time of day it takes effect. */
struct tz_rule_date {
    char kind; /* 'J', 'D' (zero-based day) or 'M' */
    int a, b, c;
    int32_t secs;
};

/* The footer: what applies after the last transition. */
struct tz_rule {
    int present;
    int has_dst;
    int32_t std_off; /* seconds east */
    int32_t dst_off;
    struct tz_rule_date start, end;
};

struct tz {
    int64_t *times; /* transitions, ascending */
    int32_t *offs;  /* offset from times[i] on */
    size_t num;
    int32_t initial; /* offset before times[0] */
    struct tz_rule rule;
};

int tz_name_valid(const char *name)
{
    size_t len = strlen(name);
    const char *p;

    if (len == 0 || len > TZ_MAX_NAME || name[0] == '/')
        return 0;
    for (p = name; *p; p++) {
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
              ('0' <= *p && *p <= '9') || strchr("_+-/.", *p)))
            return 0;
    }
    /* No "." or ".." component, no empty one. */
    for (p = name; *p;) {
        size_t n = strcspn(p, "/");

        if (n == 0 || (n == 1 && p[0] == '.') ||
            (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n;
        if (*p == '/') {
            p++;
            if (!*p)
                return 0;
        }
    }
    return 1;
}

/* ---- civil calendar (Howard Hinnant's algorithms) ---- */

int64_t tz_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t days, int64_t *y_out, int *m_out, int *d_out)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);

    *y_out = yoe + era * 400 + (m <= 2);
    *m_out = m;
    *d_out = d;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* ---- POSIX TZ footer ---- */

static const char *parse_name(const char *p)
{
    const char *s = p;

    if (*p == '<') {
        p = strchr(p, '>');
        return p && p - s > 1 ? p + 1 : NULL;
    }
    while (('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]h[h[h]][:mm[:ss]] into seconds; NULL on error. */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1, part = 0;
    int32_t v[3] = { 0, 0, 0 };

    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    for (;;) {
        int digits = 0;

        while ('0' <= *p && *p <= '9' && digits < 3) {
            v[part] = v[part] * 10 + (*p++ - '0');
            digits++;
        }
        if (!digits || (part > 0 && v[part] > 59) || v[0] > 167)
            return NULL;
        if (*p != ':' || part == 2)
            break;
        p++;
        part++;
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return p;
}

static const char *parse_num(const char *p, int lo, int hi, int *out)
{
    int v = 0, digits = 0;

    while ('0' <= *p && *p <= '9' && digits < 4) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits || v < lo || v > hi)
        return NULL;
    *out = v;
    return p;
}

static const char *parse_date(const char *p, struct tz_rule_date *d)
{
    d->secs = 7200;
    if (*p == 'M') {
        d->kind = 'M';
        if (!(p = parse_num(p + 1, 1, 12, &d->a)) || *p++ != '.' ||
            !(p = parse_num(p, 1, 5, &d->b)) || *p++ != '.' ||
            !(p = parse_num(p, 0, 6, &d->c)))
            return NULL;
    } else if (*p == 'J') {
        d->kind = 'J';
        if (!(p = parse_num(p + 1, 1, 365, &d->a)))
            return NULL;
    } else {
        d->kind = 'D';
        if (!(p = parse_num(p, 0, 365, &d->a)))
            return NULL;
    }
    if (*p == '/')
        p = parse_hms(p + 1, &d->secs);
    return p;
}

static int parse_rule(const char *s, struct tz_rule *r)
{
    const char *p = s;
    int32_t v;

    memset(r, 0, sizeof(*r));
    if (!*p) /* empty footer: nothing applies after the last change */
        return 0;
    if (!(p = parse_name(p)) || !(p = parse_hms(p, &v)))
        return ERR_INVALID;
    r->present = 1;
    r->std_off = -v;
    if (!*p)
        return 0;
    if (!(p = parse_name(p)))
        return ERR_INVALID;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, &v)))
            return ERR_INVALID;
        r->dst_off = -v;
    }
    if (!*p) { /* no rule: the US default */
        r->start = (struct tz_rule_date){ 'M', 3, 2, 0, 7200 };
        r->end = (struct tz_rule_date){ 'M', 11, 1, 0, 7200 };
        return 0;
    }
    if (*p++ != ',' || !(p = parse_date(p, &r->start)) || *p++ != ',' ||
        !(p = parse_date(p, &r->end)) || *p)
        return ERR_INVALID;
    return 0;
}

/* Local seconds since the epoch at which date d happens in year y. */
static int64_t rule_local(int64_t y, const struct tz_rule_date *d)
{
    int64_t day;

    if (d->kind == 'J') {
        day = tz_days_from_civil(y, 1, 1) + d->a - 1;
        if (is_leap(y) && d->a >= 60)
            day++;
    } else if (d->kind == 'D') {
        day = tz_days_from_civil(y, 1, 1) + d->a;
    } else {
        int64_t first = tz_days_from_civil(y, d->a, 1);
        int wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01: Thu */
        int md = 1 + (d->c - wd + 7) % 7 + (d->b - 1) * 7;

        while (md > month_days(y, d->a))
            md -= 7;
        day = first + md - 1;
    }
    return day * 86400 + d->secs;
}

/* The rule's DST start and end instants in year y. */
static void rule_year(const struct tz_rule *r, int64_t y, int64_t *start_out,
                      int64_t *end_out)
{
    *start_out = rule_local(y, &r->start) - r->std_off;
    *end_out = rule_local(y, &r->end) - r->dst_off;
}

static int64_t year_of(int64_t t)
{
    int64_t y;
    int m, d;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);

    tz_civil_from_days(days, &y, &m, &d);
    return y;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t t)
{
    int64_t s, e;

    if (!r->has_dst)
        return r->std_off;
    rule_year(r, year_of(t + r->std_off), &s, &e);
    if (s < e)
        return s <= t && t < e ? r->dst_off : r->std_off;
    return e <= t && t < s ? r->std_off : r->dst_off;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
    int version;
    uint32_t isut, isstd, leap, time, type, chars;
};

static int read_hdr(const unsigned char *p, size_t len, struct tzif_hdr *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return ERR_INVALID;
    h->version = p[4] ? p[4] - '0' : 1;
    h->isut = be32(p + 20);
    h->isstd = be32(p + 24);
    h->leap = be32(p + 28);
    h->time = be32(p + 32);
    h->type = be32(p + 36);
    h->chars = be32(p + 40);
    if (h->type == 0 || h->type > 256 || h->time > 100000 ||
        h->chars > 100000 || h->leap > 100000 ||
        (h->isut && h->isut != h->type) || (h->isstd && h->isstd != h->type))
        return ERR_INVALID;
    return 0;
}

static size_t data_len(const struct tzif_hdr *h, int tsize)
{
    return (size_t)h->time * (tsize + 1) + (size_t)h->type * 6 + h->chars +
           (size_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

int tz_parse(const unsigned char *data, size_t len, struct tz **tz_out)
{
    struct tz *z = NULL;
    struct tzif_hdr h;
    const unsigned char *p = data, *types, *idx;
    size_t need, i;
    int tsize = 4, rc;

    if ((rc = read_hdr(p, len, &h)))
        goto out;
    need = 44 + data_len(&h, 4);
    if (need > len) {
        rc = ERR_INVALID;
        goto out;
    }
    if (h.version >= 2) { /* skip the v1 block, use the 64-bit one */
        p += need;
        len -= need;
        if ((rc = read_hdr(p, len, &h)))
            goto out;
        tsize = 8;
        need = 44 + data_len(&h, 8);
        if (need > len) {
            rc = ERR_INVALID;
            goto out;
        }
    }
    z = xcalloc(1, sizeof(*z));
    z->num = h.time;
    z->times = xcalloc(h.time ? h.time : 1, sizeof(*z->times));
    z->offs = xcalloc(h.time ? h.time : 1, sizeof(*z->offs));
    idx = p + 44 + (size_t)h.time * tsize;
    types = idx + h.time;
    for (i = 0; i < h.time; i++) {
        const unsigned char *tp = p + 44 + i * tsize;

        z->times[i] = tsize == 8 ? be64(tp) : (int32_t)be32(tp);
        if (idx[i] >= h.type || (i && z->times[i] <= z->times[i - 1])) {
            rc = ERR_INVALID;
            goto out;
        }
        z->offs[i] = (int32_t)be32(types + idx[i] * 6);
    }
    z->initial = (int32_t)be32(types);
    if (h.version >= 2) {
        const unsigned char *f = p + need;
        const unsigned char *end = data + (p - data) + len;
        const unsigned char *nl;
        char footer[128];

        if (f >= end || *f != '\n' ||
            !(nl = memchr(f + 1, '\n', (size_t)(end - f - 1))) ||
            (size_t)(nl - f - 1) >= sizeof(footer)) {
            rc = ERR_INVALID;
            goto out;
        }
        memcpy(footer, f + 1, (size_t)(nl - f - 1));
        footer[nl - f - 1] = '\0';
        if ((rc = parse_rule(footer, &z->rule)))
            goto out;
    }
    *tz_out = z;
    z = NULL;
    rc = 0;
out:
    tz_free(z);
    return rc;
}

static struct tz *tz_utc(void)
{
    struct tz *z = xcalloc(1, sizeof(*z));

    z->times = xcalloc(1, sizeof(*z->times));
    z->offs = xcalloc(1, sizeof(*z->offs));
    return z;
}

int tz_load(const char *dir, const char *name, struct tz **tz_out)
{
    char path[512];
    unsigned char *data = NULL;
    struct stat stb;
    size_t got = 0;
    int fd = -1, rc;

    if (!tz_name_valid(name))
        return ERR_INVALID;
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : TZ_DIR, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
            *tz_out = tz_utc();
            return 0;
        }
        rc = errno == ENOENT || errno == ENOTDIR ? ERR_NOTFOUND : ERR_INVALID;
        goto out;
    }
    if (fstat(fd, &stb) || !S_ISREG(stb.st_mode) || stb.st_size > TZ_MAX_FILE) {
        rc = ERR_INVALID;
        goto out;
    }
    data = xmalloc((size_t)stb.st_size + 1);
    while (got < (size_t)stb.st_size) {
        ssize_t n = read(fd, data + got, (size_t)stb.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = ERR_IO;
            goto out;
        }
        got += (size_t)n;
    }
    rc = tz_parse(data, got, tz_out);
out:
    if (fd >= 0)
        close(fd);
    free(data);
    return rc;
}

void tz_free(struct tz *z)
{
    if (!z)
        return;
    free(z->times);
    free(z->offs);
    free(z);
}

/* Index of the last transition <= t, or -1. */
static ssize_t find_idx(const struct tz *z, int64_t t)
{
    size_t lo = 0, hi = z->num;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (z->times[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ssize_t)lo - 1;
}

static int use_rule(const struct tz *z, int64_t t)
{
    return z->rule.present && (z->num == 0 || t >= z->times[z->num - 1]);
}

int32_t tz_offset(const struct tz *z, int64_t t)
{
    ssize_t i;

    if (use_rule(z, t))
        return rule_offset(&z->rule, t);
    i = find_idx(z, t);
    return i < 0 ? z->initial : z->offs[i];
}

void tz_changes(const struct tz *z, int64_t t, int64_t *since_out,
                int64_t *next_out)
{
    ssize_t i = find_idx(z, t);
    int64_t since = i < 0 ? INT64_MIN : z->times[i];
    int64_t next = (size_t)(i + 1) < z->num ? z->times[i + 1] : INT64_MAX;

    if (use_rule(z, t) && z->rule.has_dst) {
        int64_t y = year_of(t + z->rule.std_off), yy;
        int64_t floor = z->num ? z->times[z->num - 1] : INT64_MIN;

        for (yy = y - 1; yy <= y + 1; yy++) {
            int64_t c[2];
            int k;

            rule_year(&z->rule, yy, &c[0], &c[1]);
            for (k = 0; k < 2; k++) {
                if (c[k] <= floor)
                    continue;
                if (c[k] <= t && c[k] > since)
                    since = c[k];
                if (c[k] > t && c[k] < next)
                    next = c[k];
            }
        }
    }
    *since_out = since;
    *next_out = next;
}
