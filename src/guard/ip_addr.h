/*
 * guard/ip_addr — IP addresses and CIDR ranges as bytes: the trusted proxies of
 * server.trusted-proxies, the walk through X-Forwarded-For to the client behind them, and
 * the key a per-IP rate limit counts under. No h2o here: the parsers are testable and
 * fuzzable alone.
 *
 * Contract:
 * - An ip_addr_t is IPv4 (family 4, bytes 0..3) or IPv6 (family 6, 16 bytes). An IPv6
 *   address of the form ::ffff:a.b.c.d (IPv4 seen through a dual-stack socket) is always
 *   stored as the IPv4 address, so both spellings of one client are one address.
 * - Parsing is strict: a dotted quad or an IPv6 text as inet_pton(3) reads them; no port,
 *   no brackets, no zone (%eth0), no surrounding spaces.
 * - ip_ranges_parse allocates the list; ip_ranges_free releases it. A parsed list is
 *   read-only and may be shared by all threads. The other functions allocate nothing.
 */
#ifndef MEETOA_GUARD_IP_ADDR_H
#define MEETOA_GUARD_IP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct ip_addr {
    uint8_t family; /* 4 or 6; 0 = none */
    uint8_t bytes[16];
} ip_addr_t;

typedef struct ip_range {
    ip_addr_t net; /* host bits zero */
    uint8_t bits;  /* prefix length: 0..32 or 0..128 */
} ip_range_t;

typedef struct ip_ranges {
    ip_range_t *v;
    size_t n;
} ip_ranges_t;

#define IP_TEXT_SIZE 46 /* INET6_ADDRSTRLEN */
/* The per-IP rate-limit key: the family byte, then the IPv4 address or the IPv6 /64 prefix. */
#define IP_KEY_SIZE 9

/* Parses len bytes of text (no NUL needed). False when it is not exactly one address. */
bool ip_addr_parse(const char *text, size_t len, ip_addr_t *out);
/* From a socket address (AF_INET or AF_INET6). False for another family. */
bool ip_addr_from_sockaddr(const struct sockaddr *sa, ip_addr_t *out);
/* The address as text ("10.0.0.1", "2001:db8::1"); "" for family 0. */
void ip_addr_text(const ip_addr_t *addr, char out[IP_TEXT_SIZE]);
/* The rate-limit key of addr: IPv4 clients by their address, IPv6 clients by their /64 (one
 * host usually owns a whole /64). Returns its length (0 for family 0). */
size_t ip_addr_limit_key(const ip_addr_t *addr, char out[IP_KEY_SIZE]);

/*
 * Parses a comma-separated list of addresses and CIDR ranges ("127.0.0.1, 10.0.0.0/8, ::1,
 * fd00::/8"); spaces around entries are ignored; an empty or all-blank text is the empty
 * list. Refused (false, a reason in why naming the entry, *out empty): an empty entry, a
 * text that is not an address, a prefix length out of range or not a plain decimal, and a
 * range with host bits set ("10.0.0.1/8": write 10.0.0.0/8).
 */
bool ip_ranges_parse(const char *text, ip_ranges_t *out, char *why, size_t why_size);
/* True when addr lies in one of the ranges (an address of the other family never does). */
bool ip_ranges_contains(const ip_ranges_t *ranges, const ip_addr_t *addr);
void ip_ranges_free(ip_ranges_t *ranges);

/*
 * One step of finding the client behind trusted proxies (see http_client_addr): walks one
 * X-Forwarded-For value (len bytes, a comma list) from the right, setting *client to each
 * address walked. Returns true when every entry was a trusted proxy, so the walk goes on
 * into the previous header; false when it ends here: at the first address not in trusted
 * (*client is it), or at an entry that is not a plain address (empty, "unknown", with a
 * port...; *client stays the last address walked).
 */
bool ip_forwarded_walk(const ip_ranges_t *trusted, const char *value, size_t len, ip_addr_t *client);

#endif
