/* pub_tasks.c: the public front-end's steps that may block (the router,
 * file reads, spool writes), run on a handler thread; a context's
 * service thread hands a job over with pub_submit() and the same
 * thread picks it up again in pub_http_completions(). Each function
 * touches only the job fields its task names (http_job.h).
 */
#include "server/http/pub_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "server/api/router.h"
#include "server/http/spool.h"
#include "server/http/workers.h"

static void submit_to(struct pub_ctx *pc, struct workers *w,
                      struct http_job *job, enum pub_task task,
                      void (*fn)(struct app *app, struct http_job *job))
{
    job->home = pc;
    job->task = task;
    job->run = fn;
    job->in_flight = 1;
    workers_submit(w, job);
}

void pub_submit(struct pub_ctx *pc, struct http_job *job, enum pub_task task,
                void (*fn)(struct app *app, struct http_job *job))
{
    submit_to(pc, pc->h->workers, job, task, fn);
}

void pub_submit_slow(struct pub_ctx *pc, struct http_job *job,
                     enum pub_task task,
                     void (*fn)(struct app *app, struct http_job *job))
{
    submit_to(pc, pc->h->slow, job, task, fn);
}

void pub_run_read(struct app *app, struct http_job *job)
{
    size_t want, got = 0;
    ssize_t n;

    (void)app;
    if (!job->rd)
        job->rd = xmalloc(PUB_READ);
    want = job->fd_left < PUB_READ ? (size_t)job->fd_left : PUB_READ;
    while (got < want) {
        n = read(job->r.body_fd, job->rd + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_error("http: %s: the file ended early or failed: %s",
                      job->q.path, n ? strerror(errno) : "end of file");
            job->rd_err = 1;
            break;
        }
        got += (size_t)n;
    }
    job->rd_len = got;
    job->rd_off = 0;
    job->fd_left -= (int64_t)got;
}

void pub_run_route(struct app *app, struct http_job *job)
{
    router_dispatch(app, &job->q, &job->r);
    job->fd_left = job->r.body_fd >= 0 ? job->r.body_fd_len : 0;
    /* Small files (the UI) go out without a second trip. */
    if (job->fd_left > 0 && strcmp(job->q.method, "HEAD"))
        pub_run_read(app, job);
}

void pub_run_upload_open(struct app *app, struct http_job *job)
{
    job->spool_err = http_job_upload_open(job, app, job->spool_dir);
}

void pub_run_spool(struct app *app, struct http_job *job)
{
    (void)app;
    if (!job->spool_err)
        job->spool_err = spool_pwrite(job->q.body_fd, job->spool_out.data,
                                      job->spool_out.len, job->spool_out_off);
    buf_reset(&job->spool_out);
}
