/*
 * db_pool — a fixed set of worker threads, each with its own database connection, fed
 * from two FIFO queues under a mutex: single jobs, and jobs for group commit, which one
 * worker at a time takes many of at once (run_batch). The loops never wait on it: they
 * submit and return; results come back through loop_msg. See db_pool.h for the contract.
 */
#include "runtime/db_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The most jobs one batch (group commit) takes. */
#define DB_BATCH_MAX 64

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* the workers that take single jobs */
    pthread_cond_t bwake; /* the batch worker, when there is one (writer) */
    db_job_t *head, *tail;
    db_job_t *bhead, *btail; /* jobs for group commit (db_pool_submit_batched) */
    int batches;             /* batches running now */
    int batches_max;         /* at most this many at once: 1 on SQLite (one writer), else one a worker */
    int64_t batch_since_ms;  /* when the last one began (monotonic clock) */
    /* SQLite with several workers: the index of the one worker that runs every batch, and
     * only batches (its connection keeps its page cache: a commit by another connection
     * empties it at the next read); -1 = any worker runs batches and single jobs. */
    int writer;
    int watchers; /* workers in the timed wait for a stuck batch (next_job) */
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

/* A batch (or a lone batched job) running this long is taken to wait on a lock (SQLite's write
 * lock held by another process, an InnoDB row lock): the other workers then take batched jobs
 * too, one at a time, so that each waits for the lock on its own, side by side. */
#define DB_BATCH_STUCK_MS 100

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes the first job of the batched queue (under the lock). */
static db_job_t *take_batched(db_pool_t *pool, int max)
{
    db_job_t *job = pool->bhead, *last = job;
    for (int n = 1; n < max && last->_next != NULL; n++)
        last = last->_next;
    pool->bhead = last->_next;
    if (pool->bhead == NULL)
        pool->btail = NULL;
    last->_next = NULL;
    return job;
}

/* The next work of worker index: one job (*batch false), or a list of up to DB_BATCH_MAX batched
 * jobs linked by _next (*batch true; counted in batches). NULL when stopping and nothing is left
 * for this worker to do. The writer (if any) takes batches only; the others single jobs only,
 * and batched ones one at a time once the running batch looks stuck. */
static db_job_t *next_job(db_pool_t *pool, int index, bool *batch)
{
    bool writer = index == pool->writer;
    bool takes_batches = pool->writer < 0 || writer, takes_singles = !writer;
    pthread_mutex_lock(&pool->lock);
    bool stuck = false;
    for (;;) {
        if ((takes_batches && pool->bhead != NULL && pool->batches < pool->batches_max) ||
            (takes_singles && pool->head != NULL) || pool->stopping)
            break;
        if (writer) {
            pthread_cond_wait(&pool->bwake, &pool->lock);
            continue;
        }
        if (pool->bhead == NULL || pool->batches == 0) { /* (0: the writer is about to take them) */
            pthread_cond_wait(&pool->wake, &pool->lock);
            continue;
        }
        /* batched jobs wait behind a running batch: until it looks stuck */
        int64_t due = pool->batch_since_ms + DB_BATCH_STUCK_MS;
        if (now_ms() >= due) {
            stuck = true;
            break;
        }
        struct timespec at = {.tv_sec = (time_t)(due / 1000), .tv_nsec = (long)(due % 1000) * 1000000};
        pool->watchers++;
        pthread_cond_timedwait(&pool->wake, &pool->lock, &at);
        pool->watchers--;
    }
    db_job_t *job = NULL;
    *batch = false;
    if (takes_batches && pool->bhead != NULL && pool->batches < pool->batches_max) {
        job = take_batched(pool, DB_BATCH_MAX);
        pool->batches++;
        pool->batch_since_ms = now_ms();
        *batch = true;
    } else if (takes_singles && pool->head != NULL) {
        job = pool->head;
        pool->head = job->_next;
        if (pool->head == NULL)
            pool->tail = NULL;
    } else if ((stuck || (pool->stopping && pool->batches == 0)) && pool->bhead != NULL) {
        job = take_batched(pool, 1); /* alone, beside the stuck batch (or the writer, gone) */
    }
    /* else stopping, and the batched jobs left (if any) belong to the worker running a batch */
    pthread_mutex_unlock(&pool->lock);
    return job;
}

static void job_started(db_job_t *job, double started)
{
    metrics_gauge_add(atomic_load(&m_queued), 0, -1);
    metrics_ready();
    metrics_observe(atomic_load(&m_wait), job->_op, started - job->_queued_at);
}

/* Puts the jobs of list (linked by _next, already counted out of the queued gauge) at the front
 * of the single jobs, in order, for any worker to run alone. */
static void requeue_alone(db_pool_t *pool, db_job_t *list)
{
    if (list == NULL)
        return;
    db_job_t *last = list;
    int n = 1;
    for (; last->_next != NULL; last = last->_next)
        n++;
    metrics_gauge_add(atomic_load(&m_queued), 0, n);
    pthread_mutex_lock(&pool->lock);
    last->_next = pool->head;
    if (pool->head == NULL)
        pool->tail = last;
    pool->head = list;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}

/* The store's upkeep, after the answers (the top of db_pool.h); a failure is only logged (the
 * next commit makes it due again). */
static void upkeep(store_t *store)
{
    if (store_upkeep(store) != STORE_OK)
        log_warn("database upkeep failed: %s", store_last_error(store));
}

