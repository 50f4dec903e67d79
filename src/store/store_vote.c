/* store_vote — see store_vote.h. */
#include "store/store_vote.h"

#include <string.h>

#include "store/store_sql.h"

#define ARGS           STORE_ARGS
#define NARGS          STORE_NARGS
#define EXEC(sql, ...) store_sql_exec(store, (sql), ARGS(__VA_ARGS__), NARGS(__VA_ARGS__), NULL, NULL, NULL)

#define VOTE_COLS                                                                                                      \
    "id, meeting_id, title, multiple, max_choices, anonymous, pass_rule, state, ballots, created_by, created_at,"      \
    " opened_at, closed_at"

static store_rc read_vote(const store_row_t *row, void *ctx)
{
    store_vote_t *v = ctx;
    memset(v, 0, sizeof *v);
    v->id = store_row_int(row, 0);
    v->meeting_id = store_row_int(row, 1);
    if (!store_row_copy(row, 2, v->title, sizeof v->title))
        return STORE_ERROR;
    v->multiple = store_row_int(row, 3) != 0;
    v->max_choices = (int)store_row_int(row, 4);
    v->anonymous = store_row_int(row, 5) != 0;
    v->pass_rule = (int)store_row_int(row, 6);
    v->state = (int)store_row_int(row, 7);
    v->ballots = store_row_int(row, 8);
    v->created_by = store_row_int(row, 9);
    v->created_at = store_row_int(row, 10);
    v->opened_at = store_row_int(row, 11);
    v->closed_at = store_row_int(row, 12);
    return STORE_OK;
}

/* ---- create ---- */

static const store_sql_t SQL_VOTE_INSERT = {
    .op = "vote_insert",
    .sqlite = "INSERT INTO oa_vote (meeting_id, title, multiple, max_choices, anonymous, pass_rule, state, ballots,"
              " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
};
static const store_sql_t SQL_OPTION_INSERT = {
    .op = "vote_option_insert",
    .sqlite = "INSERT INTO oa_vote_option (vote_id, position, text, votes) VALUES (?, ?, ?, 0)",
};

typedef struct create_txn {
    store_vote_t *vote;
    const char *const *options;
    size_t n;
    int64_t *option_ids;
} create_txn_t;

static store_rc create_fn(store_t *store, void *arg)
{
    create_txn_t *t = arg;
    store_vote_t *v = t->vote;
    store_sql_result_t res = {0};
    store_rc rc =
        store_sql_exec(store, &SQL_VOTE_INSERT,
                       ARGS(store_arg_int(v->meeting_id), store_arg_text(v->title), store_arg_int(v->multiple),
                            store_arg_int(v->max_choices), store_arg_int(v->anonymous), store_arg_int(v->pass_rule),
                            store_arg_int(v->created_by), store_arg_int(v->created_at)),
                       8, NULL, NULL, &res);
    if (rc != STORE_OK)
        return rc;
    v->id = res.insert_id;
    for (size_t i = 0; i < t->n && rc == STORE_OK; i++) {
        rc = store_sql_exec(store, &SQL_OPTION_INSERT,
                            ARGS(store_arg_int(v->id), store_arg_int((int64_t)i), store_arg_text(t->options[i])), 3,
                            NULL, NULL, &res);
        t->option_ids[i] = res.insert_id;
    }
    return rc;
}

store_rc store_vote_create(store_t *store, store_vote_t *vote, const char *const *options, size_t n,
                           int64_t *option_ids)
{
    create_txn_t t = {vote, options, n, option_ids};
    store_rc rc = store_sql_transaction(store, "vote_create", create_fn, &t);
    if (rc != STORE_OK)
        vote->id = 0;
    return rc;
}

/* ---- read ---- */

static const store_sql_t SQL_VOTE_GET = {
    .op = "vote_get",
    .sqlite = "SELECT " VOTE_COLS " FROM oa_vote WHERE id = ?",
};
static const store_sql_t SQL_VOTE_LOCK = {
    .op = "vote_lock",
    .sqlite = "SELECT " VOTE_COLS " FROM oa_vote WHERE id = ?",
    .mysql = "SELECT " VOTE_COLS " FROM oa_vote WHERE id = ? FOR UPDATE",
};
static const store_sql_t SQL_OPTIONS = {
    .op = "vote_options",
    .sqlite = "SELECT id, text, votes FROM oa_vote_option WHERE vote_id = ? ORDER BY position",
};

typedef struct options_out {
    store_vote_option_t *options;
    size_t n;
} options_out_t;

