/*
 * bench/pingpong.c: the loopback round trip, the floor under any produce -> consume latency.
 *
 * A thread echoes what it reads on a TCP connection over 127.0.0.1 (TCP_NODELAY both sides);
 * the main thread sends a SIZE-byte message, waits for it to come back whole, and records the
 * round trip, COUNT times after WARMUP unrecorded ones. Both sides block in read/write, the
 * way a consumer waiting in a long poll is woken. Reports p50/p99/p999 in microseconds, exact
 * (the samples are sorted, COUNT is bounded).
 *
 * Usage: pingpong [count] [size]     (defaults 100000 and 100)
 * Prints: "result pingpong count=N p50_us=A p99_us=B p999_us=C"
 */
#include "base/clock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define COUNT_DEFAULT 100000
#define COUNT_MAX 10000000
#define SIZE_DEFAULT 100
#define SIZE_MAX_BYTES 65536
#define WARMUP 1000

static int full_io(int fd, uint8_t *p, size_t n, int writing)
{
	while (n) {
		ssize_t r = writing ? write(fd, p, n) : read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

struct echo {
	int listen_fd;
	size_t size;
};

static void *echo_main(void *arg)
{
	struct echo *e = arg;
	int fd = accept(e->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	uint8_t *buf = malloc(e->size);
	while (buf && full_io(fd, buf, e->size, 0) == 0 && full_io(fd, buf, e->size, 1) == 0)
		;
	free(buf);
	close(fd);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pct_us(const int64_t *s, long n, double q)
{
	long i = (long)(q * (double)n);
	if (i >= n)
		i = n - 1;
	return (double)s[i] / 1e3;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : COUNT_DEFAULT;
	long size = argc > 2 ? atol(argv[2]) : SIZE_DEFAULT;
	if (count < 1 || count > COUNT_MAX || size < 1 || size > SIZE_MAX_BYTES) {
		fprintf(stderr, "usage: pingpong [count 1..%d] [size 1..%d]\n", COUNT_MAX,
		        SIZE_MAX_BYTES);
		return 2;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct echo e = { .listen_fd = socket(AF_INET, SOCK_STREAM, 0), .size = (size_t)size };
	if (e.listen_fd < 0 || bind(e.listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(e.listen_fd, 1) < 0 ||
	    getsockname(e.listen_fd, (struct sockaddr *)&a, &alen) < 0) {
		perror("pingpong: listen");
		return 2;
	}
	pthread_t th;
	if (pthread_create(&th, NULL, echo_main, &e) != 0) {
		fprintf(stderr, "pingpong: cannot start the echo thread\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("pingpong: connect");
		return 2;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	uint8_t *buf = calloc(1, (size_t)size);
	int64_t *samples = malloc((size_t)count * sizeof(*samples));
	if (!buf || !samples) {
		fprintf(stderr, "pingpong: out of memory\n");
		return 2;
	}
	for (long i = 0; i < WARMUP + count; i++) {
		int64_t t0 = clock_mono_ns();
		if (full_io(fd, buf, (size_t)size, 1) || full_io(fd, buf, (size_t)size, 0)) {
			fprintf(stderr, "pingpong: the echo connection failed\n");
			return 1;
		}
		if (i >= WARMUP)
			samples[i - WARMUP] = clock_mono_ns() - t0;
	}
	close(fd);
	pthread_join(th, NULL);
	close(e.listen_fd);
	qsort(samples, (size_t)count, sizeof(*samples), cmp_i64);
	double p50 = pct_us(samples, count, 0.50), p99 = pct_us(samples, count, 0.99),
	       p999 = pct_us(samples, count, 0.999);
	printf("pingpong: %ld round trips of %ld bytes over 127.0.0.1: p50 %.1f us, p99 %.1f us, "
	       "p999 %.1f us\n",
	       count, size, p50, p99, p999);
	printf("result pingpong count=%ld p50_us=%.1f p99_us=%.1f p999_us=%.1f\n", count, p50, p99,
	       p999);
	free(buf);
	free(samples);
	return 0;
}
