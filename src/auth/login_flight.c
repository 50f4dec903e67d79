/*
 * auth/login_flight — a mutex-protected hash of the codes being logged in; see login_flight.h.
 *
 * A code in flight is a credential (joining its flight yields the leader's token), so codes are
 * compared in constant time (crypto_equal) once their lengths agree; a code's length is no
 * secret (WeChat's are all alike).
 */
#include "auth/login_flight.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "wechat/wx_client.h"

#define BUCKETS 256

typedef struct flight {
    struct flight *next;
    login_follower_t *followers;
    char code[WX_CODE_MAX + 1];
} flight_t;

struct login_flights {
    pthread_mutex_t lock;
    flight_t *buckets[BUCKETS];
};

static unsigned bucket_of(const char *code)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)code; *p != '\0'; p++)
        h = (h ^ *p) * 16777619u;
    return h % BUCKETS;
}

static bool same_code(const char *a, const char *b)
{
    size_t len = strlen(a);
    return strlen(b) == len && crypto_equal(a, b, len);
}

static flight_t **find(login_flights_t *flights, const char *code)
{
    flight_t **slot = &flights->buckets[bucket_of(code)];
    while (*slot != NULL && !same_code((*slot)->code, code))
        slot = &(*slot)->next;
    return slot;
}

login_flights_t *login_flights_new(void)
{
    login_flights_t *flights = calloc(1, sizeof(*flights));
    if (flights != NULL)
        pthread_mutex_init(&flights->lock, NULL);
    return flights;
}

void login_flights_free(login_flights_t *flights)
{
    if (flights == NULL)
        return;
    for (int i = 0; i < BUCKETS; i++) {
        flight_t *f = flights->buckets[i];
        while (f != NULL) {
            flight_t *next = f->next;
            free(f);
            f = next;
        }
    }
    pthread_mutex_destroy(&flights->lock);
    free(flights);
}

bool login_flights_join(login_flights_t *flights, const char *code, login_follower_t *follower)
{
    bool joined = false;
    pthread_mutex_lock(&flights->lock);
    flight_t **slot = find(flights, code);
    if (*slot != NULL) {
        follower->_next = (*slot)->followers;
        (*slot)->followers = follower;
        joined = true;
    } else {
        flight_t *f = calloc(1, sizeof(*f));
        if (f != NULL) { /* out of memory: lead without a flight; nobody can join */
            snprintf(f->code, sizeof(f->code), "%s", code);
            *slot = f;
        }
    }
    pthread_mutex_unlock(&flights->lock);
    return joined;
}

void login_flights_finish(login_flights_t *flights, const char *code, const http_answer_t *answer)
{
    pthread_mutex_lock(&flights->lock);
    flight_t **slot = find(flights, code);
    flight_t *f = *slot;
    if (f != NULL)
        *slot = f->next;
    pthread_mutex_unlock(&flights->lock);
    if (f == NULL)
        return;
    login_follower_t *follower = f->followers;
    while (follower != NULL) {
        login_follower_t *next = follower->_next; /* follower belongs to its loop once replied */
        follower->answer = *answer;
        follower->answer.text = answer->text != NULL ? strndup(answer->text, answer->len) : NULL;
        loop_msg_reply(&follower->msg);
        follower = next;
    }
    free(f);
}
