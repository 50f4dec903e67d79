/*
 * test_wxemu_qr — the pure parts of wxemu's mini program codes (getwxacodeunlimit): the PNG writer
 * (CRC-32 and Adler-32 against known vectors and a naive reference; the file's structure, its
 * chunks' CRCs and its stored deflate blocks, read back here and compared with the image), and the
 * state's decisions (admission: token then the per-app ration and its window; the scene, page,
 * check_path and env_version checks; published pages and the home page; the control setters).
 *
 * The QR drawing itself (libqrencode) is tested from the outside: tests/blackbox/wxemu.test.mjs reads
 * the codes back with zbarimg. The sources are compiled in directly, as test_wxemu_state does; neither
 * needs more than meetoa_core (emu_state.c uses its crypto).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../tools/wxemu/emu_png.c"
#include "../../tools/wxemu/emu_keyword.c"
#include "../../tools/wxemu/emu_state.c"

#define APP_A    "wx00000000000000aa"
#define SECRET_A "secret-of-app-a"
#define APP_B    "wx00000000000000bb"
#define SECRET_B "secret-of-app-b"
#define T0       1000000

static emu_slice_t S(const char *s)
{
    return emu_slice_cstr(s);
}

/* CRC-32 and Adler-32 ------------------------------------------------------------------------------ */

static void test_crc32_vectors(void **ctx)
{
    (void)ctx;
    assert_int_equal(emu_png_crc32(0, "", 0), 0);
    assert_int_equal(emu_png_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(emu_png_crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
    /* IEND's CRC, as every PNG ends */
    assert_int_equal(emu_png_crc32(0, "IEND", 4), 0xAE426082u);
    /* incremental = whole */
    uint32_t c = emu_png_crc32(0, "12345", 5);
    assert_int_equal(emu_png_crc32(c, "6789", 4), 0xCBF43926u);
}

static uint32_t adler_naive(const uint8_t *p, size_t len)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < len; ++i) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

static void test_adler32_vectors(void **ctx)
{
    (void)ctx;
    assert_int_equal(emu_png_adler32(1, "", 0), 1);
    assert_int_equal(emu_png_adler32(1, "Wikipedia", 9), 0x11E60398u);
    /* long runs of 0xff are where a missing modulo overflows */
    size_t len = 200000;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, 0xff, len);
    assert_int_equal(emu_png_adler32(1, buf, len), adler_naive(buf, len));
    for (size_t i = 0; i < len; ++i)
        buf[i] = (uint8_t)(i * 131u + 7u);
    uint32_t part = emu_png_adler32(1, buf, 70001);
    assert_int_equal(emu_png_adler32(part, buf + 70001, len - 70001), adler_naive(buf, len));
    free(buf);
}

/* PNG ------------------------------------------------------------------------------------------------ */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

typedef struct parsed_png {
    uint32_t width, height;
    uint8_t depth, color_type;
    uint8_t plte[6];
    bool trns;
    uint8_t trns0;
    uint8_t *raw; /* the inflated scanlines, malloc'd */
    size_t raw_len;
    size_t blocks;
} parsed_png_t;

/* Reads the stored-only zlib stream z[0..len) into out (which holds cap bytes); returns the size. */
static size_t inflate_stored(const uint8_t *z, size_t len, uint8_t *out, size_t cap, size_t *blocks)
{
    assert_true(len >= 6);
    assert_int_equal(z[0], 0x78);
    assert_int_equal((z[0] * 256 + z[1]) % 31, 0); /* FCHECK */
    size_t off = 2, n = 0;
    bool final = false;
    *blocks = 0;
    while (!final) {
        assert_true(off + 5 <= len);
        assert_int_equal(z[off] & 0x06, 0); /* BTYPE 00 */
        final = (z[off] & 1) != 0;
        size_t blen = z[off + 1] | (size_t)z[off + 2] << 8;
        size_t nlen = z[off + 3] | (size_t)z[off + 4] << 8;
        assert_int_equal(blen ^ 0xffff, nlen);
        off += 5;
        assert_true(off + blen <= len && n + blen <= cap);
        memcpy(out + n, z + off, blen);
        n += blen;
        off += blen;
        ++*blocks;
    }
    assert_int_equal(off + 4, len);
    assert_int_equal(get32(z + off), emu_png_adler32(1, out, n));
    return n;
}

