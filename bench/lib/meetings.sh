# shellcheck shell=bash
# bench/lib/meetings.sh — sourced by bench/run.sh: the SQL that fills an organization for the
# meeting-list scenario, the same rows on SQLite and MariaDB.
#
#   meetings_sql sqlite|mysql USERS MEETINGS NOW   prints the SQL on stdout (USERS: the
#                                                  number of wx_user rows, all made members)
#
# It runs after meetoa migrated the database and after the members logged in (their wx_user
# rows exist). Every wx_user becomes a member (oa_member: status 1, role 0); member k is the
# k-th wx_user by id, k from 0, through a helper table bench_u(k, uid), so gaps in the ids
# (MariaDB's auto-increment) do not matter. Then MEETINGS meetings (ids 1..MEETINGS) and about
# 10 attendees each, all derived from the meeting's number i = id - 1 by integer arithmetic
# (no random(): both backends get the very same organization):
#   host          member (i * 2654435761 + 12345) % N
#   attendees     6, 8, 10, 12 or 14 (i % 5): the host and members host + j * stride (mod N),
#                 j = 1..c-1, stride = 1 + (i * 7) % 701 (c * stride < N: all distinct);
#                 the last one an observer (role 2), the others participants (role 1);
#                 answers 30 % none, 60 % attend, 10 % decline (the host attends)
#   day           (i * 40503) % 361 - 180 days from today (local midnight, UTC+8)
#   time          08:00 + (i * 97) % 20 half hours, lasting 30, 60, 90 or 120 minutes
#   state         of 20: 1 cancelled, 1 draft, 1 submitted, 1 rejected, 16 approved, of which
#                 a third of those already ended are archived (7)
#   room          1 + i % 50 of 50 rooms, none (a location instead) for one meeting in 10
# oa_attendee repeats the meeting's state, start, end and visibility (host always, the others
# when approved or archived), as the meeting verbs keep it. Members are on 200 meetings on
# average (2,000,000 attendee rows for 200,000 meetings), about 80 of them upcoming.
# On MariaDB the session needs PIPES_AS_CONCAT (|| concatenates) and the SEQUENCE engine
# (seq_0_to_N, built in).

meetings_sql() {
    local dialect=$1 users=$2 meetings=$3 now=$4 day0 seq jseq
    # Local midnight of today in UTC+8 (oa.time-zone's default, Asia/Shanghai).
    day0=$(((now + 28800) / 86400 * 86400 - 28800))
    if [ "$dialect" = sqlite ]; then
        cat << SQL
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1048576;
PRAGMA temp_store = MEMORY;
BEGIN;
CREATE TABLE bench_seq (seq integer PRIMARY KEY);
INSERT INTO bench_seq WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $meetings - 1)
SELECT i FROM c;
SQL
        seq="bench_seq"
        jseq="bench_seq"
    else
        cat << SQL
SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT');
SET SESSION unique_checks = 0, foreign_key_checks = 0;
START TRANSACTION;
CREATE TABLE bench_seq (seq int NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO bench_seq SELECT seq FROM seq_0_to_$((meetings - 1));
SQL
        seq="bench_seq"
        # A table of 14 rows for the attendees' j: with bench_seq there, MariaDB's optimizer
        # scans all of it for every meeting (minutes).
        jseq="seq_0_to_13"
    fi
    cat << SQL
CREATE TABLE bench_u (k int NOT NULL PRIMARY KEY, uid int NOT NULL);
INSERT INTO bench_u SELECT row_number() OVER (ORDER BY id) - 1, id FROM wx_user;
INSERT INTO oa_member (user_id, name, department, status, role, requested_at, joined_at, updated_at)
SELECT uid, '成员' || k, '部门' || (k % 40), 1, 0, $now - 86400 * 30, $now - 86400 * 30, $now - 86400 * 30
FROM bench_u;
INSERT INTO oa_room (id, name, location, capacity, equipment, enabled, deleted, created_at, updated_at)
SELECT seq + 1, '会议室 ' || (seq + 1), (seq % 6 + 1) || ' 楼', 6 + seq % 5 * 4, '投影仪, 白板', 1, 0, $now, $now
FROM $seq WHERE seq < 50;
INSERT INTO oa_meeting (id, host_id, approver_id, room_id, title, content, location, start_at, end_at, state,
                        version, remind_minutes, reason, approved_at, attendee_count, created_at, updated_at)
SELECT s.seq + 1, u.uid, NULL, CASE WHEN s.seq % 10 = 0 THEN NULL ELSE 1 + s.seq % 50 END,
       CASE s.seq % 5 WHEN 0 THEN '周例会' WHEN 1 THEN '项目评审' WHEN 2 THEN '部门例会'
                      WHEN 3 THEN '需求讨论' ELSE '客户沟通' END || ' #' || (s.seq + 1),
       substr('议程：一、上周工作回顾；二、本周计划与分工；三、风险与问题；四、其他事项。请提前阅读附件并准备材料，'
              || '如不能参加请在系统中说明原因。Agenda: review of last week, plan for this week, risks, '
              || 'open questions, any other business. Please read the attachments beforehand.', 1, 60 + s.seq % 140),
       CASE WHEN s.seq % 10 = 0 THEN '园区 B 座 ' || (s.seq % 7 + 1) || ' 层' ELSE '' END,
       t.st, t.st + (1 + s.seq * 13 % 4) * 1800,
       CASE t.r WHEN 0 THEN 0 WHEN 1 THEN 1 WHEN 2 THEN 2 WHEN 3 THEN 3
                ELSE CASE WHEN t.st + (1 + s.seq * 13 % 4) * 1800 <= $now AND t.r % 3 = 0 THEN 7 ELSE 4 END END,
       1 + s.seq % 3, 15, '', CASE WHEN t.r >= 4 THEN t.st - 86400 ELSE 0 END, 6 + 2 * (s.seq % 5),
       t.st - 7 * 86400, t.st - 86400
FROM $seq s
JOIN (SELECT seq AS i, $day0 + ((seq * 40503) % 361 - 180) * 86400 + 8 * 3600 + (seq * 97 % 20) * 1800 AS st,
             (seq * 31 + 7) % 20 AS r FROM $seq) t ON t.i = s.seq
JOIN bench_u u ON u.k = (s.seq * 2654435761 + 12345) % $users;
INSERT INTO oa_attendee (meeting_id, user_id, role, answer, reason, answered_at, m_state, m_start, m_end, m_visible)
SELECT m.id, u.uid, CASE WHEN j.seq = 0 THEN 0 WHEN j.seq = m.attendee_count - 1 THEN 2 ELSE 1 END,
       CASE WHEN j.seq = 0 THEN 1 WHEN (m.id * 11 + j.seq * 17) % 10 < 3 THEN 0
            WHEN (m.id * 11 + j.seq * 17) % 10 < 9 THEN 1 ELSE 2 END,
       CASE WHEN j.seq > 0 AND (m.id * 11 + j.seq * 17) % 10 = 9 THEN '时间冲突' ELSE '' END,
       CASE WHEN j.seq = 0 OR (m.id * 11 + j.seq * 17) % 10 >= 3 THEN m.created_at + 3600 ELSE 0 END,
       m.state, m.start_at, m.end_at, CASE WHEN j.seq = 0 OR m.state IN (4, 7) THEN 1 ELSE 0 END
FROM oa_meeting m
JOIN $jseq j ON j.seq < m.attendee_count
JOIN bench_u u ON u.k = ((m.id - 1) * 2654435761 + 12345 + j.seq * (1 + (m.id - 1) * 7 % 701))
                        % $users
ORDER BY m.id, u.uid;
DROP TABLE bench_u;
DROP TABLE bench_seq;
COMMIT;
SQL
}
