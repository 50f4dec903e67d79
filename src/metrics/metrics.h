/*
 * metrics — Prometheus counters, gauges and histograms, counted per thread without a lock,
 * summed and rendered in the text exposition format 0.0.4 when /metrics is scraped.
 *
 * A metric family is registered once (at start-up, any thread) with a name that follows
 * Prometheus' conventions (docs/metrics.md: `meetoa_` prefix, counters end in `_total`,
 * durations are histograms in `_seconds`), a help text and at most METRICS_MAX_LABELS labels,
 * each with a FIXED list of values given at registration: label sets are bounded by
 * construction (route templates, errnos, outcomes — never tokens, openids, IPs or raw paths).
 * A series is one combination of label values, addressed by its index:
 *     series = metrics_series(family, i, j)   // i: index into label 0's values, j: label 1's
 * (no labels: series 0; one label: i). An out-of-range series, or a NULL family (a metric not
 * registered, e.g. in a unit test that did not call metrics_init), is ignored: counting never
 * fails and never allocates on the hot path.
 *
 * Counting: every thread that counts owns a slot array (its shard), taken on the thread's first
 * count and kept for the process's life (a thread that exits hands its shard, counts included,
 * to the next new thread). A count is a relaxed load and store on the thread's own memory: no
 * lock, no shared cache line, no atomic read-modify-write. A scrape (metrics_render) sums the
 * shards, each cell read atomically; a histogram's _count is the sum of its buckets (so the two
 * always agree), its _sum may be a few observations ahead or behind (not snapshotted together).
 *
 * Kinds:
 *   counter    metrics_inc / metrics_add: monotonic.
 *   gauge      metrics_gauge_add: up and down by deltas (in flight, open connections, queued
 *              jobs), the deltas of every thread summed (+1 on one thread, -1 on another is 0);
 *              or metrics_gauge_set: one value, the last write wins (e.g. "redis up"). A gauge
 *              shows the set value plus the summed deltas; use one way per gauge.
 *   histogram  metrics_observe(value): cumulative buckets (upper bounds given at registration,
 *              ascending; +Inf added), _sum and _count. Values are in base units (seconds);
 *              the sum is kept in nanounits (1e-9), so it is exact to a nanosecond.
 *   gauge fn   metrics_gauge_fn: an unlabelled gauge whose value a callback gives at scrape
 *              time (runs on the scraping thread: it must be quick and thread-safe).
 *
 * Rendering: `# HELP` and `# TYPE` for every family, in registration order; unlabelled families
 * and one-label counters and gauges show every series (zeros too, so rate() and PromQL queries
 * have a series from the first scrape); two-label families and labelled histograms show only
 * series that were ever counted (a route x errno matrix would be mostly zeros). Label values
 * and help texts are escaped as the format requires (backslash, double quote, newline).
 *
 * Registering the same name twice returns the first family when kind, labels and buckets are
 * the same, else NULL (a programming error; logged). Registration takes a mutex; counting and
 * rendering do not block each other. The capacity is METRICS_MAX_CELLS cells per shard (a
 * counter or gauge series is one cell, a histogram series nbuckets + 2): metrics_counter & co.
 * return NULL when it is used up.
 */
#ifndef MEETOA_METRICS_METRICS_H
#define MEETOA_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_LABELS  2
#define METRICS_MAX_BUCKETS 32
#define METRICS_MAX_CELLS   16384

typedef struct metrics_family metrics_family_t;

/* One label of a family: its name and every value it can take (copied at registration). */
typedef struct metrics_label {
    const char *name;
    const char *const *values;
    size_t nvalues;
} metrics_label_t;

/* Buckets (seconds) for request and call durations: 0.5 ms .. 10 s. */
extern const double metrics_duration_buckets[];
extern const size_t metrics_duration_nbuckets;

/* Sets the registry up (idempotent, thread-safe). metrics_counter & co. call it themselves. */
void metrics_init(void);
/* Frees every family and shard (process exit, and between unit tests). Nothing may count
 * or render concurrently; families returned before are invalid afterwards. */
void metrics_reset(void);

/* Registration: labels[0..nlabels) (nlabels <= METRICS_MAX_LABELS; labels may be NULL when 0). */
metrics_family_t *metrics_counter(const char *name, const char *help, const metrics_label_t *labels, size_t nlabels);
metrics_family_t *metrics_gauge(const char *name, const char *help, const metrics_label_t *labels, size_t nlabels);
metrics_family_t *metrics_histogram(const char *name, const char *help, const metrics_label_t *labels, size_t nlabels,
                                    const double *buckets, size_t nbuckets);
/* A gauge read at scrape time: fn(ctx). Returns false when the name is taken or on no memory. */
bool metrics_gauge_fn(const char *name, const char *help, double (*fn)(void *ctx), void *ctx);

/* The series of label values (i, j); j is ignored with fewer than two labels, both without labels. */
size_t metrics_series(const metrics_family_t *family, size_t i, size_t j);
/* The index of value among a label's values (label 0 or 1), or `otherwise` when it is not one. */
size_t metrics_label_index(const metrics_family_t *family, size_t label, const char *value, size_t otherwise);

/* Counting: any thread, no lock. */
void metrics_add(metrics_family_t *family, size_t series, uint64_t n);
static inline void metrics_inc(metrics_family_t *family, size_t series)
{
    metrics_add(family, series, 1);
}
void metrics_gauge_add(metrics_family_t *family, size_t series, int64_t delta);
void metrics_gauge_set(metrics_family_t *family, size_t series, double value);
void metrics_observe(metrics_family_t *family, size_t series, double value);

/*
 * Operations: what a thread is working for, as the `operation` label of the database metrics.
 * Index 0 is "background" (work no request asked for); http/server publishes its route
 * templates as 1..n at start and sets the operation while a route's handler runs; loop_msg
 * carries it from a job's submission to its completion, so chained work keeps its request's.
 */
void metrics_operations_publish(const char *const *names, size_t n);
/* The published names ([0] "background"), *n their number; {"background"} until published. */
const char *const *metrics_operations(size_t *n);
size_t metrics_operation(void);
void metrics_operation_set(size_t op);

/* A monotonic clock in seconds, for durations passed to metrics_observe. */
double metrics_now(void);

/*
 * The exposition text of every family (plus the process metrics and meetoa_build_info when
 * metrics_process_register was called), NUL-terminated, malloc'd (the caller frees it); *len
 * its length. NULL on no memory.
 */
char *metrics_render(size_t *len);

/* Registers process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
 * process_max_fds, process_virtual_memory_bytes, process_start_time_seconds (as Prometheus'
 * client libraries name them, read from /proc/self at scrape time) and
 * meetoa_build_info{version} 1. */
void metrics_process_register(const char *version);

#endif
