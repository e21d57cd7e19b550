/*
 * tests/support/append_load.c: see append_load.h. Knows the partition only through its public
 * API (log/partition.h).
 */
#include "tests/support/append_load.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/errors.h"
#include "tests/support/batches.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct slot {
	struct partition_append a; /* first: the done callback gets &slot->a */
	struct load *load;
	uint8_t *buf; /* owned */
	uint32_t len;
};

struct load {
	const struct append_load_config *cfg;
	struct partition *part;
	struct slot *slots;
	uint64_t submitted_bytes;
	unsigned inflight_now;
	int64_t last_durable;
	int64_t last_durable_ns;
	bool ended; /* the timed run is over: stop counting durable moves */
	struct append_load_result *out;
};

/* Builds one batch of as many records as fit in cfg->batch_bytes (at least one). */
static uint32_t build_batch(const struct append_load_config *cfg, uint64_t seed, int *records,
                            uint8_t **out)
{
	int n = (int)((cfg->batch_bytes - RB_HEADER_BYTES) / (cfg->record_bytes + 8));
	if (n < 1)
		n = 1;
	for (;;) {
		struct test_batch_spec spec = {
			.records = n,
			.value_bytes = cfg->record_bytes,
			.timestamp_ms = clock_wall_ms(),
			.producer_id = -1,
			.producer_epoch = -1,
			.base_sequence = -1,
			.seed = seed,
		};
		uint8_t *b;
		size_t len = test_batch_build(&spec, &b);
		if (len > cfg->batch_bytes && n > 1) {
			free(b);
			n--;
			continue;
		}
		*records = n;
		*out = b;
		return (uint32_t)len;
	}
}

static void submit(struct load *l, struct slot *s);

static void slot_done(struct partition_append *a, int err)
{
	struct slot *s = (struct slot *)a;
	struct load *l = s->load;
	l->inflight_now--;
	if (err < 0) {
		if (!l->out->err)
			l->out->err = err;
		return;
	}
	l->out->appends++;
	l->out->bytes += s->len;
	l->out->records += (uint64_t)(a->last_offset - a->base_offset + 1);
	if (l->submitted_bytes < l->cfg->bytes && !l->out->err)
		submit(l, s);
}

static void submit(struct load *l, struct slot *s)
{
	s->a.batches = s->buf;
	s->a.len = s->len;
	s->a.origin = APPEND_CLIENT;
	s->a.done = slot_done;
	int rc = partition_append(l->part, &s->a);
	if (rc < 0) {
		if (!l->out->err)
			l->out->err = rc;
		return;
	}
	l->inflight_now++;
	l->submitted_bytes += s->len;
}

static void on_progress(struct partition *part, void *arg)
{
	struct load *l = arg;
	int64_t d = partition_durable_end(part);
	if (l->ended || d == l->last_durable)
		return;
	int64_t now = clock_mono_ns();
	if (now - l->last_durable_ns > l->out->durable_gap_max_ns)
		l->out->durable_gap_max_ns = now - l->last_durable_ns;
	l->last_durable = d;
	l->last_durable_ns = now;
	l->out->durable_advances++;
}

/* CPU time of the whole process, every thread (io_uring's io-wq workers are threads of it). */
static void cpu_now(int64_t *user_us, int64_t *sys_us)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
	*sys_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

static bool finished(const struct load *l)
{
	if (l->inflight_now)
		return false;
	if (l->out->err)
		return true;
	if (l->submitted_bytes < l->cfg->bytes)
		return false;
	int64_t leo = partition_log_end_offset(l->part);
	if (l->cfg->wait_durable)
		return partition_durable_end(l->part) >= leo || partition_failed(l->part);
	return partition_written_end(l->part) >= leo;
}

int append_load_run(struct reactor *r, struct partition *part, const struct append_load_config *cfg,
                    struct append_load_result *out)
{
	ASSERT(cfg->inflight >= 1 && cfg->batch_bytes > RB_HEADER_BYTES && cfg->record_bytes >= 1);
	memset(out, 0, sizeof(*out));
	struct load l = { .cfg = cfg, .part = part, .out = out };
	l.slots = calloc(cfg->inflight, sizeof(*l.slots));
	if (!l.slots)
		return out->err = -ENOMEM;
	for (unsigned i = 0; i < cfg->inflight; i++) {
		int n;
		l.slots[i].load = &l;
		l.slots[i].len =
		    build_batch(cfg, 0x9e3779b97f4a7c15ull * (i + 1), &n, &l.slots[i].buf);
		out->batch_size = l.slots[i].len;
		out->records_per_batch = (uint32_t)n;
	}
	l.last_durable = partition_durable_end(part);
	partition_set_progress(part, on_progress, &l);

	int64_t user0, sys0;
	cpu_now(&user0, &sys0);
	out->start_ns = l.last_durable_ns = clock_mono_ns();
	for (unsigned i = 0; i < cfg->inflight && l.submitted_bytes < cfg->bytes && !out->err; i++)
		submit(&l, &l.slots[i]);
	while (!finished(&l)) {
		if (reactor_inflight(r) == 0) {
			if (!out->err)
				out->err =
				    -TAPE_EBUSY; /* stalled: nothing left that could move it */
			break;
		}
		int rc = reactor_run_once(r, -1);
		if (rc < 0 && !out->err)
			out->err = rc;
		out->turns++;
	}
	out->end_ns = clock_mono_ns();
	cpu_now(&out->cpu_user_us, &out->cpu_sys_us);
	out->cpu_user_us -= user0;
	out->cpu_sys_us -= sys0;
	l.ended = true;
	if (!out->err && partition_failed(part))
		out->err = partition_failed(part);

	/* Every append is done, so the buffers are free; seals and checkpoints may still run.
	 * Drain them here, so they are timed apart from the run, except with flush.mode interval,
	 * whose timer re-arms forever (partition_close cancels it and waits for the rest). */
	if (partition_config(part)->flush_mode != FLUSH_INTERVAL) {
		int rc = reactor_drain(r);
		if (rc < 0 && !out->err)
			out->err = rc;
	}
	out->drain_ns = clock_mono_ns() - out->end_ns;
	partition_set_progress(part, NULL, NULL);
	for (unsigned i = 0; i < cfg->inflight; i++)
		free(l.slots[i].buf);
	free(l.slots);
	return out->err;
}

bool append_load_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	uint64_t mult = 1;
	if (*end == 'K' || *end == 'k')
		mult = KiB;
	else if (*end == 'M' || *end == 'm')
		mult = MiB;
	else if (*end == 'G' || *end == 'g')
		mult = GiB;
	else if (*end)
		return false;
	if (*end && end[1])
		return false;
	*out = v * mult;
	return true;
}
