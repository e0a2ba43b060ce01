#include "server/core/cron.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "server/core/tzfile.h"

#define CRON_HORIZON (8 * 366 * 86400LL)

struct field_def {
    const char *name;
    int lo, hi;
    const char *const *names; /* names[i] is value lo + i, or NULL */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr",
                                           "may", "jun", "jul", "aug",
                                           "sep", "oct", "nov", "dec" };
static const char *const day_names[] = { "sun", "mon", "tue", "wed",
                                         "thu", "fri", "sat" };

static const struct field_def fields[5] = {
    { "minute", 0, 59, NULL },          { "hour", 0, 23, NULL },
    { "day of month", 1, 31, NULL },    { "month", 1, 12, month_names },
    { "day of week", 0, 7, day_names },
};

/* One value: a number or (where the field has them) a 3-letter name. */
static const char *parse_value(const struct field_def *f, const char *p,
                               int *out)
{
    int v = 0, digits = 0;
    size_t i, n;

    if ('0' <= *p && *p <= '9') {
        while ('0' <= *p && *p <= '9' && digits < 3) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        if (v < f->lo || v > f->hi || ('0' <= *p && *p <= '9'))
            return NULL;
        *out = v;
        return p;
    }
    if (!f->names)
        return NULL;
    n = f == &fields[3] ? 12 : 7;
    for (i = 0; i < n; i++) {
        if (strncasecmp(p, f->names[i], 3) == 0) {
            *out = f->lo + (int)i;
            return p + 3;
        }
    }
    return NULL;
}

/* One comma-separated element into *bits. */
static const char *parse_elem(const struct field_def *f, const char *p,
                              uint64_t *bits)
{
    int lo, hi, step = 1, v;

    if (*p == '*') {
        lo = f->lo;
        hi = f->hi == 7 ? 6 : f->hi;
        p++;
    } else {
        if (!(p = parse_value(f, p, &lo)))
            return NULL;
        hi = lo;
        if (*p == '-') {
            if (!(p = parse_value(f, p + 1, &hi)) || hi < lo)
                return NULL;
        } else if (*p == '/') {
            hi = f->hi == 7 ? 6 : f->hi;
        }
    }
    if (*p == '/') {
        int digits = 0;

        p++;
        step = 0;
        while ('0' <= *p && *p <= '9' && digits < 3) {
            step = step * 10 + (*p++ - '0');
            digits++;
        }
        if (step < 1 || step > f->hi)
            return NULL;
    }
    for (v = lo; v <= hi; v += step)
        *bits |= 1ULL << (v == 7 && f->hi == 7 ? 0 : v);
    return p;
}

static int parse_field(const struct field_def *f, const char *s, size_t len,
                       uint64_t *bits)
{
    char buf[128];
    const char *p = buf;

    if (len == 0 || len >= sizeof(buf))
        return ERR_INVALID;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *bits = 0;
    for (;;) {
        if (!(p = parse_elem(f, p, bits)))
            return ERR_INVALID;
        if (!*p)
            return 0;
        if (*p++ != ',')
            return ERR_INVALID;
    }
}

int cron_parse(const char *expr, struct cron *out, const char **field_out,
               char *msg, size_t cap)
{
    const char *p = expr;
    uint64_t bits[5];
    int star[5];
    int i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < 5; i++) {
        size_t n;

        while (*p == ' ' || *p == '\t')
            p++;
        n = strcspn(p, " \t");
        if (n == 0)
            break;
        star[i] = *p == '*';
        if (parse_field(&fields[i], p, n, &bits[i])) {
            if (field_out)
                *field_out = fields[i].name;
            if (msg)
                snprintf(msg, cap, "cron %s field \"%.*s\" is invalid",
                         fields[i].name, (int)(n > 32 ? 32 : n), p);
            return ERR_INVALID;
        }
        p += n;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (i < 5 || *p) {
        if (field_out)
            *field_out = "expression";
        if (msg)
            snprintf(msg, cap,
                     "cron expression needs 5 fields: minute hour "
                     "day-of-month month day-of-week");
        return ERR_INVALID;
    }
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint32_t)bits[3];
    out->dow = (uint32_t)bits[4];
    out->hour_star = star[1];
    out->dom_star = star[2];
    out->dow_star = star[4];
    return 0;
}

/* Local wall time broken down. */
struct wall {
    int64_t days; /* since the epoch */
    int64_t year;
    int month, mday, wday, hour, min;
};

static void wall_of(int64_t local, struct wall *w)
{
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t sod = local - days * 86400;

    w->days = days;
    tz_civil_from_days(days, &w->year, &w->month, &w->mday);
    w->wday = (int)(((days + 4) % 7 + 7) % 7);
    w->hour = (int)(sod / 3600);
    w->min = (int)(sod % 3600 / 60);
}

static int day_matches(const struct cron *c, const struct wall *w)
{
    int dom = !!(c->dom & (1U << w->mday));
    int dow = !!(c->dow & (1U << w->wday));

    if (c->dom_star || c->dow_star)
        return dom && dow;
    return dom || dow;
}

static int wall_matches(const struct cron *c, const struct wall *w)
{
    return (c->month & (1U << w->month)) && day_matches(c, w) &&
           (c->hour & (1U << w->hour)) && (c->minute & (1ULL << w->min));
}

/* Does any local minute in [from, to) match? (a DST gap: at most a few
 * hours) */
static int gap_matches(const struct cron *c, int64_t from, int64_t to)
{
    struct wall w;

    for (; from < to; from += 60) {
        wall_of(from, &w);
        if (wall_matches(c, &w))
            return 1;
    }
    return 0;
}

static int64_t ceil_minute(int64_t t)
{
    int64_t r = ((t % 60) + 60) % 60;

    return r ? t + 60 - r : t;
}

int cron_next(const struct cron *c, const struct tz *z, int64_t after,
              int64_t *next_out)
{
    int64_t u = ceil_minute(after + 1);
    int64_t limit = after + CRON_HORIZON;

    while (u <= limit) {
        int64_t since, next, local, jump;
        int32_t off = tz_offset(z, u), before;
        struct wall w;

        tz_changes(z, u, &since, &next);
        before = since == INT64_MIN ? off : tz_offset(z, since - 1);
        /* A repeated local time (overlap): run only the first time. */
        if (before > off && u - since < before - off && !c->hour_star) {
            u = ceil_minute(since + (before - off));
            continue;
        }
        /* Just after a gap: the skipped local minutes run now. */
        if (off > before && since <= u && u - since < 60 &&
            gap_matches(c, ceil_minute(since + before), since + off)) {
            *next_out = u;
            return 0;
        }
        local = u + off;
        wall_of(local, &w);
        if (!(c->month & (1U << w.month))) {
            int64_t y = w.year + (w.month == 12);
            int m = w.month == 12 ? 1 : w.month + 1;

            jump = tz_days_from_civil(y, m, 1) * 86400 - local;
        } else if (!day_matches(c, &w)) {
            jump = (w.days + 1) * 86400 - local;
        } else if (!(c->hour & (1U << w.hour))) {
            jump = 3600 - (local % 86400 % 3600);
        } else if (!(c->minute & (1ULL << w.min))) {
            jump = 60;
        } else {
            *next_out = u;
            return 0;
        }
        /* Never jump over an offset change: re-evaluate there. */
        if (next != INT64_MAX && u + jump > next)
            u = ceil_minute(next);
        else
            u += jump;
    }
    return ERR_NOTFOUND;
}
