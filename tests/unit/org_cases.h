/*
 * org_cases — the organization's and the meetings' store verbs (store_org.h,
 * store_meeting.h), checked the same way on every backend: joins by request and by invite
 * code (used up, expired, revoked, unknown, and concurrent joins never beyond max_uses), the
 * last admin, rooms (names, deletion while booked), meetings (drafts, attendees who are not
 * members, stale versions, states, the attendees' copies that the lists read, each view) and
 * the booking rule under a race of N_THREADS connections.
 *
 * Included by test_store.c and test_store_mysql.c after store_cases.h (whose helpers and
 * fixture it uses); lists its cases with ORG_CASES(setup, teardown).
 */
#ifndef MEETOA_TESTS_ORG_CASES_H
#define MEETOA_TESTS_ORG_CASES_H

#include "store/store_meeting.h"
#include "store/store_notify.h"
#include "store/store_org.h"
#include "store/store_vote.h"

/* A user who logged in (wx_user row), as an id. */
static int64_t org_user(store_t *store, const char *openid)
{
    store_login_t in = login_of(openid, NOW);
    return login_ok(store, &in).id;
}

/* A user who is an active member with role. */
static int64_t org_member(store_t *store, const char *openid, int role)
{
    int64_t id = org_user(store, openid);
    assert_int_equal(store_member_grant(store, id, role, openid, NOW), STORE_OK);
    return id;
}

static store_invite_t org_invite(store_t *store, const char *code, int64_t max_uses, int64_t expires_at,
                                 int64_t creator)
{
    store_invite_t inv = {.max_uses = max_uses, .expires_at = expires_at, .created_by = creator, .created_at = NOW};
    snprintf(inv.code, sizeof inv.code, "%s", code);
    assert_int_equal(store_invite_create(store, &inv), STORE_OK);
    assert_true(inv.id > 0);
    return inv;
}

typedef struct org_ids {
    int64_t ids[16];
    int n;
} org_ids_t;

static store_rc collect_member(const store_member_row_t *row, void *ctx)
{
    org_ids_t *out = ctx;
    if (out->n < 16)
        out->ids[out->n++] = row->member.user_id;
    return STORE_OK;
}

