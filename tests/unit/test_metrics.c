/*
 * test_metrics — metrics/metrics: counts of many threads summed at render time (also threads
 * that exited, and a new thread taking over an exited one's shard), gauges moved up on one
 * thread and down on another, set gauges, histogram buckets (bounds inclusive, cumulative,
 * +Inf, _count = +Inf bucket, _sum exact to the nanosecond), the rendering (HELP/TYPE lines,
 * series order, one-label families with zeros, two-label families only when counted), label
 * value and help escaping, bad registrations refused, the same registration twice giving the
 * same family, out-of-range series and NULL families ignored, callback gauges, and the
 * process metrics' shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics.h"

static int reset(void **state)
{
    metrics_reset();
    return 0;
}

/* The rendered text (freed by the next call or at teardown). */
static char *text;
static const char *render(void)
{
    free(text);
    size_t len = 0;
    text = metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static int teardown(void **state)
{
    free(text);
    text = NULL;
    metrics_reset();
    return 0;
}

/* The value of the line that starts with `series ` exactly; fails when there is none. */
static double value_of(const char *series)
{
    const char *t = render();
    size_t n = strlen(series);
    for (const char *p = t; *p != '\0'; p = strchr(p, '\n') + 1) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        if (strchr(p, '\n') == NULL)
            break;
    }
    fail_msg("no series %s in:\n%s", series, t);
    return 0;
}

