/*
 * cli/cmd_verify.c: `tape verify DIR...`: checks partition directories offline (every batch's
 * CRC and records, offsets, sidecars, checkpoints; log/verify.h lists the checks) and prints
 * one line per problem and a summary per directory.
 *
 * Owns: the command line of `tape verify` and its exit status. Must not know: what is checked
 * or how (log/verify.c).
 */
#include "base/errors.h"
#include "cli/cmd.h"
#include "log/verify.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

static void verify_usage(FILE *out)
{
	fputs("usage: tape verify DIR...\n"
	      "\n"
	      "Checks each partition directory (<data>/<topic>-<partition>) without opening it:\n"
	      "every batch's CRC-32C and records (compressed ones decompressed), offsets\n"
	      "increasing across segments, sealed segments ending at their data, .digest,\n"
	      ".index and .timeindex against the .log, and the checkpoints.\n"
	      "Prints \"problem: <file>: <where>: <what>\" per problem, \"note: ...\" for what\n"
	      "recovery handles by itself, and a summary line per directory.\n"
	      "\n"
	      "exit status: 0 no problems, 1 problems found, 2 usage error or a directory cannot\n"
	      "be read\n",
	      out);
}

static int verify_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			verify_usage(stdout);
			return CMD_EXIT_OK;
		}
		fprintf(stderr, "tape verify: unknown option '%s'\n\n", argv[optind - 1]);
		verify_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (optind == argc) {
		fputs("tape verify: no DIR given\n\n", stderr);
		verify_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	int status = CMD_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct verify_result res;
		int rc = verify_partition(argv[i], stdout, &res);
		if (rc < 0) {
			fflush(stdout);
			fprintf(stderr, "tape verify: %s: %s\n", argv[i], tape_strerror(rc));
			status = CMD_EXIT_USAGE;
			continue;
		}
		printf("verify: %s: %u segments, %" PRIu64 " batches, %" PRIu64 " records, %" PRIu64
		       " bytes: ",
		       argv[i], res.segments, res.batches, res.records, res.bytes);
		if (res.problems)
			printf("%u problem%s\n", res.problems, res.problems == 1 ? "" : "s");
		else
			printf("ok\n");
		if (res.problems && status == CMD_EXIT_OK)
			status = CMD_EXIT_PROBLEMS;
	}
	return status;
}

const struct cmd cmd_verify = {
	.name = "verify",
	.synopsis = "DIR...",
	.summary = "check partition directories offline (batches, offsets, sidecars)",
	.run = verify_run,
	.usage = verify_usage,
};
