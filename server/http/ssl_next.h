/* ssl_next.h: the libssl function a stand-in of ours replaces. lws
 * calls some libssl functions through its PLT, so a definition in the
 * daemon takes their place (h2_settings.c: SSL_write, nul_guard.c:
 * SSL_read); each calls on to the real one found here. Thread safe.
 */
#ifndef XENITH_SERVER_HTTP_SSL_NEXT_H
#define XENITH_SERVER_HTTP_SSL_NEXT_H

/* The next definition of name after ours (dlsym(RTLD_NEXT)), looked up
 * once and kept in *cache; NULL when libssl has none. */
void *ssl_next(void **cache, const char *name);

#endif
