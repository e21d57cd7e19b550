/*
 * server/listener.c: the listening sockets. "PLAINTEXT://host:port[,...]"; the host localhost
 * listens on 127.0.0.1 and ::1 both (on the same port, also when port 0 picks one), an empty
 * host or 0.0.0.0 on every IPv4 address, :: on every IPv6 one. Accepts are io_uring ops; when
 * the process runs out of descriptors it backs off instead of spinning.
 */
#include "server/server.h"

#include "base/assert.h"
#include "base/diag.h"
#include "base/errors.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void arm_accept(struct listener *l);

static void backoff_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct listener *l = container_of(op, struct listener, backoff.op);
	arm_accept(l);
}

static void accepted(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct listener *l = container_of(op, struct listener, accept_op);
	l->armed = false;
	if (l->srv->stopping || l->fd < 0) {
		if (res >= 0)
			close(res);
		return;
	}
	if (res >= 0) {
		conn_accepted(l->srv, res, (struct sockaddr *)&l->addr, l->addrlen);
	} else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
		diag_warn("accept: %s; pausing accepts for 100 ms", tape_strerror(res));
		reactor_timer_start(l->srv->reactor, &l->backoff, backoff_done, 100 * 1000000u);
		return;
	}
	arm_accept(l);
}

static void arm_accept(struct listener *l)
{
	if (l->armed || l->srv->stopping || l->fd < 0)
		return;
	l->armed = true;
	l->addrlen = sizeof(l->addr);
	reactor_accept(l->srv->reactor, &l->accept_op, accepted, l->fd, (struct sockaddr *)&l->addr,
	               &l->addrlen);
}

static int bind_one(struct server *srv, int family, const char *ip, uint16_t port, uint16_t *bound)
{
	if (srv->listeners_count == LISTENERS_MAX)
		return -TAPE_ECONFIG;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t len;
	if (family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1)
			goto bad_address;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
			goto bad_address;
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		*bound = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                  : ((struct sockaddr_in *)&ss)->sin_port);
	struct listener *l = &srv->listeners[srv->listeners_count++];
	memset(l, 0, sizeof(*l));
	l->srv = srv;
	l->fd = fd;
	diag_info("listening on %s%s%s:%u", family == AF_INET6 ? "[" : "", ip,
	          family == AF_INET6 ? "]" : "", *bound);
	return 0;
bad_address:
	close(fd);
	return -TAPE_ECONFIG;
}

/* Splits "PLAINTEXT://host:port" into host and port. */
int listener_parse(const char *spec, char *host, size_t hostlen, int *port);
int listener_parse(const char *spec, char *host, size_t hostlen, int *port)
{
	const char *p = strstr(spec, "://");
	if (!p || strncmp(spec, "PLAINTEXT", (size_t)(p - spec)) != 0)
		return -TAPE_ECONFIG;
	p += 3;
	const char *colon = strrchr(p, ':');
	if (!colon)
		return -TAPE_ECONFIG;
	const char *h = p, *hend = colon;
	if (*h == '[' && hend > h && hend[-1] == ']') {
		h++;
		hend--;
	}
	if ((size_t)(hend - h) >= hostlen)
		return -TAPE_ECONFIG;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	char *end;
	long v = strtol(colon + 1, &end, 10);
	if (*end || v < 0 || v > 65535 || end == colon + 1)
		return -TAPE_ECONFIG;
	*port = (int)v;
	return 0;
}

int listeners_open(struct server *srv, const char *listeners)
{
	char host[256];
	int port;
	if (strchr(listeners, ',')) {
		diag_error("listeners: one PLAINTEXT listener is supported");
		return -TAPE_ECONFIG;
	}
	if (listener_parse(listeners, host, sizeof(host), &port) < 0) {
		diag_error("listeners: \"%s\" is not PLAINTEXT://host:port", listeners);
		return -TAPE_ECONFIG;
	}
	uint16_t bound = (uint16_t)port;
	int rc;
	if (strcmp(host, "localhost") == 0) {
		rc = bind_one(srv, AF_INET, "127.0.0.1", bound, &bound);
		if (rc == 0) {
			int rc6 = bind_one(srv, AF_INET6, "::1", bound, &bound);
			if (rc6 < 0)
				diag_warn("listening on ::1 failed (%s); IPv4 only",
				          tape_strerror(rc6));
		}
	} else if (host[0] == '\0') {
		rc = bind_one(srv, AF_INET, "0.0.0.0", bound, &bound);
	} else if (strchr(host, ':')) {
		rc = bind_one(srv, AF_INET6, host, bound, &bound);
	} else {
		rc = bind_one(srv, AF_INET, host, bound, &bound);
	}
	if (rc < 0) {
		diag_error("listeners: cannot listen on %s: %s", listeners, tape_strerror(rc));
		listeners_close(srv);
		return rc;
	}
	srv->port = bound;
	for (unsigned i = 0; i < srv->listeners_count; i++)
		arm_accept(&srv->listeners[i]);
	return 0;
}

void listeners_close(struct server *srv)
{
	for (unsigned i = 0; i < srv->listeners_count; i++) {
		struct listener *l = &srv->listeners[i];
		if (l->armed)
			reactor_cancel(srv->reactor, &l->accept_op);
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
	}
}
