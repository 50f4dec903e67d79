/*
 * store_notify — subscription reminders (订阅消息): the messages to send about meetings and the
 * one-time subscriptions users granted (tables oa_reminder and oa_subscribe_quota of migration
 * step 9; docs/schema.md). Written once for every backend on the statement layer (store_sql.h).
 *
 * A reminder is one message to one user about one meeting, of a kind (below), due at a time,
 * with the template id it goes out with (chosen from the configuration when it was queued).
 * Its states: PENDING until due and claimed; CLAIMED while one process sends it; then SENT (with
 * WeChat's msgid), FAILED (with WeChat's errcode, or STORE_REMIND_ERR_* of ours) or SKIPPED (no
 * quota, no openid, declined); DROPPED when its meeting was cancelled before it went out.
 *
 * Exactly once: a reminder goes from PENDING to CLAIMED in one transaction that also takes one
 * of the user's quota for its template (quota > 0, else it is SKIPPED with errcode 43101, as
 * WeChat would answer), however many processes claim at once on one database: only the claimer
 * sends it. A process that dies between the claim and the record leaves it CLAIMED; claims
 * older than a bound end as FAILED (store_notify_interrupted) with STORE_REMIND_ERR_INTERRUPTED and are
 * never sent again (a message WeChat may have delivered is not repeated: at most once, and
 * exactly once whenever the sender lives to record it).
 *
 * Quotas count as WeChat counts one-time subscriptions: +1 per accept, -1 per claim, set to 0
 * when WeChat answers 43101 or the user refuses the template (subscribe_msg_change_event), given
 * back (+1) when WeChat refused the message for a reason that did not use the subscription (an
 * errcode other than 43101; not on a timeout, where WeChat may have sent it).
 *
 * An accept reaches MeetOA by two roads, either of which may fail: the client's report
 * (POST /wx/subscribe/report) and WeChat's push (subscribe_msg_popup_event). Each accept counts
 * once: an accept adds one when it arrives, unless an accept of the other road is waiting for its
 * pair (the same tap seen twice): then the two are paired and it adds nothing. Unpaired accepts
 * wait while the latest of them is less than STORE_GRANT_PAIR_SECONDS old; one that waited in
 * vain was seen by one road only, and has counted. So a client that never
 * reports (an old version) and a push that never comes (not configured, or lost) both keep the
 * quota right, and with both roads working nothing is counted twice. Two taps within the window
 * seen by opposite roads only (one report lost, the other push lost) count once: the quota errs
 * low, never high (a reminder skipped, never a 43101).
 */
#ifndef MEETOA_STORE_STORE_NOTIFY_H
#define MEETOA_STORE_STORE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_meeting.h"
#include "store/store_org.h"

typedef enum store_remind_kind {
    STORE_REMIND_INVITATION = 1, /* an approved meeting's participants and observers */
    STORE_REMIND_APPROVAL = 2,   /* its host: approved or rejected */
    STORE_REMIND_STARTING = 3,   /* everyone on it, remind_minutes before the start */
    STORE_REMIND_CHANGED = 4,    /* the participants and observers of an approved meeting cancelled */
} store_remind_kind_t;
#define STORE_REMIND_KINDS 4 /* kinds are 1..STORE_REMIND_KINDS */

typedef enum store_remind_state {
    STORE_REMIND_PENDING = 0,
    STORE_REMIND_CLAIMED = 1,
    STORE_REMIND_SENT = 2,
    STORE_REMIND_FAILED = 3,
    STORE_REMIND_SKIPPED = 4,
    STORE_REMIND_DROPPED = 5,
} store_remind_state_t;

/* errcodes of ours (WeChat's are positive or -1). */
#define STORE_REMIND_ERR_INTERRUPTED (-2) /* the claimer stopped before it recorded the outcome */
#define STORE_REMIND_ERR_TIMEOUT     (-3) /* no answer from WeChat in time (maybe sent) */
#define STORE_REMIND_ERR_TRANSPORT   (-4) /* WeChat unreachable or its answer unreadable */
#define STORE_REMIND_ERR_NO_OPENID   (-5) /* the user has no openid (closed account) */
#define STORE_REMIND_ERR_DECLINED    (-6) /* a starting-soon reminder of someone who declined */

#define STORE_TEMPLATE_ID_SIZE   129
#define STORE_REMIND_RESULT_SIZE (20 * 4 + 1)

/* What a change of a meeting's state queues, given by the meeting module with the transition:
 * the template id of each kind ("" or NULL = that kind is not configured: nothing queued). */
