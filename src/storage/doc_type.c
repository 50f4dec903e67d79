/* storage/doc_type — see doc_type.h. */
#include "storage/doc_type.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "storage/image_type.h"

static const doc_type_t TYPES[] = {
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
};
enum { T_PDF, T_PNG, T_JPG, T_DOCX, T_XLSX, T_PPTX };

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static bool is_pdf(const uint8_t *p, size_t len)
{
    if (len < 16 || (memcmp(p, "%PDF-1.", 7) != 0 && memcmp(p, "%PDF-2.", 7) != 0))
        return false;
    size_t from = len > 1024 ? len - 1024 : 0;
    for (size_t i = len - 5; i + 1 > from; i--)
        if (memcmp(p + i, "%%EOF", 5) == 0)
            return true;
    return false;
}

static bool starts_with(const uint8_t *name, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(name, prefix, k) == 0;
}

/* An Office Open XML package: the type, or -1. */
static int ooxml_kind(const uint8_t *p, size_t len)
{
    if (len < 22 + 30 || memcmp(p, "PK\x03\x04", 4) != 0)
        return -1;
    /* the end of central directory record: within the last 22 + 65,535 bytes */
    size_t min = len > 22 + 65535 ? len - 22 - 65535 : 0, eocd = SIZE_MAX;
    for (size_t i = len - 22; i + 1 > min; i--)
        if (le32(p + i) == 0x06054b50 && i + 22 + le16(p + i + 20) == len) {
            eocd = i;
            break;
        }
    if (eocd == SIZE_MAX)
        return -1;
    size_t entries = le16(p + eocd + 10), size = le32(p + eocd + 12), offset = le32(p + eocd + 16);
    if (offset > eocd || size > eocd - offset)
        return -1;
    bool content_types = false;
    int kind = -1;
    size_t at = offset;
    for (size_t e = 0; e < entries; e++) {
        if (at + 46 > offset + size || le32(p + at) != 0x02014b50)
            return -1;
        size_t n = le16(p + at + 28), extra = le16(p + at + 30), comment = le16(p + at + 32);
        if (at + 46 + n + extra + comment > offset + size)
            return -1;
        const uint8_t *name = p + at + 46;
        if (n == 19 && memcmp(name, "[Content_Types].xml", 19) == 0)
            content_types = true;
        else if (kind < 0 && starts_with(name, n, "word/"))
            kind = T_DOCX;
        else if (kind < 0 && starts_with(name, n, "xl/"))
            kind = T_XLSX;
        else if (kind < 0 && starts_with(name, n, "ppt/"))
            kind = T_PPTX;
        at += 46 + n + extra + comment;
    }
    return content_types ? kind : -1;
}

const doc_type_t *doc_type_detect(const void *data, size_t len)
{
    const uint8_t *p = data;
    if (p == NULL || len == 0)
        return NULL;
    if (is_pdf(p, len))
        return &TYPES[T_PDF];
    const image_type_t *image = image_type_detect(data, len);
    if (image != NULL && image->kind == IMAGE_PNG)
        return &TYPES[T_PNG];
    if (image != NULL && image->kind == IMAGE_JPEG)
        return &TYPES[T_JPG];
    int kind = ooxml_kind(p, len);
    return kind >= 0 ? &TYPES[kind] : NULL;
}

const doc_type_t *doc_type_by_ext(const char *ext)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (strcmp(TYPES[i].ext, ext) == 0)
            return &TYPES[i];
    return NULL;
}
