/*
 * cli/cmd_replay.c: `tape replay TOPIC`: every record of a topic's partitions, in order per
 * partition, from a start (--from) to an end (--until) or on along the tail, written to
 * stdout or handed to a command one record at a time (--exec), to rebuild a read model.
 *
 * Owns: the command line of `tape replay`, the bounds of each partition, running the command
 * (one /bin/sh -c per record, the value on its stdin, the record in its environment), retries
 * with backoff, the dead-letter topic, committing progress with -g, the progress line and the
 * summary. Must not know: the protocol (client/tape.h is all it uses); the pure parts
 * (parsing bounds, backoff, dead-letter headers) are in cli/replay.c.
 *
 * Bounds. Per partition, [start, until): start is --from (the group's committed offset wins
 * with -g); until is --until: an offset, the first offset whose timestamp is >= TIME (looked
 * up when the replay starts, for a time already past; for a time to come, the first record
 * read with such a timestamp), or "end", the high watermark when the replay started. Without
 * --until the replay follows the tail until interrupted. These lookups are made with the
 * consumer itself: it is first assigned at the end (or at the time), and its positions once
 * known are the bounds; then it seeks to the starts.
 *
 * Failures. A command that exits non-zero or is killed runs again after 100 ms, 200 ms, ...
 * (at most REPLAY_BACKOFF_MAX_MS) up to --retries times; then the record goes to the
 * dead-letter topic with its key, value and headers and tape.dlq.* headers (cli/replay.h), and
 * the replay goes on; without --dlq the replay stops there, exit status 1, naming the record.
 *
 * Progress (-g). A record is done when its command succeeded, it reached the dead-letter topic,
 * or (without --exec) it was written to stdout and stdout was flushed. Done offsets are
 * committed, waiting for the coordinator's answer: after every record with --exec (a round
 * trip is small next to starting a process), every REPLAY_COMMIT_INTERVAL_MS otherwise, and
 * on the way out. SIGINT/SIGTERM let the record in hand finish (its command
 * too), commit and exit 128+signal; a second signal leaves at once. So a replay stopped cleanly
 * resumes exactly after the last record done, and one killed with SIGKILL repeats at most
 * what it did since its last commit.
 */
#include "client/tape.h"
#include "cli/cmd.h"
#include "cli/format.h"
#include "cli/replay.h"

#include "base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The first retry waits this long, each next one twice as long, up to the max. */
#define REPLAY_BACKOFF_BASE_MS 100
#define REPLAY_BACKOFF_MAX_MS 10000
#define REPLAY_RETRIES_DEFAULT 3
/* Retries one record may get: with the max backoff, about an hour. */
#define REPLAY_RETRIES_MAX 360
/* Without --exec, records written are committed (after a flush of stdout) this often. */
#define REPLAY_COMMIT_INTERVAL_MS 500
/* The progress line is redrawn this often (on a terminal only). */
#define REPLAY_PROGRESS_INTERVAL_MS 250
/* How long the bounds of every partition may take to be looked up. */
#define REPLAY_LOOKUP_TIMEOUT_MS 30000
/* The environment variables set for the command. */
#define REPLAY_ENV_VARS 5

struct replay_opts {
	const char *topic;
	const char *brokers;
	const char *exec;
	const char *group;
	const char *dlq;
	const char *format; /* -f; NULL: "%s\n" */
	bool json;
	struct replay_bound from;
	struct replay_bound until;
	int32_t partition; /* -1: every partition */
	int32_t retries;
	int32_t session_timeout_ms; /* -X; 0: libtape's default */
	int32_t heartbeat_interval_ms;
	bool quiet;
};

/* One partition being replayed. */
struct rpart {
	int32_t partition;
	int64_t until;     /* the first offset not replayed; -1: follow the tail */
	int64_t next;      /* the next offset to replay; -1 until known */
	int64_t committed; /* the offset last committed (-g); -1: none */
	int64_t hw_start;  /* the high watermark when the replay started */
	bool done;
	bool owned; /* -g: the group assigned it to us (without -g: always) */
};

struct replay {
	const struct replay_opts *o;
	struct tape_client *cl;  /* the consumer's: creates no topics */
	struct tape_client *pcl; /* the dead-letter producer's */
	struct tape_consumer *c;
	struct tape_producer *p;
	struct format fmt;
	struct format_out out; /* the records rendered and not yet written */
	struct rpart *parts;
	int32_t parts_count;
	int32_t done_count;
	int64_t replayed; /* records done, dead-lettered ones included */
	int64_t dead;     /* sent to the dead-letter topic */
	int64_t uncommitted_since_ms;
	bool dirty;         /* records done since the last commit */
	bool commit_warned; /* a failed commit was reported */
	bool fatal;         /* a rebalance callback could not start a partition */
	/* the command's environment: environ without our variables, then ours, then NULL */
	char **env;
	size_t env_base;
	char *env_key; /* TAPE_KEY=..., grown as keys need */
	size_t env_key_cap;
	/* the dead-letter delivery in flight */
	bool dlq_done;
	struct tape_error dlq_error;
	bool dlq_failed;
	/* progress */
	bool tty;
	int64_t start_ns, last_progress_ms, rate_mark_ms, rate_mark_count;
	double rate;
	bool progress_shown;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	if (interrupted) /* a second signal: leave now */
		_exit(128 + sig);
	interrupted = sig;
}