/* Parses a PNG made by emu_png_bilevel strictly (every chunk's CRC, the order of the chunks). */
static void parse_png(const uint8_t *png, size_t len, parsed_png_t *out)
{
    static const uint8_t SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memset(out, 0, sizeof(*out));
    assert_true(len > 8);
    assert_memory_equal(png, SIG, 8);
    size_t off = 8, idx = 0;
    bool end = false;
    while (off < len) {
        assert_false(end);
        assert_true(off + 12 <= len);
        uint32_t clen = get32(png + off);
        const uint8_t *type = png + off + 4, *data = png + off + 8;
        assert_true(off + 12 + clen <= len);
        assert_int_equal(get32(data + clen), emu_png_crc32(0, type, 4 + clen));
        if (idx == 0)
            assert_memory_equal(type, "IHDR", 4);
        if (memcmp(type, "IHDR", 4) == 0) {
            assert_int_equal(clen, 13);
            out->width = get32(data);
            out->height = get32(data + 4);
            out->depth = data[8];
            out->color_type = data[9];
            assert_int_equal(data[10], 0);
            assert_int_equal(data[11], 0);
            assert_int_equal(data[12], 0);
        } else if (memcmp(type, "PLTE", 4) == 0) {
            assert_int_equal(clen, 6);
            memcpy(out->plte, data, 6);
        } else if (memcmp(type, "tRNS", 4) == 0) {
            assert_int_equal(clen, 1);
            out->trns = true;
            out->trns0 = data[0];
        } else if (memcmp(type, "IDAT", 4) == 0) {
            size_t cap = (size_t)out->height * (1 + (out->width + 7) / 8);
            out->raw = malloc(cap + 1);
            assert_non_null(out->raw);
            out->raw_len = inflate_stored(data, clen, out->raw, cap, &out->blocks);
        } else {
            assert_memory_equal(type, "IEND", 4);
            assert_int_equal(clen, 0);
            end = true;
        }
        off += 12 + clen;
        ++idx;
    }
    assert_true(end);
    assert_int_equal(off, len);
}

static void test_png_small_image(void **ctx)
{
    (void)ctx;
    /* 10 x 3: rows of 2 bytes; padding bits set on purpose (decoders ignore them) */
    const uint8_t rows[] = {0xA5, 0xC0, 0x00, 0x3F, 0xFF, 0xFF};
    size_t len;
    uint8_t *png = emu_png_bilevel(rows, 10, 3, (emu_rgb_t){1, 2, 3}, (emu_rgb_t){250, 251, 252}, false, &len);
    assert_non_null(png);
    parsed_png_t p;
    parse_png(png, len, &p);
    assert_int_equal(p.width, 10);
    assert_int_equal(p.height, 3);
    assert_int_equal(p.depth, 1);
    assert_int_equal(p.color_type, 3);
    const uint8_t plte[6] = {250, 251, 252, 1, 2, 3}; /* entry 0 background, 1 foreground */
    assert_memory_equal(p.plte, plte, 6);
    assert_false(p.trns);
    assert_int_equal(p.blocks, 1);
    const uint8_t raw[] = {0, 0xA5, 0xC0, 0, 0x00, 0x3F, 0, 0xFF, 0xFF};
    assert_int_equal(p.raw_len, sizeof(raw));
    assert_memory_equal(p.raw, raw, sizeof(raw));
    free(p.raw);
    free(png);
}

static void test_png_transparent_background(void **ctx)
{
    (void)ctx;
    const uint8_t rows[] = {0x80};
    size_t len;
    uint8_t *png = emu_png_bilevel(rows, 1, 1, (emu_rgb_t){0, 0, 0}, (emu_rgb_t){255, 255, 255}, true, &len);
    assert_non_null(png);
    parsed_png_t p;
    parse_png(png, len, &p);
    assert_true(p.trns);
    assert_int_equal(p.trns0, 0);
    free(p.raw);
    free(png);
}

static void test_png_large_image_spans_blocks(void **ctx)
{
    (void)ctx;
    uint32_t side = 1280;
    size_t stride = (side + 7) / 8;
    uint8_t *rows = malloc(side * stride);
    assert_non_null(rows);
    for (size_t i = 0; i < side * stride; ++i)
        rows[i] = (uint8_t)(i * 2654435761u >> 13);
    size_t len;
    uint8_t *png = emu_png_bilevel(rows, side, side, (emu_rgb_t){0, 0, 0}, (emu_rgb_t){255, 255, 255}, false, &len);
    assert_non_null(png);
    parsed_png_t p;
    parse_png(png, len, &p);
    assert_int_equal(p.width, side);
    assert_int_equal(p.raw_len, side * (1 + stride));
    assert_int_equal(p.blocks, (p.raw_len + 65534) / 65535);
    assert_true(p.blocks > 1);
    for (size_t y = 0; y < side; ++y) {
        assert_int_equal(p.raw[y * (1 + stride)], 0);
        assert_memory_equal(p.raw + y * (1 + stride) + 1, rows + y * stride, stride);
    }
    assert_true(len < 210000); /* about 206 KB: 1 bit a pixel */
    free(p.raw);
    free(png);
    free(rows);
}

