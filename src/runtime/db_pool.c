/*
 * db_pool — a fixed set of worker threads, each with its own database connection, fed
 * from one FIFO queue under a mutex. The loops never wait on it: they submit and return;
 * results come back through loop_msg. See db_pool.h for the contract.
 */
#include "runtime/db_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "metrics/metrics.h"

/* The metrics of every pool of the process (docs/metrics.md). */
static metrics_family_t *_Atomic m_queued;
static metrics_family_t *_Atomic m_wait;
static metrics_family_t *_Atomic m_duration;

/* The labelled families, once the operations are known (registration is idempotent). */
static void metrics_ready(void)
{
    size_t n;
    const char *const *ops = metrics_operations(&n);
    if (atomic_load_explicit(&m_duration, memory_order_acquire) != NULL || n < 2)
        return;
    metrics_label_t label = {"operation", ops, n};
    atomic_store(&m_wait,
                 metrics_histogram("meetoa_db_job_wait_seconds",
                                   "Time database jobs waited for a worker, by the operation that queued them.", &label,
                                   1, metrics_duration_buckets, metrics_duration_nbuckets));
    atomic_store_explicit(&m_duration,
                          metrics_histogram("meetoa_db_job_duration_seconds",
                                            "Time database jobs ran on a worker, by the operation that queued them.",
                                            &label, 1, metrics_duration_buckets, metrics_duration_nbuckets),
                          memory_order_release);
}

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    db_job_t *head, *tail;
    int stopping;
    int threads; /* started */
    int nstores; /* opened */
    pthread_t *tids;
    store_t **stores;
};

typedef struct worker_arg {
    db_pool_t *pool;
    int index;
} worker_arg_t;

static db_job_t *next_job(db_pool_t *pool)
{
    pthread_mutex_lock(&pool->lock);
    while (pool->head == NULL && !pool->stopping)
        pthread_cond_wait(&pool->wake, &pool->lock);
    db_job_t *job = pool->head;
    if (job != NULL) {
        pool->head = job->_next;
        if (pool->head == NULL)
            pool->tail = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    return job;
}

static void *worker_main(void *p)
{
    worker_arg_t *arg = p;
    db_pool_t *pool = arg->pool;
    char name[16];
    snprintf(name, sizeof(name), "db-%d", arg->index);
    log_set_thread_name(name);
    store_t *store = pool->stores[arg->index];
    free(arg);

    db_job_t *job;
    while ((job = next_job(pool)) != NULL) {
        double started = metrics_now();
        metrics_gauge_add(atomic_load(&m_queued), 0, -1);
        metrics_ready();
        metrics_family_t *wait = atomic_load(&m_wait), *duration = atomic_load(&m_duration);
        metrics_observe(wait, job->_op, started - job->_queued_at);
        job->run(job, store);
        metrics_observe(duration, job->_op, metrics_now() - started);
        loop_msg_reply(&job->msg);
    }
    return NULL;
}

db_pool_t *db_pool_start(const char *url, int threads, char *err, size_t err_size)
{
    db_pool_t *pool = calloc(1, sizeof(*pool));
    if (pool == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    atomic_store(&m_queued, metrics_gauge("meetoa_db_jobs_queued", "Database jobs waiting for a worker.", NULL, 0));
    pool->tids = calloc((size_t)threads, sizeof(*pool->tids));
    pool->stores = calloc((size_t)threads, sizeof(*pool->stores));
    if (pool->tids == NULL || pool->stores == NULL)
        goto fail;
    for (int i = 0; i < threads; i++) {
        if ((pool->stores[i] = store_open(url, err, err_size)) == NULL)
            goto fail;
        pool->nstores = i + 1;
    }
    for (int i = 0; i < threads; i++) {
        worker_arg_t *arg = malloc(sizeof(*arg));
        if (arg == NULL)
            goto fail;
        *arg = (worker_arg_t){pool, i};
        if (pthread_create(&pool->tids[i], NULL, worker_main, arg) != 0) {
            free(arg);
            snprintf(err, err_size, "cannot start database worker thread");
            goto fail;
        }
        pool->threads = i + 1;
    }
    return pool;

fail:
    if (pool != NULL)
        db_pool_stop(pool);
    return NULL;
}

void db_pool_stop(db_pool_t *pool)
{
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->threads; i++)
        pthread_join(pool->tids[i], NULL);
    /* Connections whose thread never started are closed here too. */
    for (int i = 0; i < pool->nstores; i++)
        store_close(pool->stores[i]);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    free(pool->stores);
    free(pool->tids);
    free(pool);
}

void db_pool_submit(db_pool_t *pool, db_job_t *job)
{
    job->_next = NULL;
    job->_queued_at = metrics_now();
    job->_op = metrics_operation();
    metrics_gauge_add(atomic_load(&m_queued), 0, 1);
    pthread_mutex_lock(&pool->lock);
    if (pool->tail != NULL)
        pool->tail->_next = job;
    else
        pool->head = job;
    pool->tail = job;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}
