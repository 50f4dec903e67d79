/*
 * metrics — the registry, the per-thread shards and the text rendering (see metrics.h).
 *
 * Cells: every series of every family owns a fixed range of cell indexes, given out in
 * registration order (family->cell0 + series * cells_per_series). A shard is an array of
 * METRICS_MAX_CELLS 64-bit cells owned by one thread; the same index means the same thing in
 * every shard, so a scrape sums cell k over the shards. A counter cell is its count, a gauge
 * cell the thread's summed deltas (two's complement: a -1 is UINT64_MAX, and the sum over the
 * shards wraps back to the signed value), a histogram series nbuckets + 1 bucket counts (not
 * cumulative; the last one is +Inf) and its sum in nanounits.
 *
 * The owner of a shard updates a cell with a relaxed load and a relaxed store (no lock prefix:
 * nobody else writes it); the scrape reads it with a relaxed load. A thread past
 * METRICS_MAX_SHARDS, or whose shard could not be allocated, counts in the shared overflow
 * shard with atomic adds. When a thread exits (the pthread key's destructor) its shard goes to
 * a free list and the next new thread takes it over, counts and all, so short-lived threads
 * neither lose counts nor grow memory.
 *
 * The family list is append-only while the process runs; registration appends under
 * registry.lock and publishes the new tail with a release store, so a scrape walks it
 * without the lock.
 */
#include "metrics/metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define METRICS_MAX_SHARDS 256

typedef enum family_kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM, KIND_GAUGE_FN, KIND_COUNTER_FN } family_kind_t;

typedef _Atomic uint64_t cell_t;

struct metrics_family {
    char *name;
    char *help;
    family_kind_t kind;
    size_t nlabels;
    char *label_names[METRICS_MAX_LABELS];
    char **values[METRICS_MAX_LABELS];
    size_t nvalues[METRICS_MAX_LABELS];
    size_t nseries;
    double buckets[METRICS_MAX_BUCKETS];
    size_t nbuckets;
    size_t cell0;
    size_t cells_per_series;
    _Atomic uint64_t *set_bits; /* gauges: the set value's bits per series (0 bits = 0.0) */
    double (*fn)(void *ctx);
    void *ctx;
    _Atomic(struct metrics_family *) next;
};

static struct {
    pthread_once_t once;
    pthread_mutex_t lock;
    pthread_key_t key;
    struct metrics_family *head;
    _Atomic(struct metrics_family *) first; /* head, published for the scrape */
    size_t ncells;
    _Atomic(cell_t *) shards[METRICS_MAX_SHARDS];
    atomic_size_t nshards;
    size_t free_shards[METRICS_MAX_SHARDS]; /* indexes of shards whose thread exited */
    size_t nfree;
    cell_t *overflow;
} registry = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local cell_t *tls_cells;
static _Thread_local bool tls_shared; /* tls_cells is the overflow shard */

const double metrics_duration_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                           0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const size_t metrics_duration_nbuckets = sizeof(metrics_duration_buckets) / sizeof(metrics_duration_buckets[0]);

/* ---- shards ---- */

static void on_thread_exit(void *value)
{
    size_t index = (size_t)(uintptr_t)value - 1;
    pthread_mutex_lock(&registry.lock);
    registry.free_shards[registry.nfree++] = index;
    pthread_mutex_unlock(&registry.lock);
}

static void registry_init(void)
{
    pthread_key_create(&registry.key, on_thread_exit);
    registry.overflow = calloc(METRICS_MAX_CELLS, sizeof(cell_t));
}

void metrics_init(void)
{
    pthread_once(&registry.once, registry_init);
}

