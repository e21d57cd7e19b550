/*
 * cli/cmd.h: what a `tape` subcommand is, for the dispatch table in cli/main.c. Each
 * subcommand lives in cli/cmd_<name>.c and exports one `const struct cmd cmd_<name>`.
 *
 * Exit status, the same for every subcommand (scripts rely on it):
 *   0  done, nothing wrong found
 *   1  done, and the data has problems (they were reported)
 *   2  usage error, or a file or directory could not be read
 */
#ifndef TAPE_CLI_CMD_H
#define TAPE_CLI_CMD_H

#include <stdbool.h>
#include <stdio.h>

#define CMD_EXIT_OK 0
#define CMD_EXIT_PROBLEMS 1
#define CMD_EXIT_USAGE 2

struct cmd {
	const char *name;
	const char *synopsis; /* arguments, for usage lines: "[--json] FILE..." */
	const char *summary;  /* one line */
	/* Runs with argv[0] the subcommand's name; returns the exit status. */
	int (*run)(int argc, char **argv);
	/* The subcommand's own help, options included. */
	void (*usage)(FILE *out);
};

/* "tape <name>: <message>", a blank line and the subcommand's usage on stderr; returns
 * CMD_EXIT_USAGE. Each subcommand wraps it as usage_error(...). */
__attribute__((format(printf, 2, 3))) int cmd_usage_error(const struct cmd *c, const char *fmt,
                                                          ...);

/* The brokers when -b is absent: $TAPE_BROKERS when set and not empty, else
 * "localhost:9092". */
const char *cmd_default_brokers(void);

/* A whole decimal integer in [min, max] (no trailing bytes, no overflow) into *out. */
bool cmd_parse_int(const char *s, long long min, long long max, long long *out);

extern const struct cmd cmd_bench;
extern const struct cmd cmd_consume;
extern const struct cmd cmd_dump;
extern const struct cmd cmd_produce;
extern const struct cmd cmd_replay;
extern const struct cmd cmd_verify;
extern const struct cmd cmd_topics;
extern const struct cmd cmd_groups;

#endif
