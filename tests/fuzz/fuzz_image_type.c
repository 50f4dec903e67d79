/*
 * fuzz_image_type — libFuzzer target for storage/image_type (image_type_detect), which judges
 * uploaded files by their bytes. The input is the whole file; a result must be one of the
 * three static descriptors and agree with image_type_by_ext.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/image_type.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const image_type_t *t = image_type_detect(data, size);
    if (t != NULL && image_type_by_ext(t->ext, strlen(t->ext)) != t)
        abort(); /* a detected type must be one of the table's */
    image_type_by_ext((const char *)data, size < 8 ? size : 8);
    return 0;
}
