/*
 * auth/login_flight — identical login codes in flight share one login and one answer.
 *
 * A double tap or a client retry sends the same wx.login() code twice while the first
 * request still waits on WeChat. The first request with a code becomes the leader and does
 * the login; every later one with the same code, on any loop thread, joins as a follower
 * and gets a copy of the leader's answer (the same token), delivered to its own loop. So a
 * code reaches WeChat once, and both taps see the same result.
 *
 * Thread-safe. The table holds only logins in flight: a code seen again after its leader
 * finished starts a new login (and WeChat will say 40163).
 */
#ifndef MEETOA_AUTH_LOGIN_FLIGHT_H
#define MEETOA_AUTH_LOGIN_FLIGHT_H

#include <stdbool.h>

#include "http/reply.h"
#include "http/server.h"
#include "runtime/loop_msg.h"

typedef struct login_flights login_flights_t;

/* A request waiting on another request's login. Allocated by the caller; when the leader
 * finishes, answer gets a private copy and msg comes back to the follower's loop, whose
 * on_done sends it and frees both. */
typedef struct login_follower {
    loop_msg_t msg; /* first */
    http_pending_t pending;
    http_answer_t answer;
    struct login_follower *_next;
} login_follower_t;

login_flights_t *login_flights_new(void);
void login_flights_free(login_flights_t *flights);
/* True: a login with code is in flight and follower now waits on it. False: the caller
 * leads and must call login_flights_finish() with the same code exactly once. */
bool login_flights_join(login_flights_t *flights, const char *code, login_follower_t *follower);
/* Ends the flight of code and sends a copy of answer to each of its followers. */
void login_flights_finish(login_flights_t *flights, const char *code, const http_answer_t *answer);

#endif
