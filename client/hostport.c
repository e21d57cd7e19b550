/*
 * client/hostport.c: parsing and printing broker addresses (hostport.h). Owns the syntax only;
 * resolving names is the connection's (kconn.c).
 */
#include "client/hostport.h"

#include "client/tape_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* One entry, [s, e) already trimmed and non-empty. */
static int parse_one(const char *s, const char *e, struct hostport *hp, struct tape_error *err)
{
	int n = (int)(e - s);
	const char *host = s, *host_end, *port = NULL;
	if (*s == '[') {
		const char *close = memchr(s, ']', (size_t)n);
		if (!close)
			return tape_error_set(err, -TAPE_ECONFIG,
			                      "malformed broker address \"%.*s\": no closing ']'",
			                      n, s);
		host = s + 1;
		host_end = close;
		if (close + 1 < e) {
			if (close[1] != ':')
				return tape_error_set(
				    err, -TAPE_ECONFIG,
				    "malformed broker address \"%.*s\": expected ':' "
				    "after ']'",
				    n, s);
			port = close + 2;
		}
	} else {
		const char *colon = NULL;
		for (const char *q = s; q < e; q++)
			if (*q == ':')
				colon = q;
		host_end = colon ? colon : e;
		port = colon ? colon + 1 : NULL;
	}
	if (host_end == host)
		return tape_error_set(err, -TAPE_ECONFIG,
		                      "malformed broker address \"%.*s\": no host", n, s);
	if ((size_t)(host_end - host) >= sizeof(hp->host))
		return tape_error_set(err, -TAPE_ECONFIG, "broker host name too long: \"%.*s\"", n,
		                      s);
	memcpy(hp->host, host, (size_t)(host_end - host));
	hp->host[host_end - host] = '\0';
	hp->port = HOSTPORT_DEFAULT_PORT;
	if (port) {
		long v = 0;
		const char *q = port;
		for (; q < e && *q >= '0' && *q <= '9' && v <= 65535; q++)
			v = v * 10 + (*q - '0');
		if (q == port || q != e || v < 1 || v > 65535)
			return tape_error_set(err, -TAPE_ECONFIG,
			                      "malformed broker address \"%.*s\": the port must be "
			                      "1-65535",
			                      n, s);
		hp->port = (int32_t)v;
	}
	return 0;
}

int hostport_parse_list(const char *text, struct hostport *out, int max, struct tape_error *err)
{
	int count = 0;
	const char *s = text ? text : "";
	while (*s) {
		const char *comma = strchr(s, ',');
		const char *e = comma ? comma : s + strlen(s);
		const char *next = comma ? comma + 1 : e;
		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		if (s < e) {
			if (count == max)
				return tape_error_set(err, -TAPE_ECONFIG,
				                      "too many broker addresses (at most %d)",
				                      max);
			int rc = parse_one(s, e, &out[count], err);
			if (rc < 0)
				return rc;
			count++;
		}
		s = next;
	}
	if (count == 0)
		return tape_error_set(err, -TAPE_ECONFIG, "no broker address given");
	return count;
}

const char *hostport_format(const char *host, int32_t port, char *buf, size_t len)
{
	if (strchr(host, ':'))
		snprintf(buf, len, "[%s]:%d", host, port);
	else
		snprintf(buf, len, "%s:%d", host, port);
	return buf;
}
