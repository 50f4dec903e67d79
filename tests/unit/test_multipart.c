/*
 * test_multipart — the multipart/form-data parser against well-formed forms (browser and
 * WeChat shapes, quoted boundaries, preamble and epilogue, binary data full of NUL, CR and
 * LF, boundary look-alikes inside the data, 1-byte and empty files, several parts) and
 * against everything it must refuse (bad or overlong boundaries, truncations at every
 * length, missing closing delimiter, bad part headers, too many parts, headers over the
 * limit, a duplicated field). Every body is copied into a heap buffer of its exact size,
 * so AddressSanitizer catches a read one byte past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/multipart.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define LIT(s)   s, sizeof(s) - 1

static const char ct_xyz[] = "multipart/form-data; boundary=XyZ";

/* A heap copy of exactly len bytes (NULL for len 0 is avoided: malloc(1)). */
static char *dup_exact(const char *s, size_t len)
{
    char *p = malloc(len > 0 ? len : 1);
    assert_non_null(p);
    memcpy(p, s, len);
    return p;
}

/* Parses body under content type ct (both copied to exact-size buffers) for "file". */
static multipart_rc parse(const char *ct, const char *body, size_t len, multipart_part_t *part, char **owned)
{
    char *ct_copy = dup_exact(ct, strlen(ct));
    char *copy = dup_exact(body, len);
    multipart_rc rc = multipart_find(ct_copy, strlen(ct), copy, len, "file", part);
    free(ct_copy);
    *owned = copy; /* the part's slices point into it */
    return rc;
}

static void assert_slice(multipart_slice_t s, const char *want, size_t want_len)
{
    assert_non_null(s.base);
    assert_int_equal(s.len, want_len);
    assert_memory_equal(s.base, want, want_len);
}

static multipart_rc parse_rc(const char *ct, const char *body, size_t len)
{
    multipart_part_t part;
    char *owned;
    multipart_rc rc = parse(ct, body, len, &part, &owned);
    free(owned);
    return rc;
}

/* ---- well-formed forms ---- */

static const char normal_body[] = "--XyZ\r\n"
                                  "Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
                                  "Content-Type: image/png\r\n"
                                  "\r\n"
                                  "DATA\r\n"
                                  "--XyZ--\r\n";

static void test_normal_part(void **state)
{
    multipart_part_t part;
    char *owned;
    assert_int_equal(parse(ct_xyz, LIT(normal_body), &part, &owned), MULTIPART_OK);
    assert_slice(part.data, LIT("DATA"));
    assert_slice(part.filename, LIT("a.png"));
    assert_slice(part.content_type, LIT("image/png"));
    assert_ptr_equal(part.data.base, owned + strlen("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
                                                    "filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"));
    free(owned);
}

static void test_quoted_boundary_and_media_type_spelling(void **state)
{
    static const char body[] = "--a b:c?=(x)\r\n"
                               "Content-Disposition: form-data; name=\"file\"\r\n\r\n"
                               "payload\r\n"
                               "--a b:c?=(x)--";
    static const char *const cts[] = {
        "multipart/form-data; boundary=\"a b:c?=(x)\"",
        "Multipart/Form-Data;boundary=\"a b:c?=(x)\"",
        "  multipart/form-data ; charset=utf-8 ;  boundary=\"a b:c?=(x)\"  ",
        "MULTIPART/FORM-DATA; BOUNDARY=\"a b:c?=(x)\"",
    };
    for (size_t i = 0; i < COUNT(cts); i++) {
        multipart_part_t part;
        char *owned;
        if (parse(cts[i], LIT(body), &part, &owned) != MULTIPART_OK)
            fail_msg("refused content type %s", cts[i]);
        assert_slice(part.data, LIT("payload"));
        assert_null(part.filename.base);
        assert_null(part.content_type.base);
        free(owned);
    }
}

static void test_boundary_of_browsers_and_node(void **state)
{
    static const char *const cts[] = {
        "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
        "multipart/form-data; boundary=----formdata-undici-032871364515",
        "multipart/form-data; boundary=---------------------------974767299852498929531610575",
    };
    for (size_t i = 0; i < COUNT(cts); i++) {
        multipart_slice_t b;
        assert_int_equal(multipart_boundary(cts[i], strlen(cts[i]), &b), MULTIPART_OK);
        const char *want = strstr(cts[i], "=") + 1;
        assert_slice(b, want, strlen(want));
    }
}