static void test_png_refuses_bad_sizes(void **ctx)
{
    (void)ctx;
    const uint8_t rows[1] = {0};
    size_t len = 7;
    emu_rgb_t black = {0, 0, 0}, white = {255, 255, 255};
    assert_null(emu_png_bilevel(rows, 0, 1, black, white, false, &len));
    assert_int_equal(len, 0);
    assert_null(emu_png_bilevel(rows, 1, 0, black, white, false, &len));
    assert_null(emu_png_bilevel(rows, EMU_PNG_MAX_SIDE + 1, 1, black, white, false, &len));
}

/* State: admission and the ration ------------------------------------------------------------------ */

static int setup(void **ctx)
{
    emu_state_t *st = emu_state_new();
    assert_non_null(st);
    assert_int_equal(emu_state_add_app(st, S(APP_A), S(SECRET_A)), EMU_OK);
    assert_int_equal(emu_state_add_app(st, S(APP_B), S(SECRET_B)), EMU_OK);
    *ctx = st;
    return 0;
}

static int teardown(void **ctx)
{
    emu_state_free(*ctx);
    return 0;
}

static void mint(emu_state_t *st, const char *appid, const char *secret, int64_t now, char token[EMU_TOKEN_LEN + 1])
{
    emu_token_request_t rq = {S("client_credential"), S(appid), S(secret), false};
    emu_token_result_t out;
    assert_int_equal(emu_state_token(st, &rq, now, &out), 0);
    memcpy(token, out.access_token, EMU_TOKEN_LEN + 1);
}

static void test_admit_checks_token_first(void **ctx)
{
    emu_state_t *st = *ctx;
    char token[EMU_TOKEN_LEN + 1], appid[EMU_APPID_MAX + 1];
    mint(st, APP_A, SECRET_A, T0, token);
    assert_int_equal(emu_state_wxacode_admit(st, (emu_slice_t){NULL, 0}, T0, appid), 41001);
    assert_int_equal(emu_state_wxacode_admit(st, S(""), T0, appid), 41001);
    char bad[EMU_TOKEN_LEN + 1];
    memset(bad, 'A', EMU_TOKEN_LEN);
    bad[EMU_TOKEN_LEN] = '\0';
    assert_int_equal(emu_state_wxacode_admit(st, S(bad), T0, appid), 40001);
    assert_int_equal(emu_state_wxacode_admit(st, S(token), T0 + EMU_TOKEN_TTL_MS, appid), 42001);
    assert_int_equal(emu_state_wxacode_admit(st, S(token), T0, appid), 0);
    assert_string_equal(appid, APP_A);
}

static void test_ration_window(void **ctx)
{
    emu_state_t *st = *ctx;
    char a[EMU_TOKEN_LEN + 1], b[EMU_TOKEN_LEN + 1];
    emu_wxacode_info_t info;
    mint(st, APP_A, SECRET_A, T0, a);
    mint(st, APP_B, SECRET_B, T0, b);

    assert_int_equal(emu_state_wxacode_info(st, S(APP_A), T0, &info), EMU_OK);
    assert_int_equal(info.limit_per_minute, EMU_WXACODE_PER_MINUTE);
    assert_int_equal(emu_state_wxacode_set_limit(st, S(APP_A), 0), EMU_EINVAL);
    assert_int_equal(emu_state_wxacode_set_limit(st, S(APP_A), EMU_WXACODE_LIMIT_MAX + 1), EMU_EINVAL);
    assert_int_equal(emu_state_wxacode_set_limit(st, S("wxnosuchapp"), 3), EMU_ENOENT);
    assert_int_equal(emu_state_wxacode_set_limit(st, S(APP_A), 3), EMU_OK);

    int64_t start = T0 + 1000; /* the window starts at the first call, not at a calendar minute */
    for (int i = 0; i < 3; ++i)
        assert_int_equal(emu_state_wxacode_admit(st, S(a), start + i * 1000, NULL), 0);
    assert_int_equal(emu_state_wxacode_admit(st, S(a), start + 5000, NULL), 45009);
    assert_int_equal(emu_state_wxacode_admit(st, S(a), start + EMU_WXACODE_WINDOW_MS - 1, NULL), 45009);
    assert_int_equal(emu_state_wxacode_info(st, S(APP_A), start + 10, &info), EMU_OK);
    assert_int_equal(info.calls_this_window, 3);                                /* refused calls are not counted */
    assert_int_equal(emu_state_wxacode_admit(st, S(b), start + 5000, NULL), 0); /* per app */

    /* the window ends a minute after it began */
    assert_int_equal(emu_state_wxacode_info(st, S(APP_A), start + EMU_WXACODE_WINDOW_MS, &info), EMU_OK);
    assert_int_equal(info.calls_this_window, 0);
    assert_int_equal(emu_state_wxacode_admit(st, S(a), start + EMU_WXACODE_WINDOW_MS, NULL), 0);
    assert_int_equal(emu_state_wxacode_admit(st, S(a), start + EMU_WXACODE_WINDOW_MS + 1, NULL), 0);
    assert_int_equal(emu_state_wxacode_admit(st, S(a), start + EMU_WXACODE_WINDOW_MS + 2, NULL), 0);
    assert_int_equal(emu_state_wxacode_admit(st, S(a), start + EMU_WXACODE_WINDOW_MS + 3, NULL), 45009);

    /* setting the limit starts a new window */
    assert_int_equal(emu_state_wxacode_set_limit(st, S(APP_A), 1), EMU_OK);
    assert_int_equal(emu_state_wxacode_admit(st, S(a), start + EMU_WXACODE_WINDOW_MS + 4, NULL), 0);
    assert_int_equal(emu_state_wxacode_admit(st, S(a), start + EMU_WXACODE_WINDOW_MS + 5, NULL), 45009);
}

