/* guard/ip_addr — see ip_addr.h. Text goes through inet_pton/inet_ntop; ranges are compared byte-wise. */
#include "guard/ip_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

#define ENTRY_TEXT_MAX 64 /* longer than any address with a prefix length */

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void set_v6(ip_addr_t *out, const uint8_t bytes[16])
{
    memset(out, 0, sizeof(*out));
    if (memcmp(bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
        out->family = 4;
        memcpy(out->bytes, bytes + 12, 4);
    } else {
        out->family = 6;
        memcpy(out->bytes, bytes, 16);
    }
}

bool ip_addr_parse(const char *text, size_t len, ip_addr_t *out)
{
    char buf[IP_TEXT_SIZE];
    uint8_t bytes[16];
    memset(out, 0, sizeof(*out));
    if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len) != NULL)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (memchr(buf, ':', len) == NULL) {
        if (inet_pton(AF_INET, buf, bytes) != 1)
            return false;
        out->family = 4;
        memcpy(out->bytes, bytes, 4);
        return true;
    }
    if (inet_pton(AF_INET6, buf, bytes) != 1)
        return false;
    set_v6(out, bytes);
    return true;
}

bool ip_addr_from_sockaddr(const struct sockaddr *sa, ip_addr_t *out)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        out->family = 4;
        memcpy(out->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        set_v6(out, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
        return true;
    }
    return false;
}

void ip_addr_text(const ip_addr_t *addr, char out[IP_TEXT_SIZE])
{
    out[0] = '\0';
    if (addr->family == 4)
        inet_ntop(AF_INET, addr->bytes, out, IP_TEXT_SIZE);
    else if (addr->family == 6)
        inet_ntop(AF_INET6, addr->bytes, out, IP_TEXT_SIZE);
}

size_t ip_addr_limit_key(const ip_addr_t *addr, char out[IP_KEY_SIZE])
{
    size_t n = addr->family == 4 ? 4 : addr->family == 6 ? 8 : 0;
    if (n == 0)
        return 0;
    out[0] = (char)addr->family;
    memcpy(out + 1, addr->bytes, n);
    return n + 1;
}

/* ---- ranges ---- */

static size_t addr_bits(const ip_addr_t *addr)
{
    return addr->family == 4 ? 32 : 128;
}

/* True when the first bits of a and b agree. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    size_t whole = bits / 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    unsigned rest = bits % 8;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (a[whole] & mask) == (b[whole] & mask);
}

static bool host_bits_zero(const ip_addr_t *addr, unsigned bits)
{
    for (size_t i = 0; i < addr_bits(addr) / 8; i++) {
        unsigned kept = bits <= i * 8 ? 0 : bits - i * 8 >= 8 ? 8 : bits - (unsigned)i * 8;
        if (addr->bytes[i] & (0xffu >> kept))
            return false;
    }
    return true;
}

/* Reads a prefix length: 1 to 3 decimal digits. */
static bool parse_bits(const char *s, size_t len, unsigned *bits)
{
    if (len == 0 || len > 3)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *bits = v;
    return true;
}

/* One entry (already trimmed): "ADDR" or "ADDR/BITS". */
static bool parse_entry(const char *s, size_t len, ip_range_t *out, char *why, size_t why_size)
{
    const char *slash = memchr(s, '/', len);
    size_t addr_len = slash != NULL ? (size_t)(slash - s) : len;
    unsigned bits;
    int shown = len > ENTRY_TEXT_MAX ? ENTRY_TEXT_MAX : (int)len;
    if (!ip_addr_parse(s, addr_len, &out->net)) {
        snprintf(why, why_size, "\"%.*s\" is not an IPv4 or IPv6 address or CIDR range", shown, s);
        return false;
    }
    bool mapped = out->net.family == 4 && memchr(s, ':', addr_len) != NULL; /* ::ffff:a.b.c.d/N */
    if (slash == NULL) {
        bits = (unsigned)addr_bits(&out->net);
    } else if (!parse_bits(slash + 1, len - addr_len - 1, &bits) || bits > (mapped ? 128 : addr_bits(&out->net)) ||
               (mapped && bits < 96)) {
        snprintf(why, why_size, "\"%.*s\" has a bad prefix length", shown, s);
        return false;
    } else if (mapped) {
        bits -= 96;
    }
    if (!host_bits_zero(&out->net, bits)) {
        snprintf(why, why_size, "\"%.*s\" has host bits set (write the network address)", shown, s);
        return false;
    }
    out->bits = (uint8_t)bits;
    return true;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool ip_ranges_parse(const char *text, ip_ranges_t *out, char *why, size_t why_size)
{
    size_t len = strlen(text), count = 1, pos = 0, entry_len;
    const char *entry;
    out->v = NULL;
    out->n = 0;
    if (text_blank(text, len))
        return true;
    for (size_t i = 0; i < len; i++)
        count += text[i] == ',';
    if ((out->v = calloc(count, sizeof(*out->v))) == NULL) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    while (text_list_next(text, len, &pos, &entry, &entry_len)) {
        if (entry_len == 0) {
            snprintf(why, why_size, "entry %zu is empty", out->n + 1);
            goto fail;
        }
        if (!parse_entry(entry, entry_len, &out->v[out->n], why, why_size))
            goto fail;
        out->n++;
    }
    return true;
fail:
    ip_ranges_free(out);
    return false;
}

bool ip_ranges_contains(const ip_ranges_t *ranges, const ip_addr_t *addr)
{
    for (size_t i = 0; ranges != NULL && i < ranges->n; i++) {
        const ip_range_t *r = &ranges->v[i];
        if (r->net.family == addr->family && prefix_equal(r->net.bytes, addr->bytes, r->bits))
            return true;
    }
    return false;
}

void ip_ranges_free(ip_ranges_t *ranges)
{
    free(ranges->v);
    ranges->v = NULL;
    ranges->n = 0;
}

/* ---- X-Forwarded-For ---- */

bool ip_forwarded_walk(const ip_ranges_t *trusted, const char *value, size_t len, ip_addr_t *client)
{
    size_t end = value != NULL ? len : 0;
    if (end == 0)
        return false; /* an empty value is not an address */
    for (;;) {
        size_t start = end, a, b;
        while (start > 0 && value[start - 1] != ',')
            start--;
        for (a = start; a < end && is_blank(value[a]); a++)
            ;
        for (b = end; b > a && is_blank(value[b - 1]); b--)
            ;
        ip_addr_t hop;
        if (!ip_addr_parse(value + a, b - a, &hop))
            return false; /* not an address: the last one walked stays */
        *client = hop;
        if (!ip_ranges_contains(trusted, &hop))
            return false;
        if (start == 0)
            return true;
        end = start - 1;
    }
}
