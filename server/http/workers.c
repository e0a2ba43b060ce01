#include "server/http/workers.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "server/http/http_job.h"

struct job_list {
    struct http_job *head, *tail;
};

struct workers {
    struct app *app;
    workers_done_fn done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job_list todo;
    int stopping;
    pthread_t *threads;
    int num_threads;
};

static void list_push(struct job_list *l, struct http_job *job)
{
    job->next = NULL;
    if (l->tail)
        l->tail->next = job;
    else
        l->head = job;
    l->tail = job;
}

static struct http_job *list_pop(struct job_list *l)
{
    struct http_job *job = l->head;

    if (job) {
        l->head = job->next;
        if (!l->head)
            l->tail = NULL;
        job->next = NULL;
    }
    return job;
}

static void *worker_main(void *arg)
{
    struct workers *w = arg;
    struct http_job *job;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->stopping && !w->todo.head)
            pthread_cond_wait(&w->cond, &w->lock);
        if (w->stopping)
            break;
        job = list_pop(&w->todo);
        pthread_mutex_unlock(&w->lock);

        http_job_run(w->app, job);
        w->done(job);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int workers_start(struct app *app, int n, workers_done_fn done,
                  struct workers **out)
{
    struct workers *w = xcalloc(1, sizeof(*w));
    int i, rc;

    w->app = app;
    w->done = done;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->threads = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*w->threads));
    for (i = 0; i < (n > 0 ? n : 1); i++) {
        rc = pthread_create(&w->threads[i], NULL, worker_main, w);
        if (rc) {
            log_error("http: cannot start handler thread: %s",
                      err_str(err_from_errno(rc)));
            workers_stop(w);
            *out = NULL;
            return err_from_errno(rc);
        }
        w->num_threads++;
    }
    *out = w;
    return 0;
}

void workers_submit(struct workers *w, struct http_job *job)
{
    pthread_mutex_lock(&w->lock);
    list_push(&w->todo, job);
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

void workers_stop(struct workers *w)
{
    struct http_job *job;
    int i;

    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    for (i = 0; i < w->num_threads; i++)
        pthread_join(w->threads[i], NULL);
    while ((job = list_pop(&w->todo)))
        http_job_free(job);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w->threads);
    free(w);
}