/* State: parameters ------------------------------------------------------------------------------- */

static int check(emu_state_t *st, const char *scene, const char *page, bool check_path, const char *env)
{
    emu_wxacode_request_t rq = {S(scene), S(page), check_path, S(env)};
    return emu_state_wxacode_check(st, S(APP_A), &rq);
}

static void test_scene_rules(void **ctx)
{
    emu_state_t *st = *ctx;
    assert_int_equal(check(st, NULL, NULL, true, NULL), 40169);
    assert_int_equal(check(st, "", NULL, true, NULL), 40169);
    assert_int_equal(check(st, "0123456789ABCDEFGHIJKLMNOPQRSTUV", NULL, true, NULL), 0); /* 32 */
    assert_int_equal(check(st, "0123456789ABCDEFGHIJKLMNOPQRSTUVW", NULL, true, NULL), 40169);
    assert_int_equal(check(st, "!#$&'()*+,/:;=?@-._~azAZ09", NULL, true, NULL), 0);
    const char *bad[] = {"a b", "a%b", "a\"b", "a\\b", "a<b", "a>b",     "a^b",
                         "a`b", "a{b", "a|b",  "a}b",  "\t",  "\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        assert_int_equal(check(st, bad[i], NULL, true, NULL), 40129);
    /* length in characters, then the set: 11 three-byte characters are 33 bytes but 11 characters */
    assert_int_equal(check(st, "签签签签签签签签签签签", NULL, true, NULL), 40129);
    char long_scene[3 * 33 + 1] = "";
    for (int i = 0; i < 33; ++i)
        strcat(long_scene, "签");
    assert_int_equal(check(st, long_scene, NULL, true, NULL), 40169);
    emu_wxacode_request_t nul = {{"a\0b", 3}, {NULL, 0}, true, {NULL, 0}};
    assert_int_equal(emu_state_wxacode_check(st, S(APP_A), &nul), 40129);
}

static void test_page_and_env_rules(void **ctx)
{
    emu_state_t *st = *ctx;
    assert_int_equal(check(st, "s", "pages/index/index", true, NULL), 0);
    assert_int_equal(check(st, "s", "pages/anything", true, NULL), 0); /* no published list: any page */
    assert_int_equal(check(st, "s", "", true, NULL), 0);
    assert_int_equal(check(st, "s", "/pages/index/index", false, NULL), 41030);
    assert_int_equal(check(st, "s", "pages/index/index?a=1", false, NULL), 41030);
    char long_page[EMU_WXACODE_PAGE_MAX + 2];
    memset(long_page, 'p', sizeof(long_page) - 1);
    long_page[sizeof(long_page) - 1] = '\0';
    assert_int_equal(check(st, "s", long_page, false, NULL), 41030);
    long_page[EMU_WXACODE_PAGE_MAX] = '\0';
    assert_int_equal(check(st, "s", long_page, false, NULL), 0);
    assert_int_equal(check(st, "s", NULL, true, "release"), 0);
    assert_int_equal(check(st, "s", NULL, true, "trial"), 0);
    assert_int_equal(check(st, "s", NULL, true, "develop"), 0);
    assert_int_equal(check(st, "s", NULL, true, ""), 40097);
    assert_int_equal(check(st, "s", NULL, true, "Release"), 40097);
    /* the order: scene, page, env_version */
    assert_int_equal(check(st, "", "/x", true, ""), 40169);
    assert_int_equal(check(st, "s", "/x", true, ""), 41030);
    emu_wxacode_request_t rq = {S("s"), {NULL, 0}, true, {NULL, 0}};
    assert_int_equal(emu_state_wxacode_check(st, S("wxnosuchapp"), &rq), 40013);
}

static void test_published_pages(void **ctx)
{
    emu_state_t *st = *ctx;
    emu_wxacode_info_t info;
    emu_slice_t pages[] = {S("pages/home/home"), S("pages/checkin/index")};

    assert_string_equal(emu_state_wxacode_home(st, S(APP_A)), EMU_WXACODE_HOME);
    assert_int_equal(emu_state_wxacode_set_pages(st, S(APP_A), true, pages, 2), EMU_OK);
    assert_string_equal(emu_state_wxacode_home(st, S(APP_A)), "pages/home/home");
    assert_int_equal(emu_state_wxacode_info(st, S(APP_A), T0, &info), EMU_OK);
    assert_true(info.published);
    assert_int_equal(info.npages, 2);
    assert_string_equal(info.pages[1], "pages/checkin/index");

    assert_int_equal(check(st, "s", "pages/checkin/index", true, NULL), 0);
    assert_int_equal(check(st, "s", NULL, true, NULL), 0); /* the home page is published */
    assert_int_equal(check(st, "s", "pages/checkin", true, NULL), 41030);
    assert_int_equal(check(st, "s", "pages/checkin/index/x", true, NULL), 41030);
    assert_int_equal(check(st, "s", "pages/new/new", true, NULL), 41030);
    assert_int_equal(check(st, "s", "pages/new/new", false, NULL), 0);
    emu_wxacode_request_t rq = {S("s"), S("pages/new/new"), true, {NULL, 0}};
    assert_int_equal(emu_state_wxacode_check(st, S(APP_B), &rq), 0); /* per app */

    /* refused lists change nothing */
    emu_slice_t bad[] = {S("pages/ok"), S("/pages/bad")};
    assert_int_equal(emu_state_wxacode_set_pages(st, S(APP_A), true, bad, 2), EMU_EINVAL);
    emu_slice_t empty[] = {S("")};
    assert_int_equal(emu_state_wxacode_set_pages(st, S(APP_A), true, empty, 1), EMU_EINVAL);
    emu_slice_t many[EMU_WXACODE_PAGES_MAX + 1];
    for (size_t i = 0; i < EMU_WXACODE_PAGES_MAX + 1; ++i)
        many[i] = S("pages/p");
    assert_int_equal(emu_state_wxacode_set_pages(st, S(APP_A), true, many, EMU_WXACODE_PAGES_MAX + 1), EMU_EFULL);
    assert_int_equal(emu_state_wxacode_set_pages(st, S("wxnosuchapp"), true, pages, 1), EMU_ENOENT);
    assert_int_equal(emu_state_wxacode_info(st, S(APP_A), T0, &info), EMU_OK);
    assert_int_equal(info.npages, 2);

    /* an empty list: an unpublished app, so check_path refuses every page */
    assert_int_equal(emu_state_wxacode_set_pages(st, S(APP_A), true, NULL, 0), EMU_OK);
    assert_string_equal(emu_state_wxacode_home(st, S(APP_A)), EMU_WXACODE_HOME);
    assert_int_equal(check(st, "s", NULL, true, NULL), 41030);
    assert_int_equal(check(st, "s", EMU_WXACODE_HOME, true, NULL), 41030);
    assert_int_equal(check(st, "s", "pages/x", false, NULL), 0);

    /* no list again */
    assert_int_equal(emu_state_wxacode_set_pages(st, S(APP_A), false, NULL, 0), EMU_OK);
    assert_int_equal(emu_state_wxacode_info(st, S(APP_A), T0, &info), EMU_OK);
    assert_false(info.published);
    assert_int_equal(check(st, "s", "pages/x", true, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_vectors),
        cmocka_unit_test(test_adler32_vectors),
        cmocka_unit_test(test_png_small_image),
        cmocka_unit_test(test_png_transparent_background),
        cmocka_unit_test(test_png_large_image_spans_blocks),
        cmocka_unit_test(test_png_refuses_bad_sizes),
        cmocka_unit_test_setup_teardown(test_admit_checks_token_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ration_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scene_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_and_env_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_published_pages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