static void replay_usage(FILE *out)
{
	fputs(
	    "usage: tape replay [options] TOPIC --from beginning|@TIME|OFFSET\n"
	    "         [--until end|@TIME|OFFSET] [--exec CMD] [-g GROUP] [--retries N] [--dlq T]\n"
	    "\n"
	    "Replays TOPIC to rebuild a read model: every record, in order per partition, from\n"
	    "--from up to (not including) --until, is written to stdout (its value and a "
	    "newline),\n"
	    "or with --exec given to CMD, run by /bin/sh -c once per record with the value on its\n"
	    "stdin and in its environment TAPE_TOPIC, TAPE_PARTITION, TAPE_OFFSET, TAPE_KEY "
	    "(empty\n"
	    "for a null key) and TAPE_TIMESTAMP (ms since the epoch). Commands run one at a time.\n"
	    "\n"
	    "options:\n"
	    "  -b, --brokers LIST   host:port,... (default: $TAPE_BROKERS, else localhost:9092)\n"
	    "      --from WHERE     beginning, @TIME (the first record stamped at or after TIME),\n"
	    "                       or OFFSET (the same offset in every partition)\n"
	    "      --until WHERE    end (the high watermark when the replay starts), @TIME, or\n"
	    "                       OFFSET; without it the replay follows the tail until stopped\n"
	    "  -p, --partition N    only partition N\n"
	    "  -f, --format FORMAT  how records are written: kcat's tokens as in tape consume\n"
	    "                       (default \"%s\\n\")\n"
	    "  -J, --json           one JSON object per record and line, as tape consume --json\n"
	    "      --exec CMD       run CMD for each record instead of writing it\n"
	    "      --retries N      runs again a failing CMD (non-zero exit, or killed) N times\n"
	    "                       (default 3), waiting 100 ms, 200 ms, ... (at most 10 s)\n"
	    "      --dlq TOPIC      then send the record to TOPIC, with its key, value and "
	    "headers\n"
	    "                       and tape.dlq.error, .topic, .partition, .offset, .timestamp,\n"
	    "                       .attempts headers, and go on; without --dlq such a record "
	    "stops\n"
	    "                       the replay (exit status 1)\n"
	    "  -g, --group GROUP    join GROUP (as its only member): start from its committed\n"
	    "                       offsets where it has them, and commit each record done (its\n"
	    "                       CMD succeeded, or it reached --dlq; without --exec, written\n"
	    "                       and flushed, committed every 0.5 s), so that a replay stopped\n"
	    "                       resumes after the last record done\n"
	    "  -X, --property K=V   session.timeout.ms, heartbeat.interval.ms (with -g)\n"
	    "  -q, --quiet          no summary\n"
	    "  -h, --help           this text\n"
	    "\n"
	    "TIME is epoch milliseconds. On a terminal a progress line on stderr shows records/s,\n"
	    "the records left and an ETA; a summary line ends every replay.\n"
	    "SIGINT or SIGTERM: the record in hand is finished (CMD too), progress committed, and\n"
	    "the replay exits 128+signal; a second signal exits at once.\n"
	    "\n"
	    "exit status: 0 replayed up to --until, 1 a record failed every attempt (without\n"
	    "--dlq), 2 usage error, no usable broker or topic, or output that cannot be written,\n"
	    "130/143 stopped by SIGINT/SIGTERM\n",
	    out);
}

#define usage_error(...) cmd_usage_error(&cmd_replay, __VA_ARGS__)

enum { OPT_FROM = 256, OPT_UNTIL, OPT_EXEC, OPT_RETRIES, OPT_DLQ };

