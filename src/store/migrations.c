/*
 * migrations — MeetOA's schema history, step by step, for SQLite and MySQL/MariaDB.
 *
 * Why a list of numbered steps and not one CREATE script: a database made by an older
 * meetoa must be upgraded in place, keeping its rows. The store applies the steps newer
 * than the database's recorded version, each in its own transaction (see store_sqlite.c).
 *
 * wx_user keeps exactly the columns of the original system's table (docs/schema.md),
 * so data can move between the two, plus unionid (step 2). Datetimes are DATETIME text
 * in local time on both backends. The MySQL text is run by store_mysql.c (tested by
 * test_store_mysql.c). DDL commits implicitly on MySQL, so a MySQL step is written as few
 * statements as possible, ordered so that re-running a step that failed half-way either
 * completes it or fails clearly (a duplicate column), never corrupts.
 */
#include "store/migrations.h"

#include <stddef.h>

const char *const store_migration_bootstrap_sqlite = "CREATE TABLE IF NOT EXISTS schema_version ("
                                                     " version integer NOT NULL PRIMARY KEY,"
                                                     " applied_at datetime NOT NULL)";
const char *const store_migration_bootstrap_mysql = "CREATE TABLE IF NOT EXISTS schema_version ("
                                                    " version int NOT NULL PRIMARY KEY,"
                                                    " applied_at datetime NOT NULL"
                                                    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

/* Step 1: the original system's user table. */
static const char *const step1_sqlite[] = {
    "CREATE TABLE wx_user ("
    " id integer PRIMARY KEY AUTOINCREMENT,"
    " username varchar(63) NOT NULL,"
    " password varchar(63) NOT NULL DEFAULT '',"
    " gender tinyint DEFAULT 0,"
    " birthday date DEFAULT NULL,"
    " last_login_time datetime DEFAULT NULL,"
    " last_login_ip varchar(63) NOT NULL DEFAULT '',"
    " user_level tinyint DEFAULT 0,"
    " nickname varchar(63) NOT NULL DEFAULT '',"
    " mobile varchar(20) NOT NULL DEFAULT '',"
    " avatar varchar(255) NOT NULL DEFAULT '',"
    " weixin_openid varchar(63) NOT NULL DEFAULT '',"
    " status tinyint NOT NULL DEFAULT 0,"
    " add_time datetime DEFAULT NULL,"
    " update_time datetime DEFAULT NULL,"
    " deleted tinyint(1) DEFAULT 0,"
    " share_user_id int DEFAULT NULL,"
    " CONSTRAINT wx_user_username UNIQUE (username),"
    " CONSTRAINT wx_user_weixin_openid UNIQUE (weixin_openid))",
    NULL,
};
static const char *const step1_mysql[] = {
    "CREATE TABLE wx_user ("
    " id int NOT NULL AUTO_INCREMENT,"
    " username varchar(63) COLLATE utf8mb4_bin NOT NULL,"
    " password varchar(63) NOT NULL DEFAULT '',"
    " gender tinyint DEFAULT 0,"
    " birthday date DEFAULT NULL,"
    " last_login_time datetime DEFAULT NULL,"
    " last_login_ip varchar(63) NOT NULL DEFAULT '',"
    " user_level tinyint DEFAULT 0,"
    " nickname varchar(63) NOT NULL DEFAULT '',"
    " mobile varchar(20) NOT NULL DEFAULT '',"
    " avatar varchar(255) NOT NULL DEFAULT '',"
    " weixin_openid varchar(63) COLLATE utf8mb4_bin NOT NULL DEFAULT '',"
    " status tinyint NOT NULL DEFAULT 0,"
    " add_time datetime DEFAULT NULL,"
    " update_time datetime DEFAULT NULL,"
    " deleted tinyint(1) DEFAULT 0,"
    " share_user_id int DEFAULT NULL,"
    " PRIMARY KEY (id),"
    " UNIQUE KEY wx_user_username (username),"
    " UNIQUE KEY wx_user_weixin_openid (weixin_openid)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    NULL,
};

/* Step 2: unionid, the mobile lookup index and the login sessions. */
static const char *const step2_sqlite[] = {
    "ALTER TABLE wx_user ADD COLUMN unionid varchar(63) NOT NULL DEFAULT ''",
    "CREATE INDEX wx_user_mobile ON wx_user (mobile)",
    "CREATE TABLE wx_session ("
    " token_hash blob(32) NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),"
    " user_id integer NOT NULL REFERENCES wx_user (id) ON DELETE CASCADE,"
    " created_at bigint NOT NULL,"
    " expires_at bigint NOT NULL,"
    " session_key_sealed blob NOT NULL"
    ") WITHOUT ROWID",
    "CREATE INDEX wx_session_user_id ON wx_session (user_id)",
    "CREATE INDEX wx_session_expires_at ON wx_session (expires_at)",
    NULL,
};
/* MySQL: the new table first (IF NOT EXISTS: harmless when a failed run made it), then one
 * ALTER for the column and the index (one DDL statement: applied whole or not at all). */
