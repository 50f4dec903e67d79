/*
 * test_client_ip — who the client is: guard/ip_addr (strict address parsing, IPv4-mapped
 * IPv6 as IPv4, server.trusted-proxies lists and their refusals, range membership, the
 * per-IP rate-limit key with IPv6 by /64) and http_client_ip_pick (X-Forwarded-For believed
 * only from a trusted peer, walked from the right past trusted hops, across several headers;
 * a malformed entry stops the walk at the last address walked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "guard/ip_addr.h"
#include "http/request.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static ip_addr_t addr(const char *text)
{
    ip_addr_t a;
    if (!ip_addr_parse(text, strlen(text), &a))
        fail_msg("\"%s\" not parsed", text);
    return a;
}

static const char *text_of(const ip_addr_t *a)
{
    static char out[IP_TEXT_SIZE];
    ip_addr_text(a, out);
    return out;
}

static void addresses_parse_strictly(void **state)
{
    static const struct {
        const char *text;
        int family; /* 0 = refused */
        const char *canonical;
    } cases[] = {
        {"127.0.0.1", 4, "127.0.0.1"},
        {"203.0.113.250", 4, "203.0.113.250"},
        {"::1", 6, "::1"},
        {"2001:DB8:0:0::1", 6, "2001:db8::1"},
        {"::ffff:10.1.2.3", 4, "10.1.2.3"}, /* IPv4 through a dual-stack socket */
        {"::ffff:a01:203", 4, "10.1.2.3"},
        {"", 0, NULL},
        {"1.2.3", 0, NULL},
        {"1.2.3.4.5", 0, NULL},
        {"256.1.1.1", 0, NULL},
        {"01.2.3.4", 0, NULL},
        {" 1.2.3.4", 0, NULL},
        {"1.2.3.4 ", 0, NULL},
        {"1.2.3.4:80", 0, NULL},
        {"[::1]", 0, NULL},
        {"[::1]:80", 0, NULL},
        {"fe80::1%eth0", 0, NULL},
        {"unknown", 0, NULL},
        {"localhost", 0, NULL},
        {"1.2.3.4/32", 0, NULL},
        {"0123456789012345678901234567890123456789012345678901234567890123456789", 0, NULL},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        ip_addr_t a;
        bool ok = ip_addr_parse(cases[i].text, strlen(cases[i].text), &a);
        if (ok != (cases[i].family != 0))
            fail_msg("\"%s\": parsed %d", cases[i].text, ok);
        if (!ok) {
            assert_int_equal(a.family, 0);
            continue;
        }
        assert_int_equal(a.family, cases[i].family);
        assert_string_equal(text_of(&a), cases[i].canonical);
    }
    ip_addr_t a;
    assert_false(ip_addr_parse("1.2.3.4\0"
                               "5",
                               9, &a));              /* a NUL inside */
    assert_true(ip_addr_parse("1.2.3.4xyz", 7, &a)); /* only len bytes are read */
    assert_string_equal(text_of(&a), "1.2.3.4");
}

static void proxy_lists_parse(void **state)
{
    ip_ranges_t r;
    char why[160];
    assert_true(ip_ranges_parse("127.0.0.1, 10.0.0.0/8, ::1,fd00::/8 ,\t192.168.1.0/24", &r, why, sizeof(why)));
    assert_int_equal(r.n, 5);
    static const struct {
        const char *text;
        bool in;
    } members[] = {
        {"127.0.0.1", true},       {"127.0.0.2", false},     {"10.0.0.0", true},     {"10.255.255.255", true},
        {"11.0.0.0", false},       {"9.255.255.255", false}, {"::1", true},          {"::2", false},
        {"fd12:3456::1", true},    {"fe00::1", false},       {"192.168.1.77", true}, {"192.168.2.1", false},
        {"::ffff:10.9.9.9", true}, /* mapped: the IPv4 address */
    };
    for (size_t i = 0; i < COUNT(members); i++) {
        ip_addr_t a = addr(members[i].text);
        if (ip_ranges_contains(&r, &a) != members[i].in)
            fail_msg("%s: in = %d", members[i].text, !members[i].in);
    }
    ip_ranges_free(&r);

    /* empty lists */
    assert_true(ip_ranges_parse("", &r, why, sizeof(why)));
    assert_int_equal(r.n, 0);
    assert_true(ip_ranges_parse("  \t ", &r, why, sizeof(why)));
    assert_int_equal(r.n, 0);
    ip_addr_t lo = addr("127.0.0.1");
    assert_false(ip_ranges_contains(&r, &lo));
    assert_false(ip_ranges_contains(NULL, &lo));

    /* whole families, odd prefix lengths, mapped ranges */
    assert_true(ip_ranges_parse("0.0.0.0/0, 2001:db8:8000::/33, ::ffff:172.16.0.0/108", &r, why, sizeof(why)));
    ip_addr_t v4 = addr("198.51.100.1"), v6in = addr("2001:db8:8000::1"), v6out = addr("2001:db8:7fff::1");
    assert_true(ip_ranges_contains(&r, &v4));
    assert_true(ip_ranges_contains(&r, &v6in));
    assert_false(ip_ranges_contains(&r, &v6out));
    ip_ranges_free(&r);
    assert_true(ip_ranges_parse("::ffff:172.16.0.0/108", &r, why, sizeof(why)));
    assert_int_equal(r.v[0].net.family, 4);
    assert_int_equal(r.v[0].bits, 12);
    ip_ranges_free(&r);
}

