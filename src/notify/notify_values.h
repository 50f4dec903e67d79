/*
 * notify/notify_values — what a subscription message says: the mapping of a template's keywords
 * to MeetOA's fields (oa.subscribe.KIND.data), and each value cut to what its keyword's type
 * allows (WeChat refuses a message with a value out of its rules: 47003).
 *
 * A mapping is "keyword=field" pairs split by ',' (spaces around are ignored), e.g.
 * "thing1=title, time2=time, thing3=place, name4=host". Keywords are a type and a number
 * (thing1, time2, phrase3, character_string4, ...), 1..10 of them, each once. Fields:
 *   title   the meeting's title                 time    its start and end: 2026年12月07日 14:00~15:30
 *   start   its start: 2026年12月07日 14:00      place   the room's name, or the location
 *   host    the host's name                      result  what happened: 已通过, 已驳回, 已取消, 即将开始, 会议邀请
 *   reason  the reason given (rejection, cancellation)
 *
 * Types and their cut (characters are Unicode code points, as WeChat is best understood to
 * count them: ../shared/wechat-more-apis.md §1.1): thing 20 (a longer text keeps 19 and '…'),
 * name 10 when it holds any non-ASCII character else 20, phrase the first 5 Chinese characters
 * only, character_string 32 printable ASCII characters without spaces, number 32 of digits and
 * one '.', letter 32 ASCII letters, symbol 5 ASCII punctuation characters, phone_number 17,
 * car_number 8; time, date, amount and enum are passed as they are. An empty value (WeChat
 * refuses them) becomes "无" (thing, name, phrase, time, date, enum), "-" (character_string,
 * symbol, phone_number), "0" (number, amount) or "x" (letter, car_number).
 *
 * Pure functions, any thread.
 */
#ifndef MEETOA_NOTIFY_NOTIFY_VALUES_H
#define MEETOA_NOTIFY_NOTIFY_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum notify_field {
    NOTIFY_TITLE,
    NOTIFY_TIME,
    NOTIFY_START,
    NOTIFY_PLACE,
    NOTIFY_HOST,
    NOTIFY_RESULT,
    NOTIFY_REASON,
    NOTIFY_FIELDS
} notify_field_t;

#define NOTIFY_KEYWORDS_MAX 10
#define NOTIFY_KEYWORD_SIZE 32

typedef struct notify_map {
    int n;
    char keyword[NOTIFY_KEYWORDS_MAX][NOTIFY_KEYWORD_SIZE];
    notify_field_t field[NOTIFY_KEYWORDS_MAX];
} notify_map_t;

/* Parses a mapping; false with one line in err (naming the pair at fault) when it is not one. */
bool notify_map_parse(const char *text, notify_map_t *out, char *err, size_t err_size);

/* value cut for keyword's type into out (NUL-terminated, at most size - 1 bytes; size >= 8). */
void notify_value_fit(const char *keyword, const char *value, char *out, size_t size);

/* start..end in the process's local time: "2026年12月07日 14:00~15:30" (the end's date only when
 * it is another day). out needs 64 bytes. */
void notify_time_range(int64_t start_at, int64_t end_at, char *out, size_t size);
/* start alone: "2026年12月07日 14:00". */
void notify_time_point(int64_t at, char *out, size_t size);

/* The "data" object of a message: {"thing1":{"value":"..."},...} with each field of values fitted
 * to its keyword. malloc'd (NULL when out of memory). */
char *notify_data_json(const notify_map_t *map, const char *const values[NOTIFY_FIELDS]);

#endif
