/* workers.h: the handler thread pool of the public front-end. The I/O
 * thread submits parsed requests (struct http_job); a worker runs the
 * router on each, puts it on the completion queue and, when that queue
 * was empty, calls the front-end's wake function, which must only signal
 * (lws_cancel_service). The I/O thread then takes all the finished jobs
 * (it must take them all on each wake-up) and writes them.
 *
 * Thread safe.
 */
#ifndef XENITH_SERVER_HTTP_WORKERS_H
#define XENITH_SERVER_HTTP_WORKERS_H

struct app;
struct http_job;
struct workers;

typedef void (*workers_wake_fn)(void *opaque);

/* Start n threads (n >= 1). 0 or an error. */
int workers_start(struct app *app, int n, workers_wake_fn wake, void *opaque,
                  struct workers **out);

/* Queue job (**steals** until it comes back from workers_take_done). */
void workers_submit(struct workers *w, struct http_job *job);

/* The finished jobs, oldest first, linked by ->next (**new** list;
 * the caller owns them again). NULL when none. */
struct http_job *workers_take_done(struct workers *w);

/* Stop and join the threads, then free every job still queued or
 * finished (their connections are gone by then). NULL ok. */
void workers_stop(struct workers *w);

#endif
