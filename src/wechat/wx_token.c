/*
 * wx_token — the server's access_token, kept on the client thread (contract in wx_client.h).
 *
 * Design:
 * - Calls that need the token (wx_authed_t: getuserphonenumber, checksession) ask
 *   wx_authed_run(). With a token that is still good they are sent at once. Otherwise they join
 *   the waiting list, and the first of them starts the fetch: only one fetch is ever in flight,
 *   however many calls need a token. When it ends every waiter is sent with the new token, or
 *   fails with the fetch's outcome (token_failed: the caller looks it up with WX_API_TOKEN).
 * - A token is used until 300 s before its expires_in, or until half its expires_in when that is
 *   shorter (wx_token_lifetime_ms), then fetched again on the next need (lazily: no timer).
 * - A call answered 40001, 42001 or 40014 (wx_authed_retry) marks the token it was sent with as
 *   bad, if it is still the current one (a call sent with an older token just waits for, or uses,
 *   the newer one), and goes through wx_authed_run() again: once; the second answer is final.
 * - stable_token: the refresh asks with force_refresh=false. When WeChat answers with the very
 *   token that was just refused, it asks once more with force_refresh=true, if the ration allows
 *   (20 a UTC day, 30 s apart); if not, the waiters fail with the refusing call's errcode and the
 *   token is kept (WeChat says it is current; the next refusal tries the ration again).
 * - Every fetch is logged at info (which API, expires_in, counters) and a failed one at warn, or
 *   at error when it is our configuration's fault; never the token, the secret or a URL query.
 *   A snapshot of the counters (no token in it) is kept under status_lock for
 *   wx_client_token_status(), the only thing read from other threads.
 */
#include "wechat/wx_client.h"
#include "common/clock.h"
#include "wechat/wx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "metrics/metrics.h"

#define WX_DAY_S 86400

static const char *wx_token_api(const wx_token_mgr_t *mgr)
{
    return mgr->stable ? "stable_token" : "token";
}

/* ---- pure rules -------------------------------------------------------------------------------- */

int64_t wx_token_lifetime_ms(long expires_in)
{
    int64_t total = (int64_t)expires_in * 1000;
    int64_t margin = total / 2 < WX_TOKEN_MARGIN_MS ? total / 2 : WX_TOKEN_MARGIN_MS;
    return total - margin;
}

long wx_force_ration_today(const wx_force_ration_t *ration, int64_t now_epoch_s)
{
    return ration->used && ration->day == now_epoch_s / WX_DAY_S ? ration->count : 0;
}

bool wx_force_ration_take(wx_force_ration_t *ration, int64_t now_epoch_s, int64_t now_mono_ms)
{
    if (wx_force_ration_today(ration, now_epoch_s) >= WX_FORCE_PER_DAY)
        return false;
    if (ration->used && now_mono_ms - ration->last_ms < WX_FORCE_SPACING_MS)
        return false;
    ration->count = wx_force_ration_today(ration, now_epoch_s) + 1;
    ration->day = now_epoch_s / WX_DAY_S;
    ration->used = true;
    ration->last_ms = now_mono_ms;
    return true;
}

/* ---- state ------------------------------------------------------------------------------------- */

void wx_token_init(wx_token_mgr_t *mgr, bool stable)
{
    memset(mgr, 0, sizeof(*mgr));
    mgr->stable = stable;
    mgr->waiters_tail = &mgr->waiters;
    pthread_mutex_init(&mgr->status_lock, NULL);
    snprintf(mgr->status.api, sizeof(mgr->status.api), "%s", wx_token_api(mgr));
}

void wx_token_destroy(wx_token_mgr_t *mgr)
{
    pthread_mutex_destroy(&mgr->status_lock);
    explicit_bzero(mgr, sizeof(*mgr));
}

/* Copies the counters into the snapshot that other threads read. */
static void wx_token_publish(wx_token_mgr_t *mgr)
{
    pthread_mutex_lock(&mgr->status_lock);
    mgr->status.have_token = mgr->have;
    mgr->status.expires_at = mgr->have ? mgr->expires_at : 0;
    mgr->status.fetches = mgr->fetches;
    mgr->status.failures = mgr->failures;
    mgr->status.last_errcode = mgr->last_errcode;
    mgr->status.force_refreshes_today = mgr->ration.used ? mgr->ration.count : 0;
    mgr->status_force_day = mgr->ration.day;
    pthread_mutex_unlock(&mgr->status_lock);
}

void wx_client_token_status(wx_client_t *client, wx_token_status_t *out)
{
    wx_token_mgr_t *mgr = &client->token;
    pthread_mutex_lock(&mgr->status_lock);
    *out = mgr->status;
    if (mgr->status_force_day != time(NULL) / WX_DAY_S)
        out->force_refreshes_today = 0; /* the count was another day's */
    pthread_mutex_unlock(&mgr->status_lock);
}