static void bad_proxy_lists_are_refused(void **state)
{
    static const struct {
        const char *text;
        const char *says; /* part of the reason */
    } cases[] = {
        {"10.0.0.0/33", "\"10.0.0.0/33\" has a bad prefix length"},
        {"::/129", "bad prefix length"},
        {"10.0.0.0/", "bad prefix length"},
        {"10.0.0.0/+8", "bad prefix length"},
        {"10.0.0.0/-1", "bad prefix length"},
        {"10.0.0.0/8/8", "bad prefix length"},
        {"10.0.0.0/ 8", "bad prefix length"},
        {"10.0.0.0/1000", "bad prefix length"},
        {"::ffff:10.0.0.0/95", "bad prefix length"},
        {"10.0.0.1/8", "host bits set"},
        {"2001:db8::1/64", "host bits set"},
        {"127.0.0.1,,10.0.0.1", "entry 2 is empty"},
        {"127.0.0.1,", "entry 2 is empty"},
        {",127.0.0.1", "entry 1 is empty"},
        {"localhost", "\"localhost\" is not an IPv4 or IPv6 address"},
        {"127.0.0.1 10.0.0.1", "is not an IPv4 or IPv6 address"},
        {"127.0.0.1; 10.0.0.1", "is not an IPv4 or IPv6 address"},
        {"127.0.0.1, 10.0.0.0/8, 300.0.0.1", "\"300.0.0.1\""},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        ip_ranges_t r = {0};
        char why[160] = "";
        if (ip_ranges_parse(cases[i].text, &r, why, sizeof(why)))
            fail_msg("\"%s\" accepted", cases[i].text);
        assert_null(r.v);
        assert_int_equal(r.n, 0);
        if (strstr(why, cases[i].says) == NULL)
            fail_msg("\"%s\": reason \"%s\" does not say \"%s\"", cases[i].text, why, cases[i].says);
    }
}

static void limit_keys_group_ipv6_by_64(void **state)
{
    char a[IP_KEY_SIZE], b[IP_KEY_SIZE];
    size_t na, nb;
    ip_addr_t x = addr("2001:db8:1:2::1"), y = addr("2001:db8:1:2:ffff:ffff:ffff:ffff"), z = addr("2001:db8:1:3::1");
    na = ip_addr_limit_key(&x, a);
    nb = ip_addr_limit_key(&y, b);
    assert_true(na == nb && memcmp(a, b, na) == 0); /* one /64, one key */
    nb = ip_addr_limit_key(&z, b);
    assert_false(na == nb && memcmp(a, b, na) == 0);

    ip_addr_t p = addr("10.0.0.1"), q = addr("10.0.0.2"), mapped = addr("::ffff:10.0.0.1");
    na = ip_addr_limit_key(&p, a);
    nb = ip_addr_limit_key(&q, b);
    assert_false(na == nb && memcmp(a, b, na) == 0); /* IPv4: each address its own */
    nb = ip_addr_limit_key(&mapped, b);
    assert_true(na == nb && memcmp(a, b, na) == 0);
    /* an IPv4 address and an IPv6 prefix with the same leading bytes differ */
    ip_addr_t v6 = addr("a00:1::");
    nb = ip_addr_limit_key(&v6, b);
    assert_false(na == nb && memcmp(a, b, na) == 0);

    ip_addr_t none = {0};
    assert_int_equal(ip_addr_limit_key(&none, a), 0);
}

/* ---- X-Forwarded-For ---- */

