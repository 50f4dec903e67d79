/*
 * fuzz_client_ip — libFuzzer target for guard/ip_addr.c, the parser of the client address: the
 * server.trusted-proxies list (ip_ranges_parse) and X-Forwarded-For values (ip_forwarded_walk),
 * both bytes from outside. Input: the trusted-proxies text, then '\n', then one X-Forwarded-For
 * value per line (several lines = several headers, walked last first as http_client_ip_pick
 * does). Each piece, and the whole input, is also fed to ip_addr_parse.
 *
 * Checked against the contract of ip_addr.h (abort on violation):
 * - ip_addr_parse accepts exactly what inet_pton(3) accepts (AF_INET or AF_INET6, on the whole
 *   text), with the same bytes; ::ffff:a.b.c.d is stored as IPv4, never as family 6;
 *   ip_addr_text then ip_addr_parse gives the same address, and so do ip_addr_from_sockaddr of
 *   the same bytes and (for IPv4) of the mapped IPv6 socket address;
 * - ip_addr_limit_key is the family byte then the IPv4 address or the IPv6 /64;
 * - ip_ranges_parse: on failure an empty list and a non-empty reason; on success prefixes in
 *   range with host bits zero, at most one range per comma-separated entry, the list's text
 *   parses back to the same list, and ip_ranges_contains agrees with a bit-by-bit reference;
 * - the X-Forwarded-For walk gives the same client as a reference walk written here, and that
 *   client is the peer or an address read from one of the values.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/ip_addr.h"

#define FUZZ_WHY_SIZE    96
#define FUZZ_MAX_HEADERS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* A heap copy of exactly len bytes (plus a NUL when nul is set) so ASan sees any read past it. */
static char *fuzz_copy(const uint8_t *p, size_t len, bool nul)
{
    size_t cap = len + (nul ? 1 : 0);
    char *s = malloc(cap > 0 ? cap : 1);
    if (s == NULL)
        abort();
    if (len > 0)
        memcpy(s, p, len);
    if (nul)
        s[len] = '\0';
    return s;
}

static bool fuzz_addr_equal(const ip_addr_t *a, const ip_addr_t *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* The address inet_pton(3) reads from the whole text, mapped IPv4 folded; false when none. */
static bool fuzz_pton(const uint8_t *p, size_t len, ip_addr_t *out)
{
    uint8_t bytes[16];
    memset(out, 0, sizeof(*out));
    if (len == 0 || memchr(p, '\0', len) != NULL)
        return false;
    char *text = fuzz_copy(p, len, true);
    bool ok = true;
    if (inet_pton(AF_INET, text, bytes) == 1) {
        out->family = 4;
        memcpy(out->bytes, bytes, 4);
    } else if (inet_pton(AF_INET6, text, bytes) == 1) {
        bool mapped = memcmp(bytes, fuzz_mapped_prefix, sizeof(fuzz_mapped_prefix)) == 0;
        out->family = mapped ? 4 : 6;
        memcpy(out->bytes, mapped ? bytes + 12 : bytes, mapped ? 4 : 16);
    } else {
        ok = false;
    }
    free(text);
    return ok;
}

static void fuzz_check_sockaddr(const ip_addr_t *addr)
{
    ip_addr_t back;
    if (addr->family == 4) {
        struct sockaddr_in sin = {.sin_family = AF_INET};
        memcpy(&sin.sin_addr, addr->bytes, 4);
        if (!ip_addr_from_sockaddr((const struct sockaddr *)&sin, &back) || !fuzz_addr_equal(&back, addr))
            abort();
        struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};
        memcpy(mapped.sin6_addr.s6_addr, fuzz_mapped_prefix, sizeof(fuzz_mapped_prefix));
        memcpy(mapped.sin6_addr.s6_addr + 12, addr->bytes, 4);
        if (!ip_addr_from_sockaddr((const struct sockaddr *)&mapped, &back) || !fuzz_addr_equal(&back, addr))
            abort(); /* a dual-stack socket's view of an IPv4 client is the same client */
    } else {
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
        memcpy(sin6.sin6_addr.s6_addr, addr->bytes, 16);
        if (!ip_addr_from_sockaddr((const struct sockaddr *)&sin6, &back) || !fuzz_addr_equal(&back, addr))
            abort();
    }
}