static int parse_args(int argc, char **argv, struct replay_opts *o)
{
	static const struct option options[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "partition", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'J' },
		{ "exec", required_argument, NULL, OPT_EXEC },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "dlq", required_argument, NULL, OPT_DLQ },
		{ "group", required_argument, NULL, 'g' },
		{ "property", required_argument, NULL, 'X' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char why[96], *end, *eq;
	bool from_given = false;
	long v;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:p:f:Jg:X:qh", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case OPT_FROM:
		case OPT_UNTIL:
			if (replay_bound_parse(optarg, c == OPT_UNTIL, clock_wall_ms(),
			                       c == OPT_UNTIL ? &o->until : &o->from, why,
			                       sizeof(why)) < 0)
				return usage_error("--%s %s: %s", c == OPT_UNTIL ? "until" : "from",
				                   optarg, why);
			from_given |= c == OPT_FROM;
			break;
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 0 || v > INT32_MAX)
				return usage_error("-p %s: not a partition number", optarg);
			o->partition = (int32_t)v;
			break;
		case 'f':
			o->format = optarg;
			break;
		case 'J':
			o->json = true;
			break;
		case OPT_EXEC:
			o->exec = optarg;
			break;
		case OPT_RETRIES:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 0 || v > REPLAY_RETRIES_MAX)
				return usage_error("--retries %s: a count from 0 to %d", optarg,
				                   REPLAY_RETRIES_MAX);
			o->retries = (int32_t)v;
			break;
		case OPT_DLQ:
			o->dlq = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'X':
			eq = strchr(optarg, '=');
			errno = 0;
			v = eq ? strtol(eq + 1, &end, 10) : 0;
			if (!eq || errno || end == eq + 1 || *end || v < 1 || v > INT32_MAX)
				return usage_error("-X %s: KEY=MS", optarg);
			if (!strncmp(optarg, "session.timeout.ms=", 19))
				o->session_timeout_ms = (int32_t)v;
			else if (!strncmp(optarg, "heartbeat.interval.ms=", 22))
				o->heartbeat_interval_ms = (int32_t)v;
			else
				return usage_error("-X %s: unknown property (see --help)", optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			replay_usage(stdout);
			return -1;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error(optind == argc ? "no TOPIC given" : "one TOPIC only");
	o->topic = argv[optind];
	if (!from_given)
		return usage_error("--from is needed: beginning, @TIME or OFFSET");
	if (o->json && o->format)
		return usage_error("-f and --json do not go together");
	if (o->exec && (o->json || o->format))
		return usage_error("--exec hands the value to CMD: -f and --json do not apply");
	if (o->dlq && !o->exec)
		return usage_error(
		    "--dlq goes with --exec (records written to stdout do not fail)");
	if (o->group && o->partition >= 0)
		return usage_error("-p and -g do not go together: the group assigns partitions");
	if (o->dlq && !strcmp(o->dlq, o->topic))
		return usage_error("the dead-letter topic cannot be the topic replayed");
	return 0;
}

/* ---- partitions and their bounds ------------------------------------------------------------ */

static struct rpart *find_part(struct replay *r, int32_t partition)
{
	for (int32_t i = 0; i < r->parts_count; i++)
		if (r->parts[i].partition == partition)
			return &r->parts[i];
	return NULL;
}

static void part_done(struct replay *r, struct rpart *rp)
{
	if (rp->done)
		return;
	rp->done = true;
	r->done_count++;
	if (!r->o->group) /* a group's partition stays assigned; its records are ignored */
		tape_consumer_unassign(r->c, r->o->topic, rp->partition);
}

/* Assigns every partition to the probe consumer at start (or seeks it there) and polls until
 * every position is known; the positions go to out (one per partition). Records and events
 * met meanwhile are dropped. */
static int lookup(struct replay *r, struct tape_consumer *probe, struct tape_start start,
                  bool assign, int64_t *out)
{
	struct tape_error err;
	for (int32_t i = 0; i < r->parts_count; i++) {
		int32_t p = r->parts[i].partition;
		int rc = assign ? tape_consumer_assign(probe, r->o->topic, p, start, &err)
		                : tape_consumer_seek(probe, r->o->topic, p, start, &err);
		if (rc < 0) {
			fprintf(stderr, "tape replay: %s\n", err.message);
			return -1;
		}
	}
	int64_t deadline = clock_mono_ms() + REPLAY_LOOKUP_TIMEOUT_MS;
	for (;;) {
		int32_t known = 0;
		for (int32_t i = 0; i < r->parts_count; i++) {
			out[i] = tape_consumer_position(probe, r->o->topic, r->parts[i].partition);
			known += out[i] >= 0;
		}
		if (known == r->parts_count)
			return 0;
		if (interrupted)
			return -1;
		if (clock_mono_ms() > deadline) {
			fprintf(stderr,
			        "tape replay: the offsets of \"%s\" were not found in %d s\n",
			        r->o->topic, REPLAY_LOOKUP_TIMEOUT_MS / 1000);
			return -1;
		}
		struct tape_message m;
		if (tape_consumer_poll(probe, 100, &m, &err) < 0) {
			fprintf(stderr, "tape replay: %s\n", err.message);
			return -1;
		}
	}
}

static struct tape_start start_of(struct replay_bound b)
{
	switch (b.kind) {
	case REPLAY_BOUND_OFFSET:
		return (struct tape_start){ TAPE_START_OFFSET, b.value };
	case REPLAY_BOUND_TIME:
		return (struct tape_start){ TAPE_START_TIME, b.value };
	case REPLAY_BOUND_END:
		return (struct tape_start){ TAPE_START_END, 0 };
	default:
		return (struct tape_start){ TAPE_START_BEGINNING, 0 };
	}
}

/* Every partition's until (and its high watermark now), looked up with a consumer of its
 * own, which the replay's (in a group, perhaps) need not know about. Returns 0 or -1 (said
 * why). */
