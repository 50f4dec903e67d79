/* org/room_api — see room_api.h. */
#include "org/room_api.h"

#include <stdio.h>
#include <string.h>

#include "common/text.h"
#include "org/org_job.h"

static json_t *room_json(const store_room_t *r)
{
    return json_pack("{s:I, s:s, s:s, s:I, s:s, s:b}", "id", (json_int_t)r->id, "name", r->name, "location",
                     r->location, "capacity", (json_int_t)r->capacity, "equipment", r->equipment, "enabled",
                     r->enabled);
}

/* Reads the room's fields of the request over *r (required: only name, and only on create). */
static bool read_room_fields(org_job_t *job, store_room_t *r, bool create)
{
    const char *name, *location, *equipment;
    long capacity = r->capacity;
    bool enabled = r->enabled, here = false;
    if (!org_param_text(job, "name", create, 1, 50, false, &name, "会议室名称须为1到50个字符") ||
        !org_param_text(job, "location", false, 0, 100, false, &location, "位置须为0到100个字符") ||
        !org_param_int(job, "capacity", false, 0, 100000, &capacity, NULL, "容量须为0到100000") ||
        !org_param_text(job, "equipment", false, 0, 200, false, &equipment, "设备须为0到200个字符") ||
        !org_param_bool(job, "enabled", false, &enabled, &here))
        return false;
    if (name != NULL)
        snprintf(r->name, sizeof r->name, "%s", name);
    if (location != NULL)
        snprintf(r->location, sizeof r->location, "%s", location);
    if (equipment != NULL)
        snprintf(r->equipment, sizeof r->equipment, "%s", equipment);
    r->capacity = capacity;
    r->enabled = enabled;
    return true;
}

static void save_room(org_job_t *job, store_t *store, store_room_t *r)
{
    store_refusal_t why;
    store_rc rc = store_room_save(store, r, job->now, &why);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "room save");
        return;
    }
    if (why == STORE_REFUSED_NAME_TAKEN) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "会议室名称已存在");
        return;
    }
    job->data = room_json(r);
}

/* POST /wx/room/create (admin) */
static void run_room_create(org_job_t *job, store_t *store)
{
    store_room_t r = {.enabled = true};
    if (read_room_fields(job, &r, true))
        save_room(job, store, &r);
}
ORG_ENDPOINT(room_create, ORG_ADMIN, run_room_create)

/* POST /wx/room/update {id, ...} (admin) */
static void run_room_update(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return;
    store_room_t r;
    store_rc rc = store_room_get(store, id, &r);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "room get");
        return;
    }
    if (read_room_fields(job, &r, false))
        save_room(job, store, &r);
}
ORG_ENDPOINT(room_update, ORG_ADMIN, run_room_update)

/* POST /wx/room/delete {id} (admin) */
static void run_room_delete(org_job_t *job, store_t *store)
{
    int64_t id = 0;
    if (!org_param_id(job, "id", true, &id, NULL, "id 无效"))
        return;
    store_refusal_t why;
    store_rc rc = store_room_delete(store, id, job->now, &why);
    if (rc != STORE_OK) {
        org_fail_store(job, store, rc, "room delete");
        return;
    }
    if (why == STORE_REFUSED_ROOM_BUSY) {
        org_fail(job, API_ROOM_OCCUPIED, "会议室仍有未结束的会议，可先停用");
        return;
    }
    job->data = json_pack("{s:I}", "id", (json_int_t)id);
}
ORG_ENDPOINT(room_delete, ORG_ADMIN, run_room_delete)

static store_rc add_room(const store_room_t *r, void *ctx)
{
    return json_array_append_new(ctx, room_json(r)) == 0 ? STORE_OK : STORE_ERROR;
}

/* GET /wx/room/list?page=&limit= (member; admins see disabled rooms too) */
static void run_room_list(org_job_t *job, store_t *store)
{
    org_page_t page;
    if (!org_param_page(job, ORG_PAGE_MAX_LIMIT, &page))
        return;
    json_t *list = json_array();
    int64_t total = 0;
    store_rc rc =
        store_room_list(store, store_member_is_admin(&job->member), page.offset, page.limit, add_room, list, &total);
    org_answer_page(job, store, rc, list, total, &page, "room list");
}
ORG_ENDPOINT(room_list, ORG_MEMBER, run_room_list)

/* The schedule's rooms: an array of room objects, each with "busy": [] */
static store_rc add_schedule_room(const store_room_t *r, void *ctx)
{
    json_t *item = json_pack("{s:I, s:s, s:s, s:I, s:[]}", "id", (json_int_t)r->id, "name", r->name, "location",
                             r->location, "capacity", (json_int_t)r->capacity, "busy");
    return json_array_append_new(ctx, item) == 0 ? STORE_OK : STORE_ERROR;
}

static store_rc add_busy(const store_room_busy_t *b, void *ctx)
{
    json_t *rooms = ctx;
    size_t i;
    json_t *room;
    json_array_foreach(rooms, i, room)
    {
        if (json_integer_value(json_object_get(room, "id")) != b->room_id)
            continue;
        json_t *item =
            json_pack("{s:I, s:s, s:o, s:o, s:i}", "meetingId", (json_int_t)b->meeting_id, "title", b->title,
                      "startTime", org_time_json(b->start_at), "endTime", org_time_json(b->end_at), "state", b->state);
        return json_array_append_new(json_object_get(room, "busy"), item) == 0 ? STORE_OK : STORE_ERROR;
    }
    return STORE_OK; /* a disabled room's meetings: not shown */
}

/* GET /wx/room/schedule?date=YYYY-MM-DD (member) */
static void run_room_schedule(org_job_t *job, store_t *store)
{
    const char *date;
    int64_t from = 0, to = 0;
    if (!org_param_text(job, "date", true, 10, 10, false, &date, "date 须为 YYYY-MM-DD"))
        return;
    if (!text_date_parse(date, strlen(date), &from, &to)) {
        org_fail(job, API_BAD_ARGUMENT_VALUE, "date 须为 YYYY-MM-DD");
        return;
    }
    json_t *rooms = json_array();
    int64_t total = 0;
    store_rc rc = store_room_list(store, false, 0, 1000, add_schedule_room, rooms, &total);
    if (rc == STORE_OK)
        rc = store_room_busy(store, from, to, add_busy, rooms);
    if (rc != STORE_OK) {
        json_decref(rooms);
        org_fail_store(job, store, rc, "room schedule");
        return;
    }
    job->data = json_pack("{s:s, s:o}", "date", date, "list", rooms);
}
ORG_ENDPOINT(room_schedule, ORG_MEMBER, run_room_schedule)

static const http_route_t room_routes[] = {
    {"POST", "/wx/room/create", room_create},    {"POST", "/wx/room/update", room_update},
    {"POST", "/wx/room/delete", room_delete},    {"GET", "/wx/room/list", room_list},
    {"GET", "/wx/room/schedule", room_schedule},
};

const app_module_t room_module = {.name = "room", APP_MODULE_ROUTES_FIELDS(room_routes)};
