/*
 * emu_png — a minimal PNG writer (see emu_png.h).
 *
 * File: signature, IHDR (bit depth 1, colour type 3 = palette), PLTE (background, foreground),
 * tRNS when the background is transparent, one IDAT holding the whole zlib stream, IEND. The zlib
 * stream is the header 78 01 (deflate, 32 KiB window, no dictionary, fastest), stored blocks (each
 * BFINAL/BTYPE byte, LEN and its one's complement NLEN, little-endian, then LEN raw bytes) and the
 * Adler-32 of the raw data, big-endian. The raw data is one filter byte (0, None) per scanline,
 * followed by the packed row.
 */
#include "emu_png.h"

#include <stdlib.h>
#include <string.h>

#define STORED_MAX 65535u

static uint32_t crc_table[256];
static bool crc_ready;

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; ++n) {
        uint32_t c = n;
        for (int k = 0; k < 8; ++k)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
    crc_ready = true;
}

uint32_t emu_png_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (!crc_ready)
        crc_init();
    crc = ~crc;
    for (size_t i = 0; i < len; ++i)
        crc = crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

uint32_t emu_png_adler32(uint32_t adler, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t a = adler & 0xffffu, b = adler >> 16;
    while (len > 0) {
        size_t n = len < 5552 ? len : 5552; /* the most bytes before b can overflow 32 bits */
        len -= n;
        while (n-- > 0) {
            a += *p++;
            b += a;
        }
        a %= 65521u;
        b %= 65521u;
    }
    return (b << 16) | a;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* Writes a chunk of type with data[0..len) at p (length, type, data, CRC of type + data). */
static uint8_t *put_chunk(uint8_t *p, const char type[4], const uint8_t *data, size_t len)
{
    uint8_t *start = p + 4;
    p = put32(p, (uint32_t)len);
    memcpy(p, type, 4);
    if (len > 0 && data != p + 4)
        memmove(p + 4, data, len);
    p += 4 + len;
    return put32(p, emu_png_crc32(0, start, 4 + len));
}

uint8_t *emu_png_bilevel(const uint8_t *rows, uint32_t width, uint32_t height, emu_rgb_t fg, emu_rgb_t bg,
                         bool transparent_bg, size_t *len)
{
    static const uint8_t SIGNATURE[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    *len = 0;
    if (width == 0 || height == 0 || width > EMU_PNG_MAX_SIDE || height > EMU_PNG_MAX_SIDE)
        return NULL;
    size_t stride = (width + 7) / 8;
    size_t raw_len = (size_t)height * (1 + stride);
    size_t nblocks = (raw_len + STORED_MAX - 1) / STORED_MAX;
    size_t zlib_len = 2 + nblocks * 5 + raw_len + 4;
    size_t total = sizeof(SIGNATURE) + (12 + 13) + (12 + 6) + (transparent_bg ? 12 + 1 : 0) + (12 + zlib_len) + 12;
    uint8_t *out = malloc(total);
    if (out == NULL)
        return NULL;

    uint8_t *p = out;
    memcpy(p, SIGNATURE, sizeof(SIGNATURE));
    p += sizeof(SIGNATURE);

    uint8_t ihdr[13];
    put32(ihdr, width);
    put32(ihdr + 4, height);
    ihdr[8] = 1;  /* bit depth */
    ihdr[9] = 3;  /* colour type: palette */
    ihdr[10] = 0; /* compression: deflate */
    ihdr[11] = 0; /* filter method 0 */
    ihdr[12] = 0; /* no interlace */
    p = put_chunk(p, "IHDR", ihdr, sizeof(ihdr));

    const uint8_t plte[6] = {bg.r, bg.g, bg.b, fg.r, fg.g, fg.b};
    p = put_chunk(p, "PLTE", plte, sizeof(plte));
    if (transparent_bg) {
        const uint8_t trns[1] = {0}; /* entry 0 (background) transparent; entry 1 stays opaque */
        p = put_chunk(p, "tRNS", trns, sizeof(trns));
    }

    /* IDAT: built in place after its length and type, then checksummed by put_chunk (memmove-free). */
    uint8_t *idat = p + 8, *z = idat;
    uint32_t adler = 1;
    size_t left = raw_len, row = 0, col = 0; /* position in the raw data: scanline row, byte col (0: filter) */
    *z++ = 0x78;
    *z++ = 0x01;
    while (left > 0) {
        size_t n = left < STORED_MAX ? left : STORED_MAX;
        left -= n;
        *z++ = left == 0 ? 1 : 0; /* BFINAL, BTYPE 00 */
        *z++ = (uint8_t)n;
        *z++ = (uint8_t)(n >> 8);
        *z++ = (uint8_t)~n;
        *z++ = (uint8_t)(~n >> 8);
        uint8_t *block = z;
        for (size_t i = 0; i < n; ++i) {
            *z++ = col == 0 ? 0 : rows[row * stride + col - 1];
            if (++col == 1 + stride) {
                col = 0;
                ++row;
            }
        }
        adler = emu_png_adler32(adler, block, n);
    }
    z = put32(z, adler);
    p = put_chunk(p, "IDAT", idat, (size_t)(z - idat));
    p = put_chunk(p, "IEND", NULL, 0);
    *len = (size_t)(p - out);
    return out;
}
