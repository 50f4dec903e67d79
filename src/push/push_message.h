/*
 * push/push_message — a message push packet's body, JSON or XML, as one JSON object.
 *
 * WeChat sends either format (as configured): JSON is parsed as is; XML (<xml><Name>value</Name>
 * ...</xml>, values plain or in <![CDATA[...]]>) becomes an object of the top-level elements'
 * texts, as strings (nested elements are kept as their raw text). Pure, any thread.
 */
#ifndef MEETOA_PUSH_PUSH_MESSAGE_H
#define MEETOA_PUSH_PUSH_MESSAGE_H

#include <stddef.h>

#include <jansson.h>

/* The packet as an object (new reference), or NULL when it is neither a JSON object nor XML. */
json_t *push_message_parse(const char *body, size_t len);
/* A field as text: a string as is, an integer in decimal; NULL when absent or another type.
 * The pointer is valid while msg lives (integers: until the next call with the same buf). */
const char *push_message_text(json_t *msg, const char *name, char *buf, size_t size);

/* The items of an event's list (new reference, an array of objects, maybe empty): JSON's "List"
 * (an object or an array), at the top or inside wrapper; XML's <wrapper><List>...</List>...
 * </wrapper> (each <List> as an object of its elements' texts). Subscription events carry them
 * ("SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent", "SubscribeMsgSentEvent"). */
json_t *push_message_list(json_t *msg, const char *wrapper);

#endif