static const char *const step2_mysql[] = {
    "CREATE TABLE IF NOT EXISTS wx_session ("
    " token_hash binary(32) NOT NULL,"
    " user_id int NOT NULL,"
    " created_at bigint NOT NULL,"
    " expires_at bigint NOT NULL,"
    " session_key_sealed varbinary(128) NOT NULL,"
    " PRIMARY KEY (token_hash),"
    " KEY wx_session_user_id (user_id),"
    " KEY wx_session_expires_at (expires_at),"
    " CONSTRAINT wx_session_user FOREIGN KEY (user_id) REFERENCES wx_user (id) ON DELETE CASCADE"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "ALTER TABLE wx_user ADD COLUMN unionid varchar(63) COLLATE utf8mb4_bin NOT NULL DEFAULT '',"
    " ADD INDEX wx_user_mobile (mobile)",
    NULL,
};

/*
 * Step 3: the organization and its meetings (docs/schema.md). Every time is integer epoch
 * seconds. oa_attendee repeats its meeting's state, start, end and "visible" flag (m_*), so
 * each list of the 会议 tab is one range of one index of the caller's own rows; the meeting
 * verbs keep the copies in step in the same transaction as the meeting.
 */
#define STEP3_COMMON_MEMBER                                                                                            \
    " name varchar(20) NOT NULL,"                                                                                      \
    " department varchar(50) NOT NULL DEFAULT '',"                                                                     \
    " status tinyint NOT NULL,"                                                                                        \
    " role tinyint NOT NULL DEFAULT 0,"                                                                                \
    " reason varchar(200) NOT NULL DEFAULT '',"                                                                        \
    " invite_id int DEFAULT NULL,"                                                                                     \
    " requested_at bigint NOT NULL,"                                                                                   \
    " joined_at bigint NOT NULL DEFAULT 0,"                                                                            \
    " updated_at bigint NOT NULL,"
#define STEP3_COMMON_ROOM                                                                                              \
    " name varchar(50) NOT NULL,"                                                                                      \
    " location varchar(100) NOT NULL DEFAULT '',"                                                                      \
    " capacity int NOT NULL DEFAULT 0,"                                                                                \
    " equipment varchar(200) NOT NULL DEFAULT '',"                                                                     \
    " enabled tinyint NOT NULL DEFAULT 1,"                                                                             \
    " deleted tinyint NOT NULL DEFAULT 0,"                                                                             \
    " created_at bigint NOT NULL,"                                                                                     \
    " updated_at bigint NOT NULL,"
#define STEP3_COMMON_MEETING                                                                                           \
    " title varchar(100) NOT NULL,"                                                                                    \
    " content text NOT NULL,"                                                                                          \
    " location varchar(100) NOT NULL DEFAULT '',"                                                                      \
    " start_at bigint NOT NULL,"                                                                                       \
    " end_at bigint NOT NULL,"                                                                                         \
    " state tinyint NOT NULL,"                                                                                         \
    " version int NOT NULL DEFAULT 1,"                                                                                 \
    " remind_minutes int NOT NULL DEFAULT 15,"                                                                         \
    " reason varchar(200) NOT NULL DEFAULT '',"                                                                        \
    " approved_at bigint NOT NULL DEFAULT 0,"                                                                          \
    " attendee_count int NOT NULL DEFAULT 1,"                                                                          \
    " created_at bigint NOT NULL,"                                                                                     \
    " updated_at bigint NOT NULL,"
#define STEP3_COMMON_ATTENDEE                                                                                          \
    " role tinyint NOT NULL,"                                                                                          \
    " answer tinyint NOT NULL DEFAULT 0,"                                                                              \
    " reason varchar(200) NOT NULL DEFAULT '',"                                                                        \
    " answered_at bigint NOT NULL DEFAULT 0,"                                                                          \
    " m_state tinyint NOT NULL,"                                                                                       \
    " m_start bigint NOT NULL,"                                                                                        \
    " m_end bigint NOT NULL,"                                                                                          \
    " m_visible tinyint NOT NULL DEFAULT 0,"

