/*
 * test_image_type — content sniffing of uploads: tiny real images (a 1x1 PNG made with
 * zlib, a hand-built 1x1 baseline JPEG, Google's 1x1 lossy, lossless and extended WebP
 * samples) are recognised; look-alikes are refused: text, HTML, SVG, GIF, an image header
 * followed by HTML, broken checksums and lengths, trailing bytes, and every truncation.
 * Samples are copied into exact-size heap buffers so AddressSanitizer sees any over-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/image_type.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* 1x1 RGBA PNG: signature, IHDR, IDAT (zlib of one red pixel row), IEND. */
static const uint8_t png_1x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
    0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff,
    0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};
#define PNG_IHDR_CRC_AT 29
#define PNG_WIDTH_AT    16

/* 1x1 greyscale baseline JPEG: SOI, APP0 JFIF, DQT, SOF0, DHT (DC), DHT (AC), SOS, one
 * block (DC 0, EOB), EOI. */
static const uint8_t jpeg_1x1[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff,
    0xc0, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4,
    0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x3f, 0xff, 0xd9,
};
#define JPEG_SOF_MARKER_AT 90 /* the byte after the 0xff of SOF0 */

/* Google's 1x1 WebP samples (developers.google.com/speed/webp/faq): lossy, lossless, and
 * extended (VP8X + ALPH + VP8). */
static const uint8_t webp_lossy[] = {
    0x52, 0x49, 0x46, 0x46, 0x22, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50,
    0x38, 0x20, 0x16, 0x00, 0x00, 0x00, 0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x01, 0x00,
    0x01, 0x00, 0x0e, 0xc0, 0xfe, 0x25, 0xa4, 0x00, 0x03, 0x70, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t webp_lossless[] = {
    0x52, 0x49, 0x46, 0x46, 0x1a, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x4c, 0x0d,
    0x00, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x00, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0x00,
};
static const uint8_t webp_extended[] = {
    0x52, 0x49, 0x46, 0x46, 0x4a, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x58, 0x0a,
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x41, 0x4c, 0x50, 0x48,
    0x0c, 0x00, 0x00, 0x00, 0x11, 0x07, 0x10, 0x11, 0xfd, 0x0f, 0x44, 0x44, 0xff, 0x03, 0x00, 0x00, 0x56,
    0x50, 0x38, 0x20, 0x18, 0x00, 0x00, 0x00, 0x14, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x01, 0x00, 0x01, 0x00,
    0x00, 0x00, 0xfe, 0x00, 0x00, 0x0d, 0xc0, 0x00, 0xfe, 0xe6, 0xb5, 0x00, 0x00, 0x00,
};

typedef struct sample {
    const uint8_t *bytes;
    size_t len;
    image_kind_t kind;
    const char *what;
} sample_t;
#define SAMPLE(a, k)                                                                                                   \
    {                                                                                                                  \
        a, sizeof(a), k, #a                                                                                            \
    }

static const sample_t samples[] = {
    SAMPLE(png_1x1, IMAGE_PNG),        SAMPLE(jpeg_1x1, IMAGE_JPEG),      SAMPLE(webp_lossy, IMAGE_WEBP),
    SAMPLE(webp_lossless, IMAGE_WEBP), SAMPLE(webp_extended, IMAGE_WEBP),
};

/* Detects a heap copy of exactly len bytes. */
static const image_type_t *detect_copy(const void *bytes, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    memcpy(copy, bytes, len);
    const image_type_t *t = image_type_detect(copy, len);
    free(copy);
    return t;
}

/* A copy of a sample with one byte set to value (or appended bytes), detected. */
static const image_type_t *detect_patched(const uint8_t *bytes, size_t len, size_t at, uint8_t value)
{
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, bytes, len);
    copy[at] = value;
    const image_type_t *t = image_type_detect(copy, len);
    free(copy);
    return t;
}

static const image_type_t *detect_concat(const void *a, size_t alen, const void *b, size_t blen)
{
    uint8_t *copy = malloc(alen + blen);
    assert_non_null(copy);
    memcpy(copy, a, alen);
    memcpy(copy + alen, b, blen);
    const image_type_t *t = image_type_detect(copy, alen + blen);
    free(copy);
    return t;
}

static void test_real_images_detected(void **state)
{
    for (size_t i = 0; i < COUNT(samples); i++) {
        const image_type_t *t = detect_copy(samples[i].bytes, samples[i].len);
        if (t == NULL)
            fail_msg("%s not recognised", samples[i].what);
        assert_int_equal(t->kind, samples[i].kind);
    }
    const image_type_t *png = detect_copy(png_1x1, sizeof(png_1x1));
    assert_string_equal(png->ext, "png");
    assert_string_equal(png->content_type, "image/png");
    const image_type_t *jpg = detect_copy(jpeg_1x1, sizeof(jpeg_1x1));
    assert_string_equal(jpg->ext, "jpg");
    assert_string_equal(jpg->content_type, "image/jpeg");
    const image_type_t *webp = detect_copy(webp_lossy, sizeof(webp_lossy));
    assert_string_equal(webp->ext, "webp");
    assert_string_equal(webp->content_type, "image/webp");
}