static int set_bounds(struct replay *r)
{
	const struct replay_opts *o = r->o;
	struct tape_consumer_config kc;
	struct tape_consumer *probe = NULL;
	struct tape_error err;
	int64_t *hw = calloc((size_t)r->parts_count, sizeof(*hw) * 2);
	if (!hw) {
		fputs("tape replay: out of memory\n", stderr);
		return -1;
	}
	int64_t *until = hw + r->parts_count;
	tape_consumer_config_init(&kc);
	kc.fetch_max_wait_ms = 10; /* it is freed as soon as the offsets are known */
	int rc = tape_consumer_new(r->cl, &kc, &probe, &err);
	if (rc < 0)
		fprintf(stderr, "tape replay: %s\n", err.message);
	if (rc == 0)
		rc = lookup(r, probe, (struct tape_start){ TAPE_START_END, 0 }, true, hw);
	bool until_lookup = o->until.kind == REPLAY_BOUND_TIME && o->until.value <= clock_wall_ms();
	if (rc == 0 && until_lookup)
		rc = lookup(r, probe, start_of(o->until), false, until);
	for (int32_t i = 0; rc == 0 && i < r->parts_count; i++) {
		struct rpart *rp = &r->parts[i];
		rp->hw_start = hw[i];
		if (o->until.kind == REPLAY_BOUND_END)
			rp->until = hw[i];
		else if (o->until.kind == REPLAY_BOUND_OFFSET)
			rp->until = o->until.value;
		else if (until_lookup)
			rp->until = until[i];
		else
			rp->until = -1;
	}
	tape_consumer_free(probe);
	free(hw);
	return rc;
}

/* Starts reading rp: at committed when >= 0 (the group's), else where --from says. assign:
 * assign it by hand (no group); otherwise the group assigned it and it is moved there (a
 * partition with nothing to do stays assigned, its records ignored). Returns 0 or -1 (said
 * why). */
static int start_part(struct replay *r, struct rpart *rp, int64_t committed, bool assign)
{
	const struct replay_opts *o = r->o;
	struct tape_start start = start_of(o->from);
	rp->committed = committed;
	if (committed >= 0)
		start = (struct tape_start){ TAPE_START_OFFSET, committed };
	rp->next = start.kind == TAPE_START_OFFSET ? start.value : -1;
	if (rp->next >= 0 && rp->until >= 0 && rp->next >= rp->until) {
		if (!rp->done)
			r->done_count++;
		rp->done = true;
		return 0;
	}
	/* Past the end: read from the end, and the records before next are skipped (fetching
	 * past the end would be out of range, which resets to the beginning). */
	if (rp->next > rp->hw_start)
		start.value = rp->hw_start;
	struct tape_error err;
	int rc = assign ? tape_consumer_assign(r->c, o->topic, rp->partition, start, &err)
	                : tape_consumer_seek(r->c, o->topic, rp->partition, start, &err);
	if (rc < 0) {
		fprintf(stderr, "tape replay: %s\n", err.message);
		return -1;
	}
	return 0;
}

/* Commits the next offset of every partition that moved since its last commit. wait: until
 * the coordinator answered. A commit refused (a rebalance, the coordinator moving) is said
 * once and is not fatal: the records since the last commit are replayed again after the
 * rebalance, which is what committing protects against. Returns 0 or -1 (a final commit,
 * with wait, failed: said why). */
static void clear_progress(struct replay *r);

static int group_commit(struct replay *r, bool wait)
{
	int rc = 0;
	for (int32_t i = 0; i < r->parts_count; i++) {
		struct rpart *rp = &r->parts[i];
		if (!rp->owned || rp->next < 0 || rp->next == rp->committed)
			continue;
		struct tape_error err;
		if (tape_consumer_commit_offset(r->c, r->o->topic, rp->partition, rp->next, wait,
		                                &err) < 0) {
			if (wait || !r->commit_warned) {
				clear_progress(r);
				fprintf(stderr,
				        "tape replay: cannot commit offset %lld of partition %d in "
				        "group \"%s\": %s\n",
				        (long long)rp->next, rp->partition, r->o->group,
				        err.message);
			}
			r->commit_warned = true;
			rc = wait ? -1 : 0;
			continue;
		}
		rp->committed = rp->next;
	}
	r->dirty = false;
	return rc;
}

/* The group's rebalances: partitions assigned start at the committed offset, or where --from
 * says; partitions taken away are no longer ours (the replay expects to be its group's only
 * member, and waits for them to come back). */
static void on_rebalance(const struct tape_rebalance *rb, void *arg)
{
	struct replay *r = arg;
	if (rb->kind == TAPE_REBALANCE_JOINED)
		return;
	for (int32_t i = 0; i < rb->partitions_count; i++) {
		const struct tape_partition *tp = &rb->partitions[i];
		struct rpart *rp =
		    strcmp(tp->topic, r->o->topic) ? NULL : find_part(r, tp->partition);
		if (!rp)
			continue;
		rp->owned = rb->kind == TAPE_REBALANCE_ASSIGNED;
		if (rp->owned && !rp->done && start_part(r, rp, tp->offset, false) < 0)
			r->fatal = true;
	}
}

/* ---- the command -------------------------------------------------------------------------------
 */

