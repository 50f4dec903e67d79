# shellcheck shell=bash
# bench/lib/votes.sh — sourced by bench/run.sh: the SQL of the vote-signin scenario (SQLite).
#
#   votes_people_sql USERS NOW          USERS wx_user rows (ids 1..USERS, in a freshly migrated
#                                       database), each an active member (oa_member status 1)
#   votes_round_sql ROUND USERS MEETINGS VOTES NOW
#                                       one round's fresh data: the meetings of earlier rounds
#                                       ended (and their votes closed), then MEETINGS meetings in
#                                       progress (approved, started 10 minutes ago, ending in 2
#                                       hours; ids ROUND * 100000 + 1 ...; a fixed sign-in code
#                                       'vs' ROUND(2) INDEX(8)), each with USERS / MEETINGS
#                                       attendees (meeting j: the users k with k % MEETINGS = j,
#                                       the first the host, the others participants: everyone on
#                                       it votes), VOTES open single-choice named questions per
#                                       meeting (3 options each), and the round's operations in
#                                       bench_op (round, pos, kind, ref, user_id): kind 1 a
#                                       sign-in of user_id at meeting ref, kind 2 a ballot of
#                                       user_id on question ref; every attendee signs in once and
#                                       votes once on each question of their meeting, in a
#                                       random order (pos 0, 1, ...)
#   votes_ops_sql ROUND                 the round's operations as "USER_ID<TAB>PATH<TAB>BODY" in
#                                       pos order (run.sh puts each user's token in place of the id)
#   votes_counts_sql ROUND HANDED_FROM HANDED_TO
#                                       one line of counts, "name=value" separated by spaces:
#                                       signins and ballots (rows of the round: attendees signed
#                                       in, oa_vote_ballot), choices (oa_vote_choice), option_votes
#                                       (sum of oa_vote_option.votes), vote_ballots (sum of
#                                       oa_vote.ballots); op_signins and op_ballots (operations
#                                       with pos in [FROM, TO) found done), beyond (operations at
#                                       pos >= TO, never handed to wrk, found done: must be 0)
# Ids are explicit and derived from ROUND, so rounds never collide.

votes_people_sql() {
    local users=$1 now=$2
    cat << SQL
PRAGMA synchronous = OFF;
BEGIN;
INSERT INTO wx_user (id, username, weixin_openid, unionid, nickname, avatar, gender, status,
                     add_time, update_time, last_login_time, last_login_ip)
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $users)
SELECT i, 'obenchvote' || i, 'obenchvote' || i, 'ubenchvote' || i, 'bench user ' || i,
       'https://example.com/avatar/' || i || '.png', i % 3, 0, datetime('now', 'localtime'),
       datetime('now', 'localtime'), datetime('now', 'localtime'), '127.0.0.1' FROM c;
INSERT INTO oa_member (user_id, name, department, status, role, requested_at, joined_at, updated_at)
SELECT id, '成员' || id, '部门' || (id % 40), 1, CASE WHEN id = 1 THEN 1 ELSE 0 END,
       $now - 86400, $now - 86400, $now - 86400 FROM wx_user;
CREATE TABLE bench_op (round integer NOT NULL, pos integer NOT NULL, kind integer NOT NULL,
                       ref integer NOT NULL, user_id integer NOT NULL, PRIMARY KEY (round, pos));
COMMIT;
SQL
}

votes_round_sql() {
    local r=$1 users=$2 meetings=$3 votes=$4 now=$5 base
    base=$((r * 100000))
    cat << SQL
PRAGMA synchronous = OFF;
BEGIN;
UPDATE oa_vote SET state = 2, closed_at = $now WHERE state = 1;
UPDATE oa_attendee SET m_start = $now - 7200, m_end = $now - 60 WHERE m_end > $now AND meeting_id < $base;
UPDATE oa_meeting SET start_at = $now - 7200, end_at = $now - 60 WHERE end_at > $now AND id < $base;
CREATE TEMP TABLE j (j integer PRIMARY KEY);
INSERT INTO j WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $meetings - 1) SELECT i FROM c;
CREATE TEMP TABLE v (v integer PRIMARY KEY);
INSERT INTO v WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $votes - 1) SELECT i FROM c;
INSERT INTO oa_meeting (id, host_id, room_id, title, content, location, start_at, end_at, state, version,
                        remind_minutes, approved_at, attendee_count, created_at, updated_at, checkin_code)
SELECT $base + 1 + j, j + 1, NULL, '全体会议 ' || $r || '-' || j, '议程：签到与表决。', '园区 A 座',
       $now - 600, $now + 7200, 4, 2, 15, $now - 86400,
       ($users - j + $meetings - 1) / $meetings, $now - 86400 * 2, $now - 86400,
       'vs' || printf('%02d%08d', $r, j) FROM j;
