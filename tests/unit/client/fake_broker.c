/*
 * tests/unit/client/fake_broker.c: the scripted broker of fake_broker.h. One thread polls the
 * listening socket and up to FAKE_CONNS_MAX connections, reads whole frames and answers each
 * with the protocol codecs, as the knobs say. Answers are written with blocking sends (they
 * are small). Not a model of a broker: only what the client tests need.
 */
#include "fake_broker.h"
#include "fake_group.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/endian.h"
#include "protocol/api.h"
#include "protocol/api_versions.h"
#include "protocol/compression.h"
#include "protocol/errors.h"
#include "protocol/fetch.h"
#include "protocol/header.h"
#include "protocol/init_producer_id.h"
#include "protocol/list_offsets.h"
#include "protocol/metadata.h"
#include "protocol/produce.h"
#include "protocol/record_batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX (16 << 20)

static const struct api_versions_response_key keys[] = {
	{ API_PRODUCE, 3, 7 },
	{ API_METADATA, 0, 7 },
	{ API_API_VERSIONS, 0, 3 },
	{ API_INIT_PRODUCER_ID, 0, 1 },
	{ API_FETCH, 4, 11 },
	{ API_LIST_OFFSETS, 1, 3 },
	/* the group APIs (fake_group.c) */
	{ API_OFFSET_COMMIT, 2, 7 },
	{ API_OFFSET_FETCH, 1, 5 },
	{ API_FIND_COORDINATOR, 0, 2 },
	{ API_JOIN_GROUP, 0, 5 },
	{ API_HEARTBEAT, 0, 3 },
	{ API_LEAVE_GROUP, 0, 3 },
	{ API_SYNC_GROUP, 0, 3 },
};

void fake_lock(struct fake_broker *fb)
{
	pthread_mutex_lock(&fb->lock);
}