/* Gives the calling thread a shard (a freed one, a new one, or the overflow shard). */
static cell_t *shard_take(void)
{
    metrics_init();
    size_t index = SIZE_MAX;
    pthread_mutex_lock(&registry.lock);
    if (registry.nfree > 0) {
        index = registry.free_shards[--registry.nfree];
    } else {
        size_t n = atomic_load(&registry.nshards);
        cell_t *cells = n < METRICS_MAX_SHARDS ? calloc(METRICS_MAX_CELLS, sizeof(cell_t)) : NULL;
        if (cells != NULL) {
            atomic_store_explicit(&registry.shards[n], cells, memory_order_release);
            atomic_store_explicit(&registry.nshards, n + 1, memory_order_release);
            index = n;
        }
    }
    pthread_mutex_unlock(&registry.lock);
    if (index == SIZE_MAX || pthread_setspecific(registry.key, (void *)(uintptr_t)(index + 1)) != 0) {
        if (index != SIZE_MAX)
            on_thread_exit((void *)(uintptr_t)(index + 1));
        tls_shared = true;
        return tls_cells = registry.overflow;
    }
    return tls_cells = atomic_load_explicit(&registry.shards[index], memory_order_relaxed);
}

static inline void cell_add(size_t cell, uint64_t n)
{
    cell_t *cells = tls_cells != NULL ? tls_cells : shard_take();
    if (cells == NULL)
        return; /* no memory at all */
    if (tls_shared)
        atomic_fetch_add_explicit(&cells[cell], n, memory_order_relaxed);
    else
        atomic_store_explicit(&cells[cell], atomic_load_explicit(&cells[cell], memory_order_relaxed) + n,
                              memory_order_relaxed);
}

/* Cell k summed over every shard. */
static uint64_t cell_sum(size_t cell)
{
    uint64_t sum = registry.overflow != NULL ? atomic_load_explicit(&registry.overflow[cell], memory_order_relaxed) : 0;
    size_t n = atomic_load_explicit(&registry.nshards, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        cell_t *cells = atomic_load_explicit(&registry.shards[i], memory_order_acquire);
        sum += atomic_load_explicit(&cells[cell], memory_order_relaxed);
    }
    return sum;
}

/* ---- registration ---- */

static bool name_ok(const char *name, bool colons)
{
    if (name == NULL || name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (const char *p = name; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              (colons && *p == ':')))
            return false;
    return true;
}

static void family_free(struct metrics_family *f)
{
    if (f == NULL)
        return;
    free(f->name);
    free(f->help);
    for (size_t l = 0; l < f->nlabels; l++) {
        free(f->label_names[l]);
        for (size_t v = 0; f->values[l] != NULL && v < f->nvalues[l]; v++)
            free(f->values[l][v]);
        free(f->values[l]);
    }
    free(f->set_bits);
    free(f);
}

/* Same kind, labels and buckets as the arguments? */
static bool family_same(const struct metrics_family *f, family_kind_t kind, const metrics_label_t *labels,
                        size_t nlabels, const double *buckets, size_t nbuckets)
{
    if (f->kind != kind || f->nlabels != nlabels || f->nbuckets != nbuckets)
        return false;
    for (size_t l = 0; l < nlabels; l++) {
        if (strcmp(f->label_names[l], labels[l].name) != 0 || f->nvalues[l] != labels[l].nvalues)
            return false;
        for (size_t v = 0; v < labels[l].nvalues; v++)
            if (strcmp(f->values[l][v], labels[l].values[v]) != 0)
                return false;
    }
    for (size_t b = 0; b < nbuckets; b++)
        if (f->buckets[b] != buckets[b])
            return false;
    return true;
}

