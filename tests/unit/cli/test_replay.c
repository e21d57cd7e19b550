/*
 * tests/unit/cli/test_replay.c: the pure parts of `tape replay` (cli/replay.c).
 *
 * Covers: --from/--until spellings (beginning only for --from, end only for --until, @ with
 * epoch ms, RFC 3339 and -1h relative to a fixed now, offsets, and what is refused); the
 * backoff doubling from the base and capped; wait statuses in words; the dead-letter headers
 * (the record's own first, then the six tape.dlq.* with the record's origin).
 */
#include "cli/replay.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static const int64_t now = 1764151200000; /* 2025-11-26T10:00:00Z */

Test(replay, bounds)
{
	struct replay_bound b;
	char why[96];
	cr_assert_eq(replay_bound_parse("beginning", false, now, &b, why, sizeof(why)), 0);
	cr_assert_eq(b.kind, REPLAY_BOUND_BEGINNING);
	cr_assert_eq(replay_bound_parse("end", true, now, &b, why, sizeof(why)), 0);
	cr_assert_eq(b.kind, REPLAY_BOUND_END);
	cr_assert_eq(replay_bound_parse("42", false, now, &b, why, sizeof(why)), 0);
	cr_assert(b.kind == REPLAY_BOUND_OFFSET && b.value == 42);
	cr_assert_eq(replay_bound_parse("@1700000000000", true, now, &b, why, sizeof(why)), 0);
	cr_assert(b.kind == REPLAY_BOUND_TIME && b.value == 1700000000000);
	cr_assert_eq(replay_bound_parse("@2025-11-26T10:00:00Z", false, now, &b, why, sizeof(why)),
	             0);
	cr_assert(b.kind == REPLAY_BOUND_TIME && b.value == now);
	cr_assert_eq(replay_bound_parse("@-1h", false, now, &b, why, sizeof(why)), 0);
	cr_assert(b.kind == REPLAY_BOUND_TIME && b.value == now - 3600000);
	/* refused */
	cr_assert_eq(replay_bound_parse("end", false, now, &b, why, sizeof(why)), -1);
	cr_assert_eq(replay_bound_parse("beginning", true, now, &b, why, sizeof(why)), -1);
	cr_assert_eq(replay_bound_parse("-5", false, now, &b, why, sizeof(why)), -1);
	cr_assert_eq(replay_bound_parse("12x", false, now, &b, why, sizeof(why)), -1);
	cr_assert_eq(replay_bound_parse("", false, now, &b, why, sizeof(why)), -1);
	cr_assert_eq(replay_bound_parse("@", false, now, &b, why, sizeof(why)), -1);
	cr_assert_eq(replay_bound_parse("@yesterday", true, now, &b, why, sizeof(why)), -1);
	cr_assert(why[0], "a reason is given");
	cr_assert_eq(replay_bound_parse("99999999999999999999", false, now, &b, why, sizeof(why)),
	             -1, "past int64");
}

Test(replay, backoff)
{
	cr_assert_eq(replay_backoff_ms(1, 100, 10000), 100);
	cr_assert_eq(replay_backoff_ms(2, 100, 10000), 200);
	cr_assert_eq(replay_backoff_ms(3, 100, 10000), 400);
	cr_assert_eq(replay_backoff_ms(7, 100, 10000), 6400);
	cr_assert_eq(replay_backoff_ms(8, 100, 10000), 10000);
	cr_assert_eq(replay_backoff_ms(360, 100, 10000), 10000, "no overflow");
	cr_assert_eq(replay_backoff_ms(1, 100, 50), 50, "the cap wins from the start");
}

Test(replay, status_text)
{
	char buf[64];
	cr_assert_not(replay_status_text(0, buf, sizeof(buf)));
	cr_assert_str_eq(buf, "exit status 0");
	cr_assert(replay_status_text(3 << 8, buf, sizeof(buf)));
	cr_assert_str_eq(buf, "exit status 3");
	cr_assert(replay_status_text(SIGKILL, buf, sizeof(buf)));
	cr_assert_str_eq(buf, "killed by signal 9 (Killed)");
}

Test(replay, dlq_headers)
{
	struct tape_header own[2] = { { "a", "1", 1 }, { "nullv", NULL, -1 } };
	struct tape_message m = { .topic = "orders",
		                  .partition = 7,
		                  .offset = 123456789012,
		                  .timestamp_ms = 1700000000123,
		                  .headers = own,
		                  .headers_count = 2 };
	struct tape_header out[2 + REPLAY_DLQ_HEADERS];
	char scratch[REPLAY_DLQ_SCRATCH_BYTES];
	int32_t n = replay_dlq_headers(&m, "exit status 3", 4, out, scratch);
	cr_assert_eq(n, 2 + REPLAY_DLQ_HEADERS);
	cr_assert_str_eq(out[0].name, "a");
	cr_assert_eq(out[1].value, NULL);
	const char *want[][2] = { { "tape.dlq.error", "exit status 3" },
		                  { "tape.dlq.topic", "orders" },
		                  { "tape.dlq.partition", "7" },
		                  { "tape.dlq.offset", "123456789012" },
		                  { "tape.dlq.timestamp", "1700000000123" },
		                  { "tape.dlq.attempts", "4" } };
	for (int i = 0; i < REPLAY_DLQ_HEADERS; i++) {
		const struct tape_header *h = &out[2 + i];
		cr_assert_str_eq(h->name, want[i][0]);
		cr_assert_eq(h->value_len, (int32_t)strlen(want[i][1]), "%s", h->name);
		cr_assert(!memcmp(h->value, want[i][1], (size_t)h->value_len), "%s", h->name);
	}
}