struct store_remind_plan {
    const char *templates[STORE_REMIND_KINDS + 1]; /* [kind] */
};
typedef struct store_remind_plan store_remind_plan_t;

/*
 * Inside the transaction of a change of meeting_id from from_state to to_state (called by
 * store_meeting_transition): to APPROVED queues INVITATION to each participant and observer
 * and APPROVAL (result "已通过") to the host, due now, and STARTING to everyone on it at
 * start_at - remind_minutes (now when that has passed; none when remind_minutes is 0 or the
 * start has passed); to REJECTED queues APPROVAL ("已驳回", reason) to the host; to CANCELLED
 * from APPROVED drops what is still pending and queues CHANGED ("已取消", reason) to each
 * participant and observer.
 */
store_rc store_notify_queue_txn(store_t *store, const store_remind_plan_t *plan, int64_t meeting_id, int from_state,
                                int to_state, const char *reason, int64_t now);

/* A claimed reminder with what its message says. */
typedef struct store_reminder {
    int64_t id, meeting_id, user_id;
    int kind;
    char template_id[STORE_TEMPLATE_ID_SIZE];
    char openid[64];
    char result[STORE_REMIND_RESULT_SIZE];
    char reason[STORE_REASON_SIZE];
    char title[STORE_MEETING_TITLE_SIZE];
    char place[STORE_MEETING_LOCATION_SIZE]; /* the room's name, or the location */
    char host_name[STORE_MEMBER_NAME_SIZE];
    int64_t start_at, end_at;
} store_reminder_t;

typedef store_rc (*store_reminder_fn)(const store_reminder_t *r, void *ctx);

/*
 * Claims up to limit reminders due at now (oldest first) for claimer (a name of this process,
 * for diagnosis), each with one quota of its user for its template, and hands each to fn after
 * the claim committed. Reminders without quota, openid, or of someone who declined end SKIPPED
 * and are not handed. *claimed gets how many were handed.
 */
store_rc store_notify_claim(store_t *store, const char *claimer, int64_t now, int limit, store_reminder_fn fn,
                            void *ctx, int *claimed);

/* Ends the claims made before stale_before (their sender stopped before it recorded them) as
 * FAILED with STORE_REMIND_ERR_INTERRUPTED, never to be sent; *ended gets how many. One
 * statement of its own (not inside a claim: on MariaDB its range lock would queue the claims). */
store_rc store_notify_interrupted(store_t *store, int64_t stale_before, int64_t now, int64_t *ended);

/* The outcome of a claimed reminder: SENT with msgid, or FAILED with errcode, adjusting the
 * quota as the contract above says (give_back: the subscription was not used). */
store_rc store_notify_record(store_t *store, int64_t id, int64_t user_id, const char *template_id, bool sent,
                             int64_t msgid, long errcode, bool give_back, int64_t now);

/* The roads of an accept (above). */
typedef enum store_grant_road {
    STORE_GRANT_REPORT = 1, /* the client's report */
    STORE_GRANT_PUSH = -1,  /* WeChat's subscribe_msg_popup_event */
} store_grant_road_t;
#define STORE_GRANT_PAIR_SECONDS 300

/* n (>= 0) accepts of user_id for template_id seen through road at now, counted as the contract
 * above says (at most 1000 subscriptions are kept); *quota gets the count after. n = 0 reads it. */
store_rc store_notify_grant(store_t *store, int64_t user_id, const char *template_id, int n, store_grant_road_t road,
                            int64_t now, int64_t *quota);

/* The user refused template_id (拒收 under 服务通知): no subscription left. */
store_rc store_notify_refused(store_t *store, int64_t user_id, const char *template_id, int64_t now);

/* WeChat's report of a sent message's delivery (subscribe_msg_sent_event): a reminder SENT with
 * msgid and errcode != 0 becomes FAILED with that errcode (it was not delivered); *found is
 * whether a sent reminder had that msgid. */
store_rc store_notify_delivery(store_t *store, int64_t msgid, long errcode, int64_t now, bool *found);

/* A meeting's reminders, for its host and admins (oldest first). */
typedef struct store_reminder_row {
    int64_t id, user_id;
    int kind, state;
    char name[STORE_MEMBER_NAME_SIZE]; /* the member's name */
    int64_t due_at, done_at, msgid;
    long errcode;
} store_reminder_row_t;
typedef store_rc (*store_reminder_row_fn)(const store_reminder_row_t *r, void *ctx);
store_rc store_notify_of_meeting(store_t *store, int64_t meeting_id, store_reminder_row_fn fn, void *ctx);

#endif