/* A byte string with its length (most of these hold NUL bytes). */
typedef struct bytes {
    const char *s;
    size_t len;
} bytes_t;
#define B(lit)                                                                                                         \
    {                                                                                                                  \
        lit, sizeof(lit) - 1                                                                                           \
    }

static void test_look_alikes_refused(void **state)
{
    static const bytes_t fakes[] = {
        B(""),
        B("hello, I am a text file named avatar.png\n"),
        B("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
        B("<html><head><title>x</title></head></html>"),
        B("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"),
        B("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"),
        B("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
          "\x01\x00\x01\x00\x00\x02\x02"
          "D\x01\x00;"),
        B("GIF87a"),
        B("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"),
        B("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x44\xac\x00\x00\x88\x58\x01\x00\x02\x00\x10"
          "\x00"),
        B("%PDF-1.4\n"),
        B("\x89PNG\r\n\x1a\n"),
        B("\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"),
        B("\xff\xd8\xff"),
        B("\xff\xd8\xff\xe0<html><script>alert(1)</script></html>"),
        B("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00<html></html>\xff\xd9"),
        B("RIFF\x04\x00\x00\x00WEBP"),
        B("RIFF\x0c\x00\x00\x00WEBPVP8 \x00\x00\x00\x00"),
    };
    for (size_t i = 0; i < COUNT(fakes); i++)
        if (detect_copy(fakes[i].s, fakes[i].len) != NULL)
            fail_msg("accepted look-alike %zu", i);
    assert_null(image_type_detect(NULL, 0));
}

/* Every proper prefix of every sample is refused (and read without overrun). */
static void test_truncations_refused(void **state)
{
    for (size_t i = 0; i < COUNT(samples); i++)
        for (size_t len = 0; len < samples[i].len; len++)
            if (detect_copy(samples[i].bytes, len) != NULL)
                fail_msg("%s cut to %zu bytes accepted", samples[i].what, len);
}

/* Bytes after the end of the container are refused: no polyglot with HTML after an image. */
static void test_trailing_bytes_refused(void **state)
{
    static const char html[] = "<html><script>alert(1)</script></html>";
    for (size_t i = 0; i < COUNT(samples); i++) {
        if (detect_concat(samples[i].bytes, samples[i].len, html, sizeof(html) - 1) != NULL)
            fail_msg("%s followed by HTML accepted", samples[i].what);
        if (detect_concat(samples[i].bytes, samples[i].len, "\0", 1) != NULL)
            fail_msg("%s followed by one byte accepted", samples[i].what);
    }
}

static void test_png_structure(void **state)
{
    size_t n = sizeof(png_1x1);
    assert_null(detect_patched(png_1x1, n, PNG_IHDR_CRC_AT, png_1x1[PNG_IHDR_CRC_AT] ^ 1)); /* IHDR CRC */
    assert_null(detect_patched(png_1x1, n, 0, 0x88));                                       /* signature */
    assert_null(detect_patched(png_1x1, n, 12, 'i'));                                       /* "iHDR" */
    assert_null(detect_patched(png_1x1, n, 11, 14));                                        /* IHDR length */
    /* A zero width, a bit depth of 3: the CRC is fixed by neither, but both are refused
     * before it could matter; with a correct CRC they would be refused too. */
    assert_null(detect_patched(png_1x1, n, PNG_WIDTH_AT + 3, 0));
    assert_null(detect_patched(png_1x1, n, 24, 3));
    assert_null(detect_patched(png_1x1, n, 37, 'X'));  /* IDAT type letter -> "XDAT": no IDAT left */
    assert_null(detect_patched(png_1x1, n, 36, 0x0e)); /* IDAT length one too long */
    assert_null(detect_patched(png_1x1, n, 61, 1));    /* IEND with a length */
    /* An ancillary chunk before IEND is fine; a second IHDR is not. */
    static const uint8_t text_chunk[] = {0x00, 0x00, 0x00, 0x01, 't', 'E', 'X', 't', 'k', 0x00, 0x00, 0x00, 0x00};
    static const uint8_t ihdr_again[] = {0x00, 0x00, 0x00, 0x00, 'I', 'H', 'D', 'R', 0x00, 0x00, 0x00, 0x00};
    uint8_t buf[sizeof(png_1x1) + sizeof(text_chunk)];
    size_t iend_at = n - 12;
    memcpy(buf, png_1x1, iend_at);
    memcpy(buf + iend_at, text_chunk, sizeof(text_chunk));
    memcpy(buf + iend_at + sizeof(text_chunk), png_1x1 + iend_at, 12);
    const image_type_t *t = detect_copy(buf, sizeof(buf));
    assert_non_null(t);
    assert_int_equal(t->kind, IMAGE_PNG);
    memcpy(buf + iend_at, ihdr_again, sizeof(ihdr_again));
    memcpy(buf + iend_at + sizeof(ihdr_again), png_1x1 + iend_at, 12);
    assert_null(detect_copy(buf, iend_at + sizeof(ihdr_again) + 12));
    /* No IDAT at all: signature, IHDR, IEND. */
    memcpy(buf, png_1x1, 33);
    memcpy(buf + 33, png_1x1 + iend_at, 12);
    assert_null(detect_copy(buf, 45));
}

static void test_jpeg_structure(void **state)
{
    size_t n = sizeof(jpeg_1x1);
    assert_null(detect_patched(jpeg_1x1, n, 3, 0xc0));                  /* SOF first, not APPn/DQT */
    assert_null(detect_patched(jpeg_1x1, n, 3, 0xfe));                  /* COM first */
    assert_null(detect_patched(jpeg_1x1, n, 5, 0xff));                  /* APP0 length past the end */
    assert_null(detect_patched(jpeg_1x1, n, 5, 0x01));                  /* APP0 length below 2 */
    assert_null(detect_patched(jpeg_1x1, n, n - 1, 0xd8));              /* no EOI */
    assert_null(detect_patched(jpeg_1x1, n, JPEG_SOF_MARKER_AT, 0xc4)); /* no frame header before SOS */
    assert_null(detect_patched(jpeg_1x1, n, 20, 0x00));                 /* a segment not starting with 0xff */
    /* DQT first (no APPn) is fine. */
    uint8_t buf[sizeof(jpeg_1x1)];
    memcpy(buf, jpeg_1x1, 2);
    memcpy(buf + 2, jpeg_1x1 + 20, n - 20);
    const image_type_t *t = detect_copy(buf, 2 + n - 20);
    assert_non_null(t);
    assert_int_equal(t->kind, IMAGE_JPEG);
}

static void test_webp_structure(void **state)
{
    size_t n = sizeof(webp_lossy);
    assert_null(detect_patched(webp_lossy, n, 4, 0x24));                         /* RIFF size too large */
    assert_null(detect_patched(webp_lossy, n, 4, 0x20));                         /* RIFF size too small */
    assert_null(detect_patched(webp_lossy, n, 11, 'Q'));                         /* form type WEBQ */
    assert_null(detect_patched(webp_lossy, n, 15, 'Z'));                         /* chunk "VP8Z" */
    assert_null(detect_patched(webp_lossy, n, 16, 0x17));                        /* chunk size past the end */
    assert_null(detect_patched(webp_lossy, n, 23, 0x9c));                        /* VP8 start code */
    assert_null(detect_patched(webp_lossy, n, 20, 0x31));                        /* not a key frame */
    assert_null(detect_patched(webp_lossless, sizeof(webp_lossless), 20, 0x2e)); /* VP8L signature */
    /* Extended: VP8X must be 10 bytes and followed by an image chunk. */
    assert_null(detect_patched(webp_extended, sizeof(webp_extended), 16, 0x0c));
    uint8_t buf[sizeof(webp_extended)];
    memcpy(buf, webp_extended, 50); /* RIFF header, VP8X, ALPH: no image chunk */
    buf[4] = 50 - 8;
    assert_null(detect_copy(buf, 50));
}

static void test_by_ext(void **state)
{
    const image_type_t *t = image_type_by_ext("png", 3);
    assert_non_null(t);
    assert_int_equal(t->kind, IMAGE_PNG);
    assert_int_equal(image_type_by_ext("jpg", 3)->kind, IMAGE_JPEG);
    assert_int_equal(image_type_by_ext("webp", 4)->kind, IMAGE_WEBP);
    assert_int_equal(image_type_by_ext("webpX", 4)->kind, IMAGE_WEBP); /* the length is honoured */
    static const char *const bad[] = {"", "PNG", "jpeg", "gif", "svg", "html", "pn", "pngx", "web"};
    for (size_t i = 0; i < COUNT(bad); i++)
        if (image_type_by_ext(bad[i], strlen(bad[i])) != NULL)
            fail_msg("accepted extension [%s]", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_images_detected), cmocka_unit_test(test_look_alikes_refused),
        cmocka_unit_test(test_truncations_refused),  cmocka_unit_test(test_trailing_bytes_refused),
        cmocka_unit_test(test_png_structure),        cmocka_unit_test(test_jpeg_structure),
        cmocka_unit_test(test_webp_structure),       cmocka_unit_test(test_by_ext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
