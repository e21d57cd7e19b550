/*
 * cli/cmd_dump.c: `tape dump [--records] [--json] FILE...`: prints segment, index, digest and
 * checkpoint files (log/dump.h has the formats), like Kafka's kafka-dump-log.
 *
 * Owns: the command line of `tape dump` and its exit status. Must not know: the file formats
 * (log/dump.c) or what makes a file valid (log/segment_scan.c, log/verify.c).
 */
#include "base/errors.h"
#include "cli/cmd.h"
#include "log/dump.h"

#include <getopt.h>
#include <stdio.h>

static void dump_usage(FILE *out)
{
	fputs(
	    "usage: tape dump [--records] [--json] FILE...\n"
	    "\n"
	    "Prints partition files, chosen by name:\n"
	    "  <base>.log        one line per batch (as kafka-dump-log), where and why the valid\n"
	    "                    data ends, and a summary\n"
	    "  <base>.index      offset: N position: P\n"
	    "  <base>.timeindex  timestamp: T offset: N\n"
	    "  <base>.digest     the digest, and whether the .log beside it still matches\n"
	    "  *.checkpoint      header and decoded contents\n"
	    "\n"
	    "options:\n"
	    "  --records   also each record of each batch, decompressed (keys and values with\n"
	    "              bytes other than printable ASCII escaped as \\xNN)\n"
	    "  --json      one JSON object per line instead of text\n"
	    "\n"
	    "exit status: 0 every file valid, 1 a file has problems (shown in the output),\n"
	    "2 usage error or a file cannot be read\n",
	    out);
}

static int dump_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "records", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dump_options opt = { 0 };
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "rjh", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			opt.records = true;
			break;
		case 'j':
			opt.json = true;
			break;
		case 'h':
			dump_usage(stdout);
			return CMD_EXIT_OK;
		default:
			fprintf(stderr, "tape dump: unknown option '%s'\n\n", argv[optind - 1]);
			dump_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		fputs("tape dump: no FILE given\n\n", stderr);
		dump_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	int status = CMD_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		if (dump_kind_of(path) == DUMP_UNKNOWN) {
			fprintf(
			    stderr,
			    "tape dump: %s: not a file tape can dump (.log, .index, .timeindex, "
			    ".digest, *.checkpoint)\n",
			    path);
			status = CMD_EXIT_USAGE;
			continue;
		}
		int rc = dump_file(stdout, path, &opt);
		if (rc < 0) {
			fflush(stdout); /* the error lands after what was printed of the file */
			fprintf(stderr, "tape dump: %s: %s\n", path, tape_strerror(rc));
			status = CMD_EXIT_USAGE;
		} else if (rc > 0 && status == CMD_EXIT_OK) {
			status = CMD_EXIT_PROBLEMS;
		}
	}
	return status;
}

const struct cmd cmd_dump = {
	.name = "dump",
	.synopsis = "[--records] [--json] FILE...",
	.summary = "print segment, index, digest and checkpoint files",
	.run = dump_run,
	.usage = dump_usage,
};
