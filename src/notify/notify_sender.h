/*
 * notify/notify_sender — sends the due subscription reminders (store/store_notify.h) through
 * WeChat's POST /cgi-bin/message/subscribe/send, off the event loops.
 *
 * One thread per process with its own database connection and its own small event loop (for
 * the WeChat client's answers): every poll_ms, or at once when woken (a meeting change just
 * queued something), it claims up to NOTIFY_BATCH due reminders in the database
 * (store_notify_claim: one quota each, once across every process on the database), sends them
 * all at once, and records each outcome (store_notify_record): SENT with WeChat's msgid, or
 * FAILED with its errcode (ours for a timeout or a transport failure). Refusals that are our
 * configuration's fault (40037 invalid template_id, 47003 a value out of its keyword's rules,
 * 41030 the page, a failing access_token) are logged once per kind and errcode at ERROR, not
 * per message; per-user ones (43101, 40003) at DEBUG only. Nothing secret is logged (openids
 * are not logged at all).
 *
 * stop() lets the batch in flight finish (WeChat's answers come within oa.wx.timeout-ms).
 */
#ifndef MEETOA_NOTIFY_NOTIFY_SENDER_H
#define MEETOA_NOTIFY_NOTIFY_SENDER_H

#include <stddef.h>

#include "notify/notify_values.h"
#include "store/store_notify.h"
#include "wechat/wx_client.h"

#define NOTIFY_BATCH 50

typedef struct notify_sender notify_sender_t;

typedef struct notify_sender_config {
    const char *datasource_url;
    wx_client_t *wx;
    const char *templates[STORE_REMIND_KINDS + 1]; /* [kind]; NULL = off */
    notify_map_t maps[STORE_REMIND_KINDS + 1];     /* [kind] */
    const char *page;                              /* "pages/meeting/detail/detail" */
    const char *miniprogram_state, *lang;
    int poll_ms;
    int wx_timeout_ms;
} notify_sender_config_t;

/* Copies what it needs of config; NULL and one line in err on failure. */
notify_sender_t *notify_sender_start(const notify_sender_config_t *config, char *err, size_t err_size);
/* Claims due reminders now instead of at the next poll (any thread). */
void notify_sender_wake(notify_sender_t *sender);
void notify_sender_stop(notify_sender_t *sender);

#endif