INSERT INTO oa_attendee (meeting_id, user_id, role, answer, answered_at, m_state, m_start, m_end, m_visible)
WITH RECURSIVE c(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM c WHERE k < $users - 1)
SELECT $base + 1 + k % $meetings, k + 1, CASE WHEN k < $meetings THEN 0 ELSE 1 END, 1, $now - 3600,
       4, $now - 600, $now + 7200, 1 FROM c ORDER BY 1, 2;
INSERT INTO oa_vote (id, meeting_id, title, multiple, max_choices, anonymous, pass_rule, state, ballots,
                     created_by, created_at, opened_at)
SELECT ($base + j) * $votes + v + 1, $base + 1 + j, '议题 ' || (v + 1), 0, 1, 0, 1, 1, 0, j + 1, $now - 300, $now - 300
FROM j, v;
INSERT INTO oa_vote_option (id, vote_id, position, text, votes)
SELECT o.id * 4 + p.p, o.id, p.p, CASE p.p WHEN 0 THEN '同意' WHEN 1 THEN '反对' ELSE '弃权' END, 0
FROM oa_vote o, (SELECT 0 AS p UNION ALL SELECT 1 UNION ALL SELECT 2) p WHERE o.meeting_id > $base;
INSERT INTO bench_op (round, pos, kind, ref, user_id)
SELECT $r, row_number() OVER (ORDER BY random()) - 1, kind, ref, user_id FROM (
    SELECT 1 AS kind, meeting_id AS ref, user_id FROM oa_attendee WHERE meeting_id > $base
    UNION ALL
    SELECT 2, o.id, a.user_id FROM oa_vote o JOIN oa_attendee a ON a.meeting_id = o.meeting_id
    WHERE o.meeting_id > $base);
DROP TABLE j;
DROP TABLE v;
COMMIT;
SQL
}

votes_ops_sql() {
    cat << SQL
SELECT o.pos, o.user_id, '/wx/meeting/checkin', '{"scene":"' || m.checkin_code || '"}'
FROM bench_op o JOIN oa_meeting m ON m.id = o.ref WHERE o.round = $1 AND o.kind = 1
UNION ALL
SELECT o.pos, o.user_id, '/wx/vote/cast', '{"id":' || o.ref || ',"optionIds":[' || (o.ref * 4 + (o.user_id + o.ref) % 3) || ']}'
FROM bench_op o WHERE o.round = $1 AND o.kind = 2
ORDER BY 1;
SQL
}

votes_counts_sql() {
    local r=$1 from=$2 to=$3 base=$(($1 * 100000))
    cat << SQL
WITH done AS (
    SELECT o.pos, o.kind FROM bench_op o JOIN oa_attendee a ON a.meeting_id = o.ref AND a.user_id = o.user_id
    WHERE o.round = $r AND o.kind = 1 AND a.checkin_at > 0
    UNION ALL
    SELECT o.pos, o.kind FROM bench_op o JOIN oa_vote_ballot b ON b.vote_id = o.ref AND b.user_id = o.user_id
    WHERE o.round = $r AND o.kind = 2)
SELECT 'signins=' || (SELECT count(*) FROM oa_attendee WHERE meeting_id BETWEEN $base + 1 AND $base + 99999 AND checkin_at > 0)
    || ' ballots=' || (SELECT count(*) FROM oa_vote_ballot b JOIN oa_vote o ON o.id = b.vote_id WHERE o.meeting_id BETWEEN $base + 1 AND $base + 99999)
    || ' choices=' || (SELECT count(*) FROM oa_vote_choice c JOIN oa_vote o ON o.id = c.vote_id WHERE o.meeting_id BETWEEN $base + 1 AND $base + 99999)
    || ' option_votes=' || (SELECT coalesce(sum(p.votes), 0) FROM oa_vote_option p JOIN oa_vote o ON o.id = p.vote_id WHERE o.meeting_id BETWEEN $base + 1 AND $base + 99999)
    || ' vote_ballots=' || (SELECT coalesce(sum(ballots), 0) FROM oa_vote WHERE meeting_id BETWEEN $base + 1 AND $base + 99999)
    || ' op_signins=' || (SELECT count(*) FROM done WHERE kind = 1 AND pos >= $from AND pos < $to)
    || ' op_ballots=' || (SELECT count(*) FROM done WHERE kind = 2 AND pos >= $from AND pos < $to)
    || ' beyond=' || (SELECT count(*) FROM done WHERE pos >= $to);
SQL
}
