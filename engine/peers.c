/* peers — [peer NAME] sections matched against a connection's identity and address. */
#include "engine/peers.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An address (brackets and zone stripped) as 16 bytes, IPv4 mapped; its family's bit count
 * into bits. -1 when it is no address. */
static int parse_address(const char *text, unsigned char out[16], int *bits)
{
    char a[64];
    size_t n = strlen(text);
    if (n >= sizeof a)
        return -1;
    if (text[0] == '[' && n > 2 && text[n - 1] == ']')
        text++, n -= 2;
    memcpy(a, text, n);
    a[n] = '\0';
    char *zone = strchr(a, '%');
    if (zone)
        *zone = '\0';
    struct in_addr v4;
    if (inet_pton(AF_INET, a, &v4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &v4, 4);
        *bits = 32;
        return 0;
    }
    if (inet_pton(AF_INET6, a, out) == 1) {
        *bits = 128;
        return 0;
    }
    return -1;
}

/* A range: its address and prefix length counted over the 16 bytes. -1 when malformed. */
static int parse_cidr(const char *cidr, unsigned char net[16], int *prefix)
{
    char a[80];
    snprintf(a, sizeof a, "%s", cidr);
    char *slash = strchr(a, '/');
    int bits, len = -1;
    if (slash) {
        *slash++ = '\0';
        char *end;
        long v = strtol(slash, &end, 10);
        if (!*slash || *end || v < 0 || v > 128)
            return -1;
        len = (int)v;
    }
    if (parse_address(a, net, &bits) != 0 || len > bits)
        return -1;
    *prefix = (len < 0 ? bits : len) + (128 - bits);
    return 0;
}

bool peers_cidr_ok(const char *cidr)
{
    unsigned char net[16];
    int prefix;
    return parse_cidr(cidr, net, &prefix) == 0;
}

static bool in_range(const unsigned char addr[16], const char *cidr)
{
    unsigned char net[16];
    int prefix;
    if (parse_cidr(cidr, net, &prefix) != 0)
        return false;
    for (int i = 0; i < 16 && prefix > 0; i++, prefix -= 8) {
        unsigned char mask = prefix >= 8 ? 0xff : (unsigned char)(0xff << (8 - prefix));
        if ((addr[i] & mask) != (net[i] & mask))
            return false;
    }
    return true;
}

/* Whether name is one of identity's comma-separated names. */
static bool has_identity(const char *identity, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = identity; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

const struct conf_peer *peers_match(const struct conf *c, const char *identity, const char *address)
{
    unsigned char addr[16];
    int bits;
    bool have_addr = address && parse_address(address, addr, &bits) == 0;
    for (size_t i = 0; i < c->npeers; i++) {
        const struct conf_peer *p = &c->peers[i];
        bool by_cert = p->identity.n == 0, by_addr = p->addresses.n == 0;
        for (size_t k = 0; k < p->identity.n && !by_cert; k++)
            by_cert = identity && has_identity(identity, p->identity.v[k]);
        for (size_t k = 0; k < p->addresses.n && !by_addr; k++)
            by_addr = have_addr && in_range(addr, p->addresses.v[k]);
        if (by_cert && by_addr)
            return p;
    }
    return NULL;
}

bool peers_allow(const struct conf_list *list, const char *name)
{
    if (list->n == 0)
        return true;
    for (size_t i = 0; name && i < list->n; i++)
        if (strcmp(list->v[i], name) == 0)
            return true;
    return false;
}
