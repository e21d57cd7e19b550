/*
 * bench/redis_replay.c: replays a Redis stream from the beginning the way a read-model rebuild
 * would, the peer of `tape bench consume` in scripts/bench-compare.sh.
 *
 * One connection; XRANGE key - + COUNT n, then XRANGE key (last-id + COUNT n until an empty
 * answer, each request sent when the previous answer is whole (the next start depends on it).
 * Every entry is parsed down to its field values (as a client must, to hand them on), and the
 * entries and value bytes are counted. RESP is parsed from the bytes received: an answer that
 * is not whole yet is parsed again when more arrives (an answer of 1000 100-byte entries is
 * ~150 KB, so a handful of passes at most).
 *
 * Usage: redis_replay PORT KEY [count_per_request]     (default 1000; host 127.0.0.1)
 * Prints: "result redis_replay entries=N bytes=B seconds=S eps=E"
 */
#include "base/clock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ID_MAX 64
#define DEPTH_MAX 8

struct reply {
	const char *p, *end;
	int64_t entries;     /* stream entries in the answer */
	int64_t value_bytes; /* bytes of every field value */
	char last_id[ID_MAX];
};

/* A CRLF-terminated integer after the type byte; NULL when not whole yet. */
static const char *line_int(const char *p, const char *end, long long *out)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return NULL;
	*out = strtoll(p, NULL, 10);
	return nl + 1;
}

/* One bulk string; NULL when not whole. */
static const char *bulk(const char *p, const char *end, const char **s, long long *len)
{
	if (p >= end)
		return NULL;
	if (*p != '$') {
		fprintf(stderr, "redis_replay: expected a bulk string, got '%c'\n", *p);
		exit(1);
	}
	if (!(p = line_int(p + 1, end, len)))
		return NULL;
	if (*len < 0) { /* a null bulk string */
		*s = NULL;
		*len = 0;
		return p;
	}
	if (end - p < *len + 2)
		return NULL;
	*s = p;
	return p + *len + 2;
}

/* The XRANGE answer: *N entries, each *2 [id, *2k [field, value]...]. 1 parsed, 0 need more. */
static int parse_xrange(struct reply *r)
{
	const char *p = r->p, *end = r->end;
	long long n;
	if (p >= end)
		return 0;
	if (*p == '-') {
		fprintf(stderr, "redis_replay: redis said %.*s\n", (int)(end - p - 1), p + 1);
		exit(1);
	}
	if (*p != '*' || !(p = line_int(p + 1, end, &n)))
		return 0;
	r->entries = 0;
	r->value_bytes = 0;
	for (long long i = 0; i < n; i++) {
		long long two, fields, len;
		const char *s;
		if (p >= end || *p != '*' || !(p = line_int(p + 1, end, &two)))
			return 0;
		if (!(p = bulk(p, end, &s, &len)))
			return 0;
		if (len >= ID_MAX) {
			fprintf(stderr, "redis_replay: an entry id of %lld bytes\n", len);
			exit(1);
		}
		memcpy(r->last_id, s, (size_t)len);
		r->last_id[len] = 0;
		if (p >= end || *p != '*' || !(p = line_int(p + 1, end, &fields)))
			return 0;
		for (long long f = 0; f < fields; f++) {
			if (!(p = bulk(p, end, &s, &len)))
				return 0;
			if (f & 1)
				r->value_bytes += len;
		}
		r->entries++;
	}
	r->p = p;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: redis_replay PORT KEY [count_per_request]\n");
		return 2;
	}
	int port = atoi(argv[1]);
	const char *key = argv[2];
	long per = argc > 3 ? atol(argv[3]) : 1000;
	if (port <= 0 || port > 65535 || per <= 0 || per > 1000000 || strlen(key) > 200) {
		fprintf(stderr, "redis_replay: bad arguments\n");
		return 2;
	}
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("redis_replay: connect");
		return 2;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	size_t cap = 1 << 20, len = 0;
	char *in = malloc(cap);
	char start[ID_MAX + 1] = "-";
	int64_t entries = 0, bytes = 0;
	int64_t t0 = clock_mono_ns();
	for (;;) {
		char cmd[512];
		char countbuf[24];
		snprintf(countbuf, sizeof(countbuf), "%ld", per);
		int n =
		    snprintf(cmd, sizeof(cmd),
		             "*6\r\n$6\r\nXRANGE\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n$1\r\n+\r\n$5\r\n"
		             "COUNT\r\n$%zu\r\n%s\r\n",
		             strlen(key), key, strlen(start), start, strlen(countbuf), countbuf);
		if (write(fd, cmd, (size_t)n) != n) {
			perror("redis_replay: write");
			return 1;
		}
		len = 0;
		struct reply r = { 0 };
		for (;;) {
			if (len == cap && !(in = realloc(in, cap *= 2))) {
				fprintf(stderr, "redis_replay: out of memory\n");
				return 1;
			}
			ssize_t got = read(fd, in + len, cap - len);
			if (got <= 0) {
				fprintf(stderr, "redis_replay: the connection ended\n");
				return 1;
			}
			len += (size_t)got;
			r.p = in;
			r.end = in + len;
			if (parse_xrange(&r))
				break;
		}
		if (r.entries == 0)
			break;
		entries += r.entries;
		bytes += r.value_bytes;
		snprintf(start, sizeof(start), "(%s", r.last_id);
	}
	double s = (double)(clock_mono_ns() - t0) / 1e9;
	printf("redis_replay: %lld entries, %lld value bytes in %.3f s = %.0f entries/s\n",
	       (long long)entries, (long long)bytes, s, (double)entries / s);
	printf("result redis_replay entries=%lld bytes=%lld seconds=%.6f eps=%.0f\n",
	       (long long)entries, (long long)bytes, s, (double)entries / s);
	free(in);
	close(fd);
	return 0;
}
