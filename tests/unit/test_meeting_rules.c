/*
 * test_meeting_rules — meeting/meeting_rules.h: the state shown at a time, and for each
 * relation of the caller (host, participant, observer, approver, admin, other member) and
 * each stored state, which actions are allowed and which errno refuses the others.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "meeting/meeting_rules.h"
#include "store/store_meeting.h"

#define NOW   INT64_C(1796605200)
#define START (NOW + 3600)
#define END   (NOW + 7200)

static void test_state_at(void **state)
{
    (void)state;
    assert_int_equal(meeting_state_at(STORE_MEETING_APPROVED, START, END, NOW), STORE_MEETING_APPROVED);
    assert_int_equal(meeting_state_at(STORE_MEETING_APPROVED, START, END, START), STORE_MEETING_IN_PROGRESS);
    assert_int_equal(meeting_state_at(STORE_MEETING_APPROVED, START, END, END - 1), STORE_MEETING_IN_PROGRESS);
    assert_int_equal(meeting_state_at(STORE_MEETING_APPROVED, START, END, END), STORE_MEETING_ENDED);
    for (int s = 0; s <= 7; s++)
        if (s != STORE_MEETING_APPROVED)
            assert_int_equal(meeting_state_at(s, START, END, END + 1), s); /* only approved follow the clock */
    assert_string_equal(meeting_state_name(STORE_MEETING_SUBMITTED), "待审核");
    assert_string_equal(meeting_state_name(STORE_MEETING_IN_PROGRESS), "进行中");
    assert_string_equal(meeting_state_name(STORE_MEETING_CANCELLED), "已取消");
    assert_string_equal(meeting_state_name(9), "");
}

enum { HOST, PART, OBS, APPROVER, ADMIN, OTHER, NRELATIONS };

static meeting_facts_t facts(int relation, int stored, int64_t start, int64_t end)
{
    meeting_facts_t f = {.state = stored, .start_at = start, .end_at = end, .my_role = -1};
    if (relation == HOST)
        f.my_role = STORE_ATTENDEE_HOST;
    else if (relation == PART)
        f.my_role = STORE_ATTENDEE_PARTICIPANT;
    else if (relation == OBS)
        f.my_role = STORE_ATTENDEE_OBSERVER;
    f.is_approver = relation == APPROVER;
    f.is_admin = relation == ADMIN;
    return f;
}

/*
 * The expected errno of (relation, action, state) for a meeting in the future (START..END
 * after NOW), written out as the contract says (docs/api.md "State changes"): '.' allowed,
 * 'P' 506, 'S' 803. Columns: stored states 0 1 2 3 4 7.
 */
static const char *const expected[NRELATIONS][MEETING_ACTION_COUNT] = {
    /*            update    submit    approve   reject    cancel    archive   feedback */
    [HOST] = {"S.S.SS", "S.S.SS", "PPPPPP", "PPPPPP", "S....S", "SSSSSS", "PPPPPP"},
    [PART] = {"PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP", "SSSS.S"},
    [OBS] = {"PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP", "SSSS.S"},
    [APPROVER] = {"PPPPPP", "PPPPPP", "SS.SSS", "SS.SSS", "PPPPPP", "PPPPPP", "PPPPPP"},
    [ADMIN] = {"PPPPPP", "PPPPPP", "SS.SSS", "SS.SSS", "S....S", "SSSSSS", "PPPPPP"},
    [OTHER] = {"PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP", "PPPPPP"},
};
static const int stored_states[] = {0, 1, 2, 3, 4, 7};

static api_errno_t errno_of(char c)
{
    return c == '.' ? API_OK : (c == 'P' ? API_NO_PERMISSION : API_MEETING_STATE);
}

static void test_permission_matrix(void **state)
{
    (void)state;
    for (int r = 0; r < NRELATIONS; r++)
        for (int a = 0; a < MEETING_ACTION_COUNT; a++)
            for (int s = 0; s < 6; s++) {
                meeting_facts_t f = facts(r, stored_states[s], START, END);
                api_errno_t got = meeting_check(&f, (meeting_action_t)a, NOW);
                api_errno_t want = errno_of(expected[r][a][s]);
                if (got != want)
                    fail_msg("relation %d, %s, state %d: %d, expected %d", r, meeting_action_name((meeting_action_t)a),
                             stored_states[s], got, want);
            }
}

static void test_the_clock(void **state)
{
    (void)state;
    /* submit after the start: 809 */
    meeting_facts_t f = facts(HOST, STORE_MEETING_DRAFT, NOW - 60, NOW + 60);
    assert_int_equal(meeting_check(&f, MEETING_SUBMIT, NOW), API_MEETING_STARTED);
    assert_int_equal(meeting_check(&f, MEETING_UPDATE, NOW), API_OK); /* it can still be moved */
    /* in progress: cancel and feedback yes, archive no */
    f = facts(HOST, STORE_MEETING_APPROVED, NOW - 60, NOW + 60);
    assert_int_equal(meeting_check(&f, MEETING_CANCEL, NOW), API_OK);
    assert_int_equal(meeting_check(&f, MEETING_ARCHIVE, NOW), API_MEETING_STATE);
    f.my_role = STORE_ATTENDEE_PARTICIPANT;
    assert_int_equal(meeting_check(&f, MEETING_FEEDBACK, NOW), API_OK);
    /* ended: archive yes; cancel and feedback no */
    f = facts(HOST, STORE_MEETING_APPROVED, NOW - 120, NOW - 60);
    assert_int_equal(meeting_check(&f, MEETING_ARCHIVE, NOW), API_OK);
    assert_int_equal(meeting_check(&f, MEETING_CANCEL, NOW), API_MEETING_STATE);
    f = facts(ADMIN, STORE_MEETING_APPROVED, NOW - 120, NOW - 60);
    assert_int_equal(meeting_check(&f, MEETING_ARCHIVE, NOW), API_OK);
    f = facts(OBS, STORE_MEETING_APPROVED, NOW - 120, NOW - 60);
    assert_int_equal(meeting_check(&f, MEETING_FEEDBACK, NOW), API_MEETING_STATE);
    /* a draft whose end has passed cannot be cancelled either */
    f = facts(HOST, STORE_MEETING_DRAFT, NOW - 120, NOW - 60);
    assert_int_equal(meeting_check(&f, MEETING_CANCEL, NOW), API_MEETING_STATE);
}

static void test_who_may_read(void **state)
{
    (void)state;
    for (int r = 0; r < NRELATIONS; r++) {
        meeting_facts_t f = facts(r, STORE_MEETING_DRAFT, START, END);
        assert_int_equal(meeting_may_read(&f), r != OTHER);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_at),
        cmocka_unit_test(test_permission_matrix),
        cmocka_unit_test(test_the_clock),
        cmocka_unit_test(test_who_may_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