static void test_org_join(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    int64_t admin = org_member(store, "o-admin", STORE_ROLE_ADMIN);
    int64_t a = org_user(store, "o-a"), b = org_user(store, "o-b"), c = org_user(store, "o-c");
    store_member_t m;
    store_refusal_t why;

    /* a request waits; sent again it keeps its time and takes the new name */
    assert_int_equal(store_member_join(store, a, "A", "研发", NULL, NOW, &m, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(m.status, STORE_MEMBER_PENDING);
    assert_int_equal(store_member_join(store, a, "A2 🌸", "", "", NOW + 5, &m, &why), STORE_OK);
    assert_int_equal(store_member_get(store, a, &m), STORE_OK);
    assert_string_equal(m.name, "A2 🌸");
    assert_int_equal(m.requested_at, NOW);
    assert_int_equal(m.status, STORE_MEMBER_PENDING);

    /* a code makes a member at once, once per use */
    org_invite(store, "CODE1", 1, NOW + 3600, admin);
    org_invite(store, "OLD", 5, NOW - 1, admin);
    store_invite_t revoked = org_invite(store, "GONE", 5, NOW + 3600, admin);
    assert_int_equal(store_invite_revoke(store, revoked.id), STORE_OK);
    assert_int_equal(store_invite_revoke(store, 999), STORE_NOT_FOUND);
    assert_int_equal(store_member_join(store, b, "B", "", "CODE1", NOW, &m, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(m.status, STORE_MEMBER_ACTIVE);
    assert_true(m.invite_id > 0);
    const char *refused[] = {"CODE1" /* used up */, "OLD" /* expired */, "GONE" /* revoked */, "NOPE"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(store_member_join(store, c, "C", "", refused[i], NOW, &m, &why), STORE_OK);
        assert_int_equal(why, STORE_REFUSED_INVITE);
        assert_int_equal(store_member_get(store, c, &m), STORE_NOT_FOUND); /* nothing stored */
    }
    /* a member asking again */
    assert_int_equal(store_member_join(store, b, "B", "", NULL, NOW, &m, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_ALREADY);

    /* requests, oldest first; decisions */
    assert_int_equal(store_member_join(store, c, "C", "", NULL, NOW + 1, &m, &why), STORE_OK);
    int64_t total = 0;
    org_ids_t got = {0};
    assert_int_equal(store_member_requests(store, 0, 10, collect_member, &got, &total), STORE_OK);
    assert_int_equal(total, 2);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.ids[0], a); /* oldest first */
    assert_int_equal(got.ids[1], c);
    assert_int_equal(store_member_decide(store, a, false, "不认识", NOW + 2), STORE_OK);
    assert_int_equal(store_member_get(store, a, &m), STORE_OK);
    assert_int_equal(m.status, STORE_MEMBER_REJECTED);
    assert_string_equal(m.reason, "不认识");
    assert_int_equal(store_member_decide(store, a, true, NULL, NOW + 2), STORE_NOT_FOUND); /* no longer pending */
    assert_int_equal(store_member_decide(store, c, true, NULL, NOW + 3), STORE_OK);
    assert_int_equal(store_member_get(store, c, &m), STORE_OK);
    assert_true(store_member_is_active(&m));
    assert_int_equal(m.joined_at, NOW + 3);
    store_close(store);
}

static void test_org_lists_and_admins(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    int64_t admin = org_member(store, "o-admin", STORE_ROLE_ADMIN);
    int64_t zed = org_member(store, "zed", STORE_ROLE_MEMBER);
    int64_t amy = org_member(store, "amy_100%", STORE_ROLE_MEMBER);
    int64_t p = org_user(store, "o-p");
    store_member_t m;
    store_refusal_t why;
    assert_int_equal(store_member_join(store, p, "Pending", "", NULL, NOW, &m, &why), STORE_OK);

    org_ids_t got = {0};
    int64_t total = 0;
    assert_int_equal(store_member_list(store, NULL, 0, 10, collect_member, &got, &total), STORE_OK);
    assert_int_equal(total, 3); /* not the pending one */
    assert_int_equal(got.n, 3);
    assert_int_equal(got.ids[0], amy); /* by name: amy_100%, o-admin, zed */
    assert_int_equal(got.ids[1], admin);
    assert_int_equal(got.ids[2], zed);
    memset(&got, 0, sizeof got);
    assert_int_equal(store_member_list(store, "100%", 0, 10, collect_member, &got, &total), STORE_OK);
    assert_int_equal(total, 1); /* % is a character here, not a wildcard */
    assert_int_equal(got.ids[0], amy);
    memset(&got, 0, sizeof got);
    assert_int_equal(store_member_list(store, "_", 0, 10, collect_member, &got, &total), STORE_OK);
    assert_int_equal(total, 1); /* _ is a character too */
    assert_int_equal(got.ids[0], amy);
    memset(&got, 0, sizeof got);
    assert_int_equal(store_member_list(store, NULL, 1, 1, collect_member, &got, &total), STORE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(got.n, 1); /* the page: offset 1, limit 1 */
    assert_int_equal(got.ids[0], admin);
    store_close(store);
}

static void test_org_last_admin(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    int64_t admin = org_member(store, "o-admin", STORE_ROLE_ADMIN);
    int64_t other = org_member(store, "o-other", STORE_ROLE_MEMBER);
    int64_t visitor = org_user(store, "o-visitor");
    store_refusal_t why;
    store_member_t m;
    assert_int_equal(store_member_set_role(store, admin, STORE_ROLE_MEMBER, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_LAST_ADMIN);
    assert_int_equal(store_member_remove(store, admin, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_LAST_ADMIN);
    assert_int_equal(store_member_get(store, admin, &m), STORE_OK);
    assert_true(store_member_is_admin(&m)); /* unchanged */
    assert_int_equal(store_member_set_role(store, visitor, STORE_ROLE_ADMIN, NOW, &why), STORE_NOT_FOUND);

    assert_int_equal(store_member_set_role(store, other, STORE_ROLE_ADMIN, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(store_member_set_role(store, admin, STORE_ROLE_MEMBER, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(store_member_remove(store, admin, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(store_member_get(store, admin, &m), STORE_OK);
    assert_int_equal(m.status, STORE_MEMBER_REMOVED);
    assert_int_equal(store_member_remove(store, admin, NOW, &why), STORE_NOT_FOUND);
    store_close(store);
}

/* ---- concurrent joins with one code ---- */

typedef struct join_worker {
    const fixture_t *f;
    int64_t user_id;
    pthread_barrier_t *barrier;
    store_rc rc;
    store_refusal_t why;
} join_worker_t;

static void *join_worker_run(void *arg)
{
    join_worker_t *w = arg;
    char err[256];
    store_t *store = store_open(w->f->url, err, sizeof err);
    pthread_barrier_wait(w->barrier);
    if (store == NULL) {
        w->rc = STORE_ERROR;
        return NULL;
    }
    store_member_t m;
    w->rc = store_member_join(store, w->user_id, "J", "", "RACE", NOW, &m, &w->why);
    store_close(store);
    return NULL;
}

static void test_org_invite_race(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    int64_t admin = org_member(store, "o-admin", STORE_ROLE_ADMIN);
    org_invite(store, "RACE", 3, NOW + 3600, admin);
    join_worker_t w[N_THREADS];
    race_t race;
    race_init(&race);
    for (int i = 0; i < N_THREADS; i++) {
        char openid[32];
        snprintf(openid, sizeof openid, "o-race-%d", i);
        w[i] = (join_worker_t){.f = f, .user_id = org_user(store, openid), .barrier = &race.barrier};
    }
    race_run(&race, join_worker_run, w, sizeof w[0]);
    int joined = 0, refused = 0;
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(w[i].rc, STORE_OK);
        joined += w[i].why == STORE_REFUSED_NOT;
        refused += w[i].why == STORE_REFUSED_INVITE;
    }
    assert_int_equal(joined, 3);
    assert_int_equal(refused, N_THREADS - 3);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT used FROM oa_invite WHERE code = 'RACE'"), 3);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_member WHERE status = 1 AND role = 0"), 3);
    raw_close(db);
    store_close(store);
}

/* ---- rooms ---- */

static store_room_t org_room(store_t *store, const char *name)
{
    store_room_t r = {.enabled = true, .capacity = 10};
    snprintf(r.name, sizeof r.name, "%s", name);
    store_refusal_t why;
    assert_int_equal(store_room_save(store, &r, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_true(r.id > 0);
    return r;
}

static void test_org_rooms(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    store_room_t a = org_room(store, "301"), b = org_room(store, "302");
    store_refusal_t why;
    store_room_t dup = {.enabled = true};
    snprintf(dup.name, sizeof dup.name, "301");
    assert_int_equal(store_room_save(store, &dup, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NAME_TAKEN);
    assert_int_equal(dup.id, 0);
    snprintf(b.name, sizeof b.name, "301");
    assert_int_equal(store_room_save(store, &b, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NAME_TAKEN);
    snprintf(b.name, sizeof b.name, "302 大会议室 🎉");
    b.enabled = false;
    assert_int_equal(store_room_save(store, &b, NOW + 1, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    store_room_t got;
    assert_int_equal(store_room_get(store, b.id, &got), STORE_OK);
    assert_string_equal(got.name, "302 大会议室 🎉");
    assert_false(got.enabled);
    assert_int_equal(got.updated_at, NOW + 1);
    assert_int_equal(store_room_delete(store, a.id, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(store_room_get(store, a.id, &got), STORE_NOT_FOUND);
    assert_int_equal(store_room_delete(store, a.id, NOW, &why), STORE_NOT_FOUND);
    /* the deleted room's name is free again */
    org_room(store, "301");
    store_close(store);
}

/* ---- meetings ---- */

typedef struct org_world {
    int64_t admin, host, p1, p2, visitor;
    store_room_t room;
} org_world_t;

static org_world_t org_world(store_t *store)
{
    org_world_t w;
    w.admin = org_member(store, "o-admin", STORE_ROLE_ADMIN);
    w.host = org_member(store, "o-host", STORE_ROLE_MEMBER);
    w.p1 = org_member(store, "o-p1", STORE_ROLE_MEMBER);
    w.p2 = org_member(store, "o-p2", STORE_ROLE_MEMBER);
    w.visitor = org_user(store, "o-visitor");
    w.room = org_room(store, "301");
    return w;
}

static store_meeting_input_t org_input(const org_world_t *w, int64_t start, int64_t end, const int64_t *parts,
                                       size_t nparts)
{
    return (store_meeting_input_t){.host_id = w->host,
                                   .room_id = w->room.id,
                                   .title = "周会",
                                   .content = "议程 🎉",
                                   .location = "",
                                   .start_at = start,
                                   .end_at = end,
                                   .remind_minutes = 15,
                                   .participants = parts,
                                   .nparticipants = nparts};
}

static int64_t org_meeting(store_t *store, const store_meeting_input_t *in)
{
    int64_t id = 0;
    store_refusal_t why;
    assert_int_equal(store_meeting_create(store, in, NOW, &id, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_true(id > 0);
    return id;
}

/* Runs a transition of meeting id from its current version; returns the refusal. */
static store_refusal_t org_move(store_t *store, int64_t id, unsigned from, int to, bool book, int64_t now)
{
    store_meeting_t m;
    assert_int_equal(store_meeting_get(store, id, &m), STORE_OK);
    store_transition_t t = {.id = id,
                            .version = m.version,
                            .from_states = from,
                            .to_state = to,
                            .user_id = m.host_id,
                            .book_room = book,
                            .now = now};
    int64_t v = 0;
    store_clash_t clash;
    store_refusal_t why;
    assert_int_equal(store_meeting_transition(store, &t, &v, &clash, &why), STORE_OK);
    if (why == STORE_REFUSED_NOT)
        assert_int_equal(v, m.version + 1);
    return why;
}

typedef struct org_items {
    int64_t ids[16];
    int n;
} org_items_t;

static store_rc collect_item(const store_meeting_item_t *it, void *ctx)
{
    org_items_t *out = ctx;
    if (out->n < 16)
        out->ids[out->n++] = it->id;
    return STORE_OK;
}

/* One page of 16 of view; *page (may be NULL) gets its total and clock bound. */
static org_items_t org_view_page(store_t *store, store_meeting_view_t view, int64_t user, bool admin, int64_t now,
                                 store_meeting_page_t *page)
{
    org_items_t got = {0};
    store_meeting_page_t p;
    store_meeting_query_t q = {.view = view, .user_id = user, .is_admin = admin, .now = now, .limit = 16};
    assert_int_equal(store_meeting_list(store, &q, collect_item, &got, &p), STORE_OK);
    if (page != NULL)
        *page = p;
    return got;
}

static org_items_t org_view(store_t *store, store_meeting_view_t view, int64_t user, bool admin, int64_t now,
                            int64_t *total)
{
    store_meeting_page_t p;
    org_items_t got = org_view_page(store, view, user, admin, now, &p);
    *total = p.total;
    return got;
}

#define BIT(s) (1u << (s))
#define H      3600

static void test_meeting_lifecycle(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    org_world_t w = org_world(store);
    int64_t parts[] = {w.p1}, strangers[] = {w.p1, w.visitor};
    store_meeting_input_t in = org_input(&w, NOW + 2 * H, NOW + 3 * H, parts, 1);
    int64_t obs[] = {w.p2};
    in.observers = obs;
    in.nobservers = 1;
    int64_t id = org_meeting(store, &in);
    store_meeting_t m;
    assert_int_equal(store_meeting_get(store, id, &m), STORE_OK);
    assert_int_equal(m.state, STORE_MEETING_DRAFT);
    assert_int_equal(m.version, 1);
    assert_int_equal(m.attendee_count, 3);
    assert_string_equal(m.content, "议程 🎉");
    assert_string_equal(m.room_name, "301");
    assert_string_equal(m.host_name, "o-host");

    /* a visitor on the list: refused, nothing stored */
    store_meeting_input_t bad = org_input(&w, NOW + 2 * H, NOW + 3 * H, strangers, 2);
    int64_t none = 0;
    store_refusal_t why;
    assert_int_equal(store_meeting_create(store, &bad, NOW, &none, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT_MEMBER);
    int64_t unknown[] = {999999};
    bad = org_input(&w, NOW + 2 * H, NOW + 3 * H, unknown, 1);
    assert_int_equal(store_meeting_create(store, &bad, NOW, &none, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT_MEMBER);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_meeting"), 1);

    /* a draft is the host's alone in lists */
    int64_t total = 0;
    org_items_t got = org_view(store, STORE_VIEW_ALL, w.p1, false, NOW, &total);
    assert_int_equal(total, 0);
    got = org_view(store, STORE_VIEW_MINE, w.host, false, NOW, &total);
    assert_int_equal(total, 1);
    assert_int_equal(got.ids[0], id);

    /* update: stale version refused; lists replaced, answers of who stays kept */
    int64_t v = 0, parts2[] = {w.p2};
    store_meeting_input_t up = org_input(&w, NOW + 4 * H, NOW + 5 * H, parts2, 1);
    up.title = "周会（改）";
    assert_int_equal(store_meeting_update(store, id, 7, &up, NOW, &v, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_STALE);
    assert_int_equal(store_meeting_update(store, id, 1, &up, NOW, &v, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(v, 2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_attendee WHERE role = 9"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_attendee"), 2); /* host and p2 */
    assert_int_equal(raw_int(db, "SELECT min(m_start) FROM oa_attendee"), NOW + 4 * H);

    /* submit, approve: states, attendees' copies, views */
    unsigned editable = BIT(STORE_MEETING_DRAFT) | BIT(STORE_MEETING_REJECTED);
    assert_int_equal(org_move(store, id, BIT(STORE_MEETING_SUBMITTED), STORE_MEETING_APPROVED, true, NOW),
                     STORE_REFUSED_STATE);
    assert_int_equal(org_move(store, id, editable, STORE_MEETING_SUBMITTED, true, NOW), STORE_REFUSED_NOT);
    assert_int_equal(store_meeting_update(store, id, 3, &up, NOW, &v, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_STATE); /* submitted: no more edits */
    got = org_view(store, STORE_VIEW_APPROVAL, w.admin, true, NOW, &total);
    assert_int_equal(total, 1);
    got = org_view(store, STORE_VIEW_APPROVAL, w.p1, false, NOW, &total);
    assert_int_equal(total, 0);
    assert_int_equal(org_move(store, id, BIT(STORE_MEETING_SUBMITTED), STORE_MEETING_APPROVED, true, NOW),
                     STORE_REFUSED_NOT);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_attendee WHERE m_state = 4 AND m_visible = 1"), 2);
    /* a place: the role on it and the people signed in, in one read */
    int role = 0;
    int64_t present = -1, at = 0;
    bool late = true, already = true;
    assert_int_equal(store_meeting_place(store, id, w.p2, &role, &present), STORE_OK);
    assert_int_equal(role, STORE_ATTENDEE_PARTICIPANT);
    assert_int_equal(present, 0);
    assert_int_equal(store_meeting_place(store, id, w.visitor, &role, &present), STORE_OK);
    assert_int_equal(role, -1);
    assert_int_equal(store_meeting_checkin(store, id, w.p2, NOW, false, 0, "", &at, &late, &already, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_false(already);
    assert_int_equal(store_meeting_place(store, id, w.host, &role, &present), STORE_OK);
    assert_int_equal(role, STORE_ATTENDEE_HOST);
    assert_int_equal(present, 1);
    assert_int_equal(store_meeting_place(store, id + 1000, w.host, &role, &present), STORE_OK);
    assert_int_equal(role, -1); /* no such meeting: on nothing, nobody present */
    assert_int_equal(present, 0);
    got = org_view(store, STORE_VIEW_UPCOMING, w.p2, false, NOW, &total);
    assert_int_equal(total, 1);
    got = org_view(store, STORE_VIEW_NOTICE, w.p2, false, NOW, &total);
    assert_int_equal(total, 1);
    assert_int_equal(store_meeting_answer(store, id, w.p2, STORE_ANSWER_DECLINE, "出差", NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    got = org_view(store, STORE_VIEW_NOTICE, w.p2, false, NOW, &total);
    assert_int_equal(total, 0); /* answered */
    assert_int_equal(store_meeting_answer(store, id, w.host, STORE_ANSWER_DECLINE, "x", NOW, &why), STORE_NOT_FOUND);
    assert_int_equal(store_meeting_answer(store, id, w.p1, STORE_ANSWER_ATTEND, "", NOW, &why), STORE_NOT_FOUND);

    /* after the end: history, no more answers; archive */
    int64_t after = NOW + 6 * H;
    got = org_view(store, STORE_VIEW_UPCOMING, w.p2, false, after, &total);
    assert_int_equal(total, 0);
    got = org_view(store, STORE_VIEW_HISTORY, w.p2, false, after, &total);
    assert_int_equal(total, 1);
    assert_int_equal(got.ids[0], id);
    assert_int_equal(store_meeting_answer(store, id, w.p2, STORE_ANSWER_ATTEND, "", after, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_STATE);
    assert_int_equal(org_move(store, id, BIT(STORE_MEETING_APPROVED), STORE_MEETING_ARCHIVED, false, after),
                     STORE_REFUSED_NOT);
    got = org_view(store, STORE_VIEW_HISTORY, w.p2, false, after, &total);
    assert_int_equal(total, 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_meeting_log WHERE meeting_id = 1"), 4);
    raw_close(db);
    store_close(store);
}

static void test_meeting_room_clash(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    org_world_t w = org_world(store);
    unsigned editable = BIT(STORE_MEETING_DRAFT) | BIT(STORE_MEETING_REJECTED);
    store_meeting_input_t in = org_input(&w, NOW + 10 * H, NOW + 11 * H, NULL, 0);
    int64_t first = org_meeting(store, &in);
    assert_int_equal(org_move(store, first, editable, STORE_MEETING_SUBMITTED, true, NOW), STORE_REFUSED_NOT);
    /* overlapping by a minute: refused, and the clash named */
    in.start_at = NOW + 11 * H - 60;
    in.end_at = NOW + 12 * H;
    int64_t second = org_meeting(store, &in);
    store_meeting_t m;
    assert_int_equal(store_meeting_get(store, second, &m), STORE_OK);
    store_transition_t t = {.id = second,
                            .version = m.version,
                            .from_states = editable,
                            .to_state = STORE_MEETING_SUBMITTED,
                            .user_id = w.host,
                            .book_room = true,
                            .now = NOW};
    int64_t v = 0;
    store_clash_t clash;
    store_refusal_t why;
    assert_int_equal(store_meeting_transition(store, &t, &v, &clash, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_ROOM_BUSY);
    assert_int_equal(clash.meeting_id, first);
    assert_int_equal(clash.start_at, NOW + 10 * H);
    assert_int_equal(store_meeting_get(store, second, &m), STORE_OK);
    assert_int_equal(m.state, STORE_MEETING_DRAFT); /* unchanged */
    assert_int_equal(m.version, 1);
    /* back to back (half-open intervals): fine */
    in.start_at = NOW + 11 * H;
    int64_t third = org_meeting(store, &in);
    assert_int_equal(org_move(store, third, editable, STORE_MEETING_SUBMITTED, true, NOW), STORE_REFUSED_NOT);
    /* a room held by a meeting that has not ended cannot be deleted; once cancelled, it can */
    assert_int_equal(store_room_delete(store, w.room.id, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_ROOM_BUSY);
    unsigned live = BIT(1) | BIT(2) | BIT(3) | BIT(4);
    assert_int_equal(org_move(store, first, live, STORE_MEETING_CANCELLED, false, NOW), STORE_REFUSED_NOT);
    assert_int_equal(org_move(store, third, live, STORE_MEETING_CANCELLED, false, NOW), STORE_REFUSED_NOT);
    /* the cancelled meeting frees its slot */
    assert_int_equal(org_move(store, second, editable, STORE_MEETING_SUBMITTED, true, NOW), STORE_REFUSED_NOT);
    assert_int_equal(org_move(store, second, live, STORE_MEETING_CANCELLED, false, NOW), STORE_REFUSED_NOT);
    assert_int_equal(store_room_delete(store, w.room.id, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    store_close(store);
}

/* ---- the booking race: N_THREADS connections submit meetings of one slot at once ---- */

typedef struct book_worker {
    const fixture_t *f;
    int64_t meeting_id, host;
    pthread_barrier_t *barrier;
    store_rc rc;
    store_refusal_t why;
} book_worker_t;

static void *book_worker_run(void *arg)
{
    book_worker_t *w = arg;
    char err[256];
    store_t *store = store_open(w->f->url, err, sizeof err);
    pthread_barrier_wait(w->barrier);
    if (store == NULL) {
        w->rc = STORE_ERROR;
        return NULL;
    }
    store_transition_t t = {.id = w->meeting_id,
                            .version = 1,
                            .from_states = BIT(STORE_MEETING_DRAFT),
                            .to_state = STORE_MEETING_SUBMITTED,
                            .user_id = w->host,
                            .book_room = true,
                            .now = NOW};
    int64_t v = 0;
    store_clash_t clash;
    w->rc = store_meeting_transition(store, &t, &v, &clash, &w->why);
    if (w->rc != STORE_OK)
        fprintf(stderr, "booking: %s\n", store_last_error(store));
    store_close(store);
    return NULL;
}

static void test_meeting_booking_race(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    org_world_t w = org_world(store);
    book_worker_t workers[N_THREADS];
    race_t race;
    race_init(&race);
    for (int i = 0; i < N_THREADS; i++) {
        /* each overlaps every other: [10 h + i min, 11 h + i min) */
        store_meeting_input_t in = org_input(&w, NOW + 10 * H + i * 60, NOW + 11 * H + i * 60, NULL, 0);
        workers[i] =
            (book_worker_t){.f = f, .meeting_id = org_meeting(store, &in), .host = w.host, .barrier = &race.barrier};
    }
    race_run(&race, book_worker_run, workers, sizeof workers[0]);
    int won = 0, busy = 0;
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(workers[i].rc, STORE_OK);
        won += workers[i].why == STORE_REFUSED_NOT;
        busy += workers[i].why == STORE_REFUSED_ROOM_BUSY;
    }
    assert_int_equal(won, 1);
    assert_int_equal(busy, N_THREADS - 1);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_meeting WHERE state = 2"), 1);
    raw_close(db);
    store_close(store);
}

/* ---- votes ---- */

static int64_t org_vote(store_t *store, int64_t meeting_id, int64_t creator, bool anonymous, int64_t ids[3])
{
    store_vote_t v = {
        .meeting_id = meeting_id, .max_choices = 1, .anonymous = anonymous, .created_by = creator, .created_at = NOW};
    snprintf(v.title, sizeof v.title, "预算 🎉");
    const char *options[] = {"同意", "反对", "弃权"};
    assert_int_equal(store_vote_create(store, &v, options, 3, ids), STORE_OK);
    assert_true(v.id > 0);
    return v.id;
}

static void test_vote_ballots(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    org_world_t w = org_world(store);
    int64_t parts[] = {w.p1, w.p2};
    store_meeting_input_t in = org_input(&w, NOW + 2 * H, NOW + 3 * H, parts, 2);
    int64_t meeting = org_meeting(store, &in), ids[3], other[3];
    int64_t named = org_vote(store, meeting, w.host, false, ids);
    store_refusal_t why;
    assert_int_equal(store_vote_cast(store, named, w.p1, ids, 1, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_STATE); /* a draft */
    assert_int_equal(store_vote_move(store, named, STORE_VOTE_DRAFT, STORE_VOTE_OPEN, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(store_vote_move(store, named, STORE_VOTE_DRAFT, STORE_VOTE_OPEN, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_STATE); /* not twice */
    assert_int_equal(store_vote_cast(store, named, w.p1, ids, 1, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(store_vote_cast(store, named, w.p1, ids + 1, 1, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_ALREADY);
    /* an option of another vote: refused, nothing written */
    int64_t anon = org_vote(store, meeting, w.host, true, other);
    assert_int_equal(store_vote_cast(store, named, w.p2, other, 1, &why), STORE_NOT_FOUND);
    store_vote_t v;
    store_vote_option_t options[STORE_VOTE_MAX_OPTIONS];
    size_t n = 0;
    assert_int_equal(store_vote_get(store, named, &v, options, &n), STORE_OK);
    assert_int_equal(v.ballots, 1);
    assert_int_equal(n, 3);
    assert_int_equal(options[0].votes, 1);
    assert_int_equal(options[1].votes, 0);
    assert_string_equal(options[0].text, "同意");
    bool voted = false;
    int64_t chosen[STORE_VOTE_MAX_OPTIONS];
    size_t nchosen = 0;
    assert_int_equal(store_vote_ballot(store, named, w.p1, &voted, chosen, &nchosen), STORE_OK);
    assert_true(voted);
    assert_int_equal(nchosen, 1);
    assert_int_equal(chosen[0], ids[0]);
    assert_int_equal(store_vote_ballot(store, named, w.p2, &voted, chosen, &nchosen), STORE_OK);
    assert_false(voted);

    /* anonymous: counts and the fact, no choice row */
    assert_int_equal(store_vote_move(store, anon, STORE_VOTE_DRAFT, STORE_VOTE_OPEN, NOW, &why), STORE_OK);
    assert_int_equal(store_vote_cast(store, anon, w.p1, other + 2, 1, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_vote_choice WHERE vote_id = 2"), 0);
    assert_int_equal(raw_int(db, "SELECT votes FROM oa_vote_option WHERE vote_id = 2 AND position = 2"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_vote_ballot WHERE vote_id = 2"), 1);
    raw_close(db);
    /* closed: no more ballots */
    assert_int_equal(store_vote_move(store, anon, STORE_VOTE_OPEN, STORE_VOTE_CLOSED, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    assert_int_equal(store_vote_cast(store, anon, w.p2, other, 1, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_STATE);
    store_close(store);
}

typedef struct vote_worker {
    const fixture_t *f;
    int64_t vote_id, user_id, option_id;
    pthread_barrier_t *barrier;
    store_rc rc;
    store_refusal_t why;
} vote_worker_t;

static void *vote_worker_run(void *arg)
{
    vote_worker_t *w = arg;
    char err[256];
    store_t *store = store_open(w->f->url, err, sizeof err);
    pthread_barrier_wait(w->barrier);
    if (store == NULL) {
        w->rc = STORE_ERROR;
        return NULL;
    }
    w->rc = store_vote_cast(store, w->vote_id, w->user_id, &w->option_id, 1, &w->why);
    store_close(store);
    return NULL;
}

/* N_THREADS connections: half the same user at once (one ballot), half distinct users (all count). */
static void test_vote_race(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    org_world_t w = org_world(store);
    int64_t parts[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        char openid[32];
        snprintf(openid, sizeof openid, "o-voter-%d", i);
        parts[i] = org_member(store, openid, STORE_ROLE_MEMBER);
    }
    store_meeting_input_t in = org_input(&w, NOW + 2 * H, NOW + 3 * H, parts, N_THREADS);
    int64_t meeting = org_meeting(store, &in), ids[3];
    int64_t vote = org_vote(store, meeting, w.host, false, ids);
    store_refusal_t why;
    assert_int_equal(store_vote_move(store, vote, STORE_VOTE_DRAFT, STORE_VOTE_OPEN, NOW, &why), STORE_OK);
    vote_worker_t workers[N_THREADS];
    race_t race;
    race_init(&race);
    for (int i = 0; i < N_THREADS; i++)
        workers[i] = (vote_worker_t){.f = f,
                                     .vote_id = vote,
                                     .user_id = i < N_THREADS / 2 ? parts[0] : parts[i],
                                     .option_id = ids[i % 3],
                                     .barrier = &race.barrier};
    race_run(&race, vote_worker_run, workers, sizeof workers[0]);
    int counted = 0, already = 0;
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(workers[i].rc, STORE_OK);
        counted += workers[i].why == STORE_REFUSED_NOT;
        already += workers[i].why == STORE_REFUSED_ALREADY;
    }
    assert_int_equal(counted, 1 + N_THREADS / 2);
    assert_int_equal(already, N_THREADS / 2 - 1);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT ballots FROM oa_vote WHERE id = 1"), 1 + N_THREADS / 2);
    assert_int_equal(raw_int(db, "SELECT sum(votes) FROM oa_vote_option WHERE vote_id = 1"), 1 + N_THREADS / 2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_vote_choice WHERE vote_id = 1"), 1 + N_THREADS / 2);
    raw_close(db);
    store_close(store);
}

/* The list generation (store_member_t.list_gen) of user. */
static int64_t org_gen(store_t *store, int64_t user)
{
    store_member_t m;
    assert_int_equal(store_member_get(store, user, &m), STORE_OK);
    return m.list_gen;
}

/* Snapshot of the generations of a world's people. */
typedef struct org_gens {
    int64_t admin, host, p1, p2;
} org_gens_t;

static org_gens_t org_gens(store_t *store, const org_world_t *w)
{
    return (org_gens_t){org_gen(store, w->admin), org_gen(store, w->host), org_gen(store, w->p1),
                        org_gen(store, w->p2)};
}

/* Pages cached under a generation are safe only if every write that changes what upcoming and
 * notice show bumps the generations of exactly the people concerned, and the clock bound of a
 * page is the first time it could read differently without a write. */
static void test_meeting_list_generations(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    org_world_t w = org_world(store);
    int64_t parts[] = {w.p1}, obs[] = {w.p2};
    store_refusal_t why;
    org_gens_t g0 = org_gens(store, &w);

    /* a long meeting in the room, 1 h from now for 9 h; a short one elsewhere at 2 h for 1 h */
    store_meeting_input_t in = org_input(&w, NOW + 1 * H, NOW + 10 * H, parts, 1);
    in.observers = obs;
    in.nobservers = 1;
    int64_t a = org_meeting(store, &in);
    org_gens_t g1 = org_gens(store, &w);
    assert_true(g1.host > g0.host && g1.p1 > g0.p1 && g1.p2 > g0.p2);
    assert_int_equal(g1.admin, g0.admin); /* not on it */
    store_meeting_input_t in2 = org_input(&w, NOW + 2 * H, NOW + 3 * H, parts, 1);
    in2.room_id = 0;
    in2.location = "园区 B 座";
    int64_t b = org_meeting(store, &in2);
    org_gens_t g2 = org_gens(store, &w);
    assert_true(g2.host > g1.host && g2.p1 > g1.p1);
    assert_int_equal(g2.p2, g1.p2);

    /* an empty upcoming page is steady; submit and approve bump everyone on the meeting */
    store_meeting_page_t page;
    org_items_t got = org_view_page(store, STORE_VIEW_UPCOMING, w.p1, false, NOW, &page);
    assert_int_equal(got.n, 0);
    assert_int_equal(page.clock_bound, STORE_MEETING_PAGE_STEADY);
    unsigned editable = BIT(STORE_MEETING_DRAFT) | BIT(STORE_MEETING_REJECTED);
    int64_t ids[] = {a, b};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(org_move(store, ids[i], editable, STORE_MEETING_SUBMITTED, true, NOW), STORE_REFUSED_NOT);
        assert_int_equal(org_move(store, ids[i], BIT(STORE_MEETING_SUBMITTED), STORE_MEETING_APPROVED, true, NOW),
                         STORE_REFUSED_NOT);
    }
    org_gens_t g3 = org_gens(store, &w);
    assert_true(g3.host > g2.host && g3.p1 > g2.p1 && g3.p2 > g2.p2);
    assert_int_equal(g3.admin, g0.admin);

    /* clock bounds: before both, the first start; while a runs and b is ahead, b's start; while
     * both run, the first end; after b, a's end; the other views have none */
    got = org_view_page(store, STORE_VIEW_UPCOMING, w.p1, false, NOW, &page);
    assert_int_equal(got.n, 2);
    assert_int_equal(page.clock_bound, NOW + 1 * H);
    got = org_view_page(store, STORE_VIEW_UPCOMING, w.p1, false, NOW + 90 * 60, &page);
    assert_int_equal(page.clock_bound, NOW + 2 * H);
    got = org_view_page(store, STORE_VIEW_UPCOMING, w.p1, false, NOW + 150 * 60, &page);
    assert_int_equal(page.clock_bound, NOW + 3 * H);
    got = org_view_page(store, STORE_VIEW_NOTICE, w.p1, false, NOW + 4 * H, &page);
    assert_int_equal(got.n, 1);
    assert_int_equal(page.clock_bound, NOW + 10 * H);
    got = org_view_page(store, STORE_VIEW_UPCOMING, w.p2, false, NOW + 10 * H, &page);
    assert_int_equal(got.n, 0);
    assert_int_equal(page.clock_bound, STORE_MEETING_PAGE_STEADY);
    got = org_view_page(store, STORE_VIEW_HISTORY, w.p1, false, NOW + 4 * H, &page);
    assert_int_equal(page.clock_bound, 0);

    /* an answer bumps only the one who answers */
    assert_int_equal(store_meeting_answer(store, b, w.p1, STORE_ANSWER_ATTEND, "", NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    org_gens_t g4 = org_gens(store, &w);
    assert_true(g4.p1 > g3.p1);
    assert_true(g4.host == g3.host && g4.p2 == g3.p2);

    /* a room renamed: the people of its live meetings (a, not b); the same name again: nobody */
    store_room_t room = w.room;
    snprintf(room.name, sizeof room.name, "301 大会议室");
    assert_int_equal(store_room_save(store, &room, NOW, &why), STORE_OK);
    assert_int_equal(why, STORE_REFUSED_NOT);
    org_gens_t g5 = org_gens(store, &w);
    assert_true(g5.host > g4.host && g5.p1 > g4.p1 && g5.p2 > g4.p2);
    assert_int_equal(g5.admin, g0.admin);
    room.capacity = 30;
    assert_int_equal(store_room_save(store, &room, NOW, &why), STORE_OK);
    org_gens_t g6 = org_gens(store, &w);
    assert_true(g6.host == g5.host && g6.p1 == g5.p1 && g6.p2 == g5.p2);

    /* the host's row rewritten (a new name): the people of the meetings they host; a role
     * change: the member alone */
    assert_int_equal(store_member_grant(store, w.host, STORE_ROLE_MEMBER, "o-host 改名", NOW), STORE_OK);
    org_gens_t g7 = org_gens(store, &w);
    assert_true(g7.host > g6.host && g7.p1 > g6.p1 && g7.p2 > g6.p2);
    assert_int_equal(store_member_set_role(store, w.p2, STORE_ROLE_ADMIN, NOW, &why), STORE_OK);
    org_gens_t g8 = org_gens(store, &w);
    assert_true(g8.p2 > g7.p2);
    assert_true(g8.host == g7.host && g8.p1 == g7.p1);

    /* cancelling bumps everyone on it */
    assert_int_equal(org_move(store, b, BIT(STORE_MEETING_APPROVED), STORE_MEETING_CANCELLED, false, NOW),
                     STORE_REFUSED_NOT);
    org_gens_t g9 = org_gens(store, &w);
    assert_true(g9.host > g8.host && g9.p1 > g8.p1);
    assert_int_equal(g9.p2, g8.p2);
    store_close(store);
}

/* ---- subscription reminders (store_notify.h) ---- */

static const store_remind_plan_t REMIND_ALL = {{NULL, "T-INV", "T-APR", "T-START", "T-CHG"}};

typedef struct remind_got {
    store_reminder_t r[64];
    int n;
} remind_got_t;

static store_rc collect_reminder(const store_reminder_t *r, void *ctx)
{
    remind_got_t *g = ctx;
    if (g->n < 64)
        g->r[g->n++] = *r;
    return STORE_OK;
}

static int64_t remind_grant(store_t *store, int64_t user, const char *tpl, int n)
{
    int64_t quota = -1;
    assert_int_equal(store_notify_grant(store, user, tpl, n, STORE_GRANT_REPORT, NOW, &quota), STORE_OK);
    return quota;
}

static remind_got_t *remind_claim(store_t *store, int64_t now, remind_got_t *g)
{
    memset(g, 0, sizeof *g);
    int claimed = -1;
    assert_int_equal(store_notify_claim(store, "test", now, 50, collect_reminder, g, &claimed), STORE_OK);
    assert_int_equal(claimed, g->n);
    return g;
}

/* A transition with the plan of every kind. */
static store_refusal_t remind_move(store_t *store, int64_t id, unsigned from, int to, const char *reason, int64_t now)
{
    store_meeting_t m;
    assert_int_equal(store_meeting_get(store, id, &m), STORE_OK);
    store_transition_t t = {.id = id,
                            .version = m.version,
                            .from_states = from,
                            .to_state = to,
                            .user_id = m.host_id,
                            .reason = reason,
                            .now = now,
                            .remind = &REMIND_ALL};
    int64_t v = 0;
    store_clash_t clash;
    store_refusal_t why;
    assert_int_equal(store_meeting_transition(store, &t, &v, &clash, &why), STORE_OK);
    return why;
}

static int64_t remind_raw(raw_t *db, const char *fmt, int64_t arg)
{
    char q[300];
    snprintf(q, sizeof q, fmt, (long long)arg);
    return raw_int(db, q);
}

static void test_reminders(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    org_world_t w = org_world(store);
    int64_t parts[] = {w.p1, w.p2};
    /* starts in 2 h, reminded 15 min before */
    store_meeting_input_t in = org_input(&w, NOW + 2 * H, NOW + 3 * H, parts, 2);
    int64_t id = org_meeting(store, &in);
    static remind_got_t g;

    /* quotas: granted, capped, read back with n = 0 */
    assert_int_equal(remind_grant(store, w.p1, "T-INV", 1), 1);
    assert_int_equal(remind_grant(store, w.p1, "T-INV", 0), 1);
    assert_int_equal(remind_grant(store, w.p1, "T-START", 2), 2);
    assert_int_equal(remind_grant(store, w.host, "T-APR", 1), 1);
    assert_int_equal(remind_grant(store, w.host, "T-START", 1), 1);
    assert_int_equal(remind_grant(store, w.p2, "T-CHG", 5000), 1000);

    /* submit queues nothing; a rejection tells the host */
    assert_int_equal(remind_move(store, id, BIT(STORE_MEETING_DRAFT), STORE_MEETING_SUBMITTED, NULL, NOW),
                     STORE_REFUSED_NOT);
    assert_int_equal(remind_claim(store, NOW, &g)->n, 0);
    assert_int_equal(remind_move(store, id, BIT(STORE_MEETING_SUBMITTED), STORE_MEETING_REJECTED, "换个时间", NOW),
                     STORE_REFUSED_NOT);
    remind_claim(store, NOW, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].kind, STORE_REMIND_APPROVAL);
    assert_int_equal(g.r[0].user_id, w.host);
    assert_int_equal(g.r[0].meeting_id, id);
    assert_string_equal(g.r[0].template_id, "T-APR");
    assert_string_equal(g.r[0].openid, "o-host");
    assert_string_equal(g.r[0].result, "已驳回");
    assert_string_equal(g.r[0].reason, "换个时间");
    assert_string_equal(g.r[0].title, "周会");
    assert_string_equal(g.r[0].place, "301");
    assert_int_equal(g.r[0].start_at, NOW + 2 * H);
    int64_t rejected_id = g.r[0].id;
    /* claimed once: a second claim finds nothing, and the quota was taken */
    assert_int_equal(remind_claim(store, NOW, &g)->n, 0);
    assert_int_equal(remind_grant(store, w.host, "T-APR", 0), 0);
    assert_int_equal(
        store_notify_record(store, rejected_id, w.host, "T-APR", true, INT64_C(1988810812324364291), 0, false, NOW),
        STORE_OK);

    /* approval: invitation to the participants, approval to the host (no quota left: skipped),
     * starting-soon for everyone at start - 15 min */
    assert_int_equal(remind_move(store, id, BIT(STORE_MEETING_REJECTED), STORE_MEETING_SUBMITTED, NULL, NOW),
                     STORE_REFUSED_NOT);
    assert_int_equal(remind_move(store, id, BIT(STORE_MEETING_SUBMITTED), STORE_MEETING_APPROVED, NULL, NOW),
                     STORE_REFUSED_NOT);
    remind_claim(store, NOW, &g);
    assert_int_equal(g.n, 1); /* p1's invitation; p2 has no T-INV quota, the host no T-APR */
    assert_int_equal(g.r[0].kind, STORE_REMIND_INVITATION);
    assert_int_equal(g.r[0].user_id, w.p1);
    assert_int_equal(remind_grant(store, w.p1, "T-INV", 0), 0);
    /* WeChat said 43101: the quota is 0 whatever the server thought */
    assert_int_equal(remind_grant(store, w.p1, "T-INV", 1), 1);
    assert_int_equal(store_notify_record(store, g.r[0].id, w.p1, "T-INV", false, 0, 43101, false, NOW), STORE_OK);
    assert_int_equal(remind_grant(store, w.p1, "T-INV", 0), 0);

    /* starting-soon: not before its time; then the host and p1 (p2 has no quota) */
    assert_int_equal(remind_claim(store, NOW + 2 * H - 15 * 60 - 1, &g)->n, 0);
    remind_claim(store, NOW + 2 * H - 15 * 60, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].kind, STORE_REMIND_STARTING);
    assert_int_equal(g.r[1].kind, STORE_REMIND_STARTING);
    assert_true((g.r[0].user_id == w.host && g.r[1].user_id == w.p1) ||
                (g.r[0].user_id == w.p1 && g.r[1].user_id == w.host));
    /* another errcode than 43101 gives the subscription back */
    int64_t before = remind_grant(store, g.r[0].user_id, "T-START", 0);
    assert_int_equal(store_notify_record(store, g.r[0].id, g.r[0].user_id, "T-START", false, 0, -1, true, NOW),
                     STORE_OK);
    assert_int_equal(remind_grant(store, g.r[0].user_id, "T-START", 0), before + 1);
    /* g.r[1] never recorded (its sender died): after the stale bound it fails, never sent again */
    int64_t lost = g.r[1].id;
    int64_t ended = -1;
    assert_int_equal(store_notify_interrupted(store, NOW + 2 * H - 15 * 60, NOW + 3 * H, &ended), STORE_OK);
    assert_int_equal(ended, 0); /* not before the bound */
    assert_int_equal(store_notify_interrupted(store, NOW + 2 * H - 15 * 60 + 1, NOW + 3 * H, &ended), STORE_OK);
    assert_int_equal(ended, 1);
    assert_int_equal(remind_claim(store, NOW + 3 * H, &g)->n, 0);

    raw_t *db = raw_open(f);
    assert_int_equal(remind_raw(db, "SELECT errcode FROM oa_reminder WHERE id = %lld", lost),
                     STORE_REMIND_ERR_INTERRUPTED);
    assert_int_equal(remind_raw(db, "SELECT state FROM oa_reminder WHERE id = %lld", lost), STORE_REMIND_FAILED);
    /* msgid kept whole (above 2^53) */
    assert_int_equal(remind_raw(db, "SELECT msgid FROM oa_reminder WHERE id = %lld", rejected_id),
                     INT64_C(1988810812324364291));
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_reminder WHERE state = 4 AND errcode = 43101"), 3);

    /* a cancelled approved meeting: pending ones dropped, participants told (p2 has quota) */
    int64_t id2 = org_meeting(store, &in);
    assert_int_equal(remind_move(store, id2, BIT(STORE_MEETING_DRAFT), STORE_MEETING_SUBMITTED, NULL, NOW),
                     STORE_REFUSED_NOT);
    assert_int_equal(remind_move(store, id2, BIT(STORE_MEETING_SUBMITTED), STORE_MEETING_APPROVED, NULL, NOW - 1),
                     STORE_REFUSED_NOT);
    /* its invitations and approval were due: claim them first (no quota: skipped) */
    remind_claim(store, NOW - 1, &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(remind_move(store, id2, BIT(STORE_MEETING_APPROVED), STORE_MEETING_CANCELLED, "取消了", NOW),
                     STORE_REFUSED_NOT);
    assert_int_equal(remind_raw(db, "SELECT count(*) FROM oa_reminder WHERE meeting_id = %lld AND state = 5", id2),
                     3); /* the 3 starting-soon */
    remind_claim(store, NOW + 2 * H, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].kind, STORE_REMIND_CHANGED);
    assert_int_equal(g.r[0].user_id, w.p2);
    assert_string_equal(g.r[0].result, "已取消");
    assert_string_equal(g.r[0].reason, "取消了");

    /* without a plan nothing is queued */
    int64_t id3 = org_meeting(store, &in);
    assert_int_equal(org_move(store, id3, BIT(STORE_MEETING_DRAFT), STORE_MEETING_SUBMITTED, false, NOW),
                     STORE_REFUSED_NOT);
    assert_int_equal(org_move(store, id3, BIT(STORE_MEETING_SUBMITTED), STORE_MEETING_APPROVED, false, NOW),
                     STORE_REFUSED_NOT);
    assert_int_equal(remind_raw(db, "SELECT count(*) FROM oa_reminder WHERE meeting_id = %lld", id3), 0);
    raw_close(db);
    store_close(store);
}

static int64_t road_grant(store_t *store, int64_t user, int n, store_grant_road_t road, int64_t now)
{
    int64_t quota = -1;
    assert_int_equal(store_notify_grant(store, user, "T-INV", n, road, now, &quota), STORE_OK);
    return quota;
}

/* An accept reaches us reported by the client, pushed by WeChat, or both: each counts once. */
static void test_quota_roads(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    org_world_t w = org_world(store);
    const store_grant_road_t R = STORE_GRANT_REPORT, P = STORE_GRANT_PUSH;
    const int64_t W = STORE_GRANT_PAIR_SECONDS;
    /* one tap seen both ways, in either order: 1 */
    assert_int_equal(road_grant(store, w.p1, 1, R, NOW), 1);
    assert_int_equal(road_grant(store, w.p1, 1, P, NOW + 2), 1);
    assert_int_equal(road_grant(store, w.p1, 1, P, NOW + 10), 2);
    assert_int_equal(road_grant(store, w.p1, 1, R, NOW + 11), 2);
    /* two taps, the second's push lost, then a third seen both ways: 3 more */
    assert_int_equal(road_grant(store, w.p1, 1, R, NOW + 20), 3);
    assert_int_equal(road_grant(store, w.p1, 1, R, NOW + 21), 4);
    assert_int_equal(road_grant(store, w.p1, 1, P, NOW + 22), 4);
    /* the lost push's report waits until the window is over, then a new tap counts */
    assert_int_equal(road_grant(store, w.p1, 1, P, NOW + 21 + W + 1), 5);
    assert_int_equal(road_grant(store, w.p1, 1, R, NOW + 21 + W + 2), 5);
    /* reports only (no push configured), far apart: each counts */
    assert_int_equal(road_grant(store, w.p2, 1, R, NOW), 1);
    assert_int_equal(road_grant(store, w.p2, 2, R, NOW + W + 1), 3);
    /* pushes only (an old client that does not report): each counts */
    assert_int_equal(road_grant(store, w.host, 1, P, NOW), 1);
    assert_int_equal(road_grant(store, w.host, 1, P, NOW + 1), 2);
    /* a report of those two taps pairs with both; a third tap's report, with none waiting, counts */
    assert_int_equal(road_grant(store, w.host, 2, R, NOW + 2), 2);
    assert_int_equal(road_grant(store, w.host, 1, R, NOW + 3), 3);
    /* reading (n = 0) changes nothing */
    assert_int_equal(road_grant(store, w.host, 0, P, NOW + 4), 3);

    /* the user refused the template: 0, and the other users keep theirs */
    assert_int_equal(store_notify_refused(store, w.host, "T-INV", NOW + 4), STORE_OK);
    assert_int_equal(road_grant(store, w.host, 0, R, NOW + 4), 0);
    assert_int_equal(road_grant(store, w.p2, 0, R, NOW + 4), 3);

    /* a delivery report: a sent reminder with that msgid fails with the event's ErrorCode */
    int64_t parts[] = {w.p1};
    store_meeting_input_t in = org_input(&w, NOW + 2 * H, NOW + 3 * H, parts, 1);
    int64_t id = org_meeting(store, &in);
    assert_int_equal(remind_move(store, id, BIT(STORE_MEETING_DRAFT), STORE_MEETING_SUBMITTED, NULL, NOW),
                     STORE_REFUSED_NOT);
    assert_int_equal(remind_move(store, id, BIT(STORE_MEETING_SUBMITTED), STORE_MEETING_APPROVED, NULL, NOW),
                     STORE_REFUSED_NOT);
    static remind_got_t g;
    remind_claim(store, NOW, &g);
    assert_int_equal(g.n, 1); /* p1's invitation (T-INV quota); nobody else has quota */
    const int64_t msgid = INT64_C(1988810812324364291);
    assert_int_equal(store_notify_record(store, g.r[0].id, w.p1, "T-INV", true, msgid, 0, false, NOW), STORE_OK);
    bool found = false;
    assert_int_equal(store_notify_delivery(store, msgid + 1, 10005, NOW + 5, &found), STORE_OK);
    assert_false(found);
    assert_int_equal(store_notify_delivery(store, msgid, 0, NOW + 5, &found), STORE_OK);
    assert_true(found);
    raw_t *db = raw_open(f);
    assert_int_equal(remind_raw(db, "SELECT state FROM oa_reminder WHERE id = %lld", g.r[0].id), STORE_REMIND_SENT);
    assert_int_equal(store_notify_delivery(store, msgid, 10005, NOW + 5, &found), STORE_OK);
    assert_true(found);
    assert_int_equal(remind_raw(db, "SELECT state FROM oa_reminder WHERE id = %lld", g.r[0].id), STORE_REMIND_FAILED);
    assert_int_equal(remind_raw(db, "SELECT errcode FROM oa_reminder WHERE id = %lld", g.r[0].id), 10005);
    assert_int_equal(remind_raw(db, "SELECT msgid FROM oa_reminder WHERE id = %lld", g.r[0].id), msgid);
    raw_close(db);
    store_close(store);
}

/* N_THREADS connections claim at once: each due reminder is handed to exactly one of them. */
typedef struct claim_worker {
    const fixture_t *f;
    pthread_barrier_t *barrier;
    remind_got_t got;
    store_rc rc;
} claim_worker_t;

static void *claim_worker_run(void *arg)
{
    claim_worker_t *w = arg;
    char err[256];
    store_t *store = store_open(w->f->url, err, sizeof err);
    pthread_barrier_wait(w->barrier);
    if (store == NULL) {
        w->rc = STORE_ERROR;
        return NULL;
    }
    int claimed = 0;
    w->rc = STORE_OK;
    for (int round = 0; round < 4 && w->rc == STORE_OK; round++) /* batches of 5 */
        w->rc = store_notify_claim(store, "race", NOW, 5, collect_reminder, &w->got, &claimed);
    if (w->rc != STORE_OK)
        fprintf(stderr, "claim: %s\n", store_last_error(store));
    store_close(store);
    return NULL;
}

static void test_reminder_claim_race(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_migrated(f);
    org_world_t w = org_world(store);
    int64_t parts[] = {w.p1, w.p2};
    store_meeting_input_t in = org_input(&w, NOW + 2 * H, NOW + 3 * H, parts, 2);
    /* 10 meetings approved: 20 invitations due now; p1 has quota for all of its 10, p2 for 3 */
    assert_int_equal(remind_grant(store, w.p1, "T-INV", 15), 15);
    assert_int_equal(remind_grant(store, w.p2, "T-INV", 3), 3);
    static const store_remind_plan_t only_inv = {{NULL, "T-INV", NULL, NULL, NULL}};
    for (int i = 0; i < 10; i++) {
        in.start_at = NOW + (2 + 2 * i) * H;
        in.end_at = in.start_at + H;
        int64_t id = org_meeting(store, &in);
        assert_int_equal(org_move(store, id, BIT(STORE_MEETING_DRAFT), STORE_MEETING_SUBMITTED, false, NOW),
                         STORE_REFUSED_NOT);
        store_meeting_t m;
        assert_int_equal(store_meeting_get(store, id, &m), STORE_OK);
        store_transition_t t = {.id = id,
                                .version = m.version,
                                .from_states = BIT(STORE_MEETING_SUBMITTED),
                                .to_state = STORE_MEETING_APPROVED,
                                .user_id = w.admin,
                                .now = NOW,
                                .remind = &only_inv};
        int64_t v = 0;
        store_clash_t clash;
        store_refusal_t why;
        assert_int_equal(store_meeting_transition(store, &t, &v, &clash, &why), STORE_OK);
        assert_int_equal(why, STORE_REFUSED_NOT);
    }
    static claim_worker_t workers[N_THREADS];
    race_t race;
    race_init(&race);
    for (int i = 0; i < N_THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].f = f;
        workers[i].barrier = &race.barrier;
    }
    race_run(&race, claim_worker_run, workers, sizeof workers[0]);
    int total = 0, p1 = 0, p2 = 0;
    int64_t seen[64];
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(workers[i].rc, STORE_OK);
        for (int j = 0; j < workers[i].got.n; j++) {
            for (int k = 0; k < total; k++)
                assert_true(seen[k] != workers[i].got.r[j].id); /* never handed twice */
            assert_true(total < 64);
            seen[total++] = workers[i].got.r[j].id;
            p1 += workers[i].got.r[j].user_id == w.p1;
            p2 += workers[i].got.r[j].user_id == w.p2;
        }
    }
    assert_int_equal(p1, 10);
    assert_int_equal(p2, 3);
    assert_int_equal(total, 13);
    assert_int_equal(remind_grant(store, w.p1, "T-INV", 0), 5);
    assert_int_equal(remind_grant(store, w.p2, "T-INV", 0), 0);
    raw_t *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_reminder WHERE state = 1"), 13);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM oa_reminder WHERE state = 4"), 7);
    raw_close(db);
    store_close(store);
}

#define ORG_CASES(setup, teardown)                                                                                     \
    cmocka_unit_test_setup_teardown(test_org_join, setup, teardown),                                                   \
        cmocka_unit_test_setup_teardown(test_org_lists_and_admins, setup, teardown),                                   \
        cmocka_unit_test_setup_teardown(test_org_last_admin, setup, teardown),                                         \
        cmocka_unit_test_setup_teardown(test_org_invite_race, setup, teardown),                                        \
        cmocka_unit_test_setup_teardown(test_org_rooms, setup, teardown),                                              \
        cmocka_unit_test_setup_teardown(test_meeting_lifecycle, setup, teardown),                                      \
        cmocka_unit_test_setup_teardown(test_meeting_list_generations, setup, teardown),                               \
        cmocka_unit_test_setup_teardown(test_meeting_room_clash, setup, teardown),                                     \
        cmocka_unit_test_setup_teardown(test_meeting_booking_race, setup, teardown),                                   \
        cmocka_unit_test_setup_teardown(test_vote_ballots, setup, teardown),                                           \
        cmocka_unit_test_setup_teardown(test_vote_race, setup, teardown),                                              \
        cmocka_unit_test_setup_teardown(test_reminders, setup, teardown),                                              \
        cmocka_unit_test_setup_teardown(test_quota_roads, setup, teardown),                                            \
        cmocka_unit_test_setup_teardown(test_reminder_claim_race, setup, teardown)

#endif
