/*
 * cli/main.c: the `tape` command: finds the subcommand named by the first argument and runs
 * it; `tape help`, `tape --help` and mistakes in the subcommand name.
 *
 * Owns: the dispatch table and the top-level usage. Must not know: any subcommand's options
 * or work (cli/cmd_<name>.c). A new subcommand is one line in the table below.
 */
#include "cli/cmd.h"

#include <stdio.h>
#include <string.h>

static const struct cmd *const commands[] = {
	&cmd_bench,   &cmd_consume, &cmd_dump,   &cmd_groups,
	&cmd_produce, &cmd_replay,  &cmd_topics, &cmd_verify,
};

#define COMMANDS_COUNT (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: tape <command> [options] [arguments]\n\ncommands:\n", out);
	for (size_t i = 0; i < COMMANDS_COUNT; i++) {
		char line[96];
		snprintf(line, sizeof(line), "%s %s", commands[i]->name, commands[i]->synopsis);
		fprintf(out, "  %-36s %s\n", line, commands[i]->summary);
	}
	fprintf(out, "  %-36s %s\n", "help [COMMAND]", "this text, or a command's own");
	fputs("\nexit status: 0 ok, 1 problems found in the data, 2 usage or I/O error\n", out);
}

static const struct cmd *find(const char *name)
{
	for (size_t i = 0; i < COMMANDS_COUNT; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static int help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return CMD_EXIT_OK;
	}
	const struct cmd *c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "tape help: unknown command '%s'\n\n", argv[1]);
		usage(stderr);
		return CMD_EXIT_USAGE;
	}
	c->usage(stdout);
	return CMD_EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CMD_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h"))
		return help(argc - 1, argv + 1);
	const struct cmd *c = find(name);
	if (!c) {
		fprintf(stderr, "tape: unknown command '%s'\n\n", name);
		usage(stderr);
		return CMD_EXIT_USAGE;
	}
	int status = c->run(argc - 1, argv + 1);
	/* Output that could not be written is an I/O error, whatever the command found. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tape %s: cannot write the output\n", name);
		return CMD_EXIT_USAGE;
	}
	return status;
}
