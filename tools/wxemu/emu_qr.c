/*
 * emu_qr — QR code (libqrencode) to a two-colour PNG (see emu_qr.h).
 *
 * libqrencode gives a width x width matrix of bytes whose bit 0 is "dark". With n modules and an
 * image of W pixels, a module is s = floor(W / (n + 8)) pixels (so the quiet zone is at least 4
 * modules) and the code is placed at offset floor((W - s * n) / 2) on both axes. The text is encoded
 * as data (8-bit), mixed with numeric and alphanumeric segments where libqrencode finds them shorter
 * (QRcode_encodeString, case-sensitive): any reader gives back the same bytes.
 */
#include "emu_qr.h"

#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#define QUIET_MODULES 4

uint8_t *emu_qr_png(const emu_qr_spec_t *spec, size_t *len)
{
    *len = 0;
    if (spec->text == NULL || spec->text_len == 0 || memchr(spec->text, '\0', spec->text_len) != NULL)
        return NULL;
    char *text = malloc(spec->text_len + 1);
    if (text == NULL)
        return NULL;
    memcpy(text, spec->text, spec->text_len);
    text[spec->text_len] = '\0';
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    free(text);
    if (qr == NULL)
        return NULL;

    uint32_t n = (uint32_t)qr->width, side = spec->width;
    uint8_t *png = NULL, *rows = NULL;
    if (side == 0 || side > EMU_PNG_MAX_SIDE || side / (n + 2 * QUIET_MODULES) == 0)
        goto done;
    uint32_t scale = side / (n + 2 * QUIET_MODULES), offset = (side - scale * n) / 2;
    size_t stride = (side + 7) / 8;
    if ((rows = calloc((size_t)side, stride)) == NULL)
        goto done;
    for (uint32_t my = 0; my < n; ++my) {
        uint8_t *row = rows + (size_t)(offset + my * scale) * stride;
        for (uint32_t mx = 0; mx < n; ++mx) {
            if ((qr->data[my * n + mx] & 1u) == 0)
                continue;
            for (uint32_t x = offset + mx * scale; x < offset + (mx + 1) * scale; ++x)
                row[x / 8] |= (uint8_t)(0x80u >> (x % 8));
        }
        for (uint32_t k = 1; k < scale; ++k) /* the module's other pixel rows are copies */
            memcpy(row + k * stride, row, stride);
    }
    png = emu_png_bilevel(rows, side, side, spec->line, (emu_rgb_t){255, 255, 255}, spec->hyaline, len);
done:
    free(rows);
    QRcode_free(qr);
    return png;
}