static void fuzz_check_key(const ip_addr_t *addr)
{
    char key[IP_KEY_SIZE];
    size_t n = ip_addr_limit_key(addr, key);
    size_t want = addr->family == 4 ? 5 : 9;
    if (n != want || key[0] != (char)addr->family || memcmp(key + 1, addr->bytes, n - 1) != 0)
        abort();
    ip_addr_t same_net = *addr; /* another host of the same /64 counts under the same key */
    if (addr->family == 6) {
        for (size_t i = 8; i < 16; i++)
            same_net.bytes[i] ^= 0x5a;
        char other[IP_KEY_SIZE];
        if (ip_addr_limit_key(&same_net, other) != n || memcmp(key, other, n) != 0)
            abort();
    }
}

/* A parsed address: its text, socket address and rate-limit key all round-trip. */
static void fuzz_check_addr(const ip_addr_t *addr)
{
    if (addr->family != 4 && addr->family != 6)
        abort();
    if (addr->family == 4) {
        for (size_t i = 4; i < 16; i++)
            if (addr->bytes[i] != 0)
                abort();
    } else if (memcmp(addr->bytes, fuzz_mapped_prefix, sizeof(fuzz_mapped_prefix)) == 0) {
        abort(); /* ::ffff:a.b.c.d must be stored as IPv4 */
    }
    char text[IP_TEXT_SIZE];
    ip_addr_t back;
    ip_addr_text(addr, text);
    size_t len = strnlen(text, sizeof(text));
    if (len == 0 || len == sizeof(text) || !ip_addr_parse(text, len, &back) || !fuzz_addr_equal(&back, addr))
        abort();
    if (addr->family == 4) { /* the mapped spelling is the same address */
        char mapped[IP_TEXT_SIZE + 8];
        int n = snprintf(mapped, sizeof(mapped), "::ffff:%s", text);
        if (!ip_addr_parse(mapped, (size_t)n, &back) || !fuzz_addr_equal(&back, addr))
            abort();
    }
    fuzz_check_sockaddr(addr);
    fuzz_check_key(addr);
}

/* ip_addr_parse on len bytes, cross-checked against inet_pton. */
static bool fuzz_parse(const uint8_t *p, size_t len, ip_addr_t *out)
{
    char *text = fuzz_copy(p, len, false);
    bool ok = ip_addr_parse(text, len, out);
    free(text);
    ip_addr_t want;
    bool want_ok = fuzz_pton(p, len, &want);
    if (ok != want_ok)
        abort(); /* refused an address inet_pton reads, or accepted what it does not */
    if (!ok) {
        ip_addr_t none = {0};
        if (!fuzz_addr_equal(out, &none))
            abort();
        return false;
    }
    if (!fuzz_addr_equal(out, &want))
        abort();
    fuzz_check_addr(out);
    return true;
}

/* ---- ranges ---- */

static bool fuzz_bit(const uint8_t *bytes, unsigned i)
{
    return (bytes[i / 8] >> (7 - i % 8)) & 1;
}

static bool fuzz_ref_contains(const ip_ranges_t *ranges, const ip_addr_t *addr)
{
    for (size_t r = 0; ranges != NULL && r < ranges->n; r++) {
        const ip_range_t *range = &ranges->v[r];
        if (range->net.family != addr->family)
            continue;
        unsigned i = 0;
        while (i < range->bits && fuzz_bit(range->net.bytes, i) == fuzz_bit(addr->bytes, i))
            i++;
        if (i == range->bits)
            return true;
    }
    return false;
}

