/*
 * migrations — the ordered list of schema changes, shared by every backend.
 *
 * Step N (numbered from 1, without gaps) takes a database from schema version N-1 to N.
 * Each step carries its SQL once per backend, as a NULL-terminated list of single
 * statements (MySQL's client runs one statement per call). Rules, also in docs/schema.md:
 * a released step is never edited, only followed by a new one; a step is written so that
 * it can be expressed on SQLite and on MySQL/MariaDB; data a step needs to move is moved
 * by SQL inside the step. The list is constant data: safe from any thread.
 */
#ifndef MEETOA_STORE_MIGRATIONS_H
#define MEETOA_STORE_MIGRATIONS_H

#include "store/store.h"

typedef struct store_migration {
    int version;               /* the schema version after this step */
    const char *summary;       /* one line, for logs and docs */
    const char *const *sqlite; /* statements for SQLite, NULL-terminated */
    const char *const *mysql;  /* statements for MySQL/MariaDB, NULL-terminated */
} store_migration_t;

/* The table that records the applied steps (one row per step), created before step 1. */
extern const char *const store_migration_bootstrap_sqlite;
extern const char *const store_migration_bootstrap_mysql;

/* The step that produces version `version` (1..store_schema_latest()), or NULL. */
const store_migration_t *store_migration_get(int version);

/*
 * Like store_migrate() but stops at schema version `target` (<= store_schema_latest()):
 * for tests that build an older database and for staged upgrades. A database already at
 * or past target is left alone (no downgrades), except that one newer than this binary
 * is still refused.
 */
store_rc store_migrate_to(store_t *store, int target, int *from, int *to);

#endif
