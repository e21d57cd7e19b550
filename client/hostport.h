/*
 * client/hostport.h: broker addresses as people write them: "host:port" lists separated by
 * commas, IPv6 in brackets ("[::1]:9092"), a missing port meaning 9092.
 */
#ifndef TAPE_CLIENT_HOSTPORT_H
#define TAPE_CLIENT_HOSTPORT_H

#include "client/tape.h"

#include <stddef.h>
#include <stdint.h>

#define HOSTPORT_DEFAULT_PORT 9092
/* A DNS name is at most 253 bytes; an IPv6 literal with a zone fits too. */
#define HOSTPORT_HOST_BYTES 256

struct hostport {
	char host[HOSTPORT_HOST_BYTES]; /* without brackets */
	int32_t port;
};

/* Parses a comma-separated list into out[0..max). Entries are trimmed of blanks; empty
 * entries are skipped. Without brackets the last ':' separates the port (as Java's
 * Utils.getHost does). Returns the count (>= 1) or -TAPE_ECONFIG with a message naming the bad
 * entry (no host, a port that is not 1-65535, an unclosed bracket, more than max entries, an
 * empty list). */
int hostport_parse_list(const char *text, struct hostport *out, int max, struct tape_error *err);

/* "host:port", or "[host]:port" when host holds a ':'. Returns buf. */
const char *hostport_format(const char *host, int32_t port, char *buf, size_t len);

#endif