static bool is_ours(const char *var)
{
	static const char *const names[] = { "TAPE_TOPIC=", "TAPE_PARTITION=", "TAPE_OFFSET=",
		                             "TAPE_KEY=", "TAPE_TIMESTAMP=" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(var, names[i], strlen(names[i])))
			return true;
	return false;
}

/* The environment array: environ without our variables, room for ours and NULL. */
static int env_init(struct replay *r)
{
	size_t n = 0;
	while (environ[n])
		n++;
	r->env = calloc(n + REPLAY_ENV_VARS + 1, sizeof(char *));
	if (!r->env)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!is_ours(environ[i]))
			r->env[r->env_base++] = environ[i];
	return 0;
}

/* Sets our variables for m. The key is cut at its first NUL byte (an environment string
 * ends there). */
static int env_set(struct replay *r, const struct tape_message *m, char vars[4][64])
{
	size_t key_len = m->key ? strnlen(m->key, (size_t)m->key_len) : 0;
	if (key_len + 10 > r->env_key_cap) {
		size_t cap = key_len + 64;
		char *k = realloc(r->env_key, cap);
		if (!k)
			return -1;
		r->env_key = k;
		r->env_key_cap = cap;
	}
	memcpy(r->env_key, "TAPE_KEY=", 9);
	if (key_len)
		memcpy(r->env_key + 9, m->key, key_len);
	r->env_key[9 + key_len] = '\0';
	snprintf(vars[0], 64, "TAPE_TOPIC=%.50s", m->topic);
	snprintf(vars[1], 64, "TAPE_PARTITION=%d", m->partition);
	snprintf(vars[2], 64, "TAPE_OFFSET=%lld", (long long)m->offset);
	snprintf(vars[3], 64, "TAPE_TIMESTAMP=%lld", (long long)m->timestamp_ms);
	char **e = r->env + r->env_base;
	e[0] = vars[0];
	e[1] = vars[1];
	e[2] = vars[2];
	e[3] = r->env_key;
	e[4] = vars[3];
	e[5] = NULL;
	return 0;
}

/* Writes the value to the command's stdin; a command that does not read it all is fine. */
static void feed(int fd, const struct tape_message *m)
{
	const char *p = m->value;
	size_t left = m->value && m->value_len > 0 ? (size_t)m->value_len : 0;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EPIPE: it exited or closed its stdin */
		p += n;
		left -= (size_t)n;
	}
}

/* Runs the command once for m. Returns its wait status, or -1 when it could not be started
 * (why in failure). */
static int run_once(struct replay *r, const struct tape_message *m, char *failure, size_t len)
{
	char vars[4][64];
	/* The topic name may be longer than vars[0] holds: then it is set in full here. */
	char *topic_var = NULL;
	if (env_set(r, m, vars) < 0 ||
	    (strlen(m->topic) > 50 && asprintf(&topic_var, "TAPE_TOPIC=%s", m->topic) < 0)) {
		snprintf(failure, len, "out of memory");
		return -1;
	}
	if (topic_var)
		r->env[r->env_base] = topic_var;
	int fds[2] = { -1, -1 }, status = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigset_t def, none;
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE); /* ignored here, while writing values; not in the command */
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(failure, len, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	char *argv[] = { "sh", "-c", (char *)r->o->exec, NULL };
	pid_t pid;
	int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, r->env);
	close(fds[0]);
	if (rc) {
		close(fds[1]);
		snprintf(failure, len, "cannot run /bin/sh: %s", strerror(rc));
		goto out;
	}
	feed(fds[1], m);
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(failure, len, "waitpid: %s", strerror(errno));
			status = -1;
			break;
		}
	}
out:
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(topic_var);
	return status;
}

