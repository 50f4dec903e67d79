/* notify_sender — see notify_sender.h. */
#include "notify/notify_sender.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "metrics/metrics.h"
#include "runtime/loop_msg.h"

typedef struct sending sending_t;

struct notify_sender {
    notify_sender_config_t config;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping, woken;
    store_t *store; /* its own connection */
    h2o_evloop_t *loop;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    int in_flight;
    int64_t next_sweep; /* when interrupted claims are looked for next */
    char claimer[64];
    /* kinds x a few errcodes already logged as configuration faults */
    long logged[STORE_REMIND_KINDS + 1][8];
};

struct sending {
    wx_subscribe_req_t req; /* first: on_done gets &req.msg */
    notify_sender_t *sender;
    int64_t id, user_id;
    int kind;
    char *data;
};

static const char *const KIND_NAMES[] = {"", "invitation", "approval", "starting", "changed"};

/* Logs a configuration fault of kind once per errcode. */
static void config_fault(notify_sender_t *s, int kind, long errcode, const char *what)
{
    long *seen = s->logged[kind];
    for (int i = 0; i < 8; i++) {
        if (seen[i] == errcode)
            return;
        if (seen[i] == 0) {
            seen[i] = errcode;
            log_error("reminders: WeChat refuses the %s messages (oa.subscribe.%s): errcode %ld, %s; check the"
                      " configuration (further refusals of this kind are not logged)",
                      KIND_NAMES[kind], KIND_NAMES[kind], errcode, what);
            return;
        }
    }
}

/* meetoa_reminders_total{kind, outcome} (docs/metrics.md). */
static void reminder_count(int kind, wx_outcome_t outcome)
{
    static const char *const outcomes[] = {"sent", "refused", "timeout", "transport"};
    static metrics_family_t *_Atomic family;
    metrics_family_t *f = atomic_load(&family);
    if (f == NULL) {
        metrics_label_t labels[] = {{"kind", KIND_NAMES + 1, 4}, {"outcome", outcomes, 4}};
        f = metrics_counter("meetoa_reminders_total",
                            "Subscription-message reminders by kind and outcome: sent, refused (an errcode), "
                            "timeout, transport.",
                            labels, 2);
        atomic_store(&family, f);
    }
    size_t o = outcome == WX_OK ? 0 : outcome == WX_ERRCODE ? 1 : outcome == WX_TIMEOUT ? 2 : 3;
    metrics_inc(f, metrics_series(f, (size_t)(kind - 1), o));
}

static void on_sent(loop_msg_t *msg)
{
    sending_t *x = (sending_t *)msg;
    notify_sender_t *s = x->sender;
    wx_subscribe_req_t *r = &x->req;
    bool sent = r->outcome == WX_OK;
    long errcode = 0;
    reminder_count(x->kind, r->outcome);
    bool give_back = false;
    switch (r->outcome) {
    case WX_OK:
        break;
    case WX_ERRCODE:
        errcode = r->errcode;
        give_back = errcode != 43101; /* refused: the subscription was not used */
        if (r->token_failed)
            config_fault(s, x->kind, errcode, "the access_token could not be fetched");
        else if (errcode == 40037)
            config_fault(s, x->kind, errcode, "invalid template_id");
        else if (errcode == 47003)
            config_fault(s, x->kind, errcode, "a value breaks its keyword's rules (oa.subscribe data)");
        else if (errcode == 41030)
            config_fault(s, x->kind, errcode, "invalid page (oa.subscribe.page)");
        else
            log_debug("reminders: reminder %lld not sent: errcode %ld", (long long)x->id, errcode);
        break;
    case WX_TIMEOUT:
        errcode = STORE_REMIND_ERR_TIMEOUT;
        log_warn("reminders: reminder %lld: no answer from WeChat in time (not sent again)", (long long)x->id);
        break;
    default:
        errcode = STORE_REMIND_ERR_TRANSPORT;
        give_back = r->token_failed;
        log_warn("reminders: reminder %lld: WeChat unreachable or its answer unreadable (not sent again)",
                 (long long)x->id);
        break;
    }
    if (store_notify_record(s->store, x->id, x->user_id, r->template_id, sent, r->msgid, errcode, give_back,
                            time(NULL)) != STORE_OK)
        log_error("reminders: the outcome of reminder %lld was not recorded: %s", (long long)x->id,
                  store_last_error(s->store));
    s->in_flight--;
    free(x->data);
    free(x);
}

