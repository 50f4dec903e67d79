/*
 * storage/image_type — see image_type.h.
 *
 * Each check walks the container's own structure (PNG chunks, JPEG marker segments, RIFF
 * chunks) with every length compared to what is left before it is used, and insists that
 * the structure ends exactly where the file does: a polyglot that hides HTML or a script
 * after (or instead of) the image data is refused. The pixel data itself is not decoded.
 */
#include "storage/image_type.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const image_type_t types[] = {
    {IMAGE_PNG, "png", "image/png"},
    {IMAGE_JPEG, "jpg", "image/jpeg"},
    {IMAGE_WEBP, "webp", "image/webp"},
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* ---- PNG ---- */

#define PNG_SIG_LEN   8
#define PNG_CHUNK_MIN 12 /* length, type, CRC */
#define PNG_IHDR_LEN  13

/* CRC-32 (ISO 3309, as PNG uses it), bitwise: only the 17 bytes of IHDR are checked. */
static uint32_t png_crc(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xffffffffu;
}

static bool png_depth_ok(uint8_t depth, uint8_t color)
{
    switch (color) {
    case 0: /* grey */
        return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: /* palette */
        return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: /* RGB */
    case 4: /* grey + alpha */
    case 6: /* RGBA */
        return depth == 8 || depth == 16;
    default:
        return false;
    }
}

/* The IHDR chunk at p (the whole 25 bytes). */
static bool png_ihdr_ok(const uint8_t *p)
{
    const uint8_t *d = p + 8;
    uint32_t width = be32(d), height = be32(d + 4);
    return be32(p) == PNG_IHDR_LEN && memcmp(p + 4, "IHDR", 4) == 0 && width != 0 && width <= 0x7fffffffu &&
           height != 0 && height <= 0x7fffffffu && png_depth_ok(d[8], d[9]) && d[10] == 0 && d[11] == 0 && d[12] <= 1 &&
           png_crc(p + 4, 4 + PNG_IHDR_LEN) == be32(d + PNG_IHDR_LEN);
}

static bool png_type_ok(const uint8_t *t)
{
    for (int i = 0; i < 4; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')))
            return false;
    return true;
}

static bool is_png(const uint8_t *p, size_t len)
{
    static const uint8_t sig[PNG_SIG_LEN] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len < PNG_SIG_LEN + PNG_CHUNK_MIN + PNG_IHDR_LEN || memcmp(p, sig, PNG_SIG_LEN) != 0 ||
        !png_ihdr_ok(p + PNG_SIG_LEN))
        return false;
    bool idat = false;
    size_t pos = PNG_SIG_LEN + PNG_CHUNK_MIN + PNG_IHDR_LEN;
    while (len - pos >= PNG_CHUNK_MIN) {
        uint32_t n = be32(p + pos);
        const uint8_t *type = p + pos + 4;
        if (n > 0x7fffffffu || n > len - pos - PNG_CHUNK_MIN || !png_type_ok(type) || memcmp(type, "IHDR", 4) == 0)
            return false;
        pos += PNG_CHUNK_MIN + n;
        if (memcmp(type, "IDAT", 4) == 0)
            idat = true;
        else if (memcmp(type, "IEND", 4) == 0)
            return n == 0 && pos == len && idat;
    }
    return false; /* no IEND, or bytes left over */
}

/* ---- JPEG ---- */

static bool jpeg_is_sof(uint8_t m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc; /* not DHT, JPG, DAC */
}

static bool is_jpeg(const uint8_t *p, size_t len)
{
    if (len < 4 || p[0] != 0xff || p[1] != 0xd8 || p[2] != 0xff)
        return false;
    if (!((p[3] >= 0xe0 && p[3] <= 0xef) || p[3] == 0xdb)) /* APPn or DQT first */
        return false;
    bool frame = false;
    size_t pos = 2;
    while (len - pos >= 4) {
        uint8_t marker = p[pos + 1];
        size_t seg = (size_t)p[pos + 2] << 8 | p[pos + 3];
        if (p[pos] != 0xff || seg < 2 || seg > len - pos - 2)
            return false;
        /* Markers without a length (SOI, EOI, RSTn, TEM) and fill bytes have no place here. */
        if (marker < 0xc0 || marker == 0xd8 || marker == 0xd9 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0xff)
            return false;
        pos += 2 + seg;
        if (jpeg_is_sof(marker))
            frame = true;
        else if (marker == 0xda) /* SOS: entropy-coded data follows, up to EOI */
            return frame && len - pos >= 2 && p[len - 2] == 0xff && p[len - 1] == 0xd9;
    }
    return false;
}

/* ---- WebP ---- */

#define RIFF_HEADER_LEN 12
#define RIFF_CHUNK_HEAD 8

static bool webp_vp8_ok(const uint8_t *d, uint32_t n)
{
    /* frame tag (3 bytes, bit 0 clear = key frame), start code 9d 01 2a, 14-bit width and height */
    return n >= 10 && (d[0] & 1) == 0 && d[3] == 0x9d && d[4] == 0x01 && d[5] == 0x2a &&
           ((d[6] | d[7] << 8) & 0x3fff) != 0 && ((d[8] | d[9] << 8) & 0x3fff) != 0;
}

static bool webp_vp8l_ok(const uint8_t *d, uint32_t n)
{
    return n >= 5 && d[0] == 0x2f && (d[4] >> 5) == 0; /* signature, version 0 */
}

/* The chunks after the RIFF header: they must tile the file exactly (each padded to even). */
static bool is_webp(const uint8_t *p, size_t len)
{
    if (len < RIFF_HEADER_LEN + RIFF_CHUNK_HEAD || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0 ||
        (size_t)le32(p + 4) != len - 8)
        return false;
    const uint8_t *first = p + RIFF_HEADER_LEN;
    bool extended = memcmp(first, "VP8X", 4) == 0, image = false;
    size_t pos = RIFF_HEADER_LEN;
    for (int i = 0; pos < len; i++) {
        if (len - pos < RIFF_CHUNK_HEAD)
            return false;
        uint32_t n = le32(p + pos + 4);
        const uint8_t *type = p + pos, *d = p + pos + RIFF_CHUNK_HEAD;
        if (n > len - pos - RIFF_CHUNK_HEAD)
            return false;
        bool vp8 = memcmp(type, "VP8 ", 4) == 0, vp8l = memcmp(type, "VP8L", 4) == 0;
        if ((vp8 && !webp_vp8_ok(d, n)) || (vp8l && !webp_vp8l_ok(d, n)))
            return false;
        if (i == 0 && !vp8 && !vp8l && !(extended && n == 10))
            return false;
        if (i > 0 && !extended)
            return false; /* a simple file holds one chunk */
        image = image || vp8 || vp8l || memcmp(type, "ANMF", 4) == 0;
        pos += RIFF_CHUNK_HEAD + n + (n & 1);
    }
    return pos == len && image;
}

/* ---- API ---- */

const image_type_t *image_type_detect(const void *data, size_t len)
{
    const uint8_t *p = data;
    if (p == NULL)
        return NULL;
    if (is_png(p, len))
        return &types[0];
    if (is_jpeg(p, len))
        return &types[1];
    if (is_webp(p, len))
        return &types[2];
    return NULL;
}

const image_type_t *image_type_by_ext(const char *ext, size_t len)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strlen(types[i].ext) == len && memcmp(types[i].ext, ext, len) == 0)
            return &types[i];
    return NULL;
}
