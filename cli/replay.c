/*
 * cli/replay.c: the pure parts of `tape replay` (cli/replay.h).
 */
#include "cli/replay.h"
#include "cli/timespec.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static bool parse_digits(const char *s, int64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

int replay_bound_parse(const char *s, bool until, int64_t now_ms, struct replay_bound *out,
                       char *why, size_t why_len)
{
	if (!until && !strcmp(s, "beginning")) {
		*out = (struct replay_bound){ REPLAY_BOUND_BEGINNING, 0 };
		return 0;
	}
	if (until && !strcmp(s, "end")) {
		*out = (struct replay_bound){ REPLAY_BOUND_END, 0 };
		return 0;
	}
	if (s[0] == '@') {
		int64_t ms;
		if (timespec_parse(s + 1, now_ms, &ms, why, why_len) < 0)
			return -1;
		*out = (struct replay_bound){ REPLAY_BOUND_TIME, ms };
		return 0;
	}
	int64_t offset;
	if (parse_digits(s, &offset)) {
		*out = (struct replay_bound){ REPLAY_BOUND_OFFSET, offset };
		return 0;
	}
	snprintf(why, why_len, "%s, @TIME or an offset", until ? "end" : "beginning");
	return -1;
}

int64_t replay_backoff_ms(int32_t retry, int64_t base_ms, int64_t max_ms)
{
	int64_t ms = base_ms;
	for (int32_t i = 1; i < retry && ms < max_ms; i++)
		ms *= 2;
	return ms < max_ms ? ms : max_ms;
}

bool replay_status_text(int wstatus, char *buf, size_t len)
{
	if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		const char *name = strsignal(sig);
		snprintf(buf, len, "killed by signal %d (%s)", sig, name ? name : "?");
		return true;
	}
	int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	snprintf(buf, len, "exit status %d", code);
	return code != 0;
}

int32_t replay_dlq_headers(const struct tape_message *m, const char *error, int32_t attempts,
                           struct tape_header *out, char *scratch)
{
	int32_t n = 0;
	for (int32_t i = 0; i < m->headers_count; i++)
		out[n++] = m->headers[i];
	char *partition = scratch, *offset = scratch + 16, *timestamp = scratch + 40,
	     *tries = scratch + 64;
	int lp = snprintf(partition, 16, "%d", m->partition);
	int lo = snprintf(offset, 24, "%lld", (long long)m->offset);
	int lt = snprintf(timestamp, 24, "%lld", (long long)m->timestamp_ms);
	int la = snprintf(tries, 16, "%d", attempts);
	out[n++] = (struct tape_header){ "tape.dlq.error", error, (int32_t)strlen(error) };
	out[n++] = (struct tape_header){ "tape.dlq.topic", m->topic, (int32_t)strlen(m->topic) };
	out[n++] = (struct tape_header){ "tape.dlq.partition", partition, lp };
	out[n++] = (struct tape_header){ "tape.dlq.offset", offset, lo };
	out[n++] = (struct tape_header){ "tape.dlq.timestamp", timestamp, lt };
	out[n++] = (struct tape_header){ "tape.dlq.attempts", tries, la };
	return n;
}
