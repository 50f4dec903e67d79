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

static const store_migration_t migrations[] = {
    {1, "wx_user (the original system's columns)", step1_sqlite, step1_mysql},
    {2, "wx_user.unionid, index on wx_user.mobile, wx_session", step2_sqlite, step2_mysql},
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