static store_rc send_one(const store_reminder_t *rem, void *ctx)
{
    notify_sender_t *s = ctx;
    const notify_sender_config_t *c = &s->config;
    char time_range[80], start[48];
    notify_time_range(rem->start_at, rem->end_at, time_range, sizeof time_range);
    notify_time_point(rem->start_at, start, sizeof start);
    const char *values[NOTIFY_FIELDS] = {
        [NOTIFY_TITLE] = rem->title,   [NOTIFY_TIME] = time_range,     [NOTIFY_START] = start,
        [NOTIFY_PLACE] = rem->place,   [NOTIFY_HOST] = rem->host_name, [NOTIFY_RESULT] = rem->result,
        [NOTIFY_REASON] = rem->reason,
    };
    sending_t *x = calloc(1, sizeof *x);
    int kind = rem->kind >= 1 && rem->kind <= STORE_REMIND_KINDS ? rem->kind : 0;
    char *data = kind != 0 ? notify_data_json(&c->maps[kind], values) : NULL;
    if (x == NULL || data == NULL) {
        free(x);
        free(data);
        /* claimed: record it as failed rather than leave it for the interrupted sweep */
        store_notify_record(s->store, rem->id, rem->user_id, rem->template_id, false, 0, STORE_REMIND_ERR_TRANSPORT,
                            true, time(NULL));
        return STORE_OK;
    }
    x->sender = s;
    x->id = rem->id;
    x->user_id = rem->user_id;
    x->kind = kind;
    x->data = data;
    loop_msg_init(&x->req.msg, &s->receiver, on_sent);
    snprintf(x->req.touser, sizeof x->req.touser, "%s", rem->openid);
    snprintf(x->req.template_id, sizeof x->req.template_id, "%s", rem->template_id);
    snprintf(x->req.page, sizeof x->req.page, "%s?id=%lld", c->page, (long long)rem->meeting_id);
    snprintf(x->req.miniprogram_state, sizeof x->req.miniprogram_state, "%s", c->miniprogram_state);
    snprintf(x->req.lang, sizeof x->req.lang, "%s", c->lang);
    x->req.data_json = data;
    s->in_flight++;
    wx_send_subscribe(c->wx, &x->req);
    return STORE_OK;
}

/* One round: claims a batch and sends it; how many were claimed. */
static int round_once(notify_sender_t *s)
{
    int64_t now = time(NULL);
    if (now >= s->next_sweep) {
        int64_t ended = 0;
        if (store_notify_interrupted(s->store, now - (s->config.wx_timeout_ms / 1000 + 60), now, &ended) != STORE_OK)
            log_warn("reminders: ending interrupted claims failed: %s", store_last_error(s->store));
        else if (ended > 0)
            log_warn("reminders: %lld reminders were claimed by a process that stopped before it recorded them:"
                     " failed, not sent again",
                     (long long)ended);
        s->next_sweep = now + 60;
    }
    int claimed = 0;
    if (store_notify_claim(s->store, s->claimer, now, NOTIFY_BATCH, send_one, s, &claimed) != STORE_OK)
        log_warn("reminders: claiming due reminders failed: %s", store_last_error(s->store));
    while (s->in_flight > 0)
        h2o_evloop_run(s->loop, 100);
    return claimed;
}

static void *sender_main(void *arg)
{
    notify_sender_t *s = arg;
    log_set_thread_name("reminders");
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        s->woken = false;
        pthread_mutex_unlock(&s->lock);
        int claimed = round_once(s);
        pthread_mutex_lock(&s->lock);
        if (claimed == NOTIFY_BATCH || s->woken)
            continue; /* more may be due */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->config.poll_ms / 1000;
        until.tv_nsec += (long)(s->config.poll_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!s->stopping && !s->woken && pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

notify_sender_t *notify_sender_start(const notify_sender_config_t *config, char *err, size_t err_size)
{
    notify_sender_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, err_size, "out of memory for the reminder sender");
        return NULL;
    }
    s->config = *config;
    if ((s->store = store_open(config->datasource_url, err, err_size)) == NULL) {
        free(s);
        return NULL;
    }
    char host[32] = "";
    gethostname(host, sizeof host - 1);
    snprintf(s->claimer, sizeof s->claimer, "%s:%ld", host, (long)getpid());
    s->loop = h2o_evloop_create();
    s->queue = h2o_multithread_create_queue(s->loop);
    loop_msg_register(s->queue, &s->receiver);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->tid, NULL, sender_main, s) != 0) {
        snprintf(err, err_size, "cannot start the reminder sender thread");
        h2o_multithread_unregister_receiver(s->queue, &s->receiver);
        h2o_multithread_destroy_queue(s->queue);
        h2o_evloop_destroy(s->loop);
        store_close(s->store);
        free(s);
        return NULL;
    }
    return s;
}

void notify_sender_wake(notify_sender_t *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->woken = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void notify_sender_stop(notify_sender_t *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->tid, NULL);
    h2o_multithread_unregister_receiver(s->queue, &s->receiver);
    h2o_multithread_destroy_queue(s->queue);
    h2o_evloop_destroy(s->loop);
    store_close(s->store);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}