static void test_crlf_handling(void **state)
{
    multipart_part_t part;
    char *owned;
    /* The CRLF before the delimiter belongs to it; CRLFs inside the data are data. */
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"file\"\r\n\r\n"
                               "\r\nline\r\n\r\n"
                               "\r\n--XyZ--";
    assert_int_equal(parse(ct_xyz, LIT(body), &part, &owned), MULTIPART_OK);
    assert_slice(part.data, LIT("\r\nline\r\n\r\n"));
    free(owned);

    /* Transport padding (blanks) after a boundary, before its CRLF. */
    static const char padded[] = "--XyZ \t \r\n"
                                 "Content-Disposition: form-data; name=\"file\"\r\n\r\n"
                                 "x\r\n--XyZ\t\r\n"
                                 "Content-Disposition: form-data; name=\"other\"\r\n\r\n"
                                 "y\r\n--XyZ--";
    assert_int_equal(parse(ct_xyz, LIT(padded), &part, &owned), MULTIPART_OK);
    assert_slice(part.data, LIT("x"));
    free(owned);

    /* Bare LF line ends are not CRLF. */
    static const char lf_only[] = "--XyZ\n"
                                  "Content-Disposition: form-data; name=\"file\"\n\n"
                                  "x\n--XyZ--\n";
    assert_int_equal(parse_rc(ct_xyz, LIT(lf_only)), MULTIPART_MALFORMED);
    static const char lf_headers[] = "--XyZ\r\n"
                                     "Content-Disposition: form-data; name=\"file\"\n\r\n"
                                     "x\r\n--XyZ--";
    assert_int_equal(parse_rc(ct_xyz, LIT(lf_headers)), MULTIPART_MALFORMED);
}

static void test_preamble_and_epilogue(void **state)
{
    multipart_part_t part;
    char *owned;
    static const char body[] = "This is the preamble. --XyZ is mentioned here but not at a line start.\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"file\"\r\n\r\n"
                               "inside\r\n"
                               "--XyZ--\r\n"
                               "This is the epilogue, even with\r\n--XyZ\r\nin it.";
    assert_int_equal(parse(ct_xyz, LIT(body), &part, &owned), MULTIPART_OK);
    assert_slice(part.data, LIT("inside"));
    free(owned);

    /* An empty preamble written as a CRLF. */
    static const char crlf_first[] = "\r\n--XyZ\r\n"
                                     "Content-Disposition: form-data; name=\"file\"\r\n\r\n"
                                     "z\r\n--XyZ--";
    assert_int_equal(parse(ct_xyz, LIT(crlf_first), &part, &owned), MULTIPART_OK);
    assert_slice(part.data, LIT("z"));
    free(owned);
}

static void test_boundary_inside_data_is_data(void **state)
{
    multipart_part_t part;
    char *owned;
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"file\"\r\n\r\n"
                               "a--XyZ\r\n"     /* not at a line start */
                               "\r\n--XyZx\r\n" /* followed by another character */
                               "\r\n--XyZ \tz"  /* blanks, then not CRLF */
                               "\r\n--XyZ-"     /* one dash only */
                               "\r\n--Xy"       /* a prefix */
                               "\r\n--XyZ--";
    assert_int_equal(parse(ct_xyz, LIT(body), &part, &owned), MULTIPART_OK);
    assert_slice(part.data, LIT("a--XyZ\r\n\r\n--XyZx\r\n\r\n--XyZ \tz\r\n--XyZ-\r\n--Xy"));
    free(owned);
}

