/*
 * notify/notify_api — reminders by WeChat subscription messages (订阅消息; docs/api.md
 * "Reminders"):
 *   GET  /wx/subscribe/templates                 logged in: the configured template id of each
 *                                                kind (invitation, approval, starting, changed;
 *                                                null when off), for wx.requestSubscribeMessage
 *   POST /wx/subscribe/report {results}          logged in: the success object of
 *                                                wx.requestSubscribeMessage; each accept of a
 *                                                configured template adds one to the caller's
 *                                                quota -> {quotas: {templateId: n}}
 *   GET  /wx/subscribe/reminders?meetingId=      the meeting's host or an admin: its reminders
 *                                                and how each ended (msgid as a string)
 * The module owns the reminder sender (notify/notify_sender.h) and the plan the meeting module
 * hands to each change of state (which kinds are configured, with their template ids).
 */
#ifndef MEETOA_NOTIFY_NOTIFY_API_H
#define MEETOA_NOTIFY_NOTIFY_API_H

#include "app/module.h"
#include "store/store_notify.h"

extern const app_module_t notify_module;

/* The reminders a meeting's change queues; NULL when no kind is configured (or before start). */
const store_remind_plan_t *notify_plan(void);
/* Whether template_id is the template of a configured kind. */
bool notify_template_configured(const char *template_id);
/* Whether a wx.requestSubscribeMessage result (or a popup event's SubscribeStatusString) is an
 * accept: "accept", "acceptWithAudio", "acceptWithAlert". */
bool notify_status_accepts(const char *status);
/* After a change that queued reminders due now: the sender claims them at once (any thread). */
void notify_wake(void);

#endif
