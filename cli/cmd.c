/*
 * cli/cmd.c: what every subcommand shares: the usage-error line, integer arguments and the
 * default broker list.
 */
#include "cli/cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

int cmd_usage_error(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "tape %s: ", c->name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	c->usage(stderr);
	return CMD_EXIT_USAGE;
}

bool cmd_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

const char *cmd_default_brokers(void)
{
	const char *env = getenv("TAPE_BROKERS");
	return env && *env ? env : "localhost:9092";
}