static void wx_token_drop(wx_token_mgr_t *mgr)
{
    explicit_bzero(mgr->token, sizeof(mgr->token));
    mgr->have = false;
}

static void wx_token_forget_refusal(wx_token_mgr_t *mgr)
{
    explicit_bzero(mgr->refused, sizeof(mgr->refused));
    mgr->refused_errcode = 0;
}

/* meetoa_wechat_token_refreshes_total{outcome}: a fetch of the access_token that got one, or
 * failed (rare: registered at the event, which finds the same family after the first time). */
metrics_family_t *wx_token_metric(void)
{
    static const char *const outcomes[] = {"ok", "failed"};
    metrics_label_t label = {"outcome", outcomes, 2};
    return metrics_counter("meetoa_wechat_token_refreshes_total",
                           "Fetches of the access_token from WeChat, by outcome.", &label, 1);
}

static void wx_token_count(bool ok)
{
    metrics_inc(wx_token_metric(), ok ? 0 : 1);
}

static void wx_token_install(wx_token_mgr_t *mgr, const wx_token_answer_t *answer)
{
    wx_token_count(true);
    memcpy(mgr->token, answer->token, sizeof(mgr->token));
    mgr->have = true;
    mgr->gen++;
    mgr->refresh_at_ms = clock_monotonic_ms() + wx_token_lifetime_ms(answer->expires_in);
    mgr->expires_at = (int64_t)time(NULL) + answer->expires_in;
    mgr->fetches++;
    log_info("wx: access_token from %s: expires_in %ld s (fetches %ld, failures %ld, forced today %ld)",
             wx_token_api(mgr), answer->expires_in, mgr->fetches, mgr->failures,
             wx_force_ration_today(&mgr->ration, time(NULL)));
    wx_token_publish(mgr);
}

/* ---- the waiting list -------------------------------------------------------------------------- */

static wx_authed_t *wx_waiters_take(wx_token_mgr_t *mgr)
{
    wx_authed_t *list = mgr->waiters;
    mgr->waiters = NULL;
    mgr->waiters_tail = &mgr->waiters;
    return list;
}

static void wx_authed_send(wx_client_t *client, wx_authed_t *call)
{
    (*call->attempts)++;
    call->token_gen = client->token.gen;
    call->ops->send(client, call, client->token.token);
}

/* Sends every waiter with the token just installed. New waiters (none expected) wait for the next fetch. */
static void wx_waiters_send(wx_client_t *client)
{
    wx_authed_t *call = wx_waiters_take(&client->token);
    while (call != NULL) {
        wx_authed_t *next = call->next; /* send may deliver, and so free, call */
        call->next = NULL;
        wx_authed_send(client, call);
        call = next;
    }
}

static void wx_waiters_fail(wx_client_t *client, wx_outcome_t outcome, long errcode, int http_status, bool token_failed)
{
    wx_authed_t *call = wx_waiters_take(&client->token);
    while (call != NULL) {
        wx_authed_t *next = call->next;
        call->next = NULL;
        call->ops->fail(call, outcome, errcode, http_status, token_failed);
        call = next;
    }
}

/* ---- fetching ---------------------------------------------------------------------------------- */

static void wx_token_done(wx_client_t *client, void *ctx, const wx_answer_t *answer);

/* Starts the one fetch; its end sends or fails the waiters. */
static void wx_token_fetch(wx_client_t *client, bool force)
{
    wx_token_mgr_t *mgr = &client->token;
    mgr->refreshing = true;
    mgr->forcing = force;
    if (!mgr->stable) {
        const wx_param_t params[] = {
            {"grant_type", "client_credential"},
            {"appid", client->app_id},
            {"secret", client->app_secret},
        };
        wx_call_start(client, &(wx_call_spec_t){.method = "GET",
                                                .path = "/cgi-bin/token",
                                                .params = params,
                                                .n_params = sizeof(params) / sizeof(params[0]),
                                                .on_done = wx_token_done,
                                                .ctx = mgr});
        return;
    }
    const wx_json_member_t members[] = {
        {"grant_type", "client_credential", NULL},
        {"appid", client->app_id, NULL},
        {"secret", client->app_secret, NULL},
        {"force_refresh", NULL, force ? "true" : "false"},
    };
    char *body = wx_json_build(members, sizeof(members) / sizeof(members[0]));
    if (body == NULL) {
        log_error("wx: POST /cgi-bin/stable_token could not start: out of memory");
        wx_token_done(client, mgr, &(wx_answer_t){.outcome = WX_UNREACHABLE});
        return;
    }
    /* a lost force_refresh answer must not make libcurl spend a second one of the day's 20 */
    wx_call_start(client, &(wx_call_spec_t){.method = "POST",
                                            .path = "/cgi-bin/stable_token",
                                            .json_body = body,
                                            .at_most_once = force,
                                            .on_done = wx_token_done,
                                            .ctx = mgr});
    wx_free_secret(body);
}

