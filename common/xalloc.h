/* xalloc.h: allocation that aborts on failure.
 *
 * All return **new** memory the caller frees with free(). Never NULL.
 * Thread safe.
 */
#ifndef XENITH_COMMON_XALLOC_H
#define XENITH_COMMON_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t num, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy src into dst[cap], always NUL-terminated; returns -1 (and copies
 * what fits) if src was truncated, else 0. */
int xstrlcpy(char *dst, const char *src, size_t cap);

#endif