static store_rc read_option(const store_row_t *row, void *ctx)
{
    options_out_t *o = ctx;
    if (o->n >= STORE_VOTE_MAX_OPTIONS)
        return STORE_OK;
    store_vote_option_t *opt = &o->options[o->n];
    opt->id = store_row_int(row, 0);
    if (!store_row_copy(row, 1, opt->text, sizeof opt->text))
        return STORE_ERROR;
    opt->votes = store_row_int(row, 2);
    o->n++;
    return STORE_OK;
}

store_rc store_vote_get(store_t *store, int64_t id, store_vote_t *out, store_vote_option_t *options, size_t *n)
{
    *n = 0;
    store_rc rc = store_sql_row(store, &SQL_VOTE_GET, ARGS(store_arg_int(id)), 1, read_vote, out);
    if (rc != STORE_OK || options == NULL)
        return rc;
    options_out_t o = {options, 0};
    rc = store_sql_exec(store, &SQL_OPTIONS, ARGS(store_arg_int(id)), 1, read_option, &o, NULL);
    *n = o.n;
    return rc;
}

/* ---- open, close ---- */

static const store_sql_t SQL_VOTE_OPEN = {
    .op = "vote_open",
    .sqlite = "UPDATE oa_vote SET state = ?, opened_at = ? WHERE id = ? AND state = ?",
};
static const store_sql_t SQL_VOTE_CLOSE = {
    .op = "vote_close",
    .sqlite = "UPDATE oa_vote SET state = ?, closed_at = ? WHERE id = ? AND state = ?",
};

store_rc store_vote_move(store_t *store, int64_t id, int from, int to, int64_t now, store_refusal_t *why)
{
    *why = STORE_REFUSED_NOT;
    store_sql_result_t res = {0};
    const store_sql_t *sql = to == STORE_VOTE_OPEN ? &SQL_VOTE_OPEN : &SQL_VOTE_CLOSE;
    store_rc rc =
        store_sql_exec(store, sql, ARGS(store_arg_int(to), store_arg_int(now), store_arg_int(id), store_arg_int(from)),
                       4, NULL, NULL, &res);
    if (rc == STORE_OK && res.changes == 0) /* the state always changes: 0 rows means not in from */
        *why = STORE_REFUSED_STATE;
    return rc;
}

/* ---- cast ---- */

static const store_sql_t SQL_BALLOT_INSERT = {
    .op = "vote_ballot_insert",
    .sqlite = "INSERT INTO oa_vote_ballot (vote_id, user_id) VALUES (?, ?)",
};
static const store_sql_t SQL_BALLOT_EXISTS = {
    .op = "vote_ballot_exists",
    .sqlite = "SELECT count(*) FROM oa_vote_ballot WHERE vote_id = ? AND user_id = ?",
};
static const store_sql_t SQL_OPTION_ADD = {
    .op = "vote_option_add",
    .sqlite = "UPDATE oa_vote_option SET votes = votes + 1 WHERE id = ? AND vote_id = ?",
};
static const store_sql_t SQL_CHOICE_INSERT = {
    .op = "vote_choice_insert",
    .sqlite = "INSERT INTO oa_vote_choice (vote_id, user_id, option_id) VALUES (?, ?, ?)",
};
static const store_sql_t SQL_BALLOTS_ADD = {
    .op = "vote_ballots_add",
    .sqlite = "UPDATE oa_vote SET ballots = ballots + 1 WHERE id = ?",
};

typedef struct cast_txn {
    int64_t id, user_id;
    const int64_t *option_ids;
    size_t n;
    store_refusal_t *why;
} cast_txn_t;

static store_rc cast_fn(store_t *store, void *arg)
{
    cast_txn_t *t = arg;
    store_vote_t v;
    store_rc rc = store_sql_row(store, &SQL_VOTE_LOCK, ARGS(store_arg_int(t->id)), 1, read_vote, &v);
    if (rc != STORE_OK)
        return rc;
    if (v.state != STORE_VOTE_OPEN) {
        *t->why = STORE_REFUSED_STATE;
        return STORE_SQL_REFUSED;
    }
    int64_t voted = 0;
    rc = store_sql_int(store, &SQL_BALLOT_EXISTS, ARGS(store_arg_int(t->id), store_arg_int(t->user_id)), 2, &voted);
    if (rc != STORE_OK)
        return rc;
    if (voted > 0) {
        *t->why = STORE_REFUSED_ALREADY;
        return STORE_SQL_REFUSED;
    }
    rc = EXEC(&SQL_BALLOT_INSERT, store_arg_int(t->id), store_arg_int(t->user_id));
    if (rc == STORE_CONFLICT) { /* a ballot committed meanwhile (cannot happen under the lock; kept safe) */
        *t->why = STORE_REFUSED_ALREADY;
        return STORE_SQL_REFUSED;
    }
    for (size_t i = 0; rc == STORE_OK && i < t->n; i++) {
        store_sql_result_t res = {0};
        rc = store_sql_exec(store, &SQL_OPTION_ADD, ARGS(store_arg_int(t->option_ids[i]), store_arg_int(t->id)), 2,
                            NULL, NULL, &res);
        if (rc == STORE_OK && res.changes != 1)
            return STORE_NOT_FOUND;
        if (rc == STORE_OK && !v.anonymous)
            rc = EXEC(&SQL_CHOICE_INSERT, store_arg_int(t->id), store_arg_int(t->user_id),
                      store_arg_int(t->option_ids[i]));
    }
    if (rc == STORE_OK)
        rc = EXEC(&SQL_BALLOTS_ADD, store_arg_int(t->id));
    return rc;
}

