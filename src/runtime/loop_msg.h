/*
 * loop_msg — how work done on another thread comes back to an event loop.
 *
 * Every event-loop thread owns one receiver (runtime_loop_receiver). Off-loop workers
 * (the database pool, the WeChat client) finish a job by calling loop_msg_reply(), which
 * queues the message on the receiver of the loop that asked; that loop then calls
 * msg->on_done(msg) on its own thread. Nothing else crosses threads.
 *
 * Ownership: the message is owned by whoever created it (usually embedded in a job that
 * the loop side allocated); workers only borrow it until they call loop_msg_reply().
 */
#ifndef MEETOA_RUNTIME_LOOP_MSG_H
#define MEETOA_RUNTIME_LOOP_MSG_H

#include <h2o.h>
#include <h2o/multithread.h>

#include "metrics/metrics.h"

typedef struct loop_msg loop_msg_t;
typedef void (*loop_msg_cb)(loop_msg_t *msg);

struct loop_msg {
    h2o_multithread_message_t super; /* must stay first */
    h2o_multithread_receiver_t *reply_to;
    loop_msg_cb on_done;
    size_t op; /* metrics_operation() of the thread that made it, restored around on_done */
};

/* Sets up a message to come back to reply_to and run on_done there. */
static inline void loop_msg_init(loop_msg_t *msg, h2o_multithread_receiver_t *reply_to, loop_msg_cb on_done)
{
    msg->super.link = (h2o_linklist_t){NULL, NULL};
    msg->reply_to = reply_to;
    msg->on_done = on_done;
    msg->op = metrics_operation();
}

/* Sends msg back to its loop (from any thread). */
static inline void loop_msg_reply(loop_msg_t *msg)
{
    h2o_multithread_send_message(msg->reply_to, &msg->super);
}

/* Registers receiver on queue so that arriving messages run their on_done. Loop thread only. */
void loop_msg_register(h2o_multithread_queue_t *queue, h2o_multithread_receiver_t *receiver);

#endif