static bool has_line(const char *line)
{
    const char *t = render();
    size_t n = strlen(line);
    for (const char *p = t; (p = strstr(p, line)) != NULL; p += n)
        if ((p == t || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

/* ---- counting across threads ---- */

#define THREADS 8
#define PER     100000

static metrics_family_t *shared_counter;
static metrics_family_t *shared_gauge;

static void *count_thread(void *arg)
{
    size_t label = (size_t)(uintptr_t)arg % 2;
    for (int i = 0; i < PER; i++)
        metrics_inc(shared_counter, metrics_series(shared_counter, label, 0));
    metrics_add(shared_counter, label, 5);
    metrics_gauge_add(shared_gauge, 0, 3);
    return NULL;
}

static void *gauge_down_thread(void *arg)
{
    metrics_gauge_add(shared_gauge, 0, -(int64_t)(uintptr_t)arg);
    return NULL;
}

static void threads_are_summed(void **state)
{
    const char *values[] = {"even", "odd"};
    metrics_label_t label = {"kind", values, 2};
    shared_counter = metrics_counter("test_things_total", "Things counted.", &label, 1);
    shared_gauge = metrics_gauge("test_level", "A level.", NULL, 0);
    assert_non_null(shared_counter);
    assert_non_null(shared_gauge);
    pthread_t tids[THREADS];
    for (int round = 0; round < 2; round++) { /* the second round reuses the exited threads' shards */
        for (int i = 0; i < THREADS; i++)
            assert_int_equal(pthread_create(&tids[i], NULL, count_thread, (void *)(uintptr_t)i), 0);
        for (int i = 0; i < THREADS; i++)
            pthread_join(tids[i], NULL);
    }
    double each = 2.0 * (THREADS / 2) * (PER + 5);
    assert_true(value_of("test_things_total{kind=\"even\"}") == each);
    assert_true(value_of("test_things_total{kind=\"odd\"}") == each);
    /* +3 on 16 threads, -48 on another: 0; then -2 more. */
    assert_true(value_of("test_level") == 48);
    pthread_t down;
    pthread_create(&down, NULL, gauge_down_thread, (void *)(uintptr_t)50);
    pthread_join(down, NULL);
    assert_true(value_of("test_level") == -2);
    metrics_gauge_set(shared_gauge, 0, 10.5);
    assert_true(value_of("test_level") == 8.5);
}

/* ---- histograms ---- */

static void histogram_buckets(void **state)
{
    const double buckets[] = {0.001, 0.01, 0.1};
    const char *routes[] = {"/a", "/b"};
    metrics_label_t label = {"route", routes, 2};
    metrics_family_t *h = metrics_histogram("test_duration_seconds", "How long.", &label, 1, buckets, 3);
    assert_non_null(h);
    metrics_observe(h, 0, 0.0005);
    metrics_observe(h, 0, 0.001); /* a bound is inclusive (le) */
    metrics_observe(h, 0, 0.05);
    metrics_observe(h, 0, 7);
    metrics_observe(h, 0, -1); /* counted as 0 */
    assert_true(value_of("test_duration_seconds_bucket{route=\"/a\",le=\"0.001\"}") == 3);
    assert_true(value_of("test_duration_seconds_bucket{route=\"/a\",le=\"0.01\"}") == 3);
    assert_true(value_of("test_duration_seconds_bucket{route=\"/a\",le=\"0.1\"}") == 4);
    assert_true(value_of("test_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"}") == 5);
    assert_true(value_of("test_duration_seconds_count{route=\"/a\"}") == 5);
    assert_true(has_line("test_duration_seconds_sum{route=\"/a\"} 7.051500000"));
    /* A labelled histogram shows only the series that observed something. */
    assert_null(strstr(render(), "route=\"/b\""));
    metrics_observe(h, 1, 0.002);
    assert_true(value_of("test_duration_seconds_bucket{route=\"/b\",le=\"0.01\"}") == 1);
    assert_true(has_line("# TYPE test_duration_seconds histogram"));
    assert_true(has_line("# HELP test_duration_seconds How long."));

    /* Unlabelled: shown from the start, all zero. */
    metrics_family_t *u = metrics_histogram("test_wait_seconds", "Waits.", NULL, 0, buckets, 3);
    assert_non_null(u);
    assert_true(has_line("test_wait_seconds_bucket{le=\"+Inf\"} 0"));
    assert_true(has_line("test_wait_seconds_sum 0.000000000"));
    assert_true(has_line("test_wait_seconds_count 0"));
    metrics_observe(u, 0, 1.25);
    assert_true(has_line("test_wait_seconds_sum 1.250000000"));
}

/* ---- rendering and escaping ---- */

static void text_format(void **state)
{
    const char *outcomes[] = {"ok", "fail"};
    const char *apis[] = {"a", "b", "c"};
    metrics_label_t two[] = {{"api", apis, 3}, {"outcome", outcomes, 2}};
    metrics_family_t *calls = metrics_counter("test_calls_total", "Calls by api and outcome.", two, 2);
    metrics_family_t *plain = metrics_counter("test_plain_total", "No labels.", NULL, 0);
    assert_non_null(calls);
    assert_non_null(plain);
    /* Zeros of an unlabelled counter are shown; a two-label matrix only once counted. */
    assert_true(has_line("test_plain_total 0"));
    assert_null(strstr(render(), "test_calls_total{"));
    metrics_inc(calls, metrics_series(calls, 2, 1));
    metrics_add(calls, metrics_series(calls, 0, 0), 41);
    metrics_inc(calls, metrics_series(calls, 0, 0));
    assert_true(has_line("test_calls_total{api=\"a\",outcome=\"ok\"} 42"));
    assert_true(has_line("test_calls_total{api=\"c\",outcome=\"fail\"} 1"));
    assert_null(strstr(render(), "api=\"b\""));
    /* Families in registration order, HELP before TYPE before the samples. */
    const char *t = render();
    const char *help =
        strstr(t, "# HELP test_calls_total Calls by api and outcome.\n# TYPE test_calls_total counter\n");
    assert_non_null(help);
    assert_true(help < strstr(t, "test_calls_total{"));
    assert_true(strstr(t, "test_calls_total{") < strstr(t, "# HELP test_plain_total"));
    assert_int_equal(metrics_label_index(calls, 0, "c", 99), 2);
    assert_int_equal(metrics_label_index(calls, 1, "nope", 99), 99);
    assert_int_equal(metrics_label_index(calls, 2, "ok", 99), 99);
}

static void escaping(void **state)
{
    const char *values[] = {"back\\slash", "quo\"te", "new\nline", "中文"};
    metrics_label_t label = {"v", values, 4};
    metrics_family_t *f = metrics_counter("test_escaped_total", "Help with \\ and\nnewline \"quoted\".", &label, 1);
    assert_non_null(f);
    assert_true(has_line("# HELP test_escaped_total Help with \\\\ and\\nnewline \"quoted\"."));
    assert_true(has_line("test_escaped_total{v=\"back\\\\slash\"} 0"));
    assert_true(has_line("test_escaped_total{v=\"quo\\\"te\"} 0"));
    assert_true(has_line("test_escaped_total{v=\"new\\nline\"} 0"));
    assert_true(has_line("test_escaped_total{v=\"中文\"} 0"));
}

/* ---- registration ---- */

static void registration_rules(void **state)
{
    const char *values[] = {"x"};
    metrics_label_t ok = {"k", values, 1};
    metrics_family_t *a = metrics_counter("test_twice_total", "Once.", &ok, 1);
    assert_non_null(a);
    assert_ptr_equal(metrics_counter("test_twice_total", "Once.", &ok, 1), a);
    assert_null(metrics_gauge("test_twice_total", "Once.", &ok, 1));    /* another kind */
    assert_null(metrics_counter("test_twice_total", "Once.", NULL, 0)); /* other labels */
    assert_null(metrics_counter("0bad", "Digit first.", NULL, 0));
    assert_null(metrics_counter("bad-name", "Dash.", NULL, 0));
    assert_null(metrics_counter("test_nohelp_total", NULL, NULL, 0));
    metrics_label_t reserved = {"__x", values, 1};
    assert_null(metrics_counter("test_reserved_total", "Reserved label.", &reserved, 1));
    metrics_label_t le = {"le", values, 1};
    const double b[] = {1, 2};
    const double unsorted[] = {2, 1};
    assert_null(metrics_histogram("test_le_seconds", "le is the bucket's.", &le, 1, b, 2));
    assert_null(metrics_histogram("test_unsorted_seconds", "Unsorted.", NULL, 0, unsorted, 2));
    assert_null(metrics_histogram("test_nobuckets_seconds", "None.", NULL, 0, NULL, 0));
    metrics_label_t empty = {"k", values, 0};
    assert_null(metrics_counter("test_novalues_total", "No values.", &empty, 1));
    metrics_label_t same[] = {{"k", values, 1}, {"k", values, 1}};
    assert_null(metrics_counter("test_samelabel_total", "Same label twice.", same, 2));
    /* The failed registrations left nothing behind. */
    assert_null(strstr(render(), "test_le_seconds"));
    assert_null(strstr(render(), "bad"));

    /* Ignored: NULL family, out-of-range series, the wrong kind's call. */
    metrics_inc(NULL, 0);
    metrics_observe(NULL, 0, 1);
    metrics_gauge_add(NULL, 0, 1);
    metrics_gauge_set(NULL, 0, 1);
    metrics_inc(a, 1);
    metrics_inc(a, SIZE_MAX);
    metrics_gauge_add(a, 0, 5);
    metrics_observe(a, 0, 5);
    assert_true(has_line("test_twice_total{k=\"x\"} 0"));
    metrics_label_t ab[] = {{"a", values, 1}, {"b", values, 1}};
    metrics_family_t *m = metrics_counter("test_matrix_total", "Matrix.", ab, 2);
    assert_int_equal(metrics_series(m, 1, 0), SIZE_MAX);
    assert_int_equal(metrics_series(m, 0, 1), SIZE_MAX);
    assert_int_equal(metrics_series(m, 0, 0), 0);
}

static void capacity(void **state)
{
    static const char *many[4000];
    static char names[4000][8];
    for (int i = 0; i < 4000; i++) {
        snprintf(names[i], sizeof(names[i]), "v%d", i);
        many[i] = names[i];
    }
    metrics_label_t label = {"v", many, 4000};
    int made = 0;
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof(name), "test_big%d_total", i);
        if (metrics_counter(name, "Big.", &label, 1) != NULL)
            made++;
    }
    assert_int_equal(made, METRICS_MAX_CELLS / 4000);
}

static double forty_two(void *ctx)
{
    return *(double *)ctx;
}

static void gauge_fn_and_process(void **state)
{
    double v = 42;
    assert_true(metrics_gauge_fn("test_fn", "A callback.", forty_two, &v));
    assert_false(metrics_gauge_fn("test_fn", "Again.", forty_two, &v));
    assert_true(has_line("# TYPE test_fn gauge"));
    assert_true(value_of("test_fn") == 42);
    v = 0.5;
    assert_true(value_of("test_fn") == 0.5);

    metrics_process_register("9.9.9-test");
    assert_true(has_line("# TYPE process_cpu_seconds_total counter"));
    assert_true(value_of("process_cpu_seconds_total") >= 0);
    assert_true(value_of("process_resident_memory_bytes") > 1e5);
    assert_true(value_of("process_virtual_memory_bytes") >= value_of("process_resident_memory_bytes"));
    assert_true(value_of("process_open_fds") >= 3);
    assert_true(value_of("process_max_fds") >= value_of("process_open_fds"));
    double start = value_of("process_start_time_seconds");
    assert_true(start > 1.5e9 && start <= (double)time(NULL) + 1);
    assert_true(has_line("meetoa_build_info{version=\"9.9.9-test\"} 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(threads_are_summed, reset, teardown),
        cmocka_unit_test_setup_teardown(histogram_buckets, reset, teardown),
        cmocka_unit_test_setup_teardown(text_format, reset, teardown),
        cmocka_unit_test_setup_teardown(escaping, reset, teardown),
        cmocka_unit_test_setup_teardown(registration_rules, reset, teardown),
        cmocka_unit_test_setup_teardown(capacity, reset, teardown),
        cmocka_unit_test_setup_teardown(gauge_fn_and_process, reset, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
