/* loop_msg — see loop_msg.h. */
#include "runtime/loop_msg.h"

static void on_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        loop_msg_t *msg = H2O_STRUCT_FROM_MEMBER(loop_msg_t, super.link, messages->next);
        h2o_linklist_unlink(&msg->super.link);
        metrics_operation_set(msg->op);
        msg->on_done(msg);
        metrics_operation_set(0);
    }
}

void loop_msg_register(h2o_multithread_queue_t *queue, h2o_multithread_receiver_t *receiver)
{
    h2o_multithread_register_receiver(queue, receiver, on_messages);
}