void fake_unlock(struct fake_broker *fb)
{
	pthread_mutex_unlock(&fb->lock);
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Frames b (size prefix reserved at 0) and writes it. */
void fake_reply(int fd, struct buf *b)
{
	buf_patch_i32(b, 0, (int32_t)(b->len - 4));
	send_all(fd, b->p, b->len);
}

static void answer_api_versions(struct fake_broker *fb, int fd, const struct request_header *h,
                                struct buf *b)
{
	fb->api_versions_seen[h->api_version & 3]++;
	if (h->api_version == 3 && fb->refuse_api_versions_v3) {
		static const struct api_versions_response_key only[] = { { API_API_VERSIONS, 0,
			                                                   2 } };
		api_versions_response_encode_unsupported(b, KAFKA_UNSUPPORTED_VERSION, only, 1);
	} else {
		struct api_versions_response r = {
			.api_keys_count = (int32_t)(sizeof(keys) / sizeof(keys[0])),
			.api_keys = (struct api_versions_response_key *)keys,
		};
		api_versions_response_encode(b, h->api_version, &r);
	}
	fake_reply(fd, b);
}

static void answer_metadata(struct fake_broker *fb, int fd, const struct request_header *h,
                            struct cursor *c, struct arena *a, struct buf *b)
{
	struct metadata_request req;
	if (metadata_request_decode(c, a, h->api_version, &req) < 0)
		return;
	fb->metadata_seen++;
	struct metadata_response_broker self = { 1, KSTR("127.0.0.1"), fb->port, KSTR_NULL };
	struct metadata_response r = { .brokers_count = 1, .brokers = &self, .controller_id = 1 };
	r.topics_count = req.topics_count > 0 ? req.topics_count : 0;
	bool all = req.topics_count < 0; /* every topic: the one it has, when it has it */
	if (all)
		r.topics_count = fb->missing ? 0 : 1;
	r.topics = arena_array(a, (size_t)r.topics_count + 1, sizeof(*r.topics));
	static int32_t one = 1;
	for (int32_t i = 0; i < r.topics_count; i++) {
		struct metadata_response_topic *t = &r.topics[i];
		t->name = all ? kstr_from(fb->topic) : req.topics[i].name;
		t->topic_authorized_operations = METADATA_AUTHORIZED_OPERATIONS_NONE;
		bool ours = kstr_eq(t->name, fb->topic);
		if (ours && fb->missing && fb->auto_create && req.allow_auto_topic_creation)
			fb->missing = false;
		if (!ours || fb->missing) {
			t->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		if (fb->leader_not_available > 0) {
			fb->leader_not_available--;
			t->error_code = KAFKA_LEADER_NOT_AVAILABLE;
			continue;
		}
		t->partitions_count = fb->partitions;
		t->partitions = arena_array(a, (size_t)fb->partitions, sizeof(*t->partitions));
		for (int32_t p = 0; p < fb->partitions; p++)
			t->partitions[p] = (struct metadata_response_partition){
				.partition_index = p,
				.leader_id = 1,
				.leader_epoch = 0,
				.replica_nodes_count = 1,
				.replica_nodes = &one,
				.isr_nodes_count = 1,
				.isr_nodes = &one,
			};
	}
	metadata_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

static void answer_init_producer_id(struct fake_broker *fb, int fd, const struct request_header *h,
                                    struct buf *b)
{
	fb->init_producer_id_seen++;
	struct init_producer_id_response r = { .producer_id = 999 + fb->init_producer_id_seen };
	init_producer_id_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

/* Appends one batch's records to part; the idempotence checks of a broker. Returns the error
 * code and sets *base. */
static int16_t append(struct fake_partition *part, struct kbytes records, int64_t *base)
{
	struct record_batch_header bh;
	if (records.len < 0 || record_batch_validate(records.p, (size_t)records.len,
	                                             RB_CHECK_CRC | RB_CHECK_PRODUCED, &bh) < 0)
		return KAFKA_CORRUPT_MESSAGE;
	if (bh.producer_id >= 0) {
		if (bh.producer_id == part->producer_id &&
		    bh.base_sequence == part->last_base_sequence) {
			*base = part->last_base_offset; /* a duplicate: its offset, not appended */
			return KAFKA_NONE;
		}
		int32_t want = bh.producer_id == part->producer_id ? part->next_sequence : 0;
		if (bh.base_sequence != want)
			return KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER;
	}
	struct compression_buf out = { 0 };
	const uint8_t *rp = records.p + RB_RECORDS;
	size_t rl = (size_t)records.len - RB_RECORDS;
	if (record_batch_codec(&bh) != COMPRESSION_NONE) {
		if (compression_decompress(record_batch_codec(&bh), rp, rl, &out, 1 << 24) < 0) {
			free(out.p);
			return KAFKA_CORRUPT_MESSAGE;
		}
		rp = out.p;
		rl = out.len;
	}
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, rp, rl, bh.records_count);
	*base = part->log_end;
	uint8_t *log = realloc(part->log, part->log_len + (size_t)records.len);
	if (log) {
		part->log = log;
		memcpy(log + part->log_len, records.p, (size_t)records.len);
		record_batch_set_base_offset(log + part->log_len, part->log_end);
		part->log_len += (size_t)records.len;
	}
	while (record_iter_next(&it, &rec) == 1 && part->log_end < FAKE_RECORDS_MAX) {
		part->timestamps[part->log_end] = bh.base_timestamp + rec.timestamp_delta;
		char *v = malloc(rec.value_len > 0 ? (size_t)rec.value_len + 1 : 1);
		memcpy(v, rec.value ? (const void *)rec.value : "",
		       rec.value_len > 0 ? (size_t)rec.value_len : 0);
		v[rec.value_len > 0 ? rec.value_len : 0] = '\0';
		part->values[part->log_end++] = v;
	}
	free(out.p);
	if (bh.producer_id >= 0) {
		part->producer_id = bh.producer_id;
		part->last_base_sequence = bh.base_sequence;
		part->last_base_offset = *base;
		part->next_sequence = bh.base_sequence + bh.records_count;
	}
	return KAFKA_NONE;
}

/* Returns false when the connection is to be closed without an answer. */
static bool answer_produce(struct fake_broker *fb, int fd, const struct request_header *h,
                           struct cursor *c, struct arena *a, struct buf *b)
{
	struct produce_request req;
	if (produce_request_decode(c, a, h->api_version, &req) < 0)
		return false;
	fb->produce_seen++;
	fb->produce_acks_seen = req.acks;
	bool hold = fb->hold_produce > 0;
	if (hold)
		fb->hold_produce--;
	struct produce_response r = { .responses_count = req.topic_data_count };
	r.responses = arena_array(a, (size_t)req.topic_data_count + 1, sizeof(*r.responses));
	for (int32_t i = 0; i < req.topic_data_count; i++) {
		const struct produce_request_topic *t = &req.topic_data[i];
		struct produce_response_topic *rt = &r.responses[i];
		rt->name = t->name;
		rt->partition_responses_count = t->partition_data_count;
		rt->partition_responses = arena_array(a, (size_t)t->partition_data_count + 1,
		                                      sizeof(*rt->partition_responses));
		for (int32_t j = 0; j < t->partition_data_count; j++) {
			const struct produce_request_partition *pd = &t->partition_data[j];
			struct produce_response_partition *pr = &rt->partition_responses[j];
			*pr = (struct produce_response_partition){ .index = pd->index,
				                                   .base_offset = -1,
				                                   .log_append_time_ms = -1,
				                                   .log_start_offset = 0 };
			if (!hold && fb->produce_errors_count > 0) {
				pr->error_code = fb->produce_errors[0];
				memmove(fb->produce_errors, fb->produce_errors + 1,
				        sizeof(fb->produce_errors[0]) *
				            (size_t)--fb->produce_errors_count);
				if (pr->error_code)
					continue;
			}
			if (pd->index < 0 || pd->index >= fb->partitions || fb->missing ||
			    !kstr_eq(t->name, fb->topic)) {
				pr->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			pr->error_code =
			    append(&fb->part[pd->index], pd->records, &pr->base_offset);
		}
	}
	if (hold)
		return true;
	if (fb->drop_after_append > 0) {
		fb->drop_after_append--;
		return false;
	}
	if (req.acks == 0)
		return true;
	produce_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
	return true;
}

static void answer_list_offsets(struct fake_broker *fb, int fd, const struct request_header *h,
                                struct cursor *c, struct arena *a, struct buf *b)
{
	struct list_offsets_request req;
	if (list_offsets_request_decode(c, a, h->api_version, &req) < 0)
		return;
	fb->list_offsets_seen++;
	struct list_offsets_response r = { .topics_count = req.topics_count };
	r.topics = arena_array(a, (size_t)req.topics_count + 1, sizeof(*r.topics));
	for (int32_t i = 0; i < req.topics_count; i++) {
		const struct list_offsets_request_topic *t = &req.topics[i];
		struct list_offsets_response_topic *rt = &r.topics[i];
		rt->name = t->name;
		rt->partitions_count = t->partitions_count;
		rt->partitions =
		    arena_array(a, (size_t)t->partitions_count + 1, sizeof(*rt->partitions));
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct list_offsets_request_partition *rp = &t->partitions[j];
			struct list_offsets_response_partition *pr = &rt->partitions[j];
			*pr = (struct list_offsets_response_partition){ .partition_index =
				                                            rp->partition_index,
				                                        .timestamp = -1,
				                                        .offset = -1 };
			if (rp->partition_index < 0 || rp->partition_index >= fb->partitions ||
			    fb->missing || !kstr_eq(t->name, fb->topic)) {
				pr->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			const struct fake_partition *part = &fb->part[rp->partition_index];
			if (rp->timestamp == -2) {
				pr->offset = part->log_start;
			} else if (rp->timestamp == -1) {
				pr->offset = part->log_end;
			} else {
				for (int64_t o = part->log_start; o < part->log_end; o++)
					if (part->timestamps[o] >= rp->timestamp) {
						pr->offset = o;
						pr->timestamp = part->timestamps[o];
						break;
					}
			}
		}
	}
	list_offsets_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

/* The stored batches of part from the one holding offset, cut at max bytes (the first batch
 * always whole), as a Kafka broker answers. */
static struct kbytes fetch_from(const struct fake_partition *part, int64_t offset, int32_t max)
{
	size_t off = 0;
	while (off < part->log_len) {
		struct record_batch_header bh;
		record_batch_header_read(part->log + off, &bh);
		if (record_batch_last_offset(&bh) >= offset)
			break;
		off += record_batch_size(&bh);
	}
	size_t len = part->log_len - off;
	if (len > 0) {
		struct record_batch_header bh;
		record_batch_header_read(part->log + off, &bh);
		size_t first = record_batch_size(&bh);
		size_t cap = (size_t)max > first ? (size_t)max : first;
		len = len < cap ? len : cap;
	}
	return (struct kbytes){ part->log ? part->log + off : (const uint8_t *)"", (int32_t)len };
}

/* Returns false when the connection is to be closed without an answer. */
static bool answer_fetch(struct fake_broker *fb, int fd, const struct request_header *h,
                         struct cursor *c, struct arena *a, struct buf *b)
{
	struct fetch_request req;
	if (fetch_request_decode(c, a, h->api_version, &req) < 0)
		return false;
	fb->fetch_seen++;
	if (fb->drop_fetch > 0) {
		fb->drop_fetch--;
		return false;
	}
	struct fetch_response r = { .responses_count = req.topics_count };
	r.responses = arena_array(a, (size_t)req.topics_count + 1, sizeof(*r.responses));
	bool any = false;
	for (int32_t i = 0; i < req.topics_count; i++) {
		const struct fetch_request_topic *t = &req.topics[i];
		struct fetch_response_topic *rt = &r.responses[i];
		rt->topic = t->topic;
		rt->partitions_count = t->partitions_count;
		rt->partitions =
		    arena_array(a, (size_t)t->partitions_count + 1, sizeof(*rt->partitions));
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct fetch_request_partition *fp = &t->partitions[j];
			struct fetch_response_partition *pr = &rt->partitions[j];
			*pr = (struct fetch_response_partition){ .partition_index = fp->partition,
				                                 .high_watermark = -1,
				                                 .last_stable_offset = -1,
				                                 .log_start_offset = -1,
				                                 .aborted_transactions_count = -1,
				                                 .preferred_read_replica = -1,
				                                 .records = { NULL, -1 } };
			if (fp->partition == 0 && fb->fetch_offsets_count < 64)
				fb->fetch_offsets[fb->fetch_offsets_count++] = fp->fetch_offset;
			if (fb->fetch_errors_count > 0) {
				pr->error_code = fb->fetch_errors[0];
				memmove(fb->fetch_errors, fb->fetch_errors + 1,
				        sizeof(fb->fetch_errors[0]) *
				            (size_t)--fb->fetch_errors_count);
				if (pr->error_code)
					continue;
			}
			if (fp->partition < 0 || fp->partition >= fb->partitions || fb->missing ||
			    !kstr_eq(t->topic, fb->topic)) {
				pr->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			const struct fake_partition *part = &fb->part[fp->partition];
			pr->high_watermark = pr->last_stable_offset = part->log_end;
			pr->log_start_offset = part->log_start;
			if (fp->fetch_offset < part->log_start ||
			    fp->fetch_offset > part->log_end) {
				pr->error_code = KAFKA_OFFSET_OUT_OF_RANGE;
				continue;
			}
			pr->records = fetch_from(part, fp->fetch_offset, fp->partition_max_bytes);
			any |= pr->records.len > 0;
		}
	}
	if (!any) { /* no long poll: a short pause keeps an idle client from spinning */
		fake_unlock(fb);
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		fake_lock(fb);
	}
	size_t holes = 0;
	fetch_response_encode(b, h->api_version, &r, NULL, 0, &holes);
	fake_reply(fd, b);
	return true;
}

/* Handles one frame; false: close the connection. */
static bool handle(struct fake_broker *fb, int fd, const uint8_t *p, size_t len)
{
	struct cursor c;
	cursor_init(&c, p, len);
	struct request_header h;
	if (request_header_decode(&c, &h) < 0)
		return false;
	struct arena a;
	arena_init(&a, 64 << 20);
	struct buf b;
	buf_init(&b, 64 << 20);
	buf_i32(&b, 0);
	response_header_encode(&b, &h);
	bool keep = true;
	fake_lock(fb);
	switch (h.api_key) {
	case API_API_VERSIONS:
		answer_api_versions(fb, fd, &h, &b);
		break;
	case API_METADATA:
		answer_metadata(fb, fd, &h, &c, &a, &b);
		break;
	case API_INIT_PRODUCER_ID:
		answer_init_producer_id(fb, fd, &h, &b);
		break;
	case API_PRODUCE:
		keep = answer_produce(fb, fd, &h, &c, &a, &b);
		break;
	case API_LIST_OFFSETS:
		answer_list_offsets(fb, fd, &h, &c, &a, &b);
		break;
	case API_FETCH:
		keep = answer_fetch(fb, fd, &h, &c, &a, &b);
		break;
	default:
		keep = fb->group && fake_group_handle(fb, fd, &h, &c, &a, &b);
	}
	fake_unlock(fb);
	buf_free(&b);
	arena_free(&a);
	return keep;
}

struct fconn {
	int fd;
	uint8_t *in;
	size_t len;
};

static bool read_conn(struct fake_broker *fb, struct fconn *fc)
{
	uint8_t tmp[65536];
	ssize_t n = recv(fc->fd, tmp, sizeof(tmp), 0);
	if (n <= 0)
		return false;
	fc->in = realloc(fc->in, fc->len + (size_t)n);
	memcpy(fc->in + fc->len, tmp, (size_t)n);
	fc->len += (size_t)n;
	size_t off = 0;
	while (fc->len - off >= 4) {
		uint32_t size = load_be32(fc->in + off);
		if (size > FRAME_MAX)
			return false;
		if (fc->len - off < 4 + (size_t)size)
			break;
		if (!handle(fb, fc->fd, fc->in + off + 4, size))
			return false;
		off += 4 + size;
	}
	memmove(fc->in, fc->in + off, fc->len - off);
	fc->len -= off;
	return true;
}

static void *run(void *arg)
{
	struct fake_broker *fb = arg;
	struct fconn conns[FAKE_CONNS_MAX] = { 0 };
	int n = 0;
	for (;;) {
		struct pollfd pf[FAKE_CONNS_MAX + 2] = { { fb->wake[0], POLLIN, 0 },
			                                 { fb->listen_fd, POLLIN, 0 } };
		for (int i = 0; i < n; i++)
			pf[2 + i] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
		if (poll(pf, (nfds_t)(2 + n), -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		for (int i = n - 1; i >= 0; i--) {
			if (!pf[2 + i].revents || read_conn(fb, &conns[i]))
				continue;
			close(conns[i].fd);
			free(conns[i].in);
			conns[i] = conns[--n];
		}
		if ((pf[1].revents & POLLIN) && n < FAKE_CONNS_MAX) {
			int fd = accept(fb->listen_fd, NULL, NULL);
			if (fd >= 0) {
				conns[n++] = (struct fconn){ .fd = fd };
				fake_lock(fb);
				fb->connections_seen++;
				fake_unlock(fb);
			}
		}
	}
	for (int i = 0; i < n; i++) {
		close(conns[i].fd);
		free(conns[i].in);
	}
	return NULL;
}

void fake_start(struct fake_broker *fb)
{
	pthread_mutex_init(&fb->lock, NULL);
	if (!fb->partitions)
		fb->partitions = 1;
	if (!fb->topic)
		fb->topic = "t";
	fb->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	if (bind(fb->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fb->listen_fd, 16) < 0 ||
	    getsockname(fb->listen_fd, (struct sockaddr *)&sa, &len) < 0 || pipe(fb->wake) < 0)
		abort();
	fb->port = ntohs(sa.sin_port);
	for (int i = 0; i < FAKE_PARTITIONS_MAX; i++)
		fb->part[i].producer_id = -1;
	pthread_create(&fb->thread, NULL, run, fb);
}

void fake_stop(struct fake_broker *fb)
{
	if (write(fb->wake[1], "x", 1) != 1)
		abort();
	pthread_join(fb->thread, NULL);
	close(fb->wake[0]);
	close(fb->wake[1]);
	close(fb->listen_fd);
	for (int i = 0; i < FAKE_PARTITIONS_MAX; i++) {
		for (int64_t j = 0; j < fb->part[i].log_end; j++)
			free(fb->part[i].values[j]);
		free(fb->part[i].log);
	}
	pthread_mutex_destroy(&fb->lock);
}