/* Sleeps ms, or less when interrupted. */
static void backoff(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	while (!interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void on_dlq_delivery(const struct tape_delivery *d, void *arg)
{
	struct replay *r = arg;
	r->dlq_done = true;
	if (d->error) {
		r->dlq_failed = true;
		r->dlq_error = *d->error;
	}
}

/* Sends m to the dead-letter topic and waits for its delivery. Returns 0 or -1 (said why). */
static int dead_letter(struct replay *r, const struct tape_message *m, const char *failure,
                       int32_t attempts)
{
	struct tape_header *hs = calloc((size_t)m->headers_count + REPLAY_DLQ_HEADERS, sizeof(*hs));
	char scratch[REPLAY_DLQ_SCRATCH_BYTES];
	if (!hs) {
		fputs("tape replay: out of memory\n", stderr);
		return -1;
	}
	struct tape_record rec = TAPE_RECORD(r->o->dlq);
	rec.key = m->key;
	rec.key_len = m->key ? m->key_len : 0;
	rec.value = m->value;
	rec.value_len = m->value ? m->value_len : 0;
	rec.headers = hs;
	rec.headers_count = replay_dlq_headers(m, failure, attempts, hs, scratch);
	struct tape_error err;
	r->dlq_done = r->dlq_failed = false;
	int rc = tape_producer_send(r->p, &rec, &err);
	free(hs);
	if (rc == 0) {
		struct tape_producer_config pc;
		tape_producer_config_init(&pc);
		rc = tape_producer_flush(r->p, pc.delivery_timeout_ms + 5000, &err);
	}
	if (rc == 0 && r->dlq_failed) {
		err = r->dlq_error;
		rc = -1;
	}
	if (rc == 0 && !r->dlq_done) {
		snprintf(err.message, sizeof(err.message), "no delivery report");
		rc = -1;
	}
	if (rc < 0) {
		fprintf(stderr,
		        "tape replay: \"%s\" partition %d offset %lld: cannot send it to the "
		        "dead-letter topic \"%s\": %s\n",
		        m->topic, m->partition, (long long)m->offset, r->o->dlq, err.message);
		return -1;
	}
	r->dead++;
	return 0;
}

/* Runs the command for m until it succeeds or the retries run out. Returns 1 done (by the
 * command or the dead-letter topic), 0 interrupted (not done), -1 failed for good (said why),
 * -2 a dead letter that could not be sent (said why). */
static int run_command(struct replay *r, const struct tape_message *m)
{
	char failure[160];
	int32_t attempts = 0;
	for (int32_t retry = 0;; retry++) {
		if (retry > 0) {
			backoff(replay_backoff_ms(retry, REPLAY_BACKOFF_BASE_MS,
			                          REPLAY_BACKOFF_MAX_MS));
			if (interrupted)
				return 0;
		}
		int status = run_once(r, m, failure, sizeof(failure));
		attempts++;
		if (status >= 0 && !replay_status_text(status, failure, sizeof(failure)))
			return 1;
		/* Killed by the interrupt that stops us (Ctrl-C reaches the whole process
		 * group): the record is not done, nor failed. */
		if (interrupted && status >= 0 && WIFSIGNALED(status))
			return 0;
		if (retry == r->o->retries || interrupted)
			break;
	}
	if (interrupted) /* the retries left are for the replay that resumes */
		return 0;
	if (r->o->dlq)
		return dead_letter(r, m, failure, attempts) == 0 ? 1 : -2;
	fprintf(stderr,
	        "tape replay: \"%s\" partition %d offset %lld: the command failed %d time%s "
	        "(the last: %s); the replay stops here (--dlq TOPIC sets such records aside)\n",
	        m->topic, m->partition, (long long)m->offset, attempts, attempts > 1 ? "s" : "",
	        failure);
	return -1;
}

/* ---- the loop -------------------------------------------------------------------------------- */

/* Writes m as -f or --json say. Returns 0 or -1 (out of memory, or stdout cannot be
 * written). */
static int write_record(struct replay *r, const struct tape_message *m)
{
	r->out.len = 0;
	if ((r->o->json ? format_render_json(m, &r->out) : format_render(&r->fmt, m, &r->out)) < 0)
		return -1;
	if (r->out.len && fwrite(r->out.p, 1, r->out.len, stdout) != r->out.len)
		return -1;
	return 0;
}

/* Commits what is done when it is time (now) or when forced; stdout is flushed first, so
 * that what is committed was written. */
static int commit_progress(struct replay *r, bool force)
{
	if (!r->o->group || !r->dirty)
		return 0;
	int64_t now = clock_mono_ms();
	if (!force && !r->o->exec && now - r->uncommitted_since_ms < REPLAY_COMMIT_INTERVAL_MS)
		return 0;
	if (!r->o->exec && fflush(stdout) != 0)
		return -1;
	r->uncommitted_since_ms = now;
	return group_commit(r, true);
}

static int64_t records_left(struct replay *r)
{
	int64_t left = 0;
	for (int32_t i = 0; i < r->parts_count; i++) {
		const struct rpart *rp = &r->parts[i];
		if (rp->done)
			continue;
		int64_t end = rp->until, hw;
		if (tape_consumer_watermarks(r->c, r->o->topic, rp->partition, NULL, &hw) == 0 &&
		    (end < 0 || hw < end))
			end = hw;
		int64_t next = rp->next >= 0
		                   ? rp->next
		                   : tape_consumer_position(r->c, r->o->topic, rp->partition);
		if (end > next && next >= 0)
			left += end - next;
	}
	return left;
}

static void clear_progress(struct replay *r)
{
	if (r->progress_shown)
		fputs("\r\033[K", stderr);
	r->progress_shown = false;
}

/* Redraws the progress line (a terminal only) every REPLAY_PROGRESS_INTERVAL_MS. */
static void progress(struct replay *r)
{
	if (!r->tty)
		return;
	int64_t now = clock_mono_ms();
	if (now - r->last_progress_ms < REPLAY_PROGRESS_INTERVAL_MS)
		return;
	r->last_progress_ms = now;
	if (now - r->rate_mark_ms >= 1000) { /* records/s over the last second or so */
		double inst = (double)(r->replayed - r->rate_mark_count) * 1000.0 /
		              (double)(now - r->rate_mark_ms);
		r->rate = r->rate_mark_ms ? 0.5 * r->rate + 0.5 * inst : inst;
		r->rate_mark_ms = now;
		r->rate_mark_count = r->replayed;
	}
	int64_t left = records_left(r);
	char eta[32] = "-";
	if (r->rate > 0.5) {
		int64_t s = (int64_t)((double)left / r->rate);
		snprintf(eta, sizeof(eta), "%lld:%02lld:%02lld", (long long)(s / 3600),
		         (long long)(s / 60 % 60), (long long)(s % 60));
	}
	fprintf(stderr, "\r\033[K%lld records, %.0f records/s, %lld left, ETA %s",
	        (long long)r->replayed, r->rate, (long long)left, eta);
	if (r->dead)
		fprintf(stderr, ", %lld to %s", (long long)r->dead, r->o->dlq);
	r->progress_shown = true;
}

/* One record in its partition's bounds. Returns 0, or the exit status to stop with. */
static int replay_record(struct replay *r, struct rpart *rp, const struct tape_message *m)
{
	if (r->o->exec) {
		int rc = run_command(r, m);
		if (rc == 0)
			return 128 + interrupted;
		if (rc == -1)
			return CMD_EXIT_PROBLEMS;
		if (rc < 0)
			return CMD_EXIT_USAGE;
	} else if (write_record(r, m) < 0) {
		fputs("tape replay: cannot write the output\n", stderr);
		return CMD_EXIT_USAGE;
	}
	if (!r->dirty)
		r->uncommitted_since_ms = clock_mono_ms();
	rp->next = m->offset + 1;
	r->dirty = true;
	r->replayed++;
	if (rp->until >= 0 && rp->next >= rp->until)
		part_done(r, rp);
	return 0;
}

static int on_message(struct replay *r, int kind, const struct tape_message *m)
{
	struct rpart *rp = find_part(r, m->partition);
	if (!rp || rp->done || !rp->owned || strcmp(m->topic, r->o->topic))
		return 0;
	if (kind == TAPE_POLL_EOF) {
		/* At the end: done when past --until, or when --until's time has come. */
		if ((rp->until >= 0 && m->offset >= rp->until) ||
		    (r->o->until.kind == REPLAY_BOUND_TIME &&
		     clock_wall_ms() >= r->o->until.value)) {
			rp->next = rp->next < 0 ? m->offset : rp->next;
			part_done(r, rp);
		}
		return 0;
	}
	if (rp->next >= 0 && m->offset < rp->next)
		return 0; /* read again after a seek: done already */
	if ((rp->until >= 0 && m->offset >= rp->until) ||
	    (r->o->until.kind == REPLAY_BOUND_TIME && m->timestamp_ms >= r->o->until.value)) {
		part_done(r, rp);
		return 0;
	}
	return replay_record(r, rp, m);
}

/* Polls and replays until every partition is done, a record stops the replay, or a signal.
 * Returns the exit status. */
static int replay_loop(struct replay *r)
{
	struct tape_message m;
	struct tape_error err;
	while (r->done_count < r->parts_count) {
		if (interrupted)
			return 128 + interrupted;
		int rc = tape_consumer_poll(r->c, REPLAY_PROGRESS_INTERVAL_MS, &m, &err);
		if (rc < 0) {
			if (err.code == -TAPE_EBADBATCH || err.code == -TAPE_ECORRUPT ||
			    err.code == -TAPE_ECODEC) {
				clear_progress(r);
				fprintf(stderr, "tape replay: %s (skipped)\n", err.message);
				continue;
			}
			clear_progress(r);
			fprintf(stderr, "tape replay: %s\n", err.message);
			return CMD_EXIT_USAGE;
		}
		if (r->fatal)
			return CMD_EXIT_USAGE;
		if (rc > 0 && (rc = on_message(r, rc, &m)) != 0)
			return rc;
		if (commit_progress(r, false) < 0) {
			clear_progress(r);
			fputs("tape replay: cannot write the output\n", stderr);
			return CMD_EXIT_USAGE;
		}
		progress(r);
	}
	return CMD_EXIT_OK;
}

/* ---- setup -------------------------------------------------------------------------------------
 */

static int open_clients(struct replay *r, int32_t *partitions)
{
	const struct replay_opts *o = r->o;
	struct tape_client_config cc;
	struct tape_consumer_config kc;
	struct tape_error err;
	tape_client_config_init(&cc);
	cc.brokers = o->brokers;
	cc.allow_auto_create_topics = false;
	tape_consumer_config_init(&kc);
	kc.auto_offset_reset = TAPE_RESET_EARLIEST;
	kc.group_id = o->group;
	kc.enable_auto_commit = false; /* only what is done is committed, by group_commit */
	if (o->session_timeout_ms)
		kc.session_timeout_ms = o->session_timeout_ms;
	if (o->heartbeat_interval_ms)
		kc.heartbeat_interval_ms = o->heartbeat_interval_ms;
	if (tape_client_new(&cc, &r->cl, &err) < 0 ||
	    (*partitions = tape_client_partitions(r->cl, o->topic, &err)) < 0 ||
	    tape_consumer_new(r->cl, &kc, &r->c, &err) < 0)
		goto fail;
	if (o->dlq) {
		struct tape_producer_config pc;
		tape_producer_config_init(&pc);
		pc.on_delivery = on_dlq_delivery;
		pc.on_delivery_arg = r;
		cc.allow_auto_create_topics = true;
		if (tape_client_new(&cc, &r->pcl, &err) < 0 ||
		    tape_producer_new(r->pcl, &pc, &r->p, &err) < 0 ||
		    tape_client_partitions(r->pcl, o->dlq, &err) < 0)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "tape replay: %s\n", err.message);
	return -1;
}

static int make_parts(struct replay *r, int32_t partitions)
{
	const struct replay_opts *o = r->o;
	if (o->partition >= partitions) {
		fprintf(stderr,
		        "tape replay: partition %d of topic \"%s\" does not exist (it has %d)\n",
		        o->partition, o->topic, partitions);
		return -1;
	}
	r->parts_count = o->partition >= 0 ? 1 : partitions;
	r->parts = calloc((size_t)r->parts_count, sizeof(*r->parts));
	if (!r->parts) {
		fputs("tape replay: out of memory\n", stderr);
		return -1;
	}
	for (int32_t i = 0; i < r->parts_count; i++)
		r->parts[i] = (struct rpart){ .partition = o->partition >= 0 ? o->partition : i,
			                      .until = -1,
			                      .next = -1,
			                      .committed = -1 };
	return 0;
}

/* Starts every partition (no group) or subscribes (-g: the group's assignment starts them,
 * in on_rebalance). */
static int start_all(struct replay *r)
{
	if (r->o->group) {
		struct tape_error err;
		const char *topics[] = { r->o->topic };
		tape_consumer_on_rebalance(r->c, on_rebalance, r);
		if (tape_consumer_subscribe(r->c, topics, 1, &err) < 0) {
			fprintf(stderr, "tape replay: %s\n", err.message);
			return -1;
		}
		return 0;
	}
	for (int32_t i = 0; i < r->parts_count; i++) {
		r->parts[i].owned = true;
		if (start_part(r, &r->parts[i], -1, true) < 0)
			return -1;
	}
	return 0;
}

static void summary(struct replay *r, int status)
{
	clear_progress(r);
	if (r->o->quiet)
		return;
	double secs = (double)(clock_mono_ns() - r->start_ns) / 1e9;
	fprintf(stderr, "replayed %lld records of %s in %.2f s", (long long)r->replayed,
	        r->o->topic, secs);
	if (r->o->dlq)
		fprintf(stderr, ", %lld to the dead-letter topic %s", (long long)r->dead,
		        r->o->dlq);
	if (status > 128)
		fprintf(stderr, " (stopped by %s)",
		        status == 128 + SIGINT    ? "SIGINT"
		        : status == 128 + SIGTERM ? "SIGTERM"
		                                  : "a signal");
	else if (status != CMD_EXIT_OK)
		fputs(" (stopped)", stderr);
	fputc('\n', stderr);
}

static void replay_free(struct replay *r)
{
	struct tape_error err;
	if (r->o->group && r->c && tape_consumer_close(r->c, &err) < 0) /* leaves the group */
		fprintf(stderr, "tape replay: leaving group \"%s\": %s\n", r->o->group,
		        err.message);
	else if (!r->o->group)
		tape_consumer_free(r->c);
	tape_producer_free(r->p);
	tape_client_free(r->cl);
	tape_client_free(r->pcl);
	format_free(&r->fmt);
	free(r->out.p);
	free(r->parts);
	free(r->env);
	free(r->env_key);
}

static int replay_run(int argc, char **argv)
{
	struct replay_opts o = { .partition = -1, .retries = REPLAY_RETRIES_DEFAULT };
	o.brokers = cmd_default_brokers();
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? CMD_EXIT_OK : rc;
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: waits see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct replay r = { .o = &o, .tty = isatty(2) == 1, .start_ns = clock_mono_ns() };
	int32_t partitions = 0;
	int status = CMD_EXIT_USAGE;
	char why[96];
	if (!o.exec && !o.json &&
	    format_parse(o.format ? o.format : "%s\\n", &r.fmt, why, sizeof(why)) < 0) {
		status = usage_error("-f %s: %s", o.format, why);
		goto out;
	}
	if ((o.exec && env_init(&r) < 0) || open_clients(&r, &partitions) < 0 ||
	    make_parts(&r, partitions) < 0 || set_bounds(&r) < 0 || start_all(&r) < 0) {
		if (interrupted)
			status = 128 + interrupted;
		goto out;
	}
	r.start_ns = clock_mono_ns();
	status = replay_loop(&r);
	if (commit_progress(&r, true) < 0 && status == CMD_EXIT_OK)
		status = CMD_EXIT_USAGE;
	summary(&r, status);
out:
	replay_free(&r);
	return status;
}

const struct cmd cmd_replay = {
	.name = "replay",
	.synopsis = "TOPIC --from WHERE [options]",
	.summary = "replay a topic to stdout or a command, to rebuild a read model",
	.run = replay_run,
	.usage = replay_usage,
};
