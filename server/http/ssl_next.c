#include "server/http/ssl_next.h"

#include <dlfcn.h>
#include <stddef.h>

void *ssl_next(void **cache, const char *name)
{
    void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);

    if (!fn) {
        fn = dlsym(RTLD_NEXT, name);
        if (fn)
            __atomic_store_n(cache, fn, __ATOMIC_RELEASE);
    }
    return fn;
}