static const char *const step3_sqlite[] = {
    "CREATE TABLE oa_member ("
    " user_id integer NOT NULL PRIMARY KEY REFERENCES wx_user (id)," STEP3_COMMON_MEMBER
    " CHECK (status IN (0, 1, 2, 3) AND role IN (0, 1)))",
    "CREATE INDEX oa_member_status_name ON oa_member (status, name)",
    "CREATE INDEX oa_member_status_requested ON oa_member (status, requested_at)",
    "CREATE TABLE oa_invite ("
    " id integer PRIMARY KEY,"
    " code varchar(32) NOT NULL UNIQUE,"
    " max_uses int NOT NULL,"
    " used int NOT NULL DEFAULT 0,"
    " expires_at bigint NOT NULL,"
    " revoked tinyint NOT NULL DEFAULT 0,"
    " created_by integer NOT NULL REFERENCES wx_user (id),"
    " created_at bigint NOT NULL)",
    "CREATE TABLE oa_room (id integer PRIMARY KEY," STEP3_COMMON_ROOM " CHECK (enabled IN (0, 1)))",
    "CREATE TABLE oa_meeting ("
    " id integer PRIMARY KEY,"
    " host_id integer NOT NULL REFERENCES wx_user (id),"
    " approver_id integer DEFAULT NULL REFERENCES wx_user (id),"
    " room_id integer DEFAULT NULL REFERENCES oa_room (id)," STEP3_COMMON_MEETING " CHECK (end_at > start_at))",
    "CREATE INDEX oa_meeting_host ON oa_meeting (host_id, start_at)",
    "CREATE INDEX oa_meeting_state ON oa_meeting (state, start_at)",
    "CREATE INDEX oa_meeting_approver ON oa_meeting (approver_id, state, start_at)",
    "CREATE INDEX oa_meeting_room ON oa_meeting (room_id, start_at)",
    "CREATE TABLE oa_attendee ("
    " meeting_id integer NOT NULL REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " user_id integer NOT NULL REFERENCES wx_user (id)," STEP3_COMMON_ATTENDEE " PRIMARY KEY (meeting_id, user_id)"
    ") WITHOUT ROWID",
    "CREATE INDEX oa_attendee_user_state ON oa_attendee (user_id, m_state, m_start)",
    "CREATE INDEX oa_attendee_user_start ON oa_attendee (user_id, m_start)",
    "CREATE TABLE oa_meeting_log ("
    " id integer PRIMARY KEY,"
    " meeting_id integer NOT NULL REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " user_id integer NOT NULL REFERENCES wx_user (id),"
    " from_state tinyint NOT NULL,"
    " to_state tinyint NOT NULL,"
    " reason varchar(200) NOT NULL DEFAULT '',"
    " created_at bigint NOT NULL)",
    "CREATE INDEX oa_meeting_log_meeting ON oa_meeting_log (meeting_id, id)",
    NULL,
};
/* MySQL: CREATE TABLE IF NOT EXISTS, each table whole with its keys, so re-running a step
 * that failed half-way completes it. */
