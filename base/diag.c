/*
 * base/diag.c: formats diagnostic lines and hands them to stderr or a test sink.
 * The level comes from the caller or from TAPE_DIAG_LEVEL (debug|info|warn|error|off) at the
 * first message.
 */
#include "base/diag.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int diag_level = -1;
static diag_sink_fn diag_sink;
static void *diag_sink_arg;

static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR", "OFF" };

static int level_from_env(void)
{
	const char *s = getenv("TAPE_DIAG_LEVEL");
	if (s)
		for (int i = DIAG_DEBUG; i <= DIAG_OFF; i++)
			if (strcasecmp(s, level_names[i]) == 0)
				return i;
	return DIAG_INFO;
}

void diag_set_level(enum diag_level level)
{
	atomic_store(&diag_level, (int)level);
}

enum diag_level diag_get_level(void)
{
	int l = atomic_load(&diag_level);
	if (l < 0) {
		l = level_from_env();
		atomic_store(&diag_level, l);
	}
	return (enum diag_level)l;
}

void diag_set_sink(diag_sink_fn sink, void *arg)
{
	diag_sink = sink;
	diag_sink_arg = arg;
}

void diag_emit(enum diag_level level, const char *file, int line, const char *fmt, ...)
{
	if (level < diag_get_level())
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s:%d ",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], file, line);
	if (n < 0)
		return;
	/* snprintf returns the length it wanted: a long file name can exceed the buffer, and the
	 * message must then start at its end (and be dropped), not past it. */
	if ((size_t)n > sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	if (diag_sink) {
		buf[len] = '\0';
		diag_sink(level, buf, diag_sink_arg);
		return;
	}
	buf[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, len);
	(void)w;
}
