/*
 * test_doc_type — storage/doc_type.h: attachments judged by their bytes. PDFs need their
 * header and trailer; Office files are ZIPs whose directory fits and names
 * [Content_Types].xml and a word/, xl/ or ppt/ part (made here by a small ZIP writer);
 * renamed text, HTML, a plain ZIP, a truncated or lying directory are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "storage/doc_type.h"

typedef struct buf {
    uint8_t b[4096];
    size_t n;
} buf_t;

static void put(buf_t *z, const void *p, size_t n)
{
    memcpy(z->b + z->n, p, n);
    z->n += n;
}
static void u16(buf_t *z, unsigned v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(z, b, 2);
}
static void u32(buf_t *z, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(z, b, 4);
}

/* A stored (uncompressed) ZIP of the named empty-ish files; CRCs are not checked by the detector. */
static void zip(buf_t *z, const char *const *names, size_t n)
{
    size_t offsets[8];
    z->n = 0;
    for (size_t i = 0; i < n; i++) {
        offsets[i] = z->n;
        u32(z, 0x04034b50), u16(z, 20), u16(z, 0), u16(z, 0), u16(z, 0), u16(z, 0), u32(z, 0), u32(z, 1), u32(z, 1);
        u16(z, (unsigned)strlen(names[i])), u16(z, 0), put(z, names[i], strlen(names[i])), put(z, "x", 1);
    }
    size_t cd = z->n;
    for (size_t i = 0; i < n; i++) {
        u32(z, 0x02014b50), u16(z, 20), u16(z, 20), u16(z, 0), u16(z, 0), u16(z, 0), u16(z, 0), u32(z, 0);
        u32(z, 1), u32(z, 1), u16(z, (unsigned)strlen(names[i])), u16(z, 0), u16(z, 0), u16(z, 0), u16(z, 0);
        u32(z, 0), u32(z, (uint32_t)offsets[i]), put(z, names[i], strlen(names[i]));
    }
    size_t cd_size = z->n - cd;
    u32(z, 0x06054b50), u16(z, 0), u16(z, 0), u16(z, (unsigned)n), u16(z, (unsigned)n), u32(z, (uint32_t)cd_size);
    u32(z, (uint32_t)cd), u16(z, 0);
}

static const char *ext_of(const void *p, size_t n)
{
    const doc_type_t *t = doc_type_detect(p, n);
    return t != NULL ? t->ext : "(none)";
}

static void test_office(void **state)
{
    (void)state;
    buf_t z;
    const char *docx[] = {"[Content_Types].xml", "_rels/.rels", "word/document.xml"};
    zip(&z, docx, 3);
    assert_string_equal(ext_of(z.b, z.n), "docx");
    const char *xlsx[] = {"[Content_Types].xml", "xl/workbook.xml"};
    zip(&z, xlsx, 2);
    assert_string_equal(ext_of(z.b, z.n), "xlsx");
    const char *pptx[] = {"ppt/presentation.xml", "[Content_Types].xml"};
    zip(&z, pptx, 2);
    assert_string_equal(ext_of(z.b, z.n), "pptx");
    assert_string_equal(doc_type_detect(z.b, z.n)->content_type,
                        "application/vnd.openxmlformats-officedocument.presentationml.presentation");
    const char *plain[] = {"readme.txt", "word/x.xml"}; /* no [Content_Types].xml: just a ZIP */
    zip(&z, plain, 2);
    assert_string_equal(ext_of(z.b, z.n), "(none)");
    const char *other[] = {"[Content_Types].xml", "META-INF/x"};
    zip(&z, other, 2);
    assert_string_equal(ext_of(z.b, z.n), "(none)");
    zip(&z, docx, 3);
    assert_string_equal(ext_of(z.b, z.n - 1), "(none)"); /* truncated */
    z.b[z.n - 10] = 0x7f;                                /* a directory offset past its record */
    assert_string_equal(ext_of(z.b, z.n), "(none)");
}

static void test_pdf_and_others(void **state)
{
    (void)state;
    const char pdf[] = "%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
    assert_string_equal(ext_of(pdf, sizeof pdf - 1), "pdf");
    const char no_trailer[] = "%PDF-1.7\n1 0 obj <<>> endobj\n";
    assert_string_equal(ext_of(no_trailer, sizeof no_trailer - 1), "(none)");
    const char *bad[] = {"<html><script>alert(1)</script></html>", "#!/bin/sh\nrm -rf /\n",
                         "PK\x03\x04 not a zip at all", "hello"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_string_equal(ext_of(bad[i], strlen(bad[i])), "(none)");
    assert_null(doc_type_detect(NULL, 0));
    assert_string_equal(doc_type_by_ext("xlsx")->ext, "xlsx");
    assert_null(doc_type_by_ext("exe"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_office),
        cmocka_unit_test(test_pdf_and_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