static const char *const step3_mysql[] = {
    "CREATE TABLE IF NOT EXISTS oa_member ("
    " user_id int NOT NULL," STEP3_COMMON_MEMBER " PRIMARY KEY (user_id),"
    " KEY oa_member_status_name (status, name),"
    " KEY oa_member_status_requested (status, requested_at),"
    " CONSTRAINT oa_member_user FOREIGN KEY (user_id) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "CREATE TABLE IF NOT EXISTS oa_invite ("
    " id int NOT NULL AUTO_INCREMENT,"
    " code varchar(32) COLLATE utf8mb4_bin NOT NULL,"
    " max_uses int NOT NULL,"
    " used int NOT NULL DEFAULT 0,"
    " expires_at bigint NOT NULL,"
    " revoked tinyint NOT NULL DEFAULT 0,"
    " created_by int NOT NULL,"
    " created_at bigint NOT NULL,"
    " PRIMARY KEY (id), UNIQUE KEY oa_invite_code (code),"
    " CONSTRAINT oa_invite_creator FOREIGN KEY (created_by) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "CREATE TABLE IF NOT EXISTS oa_room ("
    " id int NOT NULL AUTO_INCREMENT," STEP3_COMMON_ROOM " PRIMARY KEY (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "CREATE TABLE IF NOT EXISTS oa_meeting ("
    " id int NOT NULL AUTO_INCREMENT,"
    " host_id int NOT NULL,"
    " approver_id int DEFAULT NULL,"
    " room_id int DEFAULT NULL," STEP3_COMMON_MEETING " PRIMARY KEY (id),"
    " KEY oa_meeting_host (host_id, start_at),"
    " KEY oa_meeting_state (state, start_at),"
    " KEY oa_meeting_approver (approver_id, state, start_at),"
    " KEY oa_meeting_room (room_id, start_at),"
    " CONSTRAINT oa_meeting_host_user FOREIGN KEY (host_id) REFERENCES wx_user (id),"
    " CONSTRAINT oa_meeting_approver_user FOREIGN KEY (approver_id) REFERENCES wx_user (id),"
    " CONSTRAINT oa_meeting_room_fk FOREIGN KEY (room_id) REFERENCES oa_room (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "CREATE TABLE IF NOT EXISTS oa_attendee ("
    " meeting_id int NOT NULL,"
    " user_id int NOT NULL," STEP3_COMMON_ATTENDEE " PRIMARY KEY (meeting_id, user_id),"
    " KEY oa_attendee_user_state (user_id, m_state, m_start),"
    " KEY oa_attendee_user_start (user_id, m_start),"
    " CONSTRAINT oa_attendee_meeting FOREIGN KEY (meeting_id) REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " CONSTRAINT oa_attendee_user FOREIGN KEY (user_id) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "CREATE TABLE IF NOT EXISTS oa_meeting_log ("
    " id int NOT NULL AUTO_INCREMENT,"
    " meeting_id int NOT NULL,"
    " user_id int NOT NULL,"
    " from_state tinyint NOT NULL,"
    " to_state tinyint NOT NULL,"
    " reason varchar(200) NOT NULL DEFAULT '',"
    " created_at bigint NOT NULL,"
    " PRIMARY KEY (id), KEY oa_meeting_log_meeting (meeting_id, id),"
    " CONSTRAINT oa_meeting_log_meeting_fk FOREIGN KEY (meeting_id) REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " CONSTRAINT oa_meeting_log_user FOREIGN KEY (user_id) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    NULL,
};

/*
 * Step 4: sign-in (签到). oa_meeting.checkin_code is the meeting's random sign-in code (the
 * scene of its mini program code; NULL until the host first asks for it), checkin_rotating
 * whether that scene carries a token that changes every oa.checkin.rotate-seconds. Each
 * attendee's sign-in: when, late or not, and for a make-up sign-in (补签) who made it and why.
 */
static const char *const step4_sqlite[] = {
    "ALTER TABLE oa_meeting ADD COLUMN checkin_code varchar(16) DEFAULT NULL",
    "ALTER TABLE oa_meeting ADD COLUMN checkin_rotating tinyint NOT NULL DEFAULT 0",
    "CREATE UNIQUE INDEX oa_meeting_checkin_code ON oa_meeting (checkin_code)",
    "ALTER TABLE oa_attendee ADD COLUMN checkin_at bigint NOT NULL DEFAULT 0",
    "ALTER TABLE oa_attendee ADD COLUMN checkin_late tinyint NOT NULL DEFAULT 0",
    "ALTER TABLE oa_attendee ADD COLUMN checkin_by integer DEFAULT NULL",
    "ALTER TABLE oa_attendee ADD COLUMN checkin_reason varchar(200) NOT NULL DEFAULT ''",
    NULL,
};
/* MySQL: one ALTER per table (each applied whole or not at all). */
static const char *const step4_mysql[] = {
    "ALTER TABLE oa_meeting ADD COLUMN checkin_code varchar(16) COLLATE utf8mb4_bin DEFAULT NULL,"
    " ADD COLUMN checkin_rotating tinyint NOT NULL DEFAULT 0,"
    " ADD UNIQUE KEY oa_meeting_checkin_code (checkin_code)",
    "ALTER TABLE oa_attendee ADD COLUMN checkin_at bigint NOT NULL DEFAULT 0,"
    " ADD COLUMN checkin_late tinyint NOT NULL DEFAULT 0,"
    " ADD COLUMN checkin_by int DEFAULT NULL,"
    " ADD COLUMN checkin_reason varchar(200) NOT NULL DEFAULT ''",
    NULL,
};

/*
 * Step 5: votes on a meeting's questions. oa_vote_ballot records THAT someone voted (so nobody
 * votes twice); what they chose is kept per person only for named votes (oa_vote_choice). An
 * anonymous vote adds to its options' counts and leaves no row linking a choice to a voter,
 * nor a time that could be matched against the counts.
 */
static const char *const step5_sqlite[] = {
    "CREATE TABLE oa_vote ("
    " id integer PRIMARY KEY,"
    " meeting_id integer NOT NULL REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " title varchar(100) NOT NULL,"
    " multiple tinyint NOT NULL DEFAULT 0,"
    " max_choices int NOT NULL DEFAULT 1,"
    " anonymous tinyint NOT NULL DEFAULT 0,"
    " pass_rule tinyint NOT NULL DEFAULT 0,"
    " state tinyint NOT NULL DEFAULT 0,"
    " ballots int NOT NULL DEFAULT 0,"
    " created_by integer NOT NULL REFERENCES wx_user (id),"
    " created_at bigint NOT NULL,"
    " opened_at bigint NOT NULL DEFAULT 0,"
    " closed_at bigint NOT NULL DEFAULT 0)",
    "CREATE INDEX oa_vote_meeting ON oa_vote (meeting_id, id)",
    "CREATE TABLE oa_vote_option ("
    " id integer PRIMARY KEY,"
    " vote_id integer NOT NULL REFERENCES oa_vote (id) ON DELETE CASCADE,"
    " position int NOT NULL,"
    " text varchar(50) NOT NULL,"
    " votes int NOT NULL DEFAULT 0)",
    "CREATE INDEX oa_vote_option_vote ON oa_vote_option (vote_id, position)",
    "CREATE TABLE oa_vote_ballot ("
    " vote_id integer NOT NULL REFERENCES oa_vote (id) ON DELETE CASCADE,"
    " user_id integer NOT NULL REFERENCES wx_user (id),"
    " PRIMARY KEY (vote_id, user_id)) WITHOUT ROWID",
    "CREATE TABLE oa_vote_choice ("
    " vote_id integer NOT NULL REFERENCES oa_vote (id) ON DELETE CASCADE,"
    " user_id integer NOT NULL REFERENCES wx_user (id),"
    " option_id integer NOT NULL REFERENCES oa_vote_option (id) ON DELETE CASCADE,"
    " PRIMARY KEY (vote_id, user_id, option_id)) WITHOUT ROWID",
    NULL,
};
static const char *const step5_mysql[] = {
    "CREATE TABLE IF NOT EXISTS oa_vote ("
    " id int NOT NULL AUTO_INCREMENT,"
    " meeting_id int NOT NULL,"
    " title varchar(100) NOT NULL,"
    " multiple tinyint NOT NULL DEFAULT 0,"
    " max_choices int NOT NULL DEFAULT 1,"
    " anonymous tinyint NOT NULL DEFAULT 0,"
    " pass_rule tinyint NOT NULL DEFAULT 0,"
    " state tinyint NOT NULL DEFAULT 0,"
    " ballots int NOT NULL DEFAULT 0,"
    " created_by int NOT NULL,"
    " created_at bigint NOT NULL,"
    " opened_at bigint NOT NULL DEFAULT 0,"
    " closed_at bigint NOT NULL DEFAULT 0,"
    " PRIMARY KEY (id), KEY oa_vote_meeting (meeting_id, id),"
    " CONSTRAINT oa_vote_meeting_fk FOREIGN KEY (meeting_id) REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " CONSTRAINT oa_vote_creator FOREIGN KEY (created_by) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "CREATE TABLE IF NOT EXISTS oa_vote_option ("
    " id int NOT NULL AUTO_INCREMENT,"
    " vote_id int NOT NULL,"
    " position int NOT NULL,"
    " text varchar(50) NOT NULL,"
    " votes int NOT NULL DEFAULT 0,"
    " PRIMARY KEY (id), KEY oa_vote_option_vote (vote_id, position),"
    " CONSTRAINT oa_vote_option_vote_fk FOREIGN KEY (vote_id) REFERENCES oa_vote (id) ON DELETE CASCADE"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "CREATE TABLE IF NOT EXISTS oa_vote_ballot ("
    " vote_id int NOT NULL,"
    " user_id int NOT NULL,"
    " PRIMARY KEY (vote_id, user_id),"
    " CONSTRAINT oa_vote_ballot_vote FOREIGN KEY (vote_id) REFERENCES oa_vote (id) ON DELETE CASCADE,"
    " CONSTRAINT oa_vote_ballot_user FOREIGN KEY (user_id) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS oa_vote_choice ("
    " vote_id int NOT NULL,"
    " user_id int NOT NULL,"
    " option_id int NOT NULL,"
    " PRIMARY KEY (vote_id, user_id, option_id),"
    " CONSTRAINT oa_vote_choice_vote FOREIGN KEY (vote_id) REFERENCES oa_vote (id) ON DELETE CASCADE,"
    " CONSTRAINT oa_vote_choice_user FOREIGN KEY (user_id) REFERENCES wx_user (id),"
    " CONSTRAINT oa_vote_choice_option FOREIGN KEY (option_id) REFERENCES oa_vote_option (id) ON DELETE CASCADE"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    NULL,
};

/* Step 6: minutes (会议纪要) and attachments; the files themselves are under oa.storage.dir. */
static const char *const step6_sqlite[] = {
    "CREATE TABLE oa_minutes ("
    " meeting_id integer NOT NULL PRIMARY KEY REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " text text NOT NULL,"
    " author_id integer NOT NULL REFERENCES wx_user (id),"
    " updated_at bigint NOT NULL)",
    "CREATE TABLE oa_attachment ("
    " id integer PRIMARY KEY,"
    " meeting_id integer NOT NULL REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " name varchar(100) NOT NULL,"
    " file_key varchar(64) NOT NULL UNIQUE,"
    " content_type varchar(100) NOT NULL,"
    " size bigint NOT NULL,"
    " uploaded_by integer NOT NULL REFERENCES wx_user (id),"
    " created_at bigint NOT NULL)",
    "CREATE INDEX oa_attachment_meeting ON oa_attachment (meeting_id, id)",
    NULL,
};
static const char *const step6_mysql[] = {
    "CREATE TABLE IF NOT EXISTS oa_minutes ("
    " meeting_id int NOT NULL,"
    " text mediumtext NOT NULL,"
    " author_id int NOT NULL,"
    " updated_at bigint NOT NULL,"
    " PRIMARY KEY (meeting_id),"
    " CONSTRAINT oa_minutes_meeting FOREIGN KEY (meeting_id) REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " CONSTRAINT oa_minutes_author FOREIGN KEY (author_id) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "CREATE TABLE IF NOT EXISTS oa_attachment ("
    " id int NOT NULL AUTO_INCREMENT,"
    " meeting_id int NOT NULL,"
    " name varchar(100) NOT NULL,"
    " file_key varchar(64) COLLATE utf8mb4_bin NOT NULL,"
    " content_type varchar(100) NOT NULL,"
    " size bigint NOT NULL,"
    " uploaded_by int NOT NULL,"
    " created_at bigint NOT NULL,"
    " PRIMARY KEY (id), UNIQUE KEY oa_attachment_file_key (file_key), KEY oa_attachment_meeting (meeting_id, id),"
    " CONSTRAINT oa_attachment_meeting_fk FOREIGN KEY (meeting_id) REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " CONSTRAINT oa_attachment_user FOREIGN KEY (uploaded_by) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    NULL,
};

/* Step 7: the lists' index carries m_end, so a page's count and its filter on "not ended yet"
 * read the index alone (bench/RESULTS.md "Meeting list": 45 % of a page was that count's
 * lookups into oa_attendee's rows). */
static const char *const step7_sqlite[] = {
    "DROP INDEX oa_attendee_user_state",
    "CREATE INDEX oa_attendee_user_state ON oa_attendee (user_id, m_state, m_start, m_end)",
    NULL,
};
static const char *const step7_mysql[] = {
    "ALTER TABLE oa_attendee DROP INDEX oa_attendee_user_state,"
    " ADD INDEX oa_attendee_user_state (user_id, m_state, m_start, m_end)",
    NULL,
};

/* Step 8: the lists' index covers what a page reads of the caller's rows, in the page's order
 * (no sort, no lookup into oa_attendee: bench/RESULTS.md "Meeting list"), and oa_member.list_gen,
 * the generation of a member's upcoming and notice pages: bumped by every write that can change
 * them, so a page cached under an older generation is never answered (meeting/list_cache.h). */
static const char *const step8_sqlite[] = {
    "DROP INDEX oa_attendee_user_state",
    "CREATE INDEX oa_attendee_user_state ON oa_attendee (user_id, m_state, m_start, m_end, meeting_id, role, answer)",
    "ALTER TABLE oa_member ADD COLUMN list_gen bigint NOT NULL DEFAULT 0",
    NULL,
};
/* The index first: re-running a step that stopped after it rebuilds it again, harmlessly. */
static const char *const step8_mysql[] = {
    "ALTER TABLE oa_attendee DROP INDEX oa_attendee_user_state,"
    " ADD INDEX oa_attendee_user_state (user_id, m_state, m_start, m_end, meeting_id, role, answer)",
    "ALTER TABLE oa_member ADD COLUMN list_gen bigint NOT NULL DEFAULT 0",
    NULL,
};

/* Step 9: subscription reminders (订阅消息). oa_reminder: one row per message to send (who, what
 * kind, of which meeting, when), claimed in the database before it is sent so that it is sent
 * once however many instances poll; oa_subscribe_quota: the one-time subscriptions a user granted
 * per template, as WeChat counts them (store/store_notify.h). */
static const char *const step9_sqlite[] = {
    "CREATE TABLE oa_reminder ("
    " id integer PRIMARY KEY,"
    " meeting_id integer NOT NULL REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " user_id integer NOT NULL REFERENCES wx_user (id),"
    " kind tinyint NOT NULL,"
    " due_at bigint NOT NULL,"
    " state tinyint NOT NULL DEFAULT 0,"
    " result varchar(20) NOT NULL DEFAULT '',"
    " reason varchar(200) NOT NULL DEFAULT '',"
    " template_id varchar(128) NOT NULL DEFAULT '',"
    " claimed_by varchar(64) NOT NULL DEFAULT '',"
    " claimed_at bigint NOT NULL DEFAULT 0,"
    " done_at bigint NOT NULL DEFAULT 0,"
    " msgid bigint NOT NULL DEFAULT 0,"
    " errcode int NOT NULL DEFAULT 0,"
    " created_at bigint NOT NULL)",
    "CREATE INDEX oa_reminder_due ON oa_reminder (state, due_at)",
    "CREATE INDEX oa_reminder_meeting ON oa_reminder (meeting_id, state)",
    "CREATE TABLE oa_subscribe_quota ("
    " user_id integer NOT NULL REFERENCES wx_user (id),"
    " template_id varchar(128) NOT NULL,"
    " quota int NOT NULL DEFAULT 0,"
    " updated_at bigint NOT NULL,"
    " PRIMARY KEY (user_id, template_id)) WITHOUT ROWID",
    NULL,
};
static const char *const step9_mysql[] = {
    "CREATE TABLE IF NOT EXISTS oa_reminder ("
    " id int NOT NULL AUTO_INCREMENT,"
    " meeting_id int NOT NULL,"
    " user_id int NOT NULL,"
    " kind tinyint NOT NULL,"
    " due_at bigint NOT NULL,"
    " state tinyint NOT NULL DEFAULT 0,"
    " result varchar(20) NOT NULL DEFAULT '',"
    " reason varchar(200) NOT NULL DEFAULT '',"
    " template_id varchar(128) COLLATE utf8mb4_bin NOT NULL DEFAULT '',"
    " claimed_by varchar(64) NOT NULL DEFAULT '',"
    " claimed_at bigint NOT NULL DEFAULT 0,"
    " done_at bigint NOT NULL DEFAULT 0,"
    " msgid bigint NOT NULL DEFAULT 0,"
    " errcode int NOT NULL DEFAULT 0,"
    " created_at bigint NOT NULL,"
    " PRIMARY KEY (id), KEY oa_reminder_due (state, due_at), KEY oa_reminder_meeting (meeting_id, state),"
    " CONSTRAINT oa_reminder_meeting_fk FOREIGN KEY (meeting_id) REFERENCES oa_meeting (id) ON DELETE CASCADE,"
    " CONSTRAINT oa_reminder_user FOREIGN KEY (user_id) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "CREATE TABLE IF NOT EXISTS oa_subscribe_quota ("
    " user_id int NOT NULL,"
    " template_id varchar(128) COLLATE utf8mb4_bin NOT NULL,"
    " quota int NOT NULL DEFAULT 0,"
    " updated_at bigint NOT NULL,"
    " PRIMARY KEY (user_id, template_id),"
    " CONSTRAINT oa_subscribe_quota_user FOREIGN KEY (user_id) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    NULL,
};

/* Step 10: what WeChat's content check did not clear (store/store_content.h): texts stored
 * with suggest "review", or stored unchecked because the check failed, for an admin to look at. */
static const char *const step10_sqlite[] = {
    "CREATE TABLE oa_content_flag ("
    " id integer PRIMARY KEY,"
    " user_id integer NOT NULL REFERENCES wx_user (id),"
    " route varchar(64) NOT NULL,"
    " object_id bigint NOT NULL DEFAULT 0,"
    " field varchar(32) NOT NULL,"
    " excerpt varchar(100) NOT NULL DEFAULT '',"
    " verdict varchar(16) NOT NULL,"
    " label int NOT NULL DEFAULT 0,"
    " errcode int NOT NULL DEFAULT 0,"
    " trace_id varchar(64) NOT NULL DEFAULT '',"
    " created_at bigint NOT NULL,"
    " resolved_by integer DEFAULT NULL REFERENCES wx_user (id),"
    " resolved_at bigint NOT NULL DEFAULT 0)",
    "CREATE INDEX oa_content_flag_open ON oa_content_flag (resolved_at, id)",
    NULL,
};
static const char *const step10_mysql[] = {
    "CREATE TABLE IF NOT EXISTS oa_content_flag ("
    " id int NOT NULL AUTO_INCREMENT,"
    " user_id int NOT NULL,"
    " route varchar(64) NOT NULL,"
    " object_id bigint NOT NULL DEFAULT 0,"
    " field varchar(32) NOT NULL,"
    " excerpt varchar(100) NOT NULL DEFAULT '',"
    " verdict varchar(16) NOT NULL,"
    " label int NOT NULL DEFAULT 0,"
    " errcode int NOT NULL DEFAULT 0,"
    " trace_id varchar(64) NOT NULL DEFAULT '',"
    " created_at bigint NOT NULL,"
    " resolved_by int DEFAULT NULL,"
    " resolved_at bigint NOT NULL DEFAULT 0,"
    " PRIMARY KEY (id), KEY oa_content_flag_open (resolved_at, id),"
    " CONSTRAINT oa_content_flag_user FOREIGN KEY (user_id) REFERENCES wx_user (id),"
    " CONSTRAINT oa_content_flag_resolver FOREIGN KEY (resolved_by) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    NULL,
};

/* Step 11: images sent to WeChat's media_check_async, waiting for (or given) its verdict,
 * which comes back through the message push (store/store_content.h). */
static const char *const step11_sqlite[] = {
    "CREATE TABLE oa_media_check ("
    " trace_id varchar(64) NOT NULL PRIMARY KEY,"
    " user_id integer NOT NULL REFERENCES wx_user (id),"
    " file_key varchar(64) NOT NULL,"
    " verdict varchar(16) NOT NULL DEFAULT '',"
    " created_at bigint NOT NULL,"
    " done_at bigint NOT NULL DEFAULT 0)",
    NULL,
};
static const char *const step11_mysql[] = {
    "CREATE TABLE IF NOT EXISTS oa_media_check ("
    " trace_id varchar(64) COLLATE utf8mb4_bin NOT NULL,"
    " user_id int NOT NULL,"
    " file_key varchar(64) COLLATE utf8mb4_bin NOT NULL,"
    " verdict varchar(16) NOT NULL DEFAULT '',"
    " created_at bigint NOT NULL,"
    " done_at bigint NOT NULL DEFAULT 0,"
    " PRIMARY KEY (trace_id),"
    " CONSTRAINT oa_media_check_user FOREIGN KEY (user_id) REFERENCES wx_user (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    NULL,
};

/* Step 12: an accept of a subscription may reach MeetOA twice, reported by the client and pushed
 * by WeChat (subscribe_msg_popup_event): oa_subscribe_quota.unpaired counts the accepts of one
 * source not yet matched by the other (> 0 reports, < 0 pushes), as of unpaired_at, so that each
 * accept adds one to the quota however it arrives (store/store_notify.h). */
static const char *const step12_sqlite[] = {
    "ALTER TABLE oa_subscribe_quota ADD COLUMN unpaired int NOT NULL DEFAULT 0",
    "ALTER TABLE oa_subscribe_quota ADD COLUMN unpaired_at bigint NOT NULL DEFAULT 0",
    NULL,
};
static const char *const step12_mysql[] = {
    "ALTER TABLE oa_subscribe_quota ADD COLUMN unpaired int NOT NULL DEFAULT 0,"
    " ADD COLUMN unpaired_at bigint NOT NULL DEFAULT 0",
    NULL,
};

/* Step 13: a reminder found by WeChat's msgid (subscribe_msg_sent_event). A step of its own: one
 * statement per step on MySQL, so a step that stopped half-way cannot be left. */
static const char *const step13_sqlite[] = {
    "CREATE INDEX oa_reminder_msgid ON oa_reminder (msgid)",
    NULL,
};
static const char *const step13_mysql[] = {
    "ALTER TABLE oa_reminder ADD INDEX oa_reminder_msgid (msgid)",
    NULL,
};

/* Step 14: the user's own sessions and login log (auth/sessions_api.h). wx_session learns when and
 * from where it was last used (written at most once a minute per session, when a token check reads
 * the row anyway), the IP of its login, and when a renewal replaced it (renewed_at: the old token
 * then lives only for a short grace and never renews again). oa_login_log keeps the logins,
 * logouts, phone bindings, refused logins and deletions of each user for oa.auth.login-log-days. */
static const char *const step14_sqlite[] = {
    "ALTER TABLE wx_session ADD COLUMN last_used_at bigint NOT NULL DEFAULT 0",
    "ALTER TABLE wx_session ADD COLUMN login_ip varchar(63) NOT NULL DEFAULT ''",
    "ALTER TABLE wx_session ADD COLUMN last_ip varchar(63) NOT NULL DEFAULT ''",
    "ALTER TABLE wx_session ADD COLUMN renewed_at bigint NOT NULL DEFAULT 0",
    "CREATE TABLE oa_login_log ("
    " id integer PRIMARY KEY,"
    " user_id integer NOT NULL REFERENCES wx_user (id) ON DELETE CASCADE,"
    " event varchar(16) NOT NULL,"
    " errno int NOT NULL DEFAULT 0,"
    " ip varchar(63) NOT NULL DEFAULT '',"
    " created_at bigint NOT NULL)",
    "CREATE INDEX oa_login_log_user ON oa_login_log (user_id, id)",
    "CREATE INDEX oa_login_log_created ON oa_login_log (created_at)",
    NULL,
};
/* MySQL: the new table first (IF NOT EXISTS), then one ALTER for the four columns. */
static const char *const step14_mysql[] = {
    "CREATE TABLE IF NOT EXISTS oa_login_log ("
    " id bigint NOT NULL AUTO_INCREMENT,"
    " user_id int NOT NULL,"
    " event varchar(16) NOT NULL,"
    " errno int NOT NULL DEFAULT 0,"
    " ip varchar(63) NOT NULL DEFAULT '',"
    " created_at bigint NOT NULL,"
    " PRIMARY KEY (id), KEY oa_login_log_user (user_id, id), KEY oa_login_log_created (created_at),"
    " CONSTRAINT oa_login_log_user_fk FOREIGN KEY (user_id) REFERENCES wx_user (id) ON DELETE CASCADE"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "ALTER TABLE wx_session ADD COLUMN last_used_at bigint NOT NULL DEFAULT 0,"
    " ADD COLUMN login_ip varchar(63) NOT NULL DEFAULT '', ADD COLUMN last_ip varchar(63) NOT NULL DEFAULT '',"
    " ADD COLUMN renewed_at bigint NOT NULL DEFAULT 0",
    NULL,
};

static const store_migration_t migrations[] = {
    {1, "wx_user (the original system's columns)", step1_sqlite, step1_mysql},
    {2, "wx_user.unionid, index on wx_user.mobile, wx_session", step2_sqlite, step2_mysql},
    {3, "the organization and its meetings: oa_member, oa_invite, oa_room, oa_meeting, oa_attendee, oa_meeting_log",
     step3_sqlite, step3_mysql},
    {4, "sign-in: oa_meeting.checkin_code and checkin_rotating, oa_attendee.checkin_*", step4_sqlite, step4_mysql},
    {5, "votes: oa_vote, oa_vote_option, oa_vote_ballot, oa_vote_choice", step5_sqlite, step5_mysql},
    {6, "minutes and attachments: oa_minutes, oa_attachment", step6_sqlite, step6_mysql},
    {7, "m_end in the index oa_attendee_user_state (index-only list counts)", step7_sqlite, step7_mysql},
    {8, "oa_attendee_user_state covers a list page; oa_member.list_gen (cached pages' generation)", step8_sqlite,
     step8_mysql},
    {9, "subscription reminders: oa_reminder, oa_subscribe_quota", step9_sqlite, step9_mysql},
    {10, "content checks: oa_content_flag", step10_sqlite, step10_mysql},
    {11, "image checks: oa_media_check", step11_sqlite, step11_mysql},
    {12, "subscription accepts from two sources: oa_subscribe_quota.unpaired, unpaired_at", step12_sqlite,
     step12_mysql},
    {13, "index oa_reminder_msgid", step13_sqlite, step13_mysql},
    {14, "sessions and login log: wx_session.last_used_at, login_ip, last_ip, renewed_at; oa_login_log", step14_sqlite,
     step14_mysql},
};

int store_schema_latest(void)
{
    return (int)(sizeof migrations / sizeof migrations[0]);
}

const store_migration_t *store_migration_get(int version)
{
    if (version < 1 || version > store_schema_latest())
        return NULL;
    return &migrations[version - 1];
}
