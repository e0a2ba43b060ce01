#include "server/api/req.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xalloc.h"

void resp_init(struct resp *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, 0);
    r->body_fd = -1;
}

void resp_release(struct resp *r)
{
    size_t i;

    if (!r)
        return;
    buf_release(&r->body);
    for (i = 0; i < r->num_extra; i++) {
        free(r->extra[i].name);
        free(r->extra[i].value);
    }
    r->num_extra = 0;
    if (r->body_fd >= 0)
        close(r->body_fd);
    r->body_fd = -1;
}

void resp_header(struct resp *r, const char *name, const char *value)
{
    if (r->num_extra >= RESP_MAX_EXTRA)
        return;
    r->extra[r->num_extra].name = xstrdup(name);
    r->extra[r->num_extra].value = xstrdup(value);
    r->num_extra++;
}

const char *req_header(const struct req *q, const char *name)
{
    size_t i;

    for (i = 0; i < q->num_headers; i++)
        if (!strcasecmp(q->headers[i].name, name))
            return q->headers[i].value;
    return NULL;
}

int req_cookie(const struct req *q, const char *name, char *out, size_t cap)
{
    const char *c = req_header(q, "Cookie");
    size_t nlen = strlen(name);

    while (c && *c) {
        const char *end;
        size_t vlen;

        while (*c == ' ' || *c == ';')
            c++;
        end = strchr(c, ';');
        if (!end)
            end = c + strlen(c);
        if ((size_t)(end - c) > nlen && !strncmp(c, name, nlen) &&
            c[nlen] == '=') {
            vlen = (size_t)(end - c) - nlen - 1;
            if (vlen >= cap)
                return ERR_INVALID;
            memcpy(out, c + nlen + 1, vlen);
            out[vlen] = '\0';
            return 0;
        }
        c = end;
    }
    return ERR_NOTFOUND;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int req_query(const struct req *q, const char *name, char *out, size_t cap)
{
    const char *s = q->query;
    size_t nlen = strlen(name);

    while (s && *s) {
        const char *end = strchr(s, '&');
        size_t o = 0;

        if (!end)
            end = s + strlen(s);
        if (!strncmp(s, name, nlen) && (s + nlen == end || s[nlen] == '=')) {
            const char *v = s + nlen + (s + nlen < end ? 1 : 0);

            while (v < end) {
                char ch = *v++;

                if (ch == '+') {
                    ch = ' ';
                } else if (ch == '%' && end - v >= 2 && hexval(v[0]) >= 0 &&
                           hexval(v[1]) >= 0) {
                    ch = (char)(hexval(v[0]) * 16 + hexval(v[1]));
                    v += 2;
                }
                if (o + 1 >= cap)
                    return ERR_INVALID;
                out[o++] = ch;
            }
            out[o] = '\0';
            return 0;
        }
        s = *end ? end + 1 : end;
    }
    return ERR_NOTFOUND;
}