store_rc store_vote_cast(store_t *store, int64_t id, int64_t user_id, const int64_t *option_ids, size_t n,
                         store_refusal_t *why)
{
    cast_txn_t t = {id, user_id, option_ids, n, why};
    return store_sql_refusable(store, "vote_cast", cast_fn, &t, why);
}

/* ---- the caller's ballot, the voters ---- */

static const store_sql_t SQL_MY_CHOICES = {
    .op = "vote_my_choices",
    .sqlite = "SELECT option_id FROM oa_vote_choice WHERE vote_id = ? AND user_id = ? ORDER BY option_id",
};

typedef struct ids_out {
    int64_t *ids;
    size_t n;
} ids_out_t;

static store_rc read_id(const store_row_t *row, void *ctx)
{
    ids_out_t *o = ctx;
    if (o->n < STORE_VOTE_MAX_OPTIONS)
        o->ids[o->n++] = store_row_int(row, 0);
    return STORE_OK;
}

store_rc store_vote_ballot(store_t *store, int64_t id, int64_t user_id, bool *voted, int64_t *chosen, size_t *n)
{
    int64_t count = 0;
    *voted = false;
    *n = 0;
    store_rc rc = store_sql_int(store, &SQL_BALLOT_EXISTS, ARGS(store_arg_int(id), store_arg_int(user_id)), 2, &count);
    if (rc != STORE_OK)
        return rc;
    *voted = count > 0;
    if (!*voted || chosen == NULL)
        return STORE_OK;
    ids_out_t o = {chosen, 0};
    rc = store_sql_exec(store, &SQL_MY_CHOICES, ARGS(store_arg_int(id), store_arg_int(user_id)), 2, read_id, &o, NULL);
    *n = o.n;
    return rc;
}

static const store_sql_t SQL_VOTERS = {
    .op = "vote_voters",
    .sqlite = "SELECT c.option_id, c.user_id, coalesce(m.name, '') FROM oa_vote_choice c"
              " LEFT JOIN oa_member m ON m.user_id = c.user_id WHERE c.vote_id = ? ORDER BY c.option_id, m.name",
};

typedef struct voter_walk {
    store_vote_voter_fn fn;
    void *ctx;
} voter_walk_t;

static store_rc walk_voter(const store_row_t *row, void *ctx)
{
    voter_walk_t *w = ctx;
    return w->fn(store_row_int(row, 0), store_row_int(row, 1), store_row_text(row, 2, NULL), w->ctx);
}

store_rc store_vote_voters(store_t *store, int64_t id, store_vote_voter_fn fn, void *ctx)
{
    voter_walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_VOTERS, ARGS(store_arg_int(id)), 1, walk_voter, &w, NULL);
}

static const store_sql_t SQL_VOTES_OF_MEETING = {
    .op = "vote_list",
    .sqlite = "SELECT " VOTE_COLS " FROM oa_vote WHERE meeting_id = ? ORDER BY id",
};

typedef struct vote_walk {
    store_vote_fn fn;
    void *ctx;
} vote_walk_t;

static store_rc walk_vote(const store_row_t *row, void *ctx)
{
    vote_walk_t *w = ctx;
    store_vote_t v;
    store_rc rc = read_vote(row, &v);
    return rc != STORE_OK ? rc : w->fn(&v, w->ctx);
}

store_rc store_vote_list(store_t *store, int64_t meeting_id, store_vote_fn fn, void *ctx)
{
    vote_walk_t w = {fn, ctx};
    return store_sql_exec(store, &SQL_VOTES_OF_MEETING, ARGS(store_arg_int(meeting_id)), 1, walk_vote, &w, NULL);
}
