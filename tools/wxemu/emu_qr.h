/*
 * emu_qr — the image of a mini program code: a real QR code (libqrencode) whose text is the scene,
 * drawn with a quiet zone into a square PNG (emu_png.c).
 *
 * WeChat draws its round "sun" codes, which no ordinary reader decodes; wxemu draws a QR code of the
 * same content instead, so a test can read it back (zbarimg) and see which scene the server asked for.
 */
#ifndef WXEMU_EMU_QR_H
#define WXEMU_EMU_QR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu_png.h"

/* What to draw. */
typedef struct emu_qr_spec {
    const char *text; /* the QR code's content (bytes, as given) */
    size_t text_len;
    uint32_t width; /* side of the square image in pixels; at least the code's modules + 8 */
    emu_rgb_t line; /* dark modules */
    bool hyaline;   /* transparent background (else white) */
} emu_qr_spec_t;

/* The PNG (malloc'd, owned by the caller) of spec: a QR code (error correction level M, the smallest
 * version that holds the text) of whole-pixel modules, as large as fits in width x width with a quiet
 * zone of at least 4 modules, centred; the image is exactly width x width. NULL when the text cannot be
 * encoded, the width is too small for it, or out of memory. *len: the file's size. */
uint8_t *emu_qr_png(const emu_qr_spec_t *spec, size_t *len);

#endif
