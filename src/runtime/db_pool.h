/*
 * db_pool — the threads that do database work, off the event loops.
 *
 * Each worker thread owns one store_t connection (a store is not thread-safe). A loop
 * submits a job; a free worker runs job->run(job, store) on its own thread and then sends
 * the job's loop_msg back, so job->msg.on_done runs on the submitting loop. Jobs are taken
 * in submission order.
 *
 * Metrics (docs/metrics.md): meetoa_db_jobs_queued (waiting for a worker), and by operation
 * (the route template whose request queued the job, or "background") the time a job waited
 * (meetoa_db_job_wait_seconds) and ran (meetoa_db_job_duration_seconds); counted from the
 * first request on (the operations are the HTTP routes, known once the server started).
 *
 * Group commit: jobs queued with db_pool_submit_batched() (logins) are run by one worker at a
 * time, up to 64 of those waiting at once in ONE transaction (store_batch_begin/_end of
 * store.h), and answered (on_done) only after its commit: one commit, and on SQLite one hold of
 * the write lock, for many jobs, and no two workers fighting over the lock for them. When the
 * batch cannot begin, fails or its commit does, nothing of it was written, and each of its jobs
 * runs again alone (on any worker, side by side), so a batched job's run must give the same
 * outcome when run a second time after a rolled-back first run (it may log twice). A batched
 * job runs alone when it is the only one waiting. On SQLite with several workers one of them
 * (the writer) runs every batch and nothing else: its connection keeps its page cache, which a
 * commit on another connection would empty (login and votes: +3 % and more, bench/RESULTS.md).
 * The other workers take the other jobs meanwhile, and the batched ones too, one at a time,
 * once a batch has run for 100 ms (it waits on a lock, as when another process holds SQLite's:
 * the logins queued behind it then wait for that lock side by side instead of one after the
 * other).
 *
 * Upkeep: the workers' connections leave to the worker what a commit would do at its end
 * (store_defer_upkeep, store.h: SQLite's WAL checkpoint). A worker does it (store_upkeep) after
 * the answers of its job or batch were sent, so that no job waits for the checkpoint its own
 * commit made due. On SQLite the writer does it before it takes the next batch (the jobs queued
 * meanwhile wait for it, as for SQLite's own checkpoint), and the WAL, copied back whole with
 * no batch beside it, starts over at the next batch.
 *
 * Ownership: the caller allocates the job (usually as the first member of a bigger struct)
 * and frees it in on_done. The pool only borrows it.
 */
#ifndef MEETOA_RUNTIME_DB_POOL_H
#define MEETOA_RUNTIME_DB_POOL_H

#include <stddef.h>

#include "runtime/loop_msg.h"
#include "store/store.h"

typedef struct db_pool db_pool_t;
typedef struct db_job db_job_t;

struct db_job {
    loop_msg_t msg; /* must stay first: on_done receives &job->msg */
    void (*run)(db_job_t *job, store_t *store);
    db_job_t *_next;
    double _queued_at; /* metrics: when it was submitted */
    size_t _op;        /* metrics: the operation (metrics_operation()) that submitted it */
};

/* Opens `threads` connections to url and starts the workers. NULL and one line in err on failure. */
db_pool_t *db_pool_start(const char *url, int threads, char *err, size_t err_size);
/* Finishes the queued jobs (their replies are sent), joins the workers and closes the connections. */
void db_pool_stop(db_pool_t *pool);
/* Queues job (any thread). job->msg must have been set with loop_msg_init(). */
void db_pool_submit(db_pool_t *pool, db_job_t *job);

/* Queues job for group commit (see the top). Any thread. */
void db_pool_submit_batched(db_pool_t *pool, db_job_t *job);

/* Sets job up to run `run` on a worker and then `on_done` on reply_to's loop, and queues it. */
static inline void db_pool_run(db_pool_t *pool, db_job_t *job, void (*run)(db_job_t *job, store_t *store),
                               h2o_multithread_receiver_t *reply_to, loop_msg_cb on_done)
{
    job->run = run;
    loop_msg_init(&job->msg, reply_to, on_done);
    db_pool_submit(pool, job);
}

/* db_pool_run() for a job that may share its transaction with others (db_pool_submit_batched). */
static inline void db_pool_run_batched(db_pool_t *pool, db_job_t *job, void (*run)(db_job_t *job, store_t *store),
                                       h2o_multithread_receiver_t *reply_to, loop_msg_cb on_done)
{
    job->run = run;
    loop_msg_init(&job->msg, reply_to, on_done);
    db_pool_submit_batched(pool, job);
}

#endif
