/*
 * storage/image_type — what an uploaded file really is, judged by its bytes alone (never by
 * its name or the Content-Type its sender claimed).
 *
 * Three types are accepted, and only when the whole file has the container's structure,
 * so that a text, HTML, SVG or GIF file, or one with an image header glued in front, is
 * refused:
 *   PNG   the 8-byte signature, an IHDR chunk first (length 13, sane values, right CRC),
 *         well-formed chunks up to an IEND chunk that ends the file, at least one IDAT;
 *   JPEG  SOI, then marker segments that fit (the first an APPn or DQT) up to SOS, with a
 *         frame header (SOFn) before it, and EOI as the file's last two bytes;
 *   WebP  RIFF whose size is the file's, form type WEBP, a first chunk VP8 (key frame start
 *         code), VP8L (signature 0x2f) or VP8X (followed by an image chunk), every chunk
 *         fitting inside the file.
 *
 * Contract: pure functions over a slice (pointer + length, never read past it); the
 * returned descriptors are static and immutable. Safe from any thread.
 */
#ifndef MEETOA_STORAGE_IMAGE_TYPE_H
#define MEETOA_STORAGE_IMAGE_TYPE_H

#include <stddef.h>

typedef enum image_kind { IMAGE_PNG = 1, IMAGE_JPEG, IMAGE_WEBP } image_kind_t;

typedef struct image_type {
    image_kind_t kind;
    const char *ext;          /* the file name extension, without the dot: "png", "jpg", "webp" */
    const char *content_type; /* "image/png", "image/jpeg", "image/webp" */
} image_type_t;

/* The type of data[0..len), or NULL when it is none of the three. */
const image_type_t *image_type_detect(const void *data, size_t len);
/* The type whose extension is exactly ext[0..len) ("png", "jpg", "webp"), or NULL. */
const image_type_t *image_type_by_ext(const char *ext, size_t len);

#endif