static void wx_token_failed(wx_client_t *client, const wx_token_answer_t *answer, int http_status)
{
    wx_token_mgr_t *mgr = &client->token;
    const wx_error_t *error = wx_error_lookup_api(WX_API_TOKEN, answer->outcome, answer->errcode);

    mgr->failures++;
    mgr->last_errcode = answer->errcode;
    wx_token_count(false);
    if (error->fault == WX_FAULT_CONFIG)
        log_error("wx: access_token from %s refused with errcode %ld: check wechat app_id, app_secret and the "
                  "IP whitelist (fetches %ld, failures %ld)",
                  wx_token_api(mgr), answer->errcode, mgr->fetches, mgr->failures);
    else
        log_warn("wx: access_token from %s failed (outcome %d, errcode %ld, HTTP %d; fetches %ld, failures %ld)",
                 wx_token_api(mgr), (int)answer->outcome, answer->errcode, http_status, mgr->fetches, mgr->failures);
    wx_token_publish(mgr);
    wx_waiters_fail(client, answer->outcome, answer->errcode, http_status, true);
}

/*
 * stable_token gave back the token a call was just refused with. Returns true when that was
 * handled here (a force refresh started, or the waiters failed because the ration is spent).
 */
static bool wx_token_same_as_refused(wx_client_t *client, const wx_token_answer_t *answer, bool was_force)
{
    wx_token_mgr_t *mgr = &client->token;
    long refused_errcode = mgr->refused_errcode;
    bool same = mgr->stable && !was_force && refused_errcode != 0 && strcmp(answer->token, mgr->refused) == 0;

    wx_token_forget_refusal(mgr);
    if (!same)
        return false;
    if (wx_force_ration_take(&mgr->ration, time(NULL), clock_monotonic_ms())) {
        log_warn("wx: stable_token returned the token refused with errcode %ld: force_refresh (%ld of %d today)",
                 refused_errcode, mgr->ration.count, WX_FORCE_PER_DAY);
        wx_token_publish(mgr);
        wx_token_fetch(client, true);
        return true;
    }
    log_warn("wx: stable_token returned the token refused with errcode %ld and force_refresh is rationed "
             "(%ld today, %d s apart): the waiting calls fail",
             refused_errcode, wx_force_ration_today(&mgr->ration, time(NULL)), WX_FORCE_SPACING_MS / 1000);
    wx_token_install(mgr, answer);
    wx_waiters_fail(client, WX_ERRCODE, refused_errcode, 200, false);
    return true;
}

static void wx_token_done(wx_client_t *client, void *ctx, const wx_answer_t *answer)
{
    wx_token_mgr_t *mgr = ctx;
    wx_token_answer_t parsed = {.outcome = answer->outcome};
    bool was_force = mgr->forcing;

    mgr->refreshing = false;
    mgr->forcing = false;
    if (answer->outcome == WX_OK) {
        if (answer->http_status == 200)
            wx_parse_token(answer->body, answer->len, &parsed);
        else
            parsed.outcome = WX_BAD_RESPONSE;
    }
    if (parsed.outcome != WX_OK) {
        wx_token_forget_refusal(mgr);
        wx_token_failed(client, &parsed, answer->http_status);
    } else if (!wx_token_same_as_refused(client, &parsed, was_force)) {
        wx_token_install(mgr, &parsed);
        wx_waiters_send(client);
    }
    explicit_bzero(&parsed, sizeof(parsed));
}

/* ---- calls that need the token ----------------------------------------------------------------- */

void wx_authed_run(wx_client_t *client, wx_authed_t *call)
{
    wx_token_mgr_t *mgr = &client->token;
    if (mgr->have && clock_monotonic_ms() >= mgr->refresh_at_ms) {
        log_debug("wx: access_token due for renewal");
        wx_token_drop(mgr);
        wx_token_publish(mgr);
    }
    if (mgr->have) {
        wx_authed_send(client, call);
        return;
    }
    call->next = NULL;
    *mgr->waiters_tail = call;
    mgr->waiters_tail = &call->next;
    if (!mgr->refreshing)
        wx_token_fetch(client, false);
}

static bool wx_is_token_errcode(long errcode)
{
    return errcode == 40001 || errcode == 42001 || errcode == 40014;
}

bool wx_authed_retry(wx_client_t *client, wx_authed_t *call, wx_outcome_t outcome, long errcode)
{
    wx_token_mgr_t *mgr = &client->token;
    if (outcome != WX_ERRCODE || !wx_is_token_errcode(errcode) || *call->attempts != 1)
        return false;
    if (mgr->have && call->token_gen == mgr->gen) {
        log_info("wx: access_token refused with errcode %ld: fetching another", errcode);
        memcpy(mgr->refused, mgr->token, sizeof(mgr->refused));
        mgr->refused_errcode = errcode;
        wx_token_drop(mgr);
        wx_token_publish(mgr);
    }
    wx_authed_run(client, call);
    return true;
}