static void fuzz_check_contains(const ip_ranges_t *ranges, const ip_addr_t *addr)
{
    if (ip_ranges_contains(ranges, addr) != fuzz_ref_contains(ranges, addr))
        abort();
}

static size_t fuzz_entries(const char *text)
{
    size_t n = 1;
    for (const char *p = text; *p != '\0'; p++)
        n += *p == ',';
    return n;
}

static bool fuzz_all_blank(const char *text)
{
    return text[strspn(text, " \t")] == '\0';
}

/* One range: prefix in range, host bits zero, its own net and last address inside it, the address
 * just outside its prefix outside it (as the reference says, since other ranges may hold it). */
static void fuzz_check_range(const ip_ranges_t *ranges, const ip_range_t *range)
{
    unsigned width = range->net.family == 4 ? 32 : 128;
    if ((range->net.family != 4 && range->net.family != 6) || range->bits > width)
        abort();
    ip_addr_t last = range->net;
    for (unsigned i = range->bits; i < width; i++) {
        if (fuzz_bit(range->net.bytes, i))
            abort(); /* host bits set */
        last.bytes[i / 8] |= (uint8_t)(0x80u >> (i % 8));
    }
    if (!ip_ranges_contains(ranges, &range->net) || !ip_ranges_contains(ranges, &last))
        abort();
    fuzz_check_contains(ranges, &last);
    if (range->bits > 0) {
        ip_addr_t outside = range->net;
        outside.bytes[(range->bits - 1) / 8] ^= (uint8_t)(0x80u >> ((range->bits - 1) % 8));
        fuzz_check_contains(ranges, &outside);
    }
}

/* The list written back as text parses to the same list. */
static void fuzz_check_ranges_text(const ip_ranges_t *ranges)
{
    size_t cap = ranges->n * (IP_TEXT_SIZE + 8) + 1, len = 0;
    char *text = malloc(cap);
    if (text == NULL)
        abort();
    text[0] = '\0';
    for (size_t i = 0; i < ranges->n; i++) {
        char addr[IP_TEXT_SIZE];
        ip_addr_text(&ranges->v[i].net, addr);
        len += (size_t)snprintf(text + len, cap - len, "%s%s/%u", i > 0 ? ", " : "", addr, ranges->v[i].bits);
    }
    ip_ranges_t back;
    char why[FUZZ_WHY_SIZE];
    if (!ip_ranges_parse(text, &back, why, sizeof(why)) || back.n != ranges->n ||
        (back.n > 0 && memcmp(back.v, ranges->v, back.n * sizeof(*back.v)) != 0))
        abort();
    ip_ranges_free(&back);
    free(text);
}

static bool fuzz_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* The reference reading of one trimmed entry, "ADDR" or "ADDR/BITS" (1 to 3 decimal digits;
 * ::ffff:a.b.c.d/N is the IPv4 range of prefix N - 96), host bits zero. */
static bool fuzz_ref_entry(const uint8_t *s, size_t len, ip_range_t *out)
{
    const uint8_t *slash = memchr(s, '/', len);
    size_t addr_len = slash != NULL ? (size_t)(slash - s) : len;
    if (!fuzz_pton(s, addr_len, &out->net))
        return false;
    unsigned width = out->net.family == 4 ? 32 : 128, bits = width;
    bool mapped = out->net.family == 4 && memchr(s, ':', addr_len) != NULL;
    if (slash != NULL) {
        size_t digits = len - addr_len - 1;
        if (digits < 1 || digits > 3)
            return false;
        bits = 0;
        for (size_t i = 0; i < digits; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9')
                return false;
            bits = bits * 10 + (unsigned)(slash[1 + i] - '0');
        }
        if (bits > (mapped ? 128 : width) || (mapped && bits < 96))
            return false;
        bits -= mapped ? 96 : 0;
    }
    for (unsigned i = bits; i < width; i++)
        if (fuzz_bit(out->net.bytes, i))
            return false;
    out->bits = (uint8_t)bits;
    return true;
}

