/*
 * emu_png — the PNG writer of wxemu's mini program codes: a two-colour image (1-bit palette, optional
 * transparent background) stored without compression, with its own CRC-32 and Adler-32 (no zlib, no
 * libpng). Pure: no I/O, no state.
 *
 * Contract:
 * - The image is given as packed rows: bit 7 of byte 0 is the leftmost pixel, a set bit is the
 *   foreground (palette entry 1), each row takes (width + 7) / 8 bytes, padding bits are ignored.
 * - The zlib stream uses stored (BTYPE 00) deflate blocks of at most 65535 bytes, so the file is about
 *   height * (1 + (width + 7) / 8) bytes plus a fixed overhead: 1280 x 1280 is about 206 KB.
 * - emu_png_bilevel() returns a malloc'd buffer owned by the caller (free()), NULL when out of memory
 *   or the size is out of range (0 or more than EMU_PNG_MAX_SIDE on a side).
 */
#ifndef WXEMU_EMU_PNG_H
#define WXEMU_EMU_PNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_PNG_MAX_SIDE 8192

/* CRC-32 as PNG (and zlib) use it (reflected polynomial 0xEDB88320); continue from crc, 0 to start. */
uint32_t emu_png_crc32(uint32_t crc, const void *data, size_t len);
/* Adler-32 of zlib; continue from adler, 1 to start. */
uint32_t emu_png_adler32(uint32_t adler, const void *data, size_t len);

typedef struct emu_rgb {
    uint8_t r, g, b;
} emu_rgb_t;

/* A PNG of a width x height two-colour image (rows packed as above): foreground fg, background bg,
 * the background fully transparent when transparent_bg. *len: the file's size. */
uint8_t *emu_png_bilevel(const uint8_t *rows, uint32_t width, uint32_t height, emu_rgb_t fg, emu_rgb_t bg,
                         bool transparent_bg, size_t *len);

#endif