/*
 * Runs the batched jobs of list in one transaction (store_batch_begin/_end): each job's verbs
 * join it, and all of them are answered after its commit. When the batch cannot begin (the
 * database is locked, or down), or something in it failed, or its commit did, nothing of it was
 * written: its jobs go back to the front of the single jobs, so that every worker can run them
 * alone, side by side (each waits for a lock on its own, as without batches). A single job runs
 * alone at once.
 */
static void run_batch(db_pool_t *pool, store_t *store, db_job_t *list)
{
    double started = metrics_now();
    int n = 0;
    for (db_job_t *j = list; j != NULL; j = j->_next, n++)
        job_started(j, started);
    bool committed = false;
    if (n > 1 && store_batch_begin(store) == STORE_OK) {
        for (db_job_t *j = list; j != NULL && !store_batch_failed(store); j = j->_next)
            j->run(j, store);
        committed = store_batch_end(store) == STORE_OK;
        if (!committed)
            log_warn("a database batch of %d jobs was rolled back (%s); its jobs run one by one", n,
                     store_last_error(store));
    }
    if (!committed && n > 1) {
        requeue_alone(pool, list);
        list = NULL;
    } else if (!committed) {
        list->run(list, store);
    }
    double ran = metrics_now() - started;
    metrics_family_t *duration = atomic_load(&m_duration);
    while (list != NULL) {
        db_job_t *next = list->_next; /* the reply may free the job */
        metrics_observe(duration, list->_op, ran);
        loop_msg_reply(&list->msg);
        list = next;
    }
    pthread_mutex_lock(&pool->lock);
    pool->batches--;
    bool waiting = pool->bhead != NULL && pool->writer < 0; /* the writer comes back for them itself */
    pthread_mutex_unlock(&pool->lock);
    if (waiting)
        pthread_cond_signal(&pool->wake); /* after the unlock, as in submit() */
    upkeep(store);                        /* the batch's jobs are answered: they do not wait for it */
}

static void *worker_main(void *p)
{
    worker_arg_t *arg = p;
    db_pool_t *pool = arg->pool;
    char name[16];
    snprintf(name, sizeof(name), "db-%d", arg->index);
    log_set_thread_name(name);
    store_t *store = pool->stores[arg->index];
    int index = arg->index;
    free(arg);

    db_job_t *job;
    bool batch;
    while ((job = next_job(pool, index, &batch)) != NULL) {
        if (batch) {
            run_batch(pool, store, job);
            continue;
        }
        double started = metrics_now();
        job_started(job, started);
        job->run(job, store);
        metrics_observe(atomic_load(&m_duration), job->_op, metrics_now() - started);
        loop_msg_reply(&job->msg);
        upkeep(store);
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
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* the timed wait of next_job() */
    pthread_cond_init(&pool->wake, &attr);
    pthread_cond_init(&pool->bwake, NULL);
    pool->writer = -1;
    pthread_condattr_destroy(&attr);
    atomic_store(&m_queued, metrics_gauge("meetoa_db_jobs_queued", "Database jobs waiting for a worker.", NULL, 0));
    pool->tids = calloc((size_t)threads, sizeof(*pool->tids));
    pool->stores = calloc((size_t)threads, sizeof(*pool->stores));
    if (pool->tids == NULL || pool->stores == NULL)
        goto fail;
    for (int i = 0; i < threads; i++) {
        if ((pool->stores[i] = store_open(url, err, err_size)) == NULL)
            goto fail;
        pool->nstores = i + 1;
        store_defer_upkeep(pool->stores[i]);
    }
    /* SQLite has one writer: batches one after the other. A server (MariaDB) runs several at
     * once, each on its connection, so logins keep its statements' round trips side by side. */
    pool->batches_max = strcmp(store_backend_name(pool->stores[0]), "sqlite") == 0 ? 1 : threads;
    if (pool->batches_max == 1 && threads > 1)
        pool->writer = 0;
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
    pthread_cond_broadcast(&pool->bwake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->threads; i++)
        pthread_join(pool->tids[i], NULL);
    /* Connections whose thread never started are closed here too. */
    for (int i = 0; i < pool->nstores; i++)
        store_close(pool->stores[i]);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->bwake);
    free(pool->stores);
    free(pool->tids);
    free(pool);
}

static void submit(db_pool_t *pool, db_job_t *job, bool batched)
{
    job->_next = NULL;
    job->_queued_at = metrics_now();
    job->_op = metrics_operation();
    metrics_gauge_add(atomic_load(&m_queued), 0, 1);
    pthread_mutex_lock(&pool->lock);
    db_job_t **head = batched ? &pool->bhead : &pool->head, **tail = batched ? &pool->btail : &pool->tail;
    if (*tail != NULL)
        (*tail)->_next = job;
    else
        *head = job;
    *tail = job;
    bool to_writer = batched && pool->writer >= 0;
    /* behind a running batch, one of the others watches for it to get stuck (next_job) */
    bool watch = to_writer && pool->batches > 0 && pool->watchers == 0;
    pthread_mutex_unlock(&pool->lock);
    /* after the unlock: a worker woken on this core would otherwise run only to block on the
     * lock still held here, and cost two more thread switches */
    pthread_cond_signal(to_writer ? &pool->bwake : &pool->wake);
    if (watch)
        pthread_cond_signal(&pool->wake);
}

void db_pool_submit(db_pool_t *pool, db_job_t *job)
{
    submit(pool, job, false);
}

void db_pool_submit_batched(db_pool_t *pool, db_job_t *job)
{
    submit(pool, job, true);
}