static void test_binary_data(void **state)
{
    multipart_part_t part;
    char *owned;
    static const char data[] = "\x00\r\n\x00\r\n--\r\n\xff\xfe\r\r\n\n\x00--XyZ\x00\x89PNG\r\n\x1a\n";
    char body[256];
    static const char head[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.bin\"\r\n"
                               "Content-Type: application/octet-stream\r\n\r\n";
    static const char tail[] = "\r\n--XyZ--\r\n";
    size_t len = 0;
    memcpy(body + len, head, sizeof(head) - 1);
    len += sizeof(head) - 1;
    memcpy(body + len, data, sizeof(data) - 1);
    len += sizeof(data) - 1;
    memcpy(body + len, tail, sizeof(tail) - 1);
    len += sizeof(tail) - 1;
    assert_int_equal(parse(ct_xyz, body, len, &part, &owned), MULTIPART_OK);
    assert_slice(part.data, data, sizeof(data) - 1);
    assert_slice(part.content_type, LIT("application/octet-stream"));
    free(owned);
}

static void test_several_parts(void **state)
{
    multipart_part_t part;
    char *owned;
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"nickName\"\r\n\r\n"
                               "Alice\r\n"
                               "--XyZ\r\n"
                               "content-disposition: FORM-DATA; filename=\"\\\"q\\\".jpg\"; NAME=file\r\n"
                               "X-Other: ignored\r\n"
                               "content-type:image/jpeg \r\n\r\n"
                               "JPEGBYTES\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"files\"; filename=\"x.png\"\r\n\r\n"
                               "not this one\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"File\"\r\n\r\n"
                               "nor this one\r\n"
                               "--XyZ--";
    assert_int_equal(parse(ct_xyz, LIT(body), &part, &owned), MULTIPART_OK);
    assert_slice(part.data, LIT("JPEGBYTES"));
    assert_slice(part.filename, LIT("\\\"q\\\".jpg")); /* raw: escapes left in */
    assert_slice(part.content_type, LIT("image/jpeg"));
    free(owned);
}

static void test_utf8_filename(void **state)
{
    multipart_part_t part;
    char *owned;
    static const char body[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"\xe5\xa4\xb4\xe5\x83\x8f.png\"\r\n"
        "\r\nP\r\n--XyZ--";
    assert_int_equal(parse(ct_xyz, LIT(body), &part, &owned), MULTIPART_OK);
    assert_slice(part.filename, LIT("\xe5\xa4\xb4\xe5\x83\x8f.png"));
    free(owned);
}

static void test_one_byte_and_empty_files(void **state)
{
    multipart_part_t part;
    char *owned;
    static const char one[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"1\"\r\n\r\n"
                              "\x00\r\n--XyZ--";
    assert_int_equal(parse(ct_xyz, LIT(one), &part, &owned), MULTIPART_OK);
    assert_slice(part.data, "\x00", 1);
    free(owned);

    static const char empty[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n"
                                "\r\n--XyZ--";
    assert_int_equal(parse(ct_xyz, LIT(empty), &part, &owned), MULTIPART_OK);
    assert_non_null(part.data.base);
    assert_int_equal(part.data.len, 0);
    assert_non_null(part.filename.base); /* present, empty */
    assert_int_equal(part.filename.len, 0);
    free(owned);
}

/* ---- refusals ---- */

static void test_missing_file_part(void **state)
{
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\n"
                               "DATA\r\n--XyZ--";
    assert_int_equal(parse_rc(ct_xyz, LIT(body)), MULTIPART_NO_PART);
    assert_int_equal(parse_rc(ct_xyz, LIT("--XyZ--")), MULTIPART_NO_PART);
    assert_int_equal(parse_rc(ct_xyz, LIT("preamble\r\n--XyZ--\r\n")), MULTIPART_NO_PART);
}

static void test_duplicate_file_part(void **state)
{
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\none\r\n"
                               "--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\ntwo\r\n--XyZ--";
    assert_int_equal(parse_rc(ct_xyz, LIT(body)), MULTIPART_DUPLICATE);
}

/* Every prefix of a valid body shorter than its closing delimiter is refused; from there on
 * (an empty or partial epilogue) it is accepted. */
static void test_truncated_at_every_length(void **state)
{
    size_t full = sizeof(normal_body) - 1;
    size_t close_end = (size_t)(strstr(normal_body, "--XyZ--") - normal_body) + strlen("--XyZ--");
    for (size_t len = 0; len <= full; len++) {
        multipart_rc rc = parse_rc(ct_xyz, normal_body, len);
        if (len < close_end && rc == MULTIPART_OK)
            fail_msg("a body cut to %zu bytes was accepted", len);
        if (len >= close_end && rc != MULTIPART_OK)
            fail_msg("a body cut to %zu bytes (after the closing delimiter) was refused: %s", len,
                     multipart_rc_text(rc));
    }
}

static void test_missing_closing_delimiter(void **state)
{
    static const char *const bodies[] = {
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDATA",
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDATA\r\n",
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDATA\r\n--XyZ",
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDATA\r\n--XyZ\r\n",
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDATA\r\n--XyZ-",
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDATA\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"x\"\r\n\r\n",
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDATA\r\n--xyz--", /* case matters */
        "no delimiter at all",
        "",
        "--XyZ",
        "--XyZx\r\n",
    };
    for (size_t i = 0; i < COUNT(bodies); i++) {
        multipart_rc rc = parse_rc(ct_xyz, bodies[i], strlen(bodies[i]));
        if (rc != MULTIPART_MALFORMED)
            fail_msg("body %zu: got %s", i, multipart_rc_text(rc));
    }
    multipart_part_t part;
    assert_int_equal(multipart_find(ct_xyz, strlen(ct_xyz), NULL, 0, "file", &part), MULTIPART_MALFORMED);
}

static void test_bad_content_types(void **state)
{
    char b70[80], b71[80], q70[90];
    memset(b70, 'b', 70);
    b70[70] = '\0';
    memset(b71, 'b', 71);
    b71[71] = '\0';
    snprintf(q70, sizeof(q70), "\"%s\"", b70);
    char ct70[128], ct71[128], ctq70[128];
    snprintf(ct70, sizeof(ct70), "multipart/form-data; boundary=%s", b70);
    snprintf(ct71, sizeof(ct71), "multipart/form-data; boundary=%s", b71);
    snprintf(ctq70, sizeof(ctq70), "multipart/form-data; boundary=%s", q70);
    multipart_slice_t b;
    assert_int_equal(multipart_boundary(ct70, strlen(ct70), &b), MULTIPART_OK);
    assert_int_equal(b.len, 70);
    assert_int_equal(multipart_boundary(ctq70, strlen(ctq70), &b), MULTIPART_OK);
    assert_int_equal(b.len, 70);

    const char *const bad[] = {
        ct71,
        "",
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"ab \"",    /* ends with a space */
        "multipart/form-data; boundary=\"a\\\"b\"", /* quoted-pair, '"' is no bchar */
        "multipart/form-data; boundary=\"a@b\"",    /* '@' is no bchar */
        "multipart/form-data; boundary=a*b",        /* '*' is a tchar, not a bchar */
        "multipart/form-data; boundary=\"abc",      /* no closing quote */
        "multipart/form-data; boundary=x; boundary=x",
        "multipart/form-data; boundary = x",
        "multipart/form-data boundary=x",
        "multipart/mixed; boundary=x",
        "multipart/form-datax; boundary=x",
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain; boundary=x",
        "form-data; boundary=x",
        "multipart/; boundary=x",
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        if (multipart_boundary(bad[i], strlen(bad[i]), &b) != MULTIPART_NOT_MULTIPART)
            fail_msg("accepted content type [%s]", bad[i]);
        if (parse_rc(bad[i], LIT(normal_body)) != MULTIPART_NOT_MULTIPART)
            fail_msg("multipart_find accepted content type [%s]", bad[i]);
    }
    multipart_part_t part;
    assert_int_equal(multipart_find(NULL, 0, LIT(normal_body), "file", &part), MULTIPART_NOT_MULTIPART);
    /* A content type given with its length, not NUL-terminated: the length is honoured. */
    assert_int_equal(multipart_boundary(ct_xyz, strlen(ct_xyz) - 1, &b), MULTIPART_OK);
    assert_slice(b, LIT("Xy"));
}

static void test_bad_part_headers(void **state)
{
    static const char *const heads[] = {
        "",                                                              /* no headers at all */
        "Content-Type: image/png\r\n",                                   /* no Content-Disposition */
        "Content-Disposition: attachment; name=\"file\"\r\n",            /* not form-data */
        "Content-Disposition: form-data\r\n",                            /* no name */
        "Content-Disposition: form-data; filename=\"a.png\"\r\n",        /* no name */
        "Content-Disposition: form-data; name=\"file\"; name=\"x\"\r\n", /* name twice */
        "Content-Disposition: form-data; name=\"file\"; filename=a; filename=b\r\n",
        "Content-Disposition: form-data; name=\"file\"\r\nContent-Disposition: form-data; name=\"file\"\r\n",
        "Content-Disposition: form-data; name=\"file\"\r\nContent-Type: a\r\nContent-Type: b\r\n",
        "Content-Disposition: form-data; name=\"file\"\r\nContent-Type:\r\n",
        "Content-Disposition: form-data;\r\n name=\"file\"\r\n", /* folded */
        "Content-Disposition: form-data; name=\"file\"\r\nNoColon\r\n",
        "Content-Disposition: form-data; name=\"file\"\r\n: empty name\r\n",
        "Content-Disposition : form-data; name=\"file\"\r\n",      /* blank before ':' */
        "Content-Disposition: form-data; name=\"fi\x00le\"\r\n",   /* NUL */
        "Content-Disposition: form-data; name=\"file\"\rX: y\r\n", /* bare CR */
        "Content-Disposition: form-data; name=\"file\"\nX: y\r\n", /* bare LF */
        "Content-Disposition: form-data; name=\"file\r\n",         /* unterminated quote */
        "Content-Disposition: form-data; name=\"file\" x\r\n",
        "Content-Disposition: form-data; name=\r\n",
        "Content-Disposition: form-data; name=fi@le\r\n",
        "Content-Disposition: form-data name=\"file\"\r\n",
    };
    /* Heads with a NUL in them need their real length: take it from a table of lengths. */
    static const size_t nul_index = 14;
    static const char nul_head[] = "Content-Disposition: form-data; name=\"fi\x00le\"\r\n";
    for (size_t i = 0; i < COUNT(heads); i++) {
        char body[512];
        size_t head_len = i == nul_index ? sizeof(nul_head) - 1 : strlen(heads[i]);
        size_t len = 0;
        memcpy(body, "--XyZ\r\n", 7);
        len += 7;
        memcpy(body + len, heads[i], head_len);
        len += head_len;
        memcpy(body + len, "\r\nDATA\r\n--XyZ--", 15);
        len += 15;
        multipart_rc rc = parse_rc(ct_xyz, body, len);
        if (rc != MULTIPART_MALFORMED)
            fail_msg("head %zu: got %s", i, multipart_rc_text(rc));
    }
}

/* A body with n parts named p0..p(n-1), the one named "file" at index file_at. */
static size_t build_parts(char *body, size_t cap, int n, int file_at)
{
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        int w = i == file_at ? snprintf(body + len, cap - len,
                                        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nF%d\r\n", i)
                             : snprintf(body + len, cap - len,
                                        "--XyZ\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nv%d\r\n", i, i);
        assert_true(w > 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    int w = snprintf(body + len, cap - len, "--XyZ--");
    assert_true(w > 0 && (size_t)w < cap - len);
    return len + (size_t)w;
}

static void test_part_count_limit(void **state)
{
    char body[8192];
    multipart_part_t part;
    char *owned;
    size_t len = build_parts(body, sizeof(body), MULTIPART_PARTS_MAX, MULTIPART_PARTS_MAX - 1);
    assert_int_equal(parse(ct_xyz, body, len, &part, &owned), MULTIPART_OK);
    char want[8];
    snprintf(want, sizeof(want), "F%d", MULTIPART_PARTS_MAX - 1);
    assert_slice(part.data, want, strlen(want));
    free(owned);
    /* One more part, even with the file first, is refused. */
    len = build_parts(body, sizeof(body), MULTIPART_PARTS_MAX + 1, 0);
    assert_int_equal(parse_rc(ct_xyz, body, len), MULTIPART_TOO_MANY_PARTS);
}

/* A part whose header block (headers + blank line) is exactly total bytes long. */
static size_t build_long_headers(char *body, size_t cap, size_t total)
{
    static const char cd[] = "Content-Disposition: form-data; name=\"file\"\r\n";
    static const char pad_name[] = "X-Pad: ";
    size_t len = 0;
    memcpy(body, "--XyZ\r\n", 7);
    len += 7;
    memcpy(body + len, cd, sizeof(cd) - 1);
    len += sizeof(cd) - 1;
    size_t pad = total - (sizeof(cd) - 1) - (sizeof(pad_name) - 1) - 2 - 2;
    assert_true(len + total + 32 < cap);
    memcpy(body + len, pad_name, sizeof(pad_name) - 1);
    len += sizeof(pad_name) - 1;
    memset(body + len, 'p', pad);
    len += pad;
    memcpy(body + len, "\r\n\r\nDATA\r\n--XyZ--", 17);
    return len + 17;
}

static void test_header_size_limit(void **state)
{
    static char body[3 * MULTIPART_HEADERS_MAX];
    multipart_part_t part;
    char *owned;
    size_t len = build_long_headers(body, sizeof(body), MULTIPART_HEADERS_MAX);
    assert_int_equal(parse(ct_xyz, body, len, &part, &owned), MULTIPART_OK);
    assert_slice(part.data, LIT("DATA"));
    free(owned);
    len = build_long_headers(body, sizeof(body), MULTIPART_HEADERS_MAX + 1);
    assert_int_equal(parse_rc(ct_xyz, body, len), MULTIPART_HEADERS_TOO_LONG);
    len = build_long_headers(body, sizeof(body), 2 * MULTIPART_HEADERS_MAX);
    assert_int_equal(parse_rc(ct_xyz, body, len), MULTIPART_HEADERS_TOO_LONG);
}

/* Every single-byte change of a valid body either parses or is refused, never reads out of
 * bounds (ASan), and a result, when there is one, lies inside the body. */
static void test_byte_mutations_stay_in_bounds(void **state)
{
    static const unsigned char values[] = {0x00, '\r', '\n', '-', '"', ';', ' ', 'X', 0xff};
    size_t len = sizeof(normal_body) - 1;
    size_t accepted = 0, refused = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t v = 0; v < COUNT(values); v++) {
            char *copy = dup_exact(normal_body, len);
            copy[i] = (char)values[v];
            multipart_part_t part;
            multipart_rc rc = multipart_find(ct_xyz, strlen(ct_xyz), copy, len, "file", &part);
            if (rc == MULTIPART_OK) {
                accepted++;
                assert_true(part.data.base >= copy && part.data.base + part.data.len <= copy + len);
            } else {
                refused++;
            }
            free(copy);
        }
    }
    /* Both outcomes must occur: changing a letter of the data is harmless, changing the
     * delimiter is not. */
    assert_true(accepted > 0);
    assert_true(refused > 0);
}

static void test_rc_text(void **state)
{
    for (int rc = MULTIPART_OK; rc <= MULTIPART_NO_PART; rc++)
        assert_string_not_equal(multipart_rc_text((multipart_rc)rc), "unknown");
    assert_string_equal(multipart_rc_text((multipart_rc)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_part),
        cmocka_unit_test(test_quoted_boundary_and_media_type_spelling),
        cmocka_unit_test(test_boundary_of_browsers_and_node),
        cmocka_unit_test(test_crlf_handling),
        cmocka_unit_test(test_preamble_and_epilogue),
        cmocka_unit_test(test_boundary_inside_data_is_data),
        cmocka_unit_test(test_binary_data),
        cmocka_unit_test(test_several_parts),
        cmocka_unit_test(test_utf8_filename),
        cmocka_unit_test(test_one_byte_and_empty_files),
        cmocka_unit_test(test_missing_file_part),
        cmocka_unit_test(test_duplicate_file_part),
        cmocka_unit_test(test_truncated_at_every_length),
        cmocka_unit_test(test_missing_closing_delimiter),
        cmocka_unit_test(test_bad_content_types),
        cmocka_unit_test(test_bad_part_headers),
        cmocka_unit_test(test_part_count_limit),
        cmocka_unit_test(test_header_size_limit),
        cmocka_unit_test(test_byte_mutations_stay_in_bounds),
        cmocka_unit_test(test_rc_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