/* The reference reading of the whole list; entries counted in *n (ranges has room for all). */
static bool fuzz_ref_ranges(const char *text, ip_range_t *ranges, size_t *n)
{
    *n = 0;
    if (fuzz_all_blank(text))
        return true;
    const uint8_t *p = (const uint8_t *)text, *end = p + strlen(text);
    for (;;) {
        const uint8_t *stop = memchr(p, ',', (size_t)(end - p)), *b = stop != NULL ? stop : end;
        while (p < b && fuzz_blank(*p))
            p++;
        while (b > p && fuzz_blank(b[-1]))
            b--;
        if (p == b || !fuzz_ref_entry(p, (size_t)(b - p), &ranges[*n]))
            return false;
        ++*n;
        if (stop == NULL)
            return true;
        p = stop + 1;
    }
}

/* Parses the trusted-proxies text (a C string, as config_load passes it) into *ranges. */
static void fuzz_ranges(const char *text, ip_ranges_t *ranges)
{
    char *why = malloc(FUZZ_WHY_SIZE);
    ip_range_t *want = calloc(fuzz_entries(text), sizeof(*want));
    size_t want_n;
    if (why == NULL || want == NULL)
        abort();
    why[0] = '\0';
    bool want_ok = fuzz_ref_ranges(text, want, &want_n);
    bool ok = ip_ranges_parse(text, ranges, why, FUZZ_WHY_SIZE);
    if (ok != want_ok ||
        (ok && (ranges->n != want_n || (want_n > 0 && memcmp(ranges->v, want, want_n * sizeof(*want)) != 0))))
        abort(); /* not the list the contract reads */
    free(want);
    if (!ok) {
        if (ranges->v != NULL || ranges->n != 0 || why[0] == '\0' || strnlen(why, FUZZ_WHY_SIZE) == FUZZ_WHY_SIZE)
            abort();
        if (fuzz_all_blank(text))
            abort(); /* a blank text is the empty list */
        free(why);
        return;
    }
    free(why);
    if (ranges->n > fuzz_entries(text) || (fuzz_all_blank(text) != (ranges->n == 0)))
        abort();
    for (size_t i = 0; i < ranges->n; i++)
        fuzz_check_range(ranges, &ranges->v[i]);
    fuzz_check_ranges_text(ranges);
}

/* ---- X-Forwarded-For ---- */

typedef struct fuzz_header {
    const uint8_t *p;
    size_t len;
} fuzz_header_t;

/* The reference walk of one value: its comma-separated entries from the right, trimmed of
 * spaces and tabs; stops at an entry that is not an address or not trusted. */