static struct metrics_family *family_find(const char *name)
{
    for (struct metrics_family *f = registry.head; f != NULL; f = atomic_load(&f->next))
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Checks the arguments and builds a family (not yet registered); NULL and a line in why. */
static struct metrics_family *family_make(const char *name, const char *help, family_kind_t kind,
                                          const metrics_label_t *labels, size_t nlabels, const double *buckets,
                                          size_t nbuckets, char *why, size_t why_size)
{
    if (!name_ok(name, true) || help == NULL) {
        snprintf(why, why_size, "not a metric name, or no help");
        return NULL;
    }
    if (nlabels > METRICS_MAX_LABELS || nbuckets > METRICS_MAX_BUCKETS) {
        snprintf(why, why_size, "too many labels or buckets");
        return NULL;
    }
    for (size_t b = 0; b < nbuckets; b++)
        if (!isfinite(buckets[b]) || (b > 0 && buckets[b] <= buckets[b - 1])) {
            snprintf(why, why_size, "buckets not finite and ascending");
            return NULL;
        }
    struct metrics_family *f = calloc(1, sizeof(*f));
    if (f == NULL || (f->name = strdup(name)) == NULL || (f->help = strdup(help)) == NULL) {
        family_free(f);
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    f->kind = kind;
    f->nseries = 1;
    for (size_t l = 0; l < nlabels; l++) {
        const metrics_label_t *label = &labels[l];
        bool ok = name_ok(label->name, false) && strncmp(label->name, "__", 2) != 0 && label->nvalues > 0 &&
                  !(kind == KIND_HISTOGRAM && strcmp(label->name, "le") == 0);
        for (size_t k = 0; ok && k < l; k++)
            ok = strcmp(labels[k].name, label->name) != 0;
        if (!ok) {
            family_free(f);
            snprintf(why, why_size, "label %zu: bad or repeated name, or no values", l);
            return NULL;
        }
        f->nlabels = l + 1;
        f->nvalues[l] = label->nvalues;
        if ((f->label_names[l] = strdup(label->name)) == NULL ||
            (f->values[l] = calloc(label->nvalues, sizeof(char *))) == NULL) {
            family_free(f);
            snprintf(why, why_size, "out of memory");
            return NULL;
        }
        for (size_t v = 0; v < label->nvalues; v++)
            if (label->values[v] == NULL || (f->values[l][v] = strdup(label->values[v])) == NULL) {
                family_free(f);
                snprintf(why, why_size, "label %s: a NULL value, or out of memory", label->name);
                return NULL;
            }
        f->nseries *= label->nvalues;
    }
    f->nbuckets = nbuckets;
    if (nbuckets > 0)
        memcpy(f->buckets, buckets, nbuckets * sizeof(*buckets));
    f->cells_per_series = kind == KIND_HISTOGRAM                             ? nbuckets + 2
                          : kind == KIND_GAUGE_FN || kind == KIND_COUNTER_FN ? 0
                                                                             : 1;
    if (kind == KIND_GAUGE && (f->set_bits = calloc(f->nseries, sizeof(*f->set_bits))) == NULL) {
        family_free(f);
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    return f;
}

/* Appends a family built by family_make (its fn already set); returns the registered one:
 * f, or an equal family registered before (f is then freed), or NULL. */
static struct metrics_family *family_publish(struct metrics_family *f, const metrics_label_t *labels, size_t nlabels,
                                             const double *buckets)
{
    pthread_mutex_lock(&registry.lock);
    struct metrics_family *old = family_find(f->name);
    if (old != NULL) {
        bool same = f->fn == NULL && family_same(old, f->kind, labels, nlabels, buckets, f->nbuckets);
        pthread_mutex_unlock(&registry.lock);
        if (!same)
            log_error("metric %s registered twice, differently", f->name);
        family_free(f);
        return same ? old : NULL;
    }
    size_t need = f->nseries * f->cells_per_series;
    if (registry.ncells + need > METRICS_MAX_CELLS) {
        pthread_mutex_unlock(&registry.lock);
        log_error("metric %s not registered: %zu cells needed, %zu left", f->name, need,
                  (size_t)METRICS_MAX_CELLS - registry.ncells);
        family_free(f);
        return NULL;
    }
    f->cell0 = registry.ncells;
    registry.ncells += need;
    if (registry.head == NULL) {
        registry.head = f;
        atomic_store_explicit(&registry.first, f, memory_order_release);
    } else {
        struct metrics_family *tail = registry.head;
        while (atomic_load(&tail->next) != NULL)
            tail = atomic_load(&tail->next);
        atomic_store_explicit(&tail->next, f, memory_order_release);
    }
    pthread_mutex_unlock(&registry.lock);
    return f;
}

static struct metrics_family *family_register(const char *name, const char *help, family_kind_t kind,
                                              const metrics_label_t *labels, size_t nlabels, const double *buckets,
                                              size_t nbuckets, double (*fn)(void *ctx), void *ctx)
{
    char why[128] = "";
    metrics_init();
    struct metrics_family *f = family_make(name, help, kind, labels, nlabels, buckets, nbuckets, why, sizeof(why));
    if (f == NULL) {
        log_error("metric %s not registered: %s", name != NULL ? name : "(null)", why);
        return NULL;
    }
    f->fn = fn;
    f->ctx = ctx;
    return family_publish(f, labels, nlabels, buckets);
}

metrics_family_t *metrics_counter(const char *name, const char *help, const metrics_label_t *labels, size_t nlabels)
{
    return family_register(name, help, KIND_COUNTER, labels, nlabels, NULL, 0, NULL, NULL);
}

metrics_family_t *metrics_gauge(const char *name, const char *help, const metrics_label_t *labels, size_t nlabels)
{
    return family_register(name, help, KIND_GAUGE, labels, nlabels, NULL, 0, NULL, NULL);
}

metrics_family_t *metrics_histogram(const char *name, const char *help, const metrics_label_t *labels, size_t nlabels,
                                    const double *buckets, size_t nbuckets)
{
    if (buckets == NULL || nbuckets == 0) {
        log_error("metric %s not registered: a histogram needs buckets", name != NULL ? name : "(null)");
        return NULL;
    }
    return family_register(name, help, KIND_HISTOGRAM, labels, nlabels, buckets, nbuckets, NULL, NULL);
}

static bool register_fn(const char *name, const char *help, family_kind_t kind, double (*fn)(void *ctx), void *ctx)
{
    return fn != NULL && family_register(name, help, kind, NULL, 0, NULL, 0, fn, ctx) != NULL;
}

bool metrics_gauge_fn(const char *name, const char *help, double (*fn)(void *ctx), void *ctx)
{
    return register_fn(name, help, KIND_GAUGE_FN, fn, ctx);
}

void metrics_reset(void)
{
    metrics_init();
    pthread_mutex_lock(&registry.lock);
    struct metrics_family *f = registry.head;
    registry.head = NULL;
    atomic_store(&registry.first, NULL);
    size_t ncells = registry.ncells;
    registry.ncells = 0;
    /* The shards stay (threads hold them); their used cells start from zero again. */
    size_t n = atomic_load(&registry.nshards);
    for (size_t i = 0; i < n; i++)
        memset((void *)atomic_load(&registry.shards[i]), 0, ncells * sizeof(cell_t));
    if (registry.overflow != NULL)
        memset((void *)registry.overflow, 0, ncells * sizeof(cell_t));
    pthread_mutex_unlock(&registry.lock);
    while (f != NULL) {
        struct metrics_family *next = atomic_load(&f->next);
        family_free(f);
        f = next;
    }
}

/* ---- counting ---- */

size_t metrics_series(const metrics_family_t *family, size_t i, size_t j)
{
    if (family == NULL || family->nlabels == 0)
        return 0;
    if (family->nlabels == 1)
        return i;
    if (i >= family->nvalues[0] || j >= family->nvalues[1])
        return SIZE_MAX;
    return i * family->nvalues[1] + j;
}

size_t metrics_label_index(const metrics_family_t *family, size_t label, const char *value, size_t otherwise)
{
    if (family == NULL || label >= family->nlabels || value == NULL)
        return otherwise;
    for (size_t v = 0; v < family->nvalues[label]; v++)
        if (strcmp(family->values[label][v], value) == 0)
            return v;
    return otherwise;
}

void metrics_add(metrics_family_t *family, size_t series, uint64_t n)
{
    if (family == NULL || series >= family->nseries || family->kind != KIND_COUNTER)
        return;
    cell_add(family->cell0 + series, n);
}

void metrics_gauge_add(metrics_family_t *family, size_t series, int64_t delta)
{
    if (family == NULL || series >= family->nseries || family->kind != KIND_GAUGE)
        return;
    cell_add(family->cell0 + series, (uint64_t)delta);
}

void metrics_gauge_set(metrics_family_t *family, size_t series, double value)
{
    if (family == NULL || series >= family->nseries || family->kind != KIND_GAUGE)
        return;
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    atomic_store_explicit(&family->set_bits[series], bits, memory_order_relaxed);
}

void metrics_observe(metrics_family_t *family, size_t series, double value)
{
    if (family == NULL || series >= family->nseries || family->kind != KIND_HISTOGRAM || isnan(value))
        return;
    size_t b = 0;
    while (b < family->nbuckets && value > family->buckets[b])
        b++;
    size_t cell = family->cell0 + series * family->cells_per_series;
    cell_add(cell + b, 1);
    double nano = value > 0 ? value * 1e9 : 0;
    cell_add(cell + family->nbuckets + 1, nano >= 1.8e19 ? UINT64_MAX / 2 : (uint64_t)llround(nano));
}

/* ---- operations ---- */

static const char *const background_only[] = {"background"};
static _Atomic(const char *const *) operation_names;
static atomic_size_t noperations;
static _Thread_local size_t tls_operation;

void metrics_operations_publish(const char *const *names, size_t n)
{
    if (atomic_load(&operation_names) != NULL)
        return; /* once per process: the label values of families already made must not change */
    char **copy = calloc(n + 1, sizeof(*copy));
    if (copy == NULL)
        return;
    copy[0] = (char *)background_only[0];
    for (size_t i = 0; i < n; i++)
        if ((copy[i + 1] = strdup(names[i])) == NULL)
            return; /* no memory at start-up: operations stay "background" (a leak of a few bytes) */
    atomic_store(&noperations, n + 1);
    atomic_store(&operation_names, (const char *const *)copy);
}

const char *const *metrics_operations(size_t *n)
{
    const char *const *names = atomic_load(&operation_names);
    if (names == NULL) {
        *n = 1;
        return background_only;
    }
    *n = atomic_load(&noperations);
    return names;
}

size_t metrics_operation(void)
{
    return tls_operation;
}

void metrics_operation_set(size_t op)
{
    tls_operation = op;
}

double metrics_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- rendering ---- */

typedef struct out {
    char *buf;
    size_t len, cap;
    bool failed;
} out_t;

static void out_reserve(out_t *o, size_t more)
{
    if (o->failed || o->len + more + 1 <= o->cap)
        return;
    size_t cap = o->cap > 0 ? o->cap : 16384;
    while (cap < o->len + more + 1)
        cap *= 2;
    char *buf = realloc(o->buf, cap);
    if (buf == NULL) {
        o->failed = true;
        return;
    }
    o->buf = buf;
    o->cap = cap;
}

static void out_bytes(out_t *o, const char *s, size_t n)
{
    out_reserve(o, n);
    if (o->failed)
        return;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void out_str(out_t *o, const char *s)
{
    out_bytes(o, s, strlen(s));
}

static void out_fmt(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(out_t *o, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        out_bytes(o, small, (size_t)n);
        return;
    }
    out_reserve(o, (size_t)n);
    if (o->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->len += (size_t)n;
}

/* Backslash and newline escaped (and the double quote in label values), as 0.0.4 requires. */
static void out_escaped(out_t *o, const char *s, bool quote)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\\')
            out_bytes(o, "\\\\", 2);
        else if (*p == '\n')
            out_bytes(o, "\\n", 2);
        else if (*p == '"' && quote)
            out_bytes(o, "\\\"", 2);
        else
            out_bytes(o, p, 1);
    }
}

/* The shortest text that reads back as v ("0.1", not "0.10000000000000001"); +Inf, -Inf, NaN by name. */
static void format_double(char *buf, size_t size, double v)
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, size, "%s", isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) { /* whole: 30, not 3e+01 */
        snprintf(buf, size, "%.0f", v);
        return;
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, size, "%.*g", precision, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void out_double(out_t *o, double v)
{
    char buf[48];
    format_double(buf, sizeof(buf), v);
    out_str(o, buf);
}

/* name{labels of series[, le="..."]} (no braces when there are no labels at all). */
static void out_series_name(out_t *o, const struct metrics_family *f, const char *suffix, size_t series, const char *le)
{
    out_str(o, f->name);
    out_str(o, suffix);
    if (f->nlabels == 0 && le == NULL)
        return;
    out_bytes(o, "{", 1);
    size_t idx[METRICS_MAX_LABELS] = {0};
    if (f->nlabels == 2) {
        idx[0] = series / f->nvalues[1];
        idx[1] = series % f->nvalues[1];
    } else if (f->nlabels == 1) {
        idx[0] = series;
    }
    for (size_t l = 0; l < f->nlabels; l++) {
        if (l > 0)
            out_bytes(o, ",", 1);
        out_str(o, f->label_names[l]);
        out_bytes(o, "=\"", 2);
        out_escaped(o, f->values[l][idx[l]], true);
        out_bytes(o, "\"", 1);
    }
    if (le != NULL) {
        if (f->nlabels > 0)
            out_bytes(o, ",", 1);
        out_fmt(o, "le=\"%s\"", le);
    }
    out_bytes(o, "}", 1);
}

static void render_histogram_series(out_t *o, const struct metrics_family *f, size_t series, const uint64_t *cells)
{
    uint64_t cumulative = 0;
    char le[48];
    for (size_t b = 0; b <= f->nbuckets; b++) {
        cumulative += cells[b];
        format_double(le, sizeof(le), b < f->nbuckets ? f->buckets[b] : INFINITY);
        out_series_name(o, f, "_bucket", series, le);
        out_fmt(o, " %" PRIu64 "\n", cumulative);
    }
    out_series_name(o, f, "_sum", series, NULL);
    out_fmt(o, " %" PRIu64 ".%09" PRIu64 "\n", cells[f->nbuckets + 1] / 1000000000u,
            cells[f->nbuckets + 1] % 1000000000u);
    out_series_name(o, f, "_count", series, NULL);
    out_fmt(o, " %" PRIu64 "\n", cumulative);
}

static void render_family(out_t *o, const struct metrics_family *f)
{
    static const char *const types[] = {[KIND_COUNTER] = "counter",
                                        [KIND_GAUGE] = "gauge",
                                        [KIND_HISTOGRAM] = "histogram",
                                        [KIND_GAUGE_FN] = "gauge",
                                        [KIND_COUNTER_FN] = "counter"};
    out_fmt(o, "# HELP %s ", f->name);
    out_escaped(o, f->help, false);
    out_fmt(o, "\n# TYPE %s %s\n", f->name, types[f->kind]);
    if (f->kind == KIND_GAUGE_FN || f->kind == KIND_COUNTER_FN) {
        out_str(o, f->name);
        out_bytes(o, " ", 1);
        out_double(o, f->fn(f->ctx));
        out_bytes(o, "\n", 1);
        return;
    }
    /* Every series is shown without labels and for one-label counters and gauges; else only
     * those counted at least once. */
    bool all = f->nlabels == 0 || (f->nlabels == 1 && f->kind != KIND_HISTOGRAM);
    uint64_t cells[METRICS_MAX_BUCKETS + 2];
    for (size_t s = 0; s < f->nseries; s++) {
        bool any = false;
        for (size_t c = 0; c < f->cells_per_series; c++) {
            cells[c] = cell_sum(f->cell0 + s * f->cells_per_series + c);
            any |= cells[c] != 0;
        }
        double set = 0;
        if (f->kind == KIND_GAUGE) {
            uint64_t bits = atomic_load_explicit(&f->set_bits[s], memory_order_relaxed);
            memcpy(&set, &bits, sizeof(set));
            any |= bits != 0;
        }
        if (!any && !all)
            continue;
        if (f->kind == KIND_HISTOGRAM) {
            render_histogram_series(o, f, s, cells);
            continue;
        }
        out_series_name(o, f, "", s, NULL);
        if (f->kind == KIND_COUNTER)
            out_fmt(o, " %" PRIu64 "\n", cells[0]);
        else {
            out_bytes(o, " ", 1);
            out_double(o, set + (double)(int64_t)cells[0]);
            out_bytes(o, "\n", 1);
        }
    }
}

char *metrics_render(size_t *len)
{
    metrics_init();
    out_t o = {0};
    out_reserve(&o, 0);
    for (struct metrics_family *f = atomic_load_explicit(&registry.first, memory_order_acquire); f != NULL;
         f = atomic_load_explicit(&f->next, memory_order_acquire))
        render_family(&o, f);
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    if (len != NULL)
        *len = o.len;
    return o.buf;
}

/* ---- process metrics ---- */

/* /proc/self/stat's fields after the command: [0] is field 3 (state). */
static bool proc_stat(unsigned long long *fields, size_t n)
{
    char buf[1024];
    FILE *fp = fopen("/proc/self/stat", "re");
    if (fp == NULL)
        return false;
    size_t got = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[got] = '\0';
    char *p = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
    if (p == NULL)
        return false;
    p += 2;
    for (size_t i = 0; i < n; i++) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return false;
        fields[i] = strtoull(p, NULL, 10); /* [0], the state letter, reads as 0 */
        while (*p != ' ' && *p != '\0')
            p++;
    }
    return true;
}

/* Field numbers of proc(5), as indexes of proc_stat's array. */
#define STAT_UTIME     (14 - 3)
#define STAT_STIME     (15 - 3)
#define STAT_STARTTIME (22 - 3)
#define STAT_VSIZE     (23 - 3)
#define STAT_RSS       (24 - 3)
#define STAT_FIELDS    (STAT_RSS + 1)

static double process_cpu(void *ctx)
{
    unsigned long long f[STAT_FIELDS];
    if (!proc_stat(f, STAT_FIELDS))
        return NAN;
    return (double)(f[STAT_UTIME] + f[STAT_STIME]) / (double)sysconf(_SC_CLK_TCK);
}

static double process_rss(void *ctx)
{
    unsigned long long f[STAT_FIELDS];
    if (!proc_stat(f, STAT_FIELDS))
        return NAN;
    return (double)f[STAT_RSS] * (double)sysconf(_SC_PAGESIZE);
}

static double process_vsize(void *ctx)
{
    unsigned long long f[STAT_FIELDS];
    if (!proc_stat(f, STAT_FIELDS))
        return NAN;
    return (double)f[STAT_VSIZE];
}

static double process_fds(void *ctx)
{
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return NAN;
    long n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(dir);
    return (double)(n > 0 ? n - 1 : 0); /* not the one opendir holds */
}

static double process_max_fds(void *ctx)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return NAN;
    return rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
}

/* Boot time (btime of /proc/stat) + the process's start in ticks since boot; read once. */
static double process_start_time(void *ctx)
{
    static _Atomic double start;
    double s = atomic_load(&start);
    if (s > 0)
        return s;
    unsigned long long f[STAT_FIELDS], btime = 0;
    char line[256];
    FILE *fp = fopen("/proc/stat", "re");
    if (fp == NULL || !proc_stat(f, STAT_FIELDS)) {
        if (fp != NULL)
            fclose(fp);
        return NAN;
    }
    while (fgets(line, sizeof(line), fp) != NULL)
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    fclose(fp);
    s = (double)btime + (double)f[STAT_STARTTIME] / (double)sysconf(_SC_CLK_TCK);
    atomic_store(&start, s);
    return s;
}

void metrics_process_register(const char *version)
{
    register_fn("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", KIND_COUNTER_FN,
                process_cpu, NULL);
    register_fn("process_resident_memory_bytes", "Resident memory size in bytes.", KIND_GAUGE_FN, process_rss, NULL);
    register_fn("process_virtual_memory_bytes", "Virtual memory size in bytes.", KIND_GAUGE_FN, process_vsize, NULL);
    register_fn("process_open_fds", "Number of open file descriptors.", KIND_GAUGE_FN, process_fds, NULL);
    register_fn("process_max_fds", "Maximum number of open file descriptors.", KIND_GAUGE_FN, process_max_fds, NULL);
    register_fn("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", KIND_GAUGE_FN,
                process_start_time, NULL);
    const char *versions[] = {version != NULL ? version : "unknown"};
    metrics_label_t label = {"version", versions, 1};
    metrics_family_t *info = metrics_gauge("meetoa_build_info", "MeetOA's version; always 1.", &label, 1);
    metrics_gauge_set(info, 0, 1);
}