static void pick_case(const ip_ranges_t *trusted, const char *peer, const char *const *headers, size_t n,
                      const char *expected)
{
    h2o_iovec_t values[4];
    assert_true(n <= COUNT(values));
    for (size_t i = 0; i < n; i++)
        values[i] = h2o_iovec_init(headers[i], strlen(headers[i]));
    ip_addr_t p = addr(peer), out;
    http_client_ip_pick(&p, trusted, values, n, &out);
    if (strcmp(text_of(&out), expected) != 0)
        fail_msg("peer %s, %zu headers (first \"%s\"): got %s, want %s", peer, n, n ? headers[0] : "", text_of(&out),
                 expected);
}

static void forwarded_for_is_believed_only_from_trusted_peers(void **state)
{
    ip_ranges_t trusted;
    char why[160];
    assert_true(ip_ranges_parse("127.0.0.1, 10.0.0.0/8, ::1", &trusted, why, sizeof(why)));
    static const struct {
        const char *peer;
        const char *headers[3];
        size_t n;
        const char *client;
    } cases[] = {
        /* an untrusted peer: the header is ignored, whatever it says */
        {"203.0.113.9", {"1.2.3.4"}, 1, "203.0.113.9"},
        {"203.0.113.9", {"127.0.0.1"}, 1, "203.0.113.9"},
        /* a trusted peer without the header: the peer */
        {"127.0.0.1", {NULL}, 0, "127.0.0.1"},
        /* the address the proxy appended */
        {"127.0.0.1", {"1.2.3.4"}, 1, "1.2.3.4"},
        {"::1", {"2001:db8::7"}, 1, "2001:db8::7"},
        {"::ffff:127.0.0.1", {"1.2.3.4"}, 1, "1.2.3.4"},
        /* what the client wrote itself is left of it: not believed */
        {"127.0.0.1", {"6.6.6.6, 1.2.3.4"}, 1, "1.2.3.4"},
        {"127.0.0.1", {"6.6.6.6", "1.2.3.4"}, 2, "1.2.3.4"},
        /* trusted hops are skipped, within a header and across headers */
        {"127.0.0.1", {"6.6.6.6, 1.2.3.4, 10.0.0.2"}, 1, "1.2.3.4"},
        {"127.0.0.1", {"6.6.6.6, 1.2.3.4", "10.0.0.3, 10.0.0.2"}, 2, "1.2.3.4"},
        {"10.0.0.9", {"1.2.3.4", "", "10.0.0.2"}, 3, "10.0.0.2"}, /* an empty header is malformed */
        /* spaces and tabs around entries */
        {"127.0.0.1", {"  1.2.3.4\t,\t10.0.0.2 "}, 1, "1.2.3.4"},
        /* only trusted addresses: the one nearest the client */
        {"127.0.0.1", {"10.0.0.3, 10.0.0.2"}, 1, "10.0.0.3"},
        /* a malformed entry stops the walk at the last address walked */
        {"127.0.0.1", {"garbage"}, 1, "127.0.0.1"},
        {"127.0.0.1", {"1.2.3.4:5678"}, 1, "127.0.0.1"},
        {"127.0.0.1", {"[2001:db8::7]"}, 1, "127.0.0.1"},
        {"127.0.0.1", {"1.2.3.4,"}, 1, "127.0.0.1"},
        {"127.0.0.1", {""}, 1, "127.0.0.1"},
        {"127.0.0.1", {"1.2.3.4, unknown, 10.0.0.2"}, 1, "10.0.0.2"},
        {"127.0.0.1", {"1.2.3.4, , 10.0.0.2"}, 1, "10.0.0.2"},
    };
    for (size_t i = 0; i < COUNT(cases); i++)
        pick_case(&trusted, cases[i].peer, cases[i].headers, cases[i].n, cases[i].client);

    /* with no trusted proxy configured, never */
    ip_ranges_t none = {0};
    const char *xff[] = {"1.2.3.4"};
    pick_case(&none, "127.0.0.1", xff, 1, "127.0.0.1");
    pick_case(NULL, "127.0.0.1", xff, 1, "127.0.0.1");

    /* an unknown peer stays unknown */
    ip_addr_t unknown = {0}, out;
    h2o_iovec_t v = h2o_iovec_init(H2O_STRLIT("1.2.3.4"));
    http_client_ip_pick(&unknown, &trusted, &v, 1, &out);
    assert_int_equal(out.family, 0);
    ip_ranges_free(&trusted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_parse_strictly),
        cmocka_unit_test(proxy_lists_parse),
        cmocka_unit_test(bad_proxy_lists_are_refused),
        cmocka_unit_test(limit_keys_group_ipv6_by_64),
        cmocka_unit_test(forwarded_for_is_believed_only_from_trusted_peers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
