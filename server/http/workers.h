/* workers.h: the handler thread pool of the public front-end. An I/O
 * thread submits parsed requests (struct http_job); a worker runs the
 * router on each and hands it back through the front-end's done
 * function, which must only queue the job for the I/O thread that owns
 * its connection and signal it (lws_cancel_service). The pool is shared
 * by every I/O thread: it does not know which one a job came from.
 *
 * Thread safe.
 */
#ifndef XENITH_SERVER_HTTP_WORKERS_H
#define XENITH_SERVER_HTTP_WORKERS_H

struct app;
struct http_job;
struct workers;

/* Called on a worker thread with each finished job (**steals** it
 * back). Must not block beyond a short mutex. */
typedef void (*workers_done_fn)(struct http_job *job);

/* Start n threads (n >= 1). 0 or an error. */
int workers_start(struct app *app, int n, workers_done_fn done,
                  struct workers **out);

/* Queue job (**steals** until it comes back through done). */
void workers_submit(struct workers *w, struct http_job *job);

/* Stop and join the threads (a job running finishes and goes to done),
 * then free every job still queued (their connections are gone by
 * then). NULL ok. */
void workers_stop(struct workers *w);

#endif
