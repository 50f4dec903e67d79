/*
 * emu_keyword — the value rules of subscription-message keywords (订阅消息参数值内容限制), as
 * subscribeMessage.send checks data.<keyword>.value. Pure functions: no state, no I/O.
 *
 * Contract:
 * - A keyword's type is its name without its trailing digits ("thing1" -> thing, "character_string12"
 *   -> character_string); a keyword is a known type followed by 1..3 digits, else EMU_KW_NONE.
 * - Values are UTF-8 text (a JSON number is checked as its text); characters are Unicode code points.
 *   Invalid UTF-8, a NUL or a control character (below U+0020, U+007F) never passes.
 * - The rules (docs/wxemu.md has the table): thing 1..20 characters; number 1..32 digits with at most
 *   one decimal point between digits; letter 1..32 ASCII letters; symbol 1..5 symbols (ASCII
 *   punctuation or CJK / full-width punctuation); character_string 1..32 of ASCII digits, letters and
 *   punctuation; phrase 1..5 Chinese characters; name 1..10 characters when any is not ASCII, else
 *   1..20; phone_number 1..17 of digits, '+', '-' and spaces; amount an optional currency sign,
 *   1..10 digits, an optional decimal part of 1..2 digits, an optional trailing 元; car_number 2..8
 *   characters, the middle ones ASCII letters or digits, the first and the last a letter, a digit or
 *   a Chinese character; time a point "[date ]HH:MM[:SS]", date a point "date[ HH:MM[:SS]]", either
 *   optionally followed by '~' (or '～') and a second point (a date, a time, or both); enum anything
 *   non-empty (wxemu does not know the template's enumerated values).
 * - Dates: YYYY年M月D日, YYYY-M-D, YYYY/M/D, YYYY.M.D or M月D日 (month 1..12, day 1..31, no
 *   calendar check); times: H:MM or H:MM:SS (hour 0..23, minute and second 00..59). Spaces may
 *   separate the date from the time and surround the '~'.
 */
#ifndef WXEMU_EMU_KEYWORD_H
#define WXEMU_EMU_KEYWORD_H

#include <stdbool.h>
#include <stddef.h>

typedef enum emu_kw_type {
    EMU_KW_NONE = 0,
    EMU_KW_THING,
    EMU_KW_NUMBER,
    EMU_KW_LETTER,
    EMU_KW_SYMBOL,
    EMU_KW_CHARACTER_STRING,
    EMU_KW_TIME,
    EMU_KW_DATE,
    EMU_KW_AMOUNT,
    EMU_KW_PHONE_NUMBER,
    EMU_KW_CAR_NUMBER,
    EMU_KW_NAME,
    EMU_KW_PHRASE,
    EMU_KW_ENUM,
} emu_kw_type_t;

/* The type of keyword name[0..len): EMU_KW_NONE unless it is a known type and 1..3 digits. */
emu_kw_type_t emu_keyword_type(const char *name, size_t len);

/* Does value[0..len) obey the rule of type? An empty value never does (the caller answers "is emtpy"
 * for it before asking). */
bool emu_keyword_value_ok(emu_kw_type_t type, const char *value, size_t len);

#endif
