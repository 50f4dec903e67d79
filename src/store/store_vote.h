/*
 * store_vote — votes on a meeting's questions (投票): tables oa_vote, oa_vote_option,
 * oa_vote_ballot, oa_vote_choice of migration step 5 (docs/schema.md).
 *
 * One ballot per person and question, whatever the concurrency: a ballot is a row keyed by
 * (vote, user), written in the transaction that adds to the options' counts, after the vote's
 * row is locked (FOR UPDATE on MariaDB; SQLite's one write lock), so a double tap, a retry or
 * two instances answering at once make exactly one vote, and a vote never lands after its
 * close. Named votes also keep who chose what (oa_vote_choice); anonymous ones keep only the
 * counts and the fact that someone voted.
 *
 * Written once for every backend on the statement layer (store_sql.h); the rules of store.h.
 */
#ifndef MEETOA_STORE_STORE_VOTE_H
#define MEETOA_STORE_STORE_VOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum { STORE_VOTE_DRAFT = 0, STORE_VOTE_OPEN = 1, STORE_VOTE_CLOSED = 2 };
enum { STORE_PASS_NONE = 0, STORE_PASS_MAJORITY = 1, STORE_PASS_TWO_THIRDS = 2 };

#define STORE_VOTE_TITLE_SIZE  (100 * 4 + 1)
#define STORE_VOTE_OPTION_SIZE (50 * 4 + 1)
#define STORE_VOTE_MAX_OPTIONS 20

typedef struct store_vote {
    int64_t id, meeting_id;
    char title[STORE_VOTE_TITLE_SIZE];
    bool multiple, anonymous;
    int max_choices, pass_rule, state;
    int64_t ballots, created_by, created_at, opened_at, closed_at;
} store_vote_t;

typedef struct store_vote_option {
    int64_t id;
    char text[STORE_VOTE_OPTION_SIZE];
    int64_t votes;
} store_vote_option_t;

/* Creates vote (its id set) with options[0..n) in order; option_ids[0..n) get their ids. */
store_rc store_vote_create(store_t *store, store_vote_t *vote, const char *const *options, size_t n,
                           int64_t *option_ids);
/* Vote id with its options (at most STORE_VOTE_MAX_OPTIONS; *n their number). */
store_rc store_vote_get(store_t *store, int64_t id, store_vote_t *out, store_vote_option_t *options, size_t *n);
/* Moves vote id from state from to state to (opened_at / closed_at = now). STATE refuses when
 * it is not in from. */
store_rc store_vote_move(store_t *store, int64_t id, int from, int to, int64_t now, store_refusal_t *why);
/*
 * user_id's ballot on vote id: option_ids[0..n) (distinct, checked by the caller against the
 * vote's options and max_choices). Refused: STATE when the vote is not open, ALREADY when the
 * user voted already (nothing changes); STORE_NOT_FOUND when an option is not the vote's.
 */
store_rc store_vote_cast(store_t *store, int64_t id, int64_t user_id, const int64_t *option_ids, size_t n,
                         store_refusal_t *why);
/* Whether user_id voted on vote id; for a named vote, chosen[0..*n) their options. */
store_rc store_vote_ballot(store_t *store, int64_t id, int64_t user_id, bool *voted, int64_t *chosen, size_t *n);

/* A named vote's choices, option by option (voter names from oa_member). */
typedef store_rc (*store_vote_voter_fn)(int64_t option_id, int64_t user_id, const char *name, void *ctx);
store_rc store_vote_voters(store_t *store, int64_t id, store_vote_voter_fn fn, void *ctx);

/* The votes of meeting id, oldest first. */
typedef store_rc (*store_vote_fn)(const store_vote_t *vote, void *ctx);
store_rc store_vote_list(store_t *store, int64_t meeting_id, store_vote_fn fn, void *ctx);

#endif
