/*
 * fuzz_text — libFuzzer target for common/text (text_utf8_valid, text_utf8_length), the UTF-8
 * check every request body passes before JSON parsing. Differential: jansson's own UTF-8 check
 * (json_stringn) must agree with text_utf8_valid on inputs without NUL bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1); /* exact-size copy: ASan catches a read past len */
    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    bool valid = text_utf8_valid(s, size);
    bool has_nul = memchr(s, '\0', size) != NULL;
    json_t *j = json_stringn(s, size);
    bool jansson_valid = j != NULL;
    json_decref(j);
    if (valid && (has_nul || !jansson_valid))
        abort(); /* accepted what it must refuse */
    if (!valid && !has_nul && jansson_valid)
        abort(); /* refused well-formed UTF-8 */
    if (valid && text_utf8_length(s, size) > size)
        abort();
    char copy[16];
    if (text_copy(copy, sizeof(copy), s, size) != (size < sizeof(copy)))
        abort();
    free(s);
    return 0;
}