static bool fuzz_ref_walk(const ip_ranges_t *trusted, const uint8_t *p, size_t len, ip_addr_t *client)
{
    if (len == 0)
        return false;
    size_t end = len;
    for (;;) {
        size_t start = end;
        while (start > 0 && p[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (p[a] == ' ' || p[a] == '\t'))
            a++;
        while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
            b--;
        ip_addr_t hop;
        if (!fuzz_pton(p + a, b - a, &hop))
            return false;
        *client = hop;
        if (!fuzz_ref_contains(trusted, &hop))
            return false;
        if (start == 0)
            return true;
        end = start - 1;
    }
}

/* True when addr is one of the entries of one of the values. */
static bool fuzz_seen(const fuzz_header_t *headers, size_t n, const ip_addr_t *addr)
{
    for (size_t h = 0; h < n; h++) {
        size_t start = 0;
        for (size_t i = 0; i <= headers[h].len; i++) {
            if (i < headers[h].len && headers[h].p[i] != ',')
                continue;
            size_t a = start, b = i;
            while (a < b && (headers[h].p[a] == ' ' || headers[h].p[a] == '\t'))
                a++;
            while (b > a && (headers[h].p[b - 1] == ' ' || headers[h].p[b - 1] == '\t'))
                b--;
            ip_addr_t entry;
            if (fuzz_pton(headers[h].p + a, b - a, &entry) && fuzz_addr_equal(&entry, addr))
                return true;
            start = i + 1;
        }
    }
    return false;
}

/* The walk of http_client_ip_pick (request.c) over the headers, last header first. */
static void fuzz_walk(const ip_ranges_t *trusted, const ip_addr_t *peer, const fuzz_header_t *headers, size_t n)
{
    ip_addr_t got = *peer, want = *peer;
    bool trusted_peer = ip_ranges_contains(trusted, peer);
    for (size_t i = n; trusted_peer && i-- > 0;) {
        char *value = fuzz_copy(headers[i].p, headers[i].len, false);
        ip_addr_t before = got;
        bool go_on = ip_forwarded_walk(trusted, value, headers[i].len, &got);
        free(value);
        if (go_on != fuzz_ref_walk(trusted, headers[i].p, headers[i].len, &want) || !fuzz_addr_equal(&got, &want))
            abort();
        if (go_on && !ip_ranges_contains(trusted, &got))
            abort(); /* the walk went on past an untrusted address */
        if (headers[i].len == 0 && (go_on || !fuzz_addr_equal(&got, &before)))
            abort(); /* an empty value is not an address */
        if (!go_on)
            break;
    }
    if (!fuzz_addr_equal(&got, peer) && !fuzz_seen(headers, n, &got))
        abort(); /* a client that came from nowhere */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ip_addr_t addr;
    (void)fuzz_parse(data, size, &addr);

    const uint8_t *nl = memchr(data, '\n', size);
    size_t first_len = nl != NULL ? (size_t)(nl - data) : size;
    char *trusted_text = fuzz_copy(data, strnlen((const char *)data, first_len), true);
    ip_ranges_t trusted;
    fuzz_ranges(trusted_text, &trusted);
    free(trusted_text);

    fuzz_header_t headers[FUZZ_MAX_HEADERS];
    size_t n = 0;
    for (const uint8_t *p = nl != NULL ? nl + 1 : NULL, *end = data + size; p != NULL && n < FUZZ_MAX_HEADERS;) {
        const uint8_t *stop = memchr(p, '\n', (size_t)(end - p));
        headers[n].p = p;
        headers[n].len = (size_t)((stop != NULL ? stop : end) - p);
        (void)fuzz_parse(headers[n].p, headers[n].len, &addr);
        n++;
        p = stop != NULL ? stop + 1 : NULL;
    }

    /* The peer: a trusted proxy when there is one (so the headers are walked), else loopback. */
    ip_addr_t peer = {.family = 4, .bytes = {127, 0, 0, 1}};
    if (trusted.n > 0)
        peer = trusted.v[trusted.n - 1].net;
    fuzz_walk(&trusted, &peer, headers, n);
    for (size_t i = 0; i < n; i++) {
        ip_addr_t client = peer, want = peer;
        char *value = fuzz_copy(headers[i].p, headers[i].len, false);
        bool go_on = ip_forwarded_walk(&trusted, value, headers[i].len, &client);
        if (go_on != fuzz_ref_walk(&trusted, headers[i].p, headers[i].len, &want) || !fuzz_addr_equal(&client, &want))
            abort(); /* each value alone, whatever the peer */
        fuzz_check_contains(&trusted, &client);
        client = want = peer; /* nothing trusted: the walk stops at the rightmost entry */
        if (ip_forwarded_walk(NULL, value, headers[i].len, &client) ||
            fuzz_ref_walk(NULL, headers[i].p, headers[i].len, &want) || !fuzz_addr_equal(&client, &want))
            abort();
        free(value);
    }
    ip_ranges_free(&trusted);
    return 0;
}
