/*
 * base/limits.h: every bound in tape, with its reason.
 *
 * A loop, queue, buffer or count that input can grow has its limit here, so the worst case
 * of memory and time can be read in one place (TigerBeetle's constants.zig). Configurable
 * settings (segment size, batch size, ...) have their default and their hard bounds here; the
 * configuration refuses values outside the bounds. Relations between limits are checked by
 * static assertions at the bottom.
 */
#ifndef TAPE_BASE_LIMITS_H
#define TAPE_BASE_LIMITS_H

#include <stdint.h>

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

/* ---- record batches ---------------------------------------------------------------------- */

/* RecordBatch v2 header: fixed 61 bytes before the records (protocol/record_batch.h). */
#define BATCH_HEADER_BYTES 61
/* The smallest possible record: length, attributes, timestamp delta, offset delta, key length,
 * value length, headers count, one byte each. Bounds records_count by the batch size. */
#define RECORD_BYTES_MIN 7
/* message.max.bytes default, as Kafka's (1 MiB plus the 12-byte log overhead). */
#define BATCH_BYTES_DEFAULT (1 * MiB + 12)
/* Hard cap on message.max.bytes: a batch must fit in a receive buffer and be validated in one
 * step on the reactor; 64 MiB bounds the CRC time per batch to a few milliseconds. */
#define BATCH_BYTES_MAX (64 * MiB)
/* A compressed batch may not decompress to more than this (decompression bombs: a Kafka CVE
 * checked only the compressed size). Four times the largest batch covers real ratios of
 * JSON events (zstd 5.7x on 16 KiB batches would need at most 5.7 MiB for a 1 MiB batch). */
#define DECOMPRESSED_BYTES_MAX (4 * BATCH_BYTES_MAX)

/* ---- segments and indexes ---------------------------------------------------------------- */

/* log.segment.bytes default (Kafka's). */
#define SEGMENT_BYTES_DEFAULT (1 * GiB)
/* Index entries store a 32-bit file position (Kafka's format), so a segment stays below 2 GiB;
 * 1 GiB is Kafka's own ceiling for log.segment.bytes' useful range. */
#define SEGMENT_BYTES_MAX (1 * GiB)
/* Small enough for tests to roll often; a segment must hold at least one batch header. */
#define SEGMENT_BYTES_MIN (4 * KiB)
/* log.index.interval.bytes: an offset index entry at least every 4 KiB of log, so a lookup
 * scans at most one 4 KiB window plus one batch (Kafka's default). */
#define INDEX_INTERVAL_BYTES 4096
/* Index entries of one segment: at most one per batch, at most one per interval. */
#define INDEX_ENTRIES_MAX (SEGMENT_BYTES_MAX / INDEX_INTERVAL_BYTES + 1)
/* Offset index entry: relative offset u32 + position u32 (Kafka's .index). */
#define OFFSET_INDEX_ENTRY_BYTES 8
/* Time index entry: timestamp i64 + relative offset u32 (Kafka's .timeindex). */
#define TIME_INDEX_ENTRY_BYTES 12
/* Segments are preallocated in steps of this size: writes that grow a file serialize (4 KiB
 * writes at depth 32: 450 MB/s into preallocated space, 37 MB/s while growing). */
#define SEGMENT_PREALLOC_BYTES (16 * MiB)
/* Segments per partition. At the minimum segment size this is 64 GiB of log; with the
 * default 1 GiB segments 64 TiB. Bounds the segment array and the recovery scan. */
#define SEGMENTS_PER_PARTITION_MAX 16384
/* File ranges in one read result: a read stops at this many segments and the client fetches
 * the rest next time. */
#define READ_RANGES_MAX 8
/* Bytes read ahead when a read must scan batch headers from an index entry to its offset:
 * the index interval plus the largest batch header span. */
#define READ_SCAN_BYTES (2 * INDEX_INTERVAL_BYTES)

/* ---- compaction -------------------------------------------------------------------------- */

/* Distinct keys one compaction run maps (key -> latest offset, 24 bytes a slot, the table at
 * most half full): 48 MiB at most, allocated to fit the offsets of the range. A range with more
 * keys is cleaned up to the segment where the map filled; the rest waits for a cleaner
 * checkpoint (Kafka's first dirty offset), which tape does not keep yet. */
#define COMPACTION_KEYS_MAX (1u << 20)
/* Output buffered per write of a rewritten segment, and the chunk its unchanged prefix is
 * copied in. */
#define COMPACTION_WRITE_BYTES (1 * MiB)

/* A partition's appends of one turn go to the file as one writev of up to this many bytes:
 * the kernel's cost per buffered write dominates small batches (16 KiB writes ran at half
 * the rate of 256 KiB ones here). */
#define WRITE_COALESCE_BYTES (1 * MiB)
/* And of at most this many batches (IOV_MAX is 1024). */
#define WRITE_COALESCE_IOVS 256

/* ---- partitions, producers, epochs ------------------------------------------------------- */

/* Partitions one broker hosts. Each costs a directory, two file descriptors for its active
 * segment and a few KiB of memory. */
#define PARTITIONS_MAX 65536
/* Appends in flight per partition before the caller must wait: bounds the pending queue
 * during a segment roll and the completions outstanding per partition. */
#define APPENDS_IN_FLIGHT_MAX 1024
/* Idempotence: batches remembered per producer and partition (Kafka's NUM_BATCHES_TO_RETAIN,
 * matching max.in.flight.requests.per.connection <= 5). */
#define PRODUCER_BATCHES_RETAINED 5
/* Producers tracked per partition; the least recently used one is evicted beyond this, as if
 * its state had expired. Bounds the producer-state checkpoint. */
#define PRODUCERS_PER_PARTITION_MAX 65536
/* Leader epochs remembered per partition (epoch -> start offset). One per leader change;
 * entries below the log start offset are dropped. */
#define LEADER_EPOCHS_MAX 4096

/* ---- checkpoints ------------------------------------------------------------------------- */

/* A checkpoint file is read whole into memory: the producer state at its bound is the
 * largest (65536 producers x 5 batches x ~40 bytes = ~13 MiB). */
#define CHECKPOINT_BYTES_MAX (32 * MiB)

/* ---- offline tools (tape dump, tape verify) ---------------------------------------------- */

/* tape verify reads a segment's .index or .timeindex whole, because offset_index_valid and
 * time_index_valid take the file's bytes. A valid index has at most one entry per batch, so
 * even the largest segment of the smallest batches needs no more than this (about 200 MiB;
 * 2-3 MiB at the default interval); a larger file is reported invalid without being read. */
#define INDEX_FILE_BYTES_MAX (SEGMENT_BYTES_MAX / BATCH_HEADER_BYTES * TIME_INDEX_ENTRY_BYTES)

/* ---- the reactor ------------------------------------------------------------------------- */

/* Submission queue entries: enough for a turn's worth of socket and file operations; the
 * reactor submits early when the queue fills, so this bounds batching, not correctness. */
#define REACTOR_SQ_ENTRIES 4096
/* Helper threads for blocking work (segment roll and seal, checkpoints, compaction). One
 * keeps the second core free for the reactor's kernel-side work on a 2-core machine. */
#define HELPER_THREADS 1
/* The longest the reactor sleeps while helper jobs are out, whatever its caller asked: a
 * bound on what a missed eventfd wakeup can cost (a turn every 50 ms costs nothing). */
#define HELPER_WAIT_NS (50 * 1000000LL)
/* Blocking jobs queued for the helper threads. */
#define HELPER_JOBS_MAX 65536

/* ---- the broker's network side --------------------------------------------------------- */

/* Connections one broker keeps: each holds a receive chunk and its requests' memory. The
 * max.connections setting may lower this, never raise it. */
#define CONNECTIONS_MAX 100000
/* Requests read from one connection and not yet answered. Responses go out in order; past
 * this the broker stops reading the socket (backpressure), as Kafka mutes it. */
#define CONN_REQUESTS_MAX 64
/* A connection receives into chunks of this size; frames wholly inside one are used in
 * place, a larger frame gets a chunk of its own size so its records are never copied. */
#define CONN_CHUNK_BYTES (64 * KiB)
/* A request's decoded form may take this many times its frame in arena memory (structs are
 * larger than their wire encoding, never by more). */
#define REQUEST_ARENA_FACTOR 8
/* The largest response the broker builds in memory (Fetch max_bytes is clamped to it). */
#define RESPONSE_BYTES_MAX (64 * MiB)
/* A connection that sends Fetch records with splice (socket.fetch.send=splice) gets a pipe of
 * this size (F_SETPIPE_SZ; 1 MiB is fs.pipe-max-size's default, what an unprivileged process
 * may ask). It holds references to page-cache pages, not copies: at most this much page cache
 * is pinned per connection. Each splice into it moves at most its size less one page, since a
 * range that starts inside a page spans one page more than its length. */
#define FETCH_PIPE_BYTES (1 * MiB)
/* A pipe the kernel would not make at least this large (past the user's
 * fs.pipe-user-pages-soft, new pipes get 2 pages) is not used: the connection sends its
 * Fetch records with read + send instead. */
#define FETCH_PIPE_BYTES_MIN (64 * KiB)
/* Longest Fetch long-poll and produce wait honoured (clients ask 500 ms to 30 s). */
#define REQUEST_WAIT_MS_MAX (5 * 60 * 1000)
/* Topics one broker hosts. */
#define TOPICS_MAX 10000
/* Partitions of one topic. */
#define TOPIC_PARTITIONS_MAX 10000
/* Kafka's limit on a topic name (it becomes a directory name with "-<partition>"). */
#define TOPIC_NAME_BYTES_MAX 249

/* ---- consumer groups --------------------------------------------------------------------- */

/* Groups one coordinator keeps (with members, or only committed offsets). */
#define GROUPS_MAX 100000
/* Members of one group; past it a joiner gets GROUP_MAX_SIZE_REACHED (Kafka's
 * group.max.size default is unbounded; 10 000 bounds one JoinGroup answer to the leader). */
#define GROUP_MEMBERS_MAX 10000
/* ---- committed offsets (consumer-groups/offsets.c) ------------------------------------- */

/* Groups with committed offsets in one store (one broker coordinates them all): each costs a
 * small struct and a hash slot. Clusters with tens of thousands of groups exist; past this a
 * commit for a new group is refused until retention expires old ones. */
#define OFFSET_GROUPS_MAX 65536
/* Offsets one group holds: one per partition it consumes. A group consuming every partition a
 * broker can host (PARTITIONS_MAX) still fits. */
#define OFFSETS_PER_GROUP_MAX 65536
/* Offsets of all groups together: about 150 bytes each in memory (entry, hash slot, topic
 * name) without metadata, so at most ~150 MiB. */
#define OFFSETS_MAX (1u << 20)
/* offset.metadata.max.bytes: Kafka's default, and tape's ceiling for the setting. A commit
 * with longer metadata is refused for that partition (OFFSET_METADATA_TOO_LARGE, 12). */
#define OFFSET_METADATA_BYTES_MAX 4096
/* Metadata bytes of all offsets together. Clients rarely send any; the bound keeps the worst
 * case (every offset at the metadata limit would be 4 GiB) from growing the view unbounded. */
#define OFFSET_METADATA_TOTAL_BYTES_MAX (256 * MiB)
/* A load of __consumer_offsets reads the log in chunks of this size (Kafka's
 * offsets.load.buffer.size); a read always returns at least one whole batch. */
#define OFFSETS_LOAD_READ_BYTES (5 * MiB)
/* ---- consumer groups: the assignors (consumer-groups/assign.h) ----------------------------- */

/* Members of one group an assignor takes. Kafka sets no bound (group.max.size is unbounded by
 * default); a thousand consumers in one group is far past what tape aims at, and the sticky
 * assignor keeps its members in a sorted array, so each partition it moves costs O(members). */
#define ASSIGN_MEMBERS_MAX 1024
/* Partitions one assignment spreads (summed over the subscribed topics): a group consuming
 * every partition one broker may host. At both bounds the assignors need about 5 MiB of arena
 * (under 100 bytes a partition, plus ~16 for each subscribed name and owned partition in the
 * input) and the slowest case measured, cooperative-sticky moving 63000 partitions between
 * members with differing subscriptions, 0.4 s. */
#define ASSIGN_PARTITIONS_MAX PARTITIONS_MAX

/* ---- libtape (client/) ------------------------------------------------------------------ */

/* Brokers one client knows: its bootstrap addresses plus the brokers metadata names. Each
 * costs a connection slot (buffers are allocated only while connected). */
#define CLIENT_BROKERS_MAX 1024
/* Topics one client keeps metadata (and a producer keeps queues) for. */
#define CLIENT_TOPICS_MAX TOPICS_MAX
/* Requests one connection has written and not yet seen answered (acks=0 produces count until
 * written). Kafka answers a connection's requests in order, so these are a FIFO ring. */
#define CLIENT_CONN_REQUESTS_MAX 64
/* The largest response frame a client reads: a Fetch answer is bounded by the max_bytes the
 * client asks for (Java's fetch.max.bytes default is 50 MiB); twice that is a broken peer. */
#define CLIENT_RESPONSE_BYTES_MAX (128 * MiB)
/* A connection receives into a buffer of this size, grown to the frame being read. */
#define CLIENT_RECV_BYTES (64 * KiB)
/* batch.size: records of one partition go into a batch until it would pass this many
 * (uncompressed) bytes. 64 KiB rather than Java's 16 KiB: `tape produce` of 2M 100-byte
 * records to one partition of a local taped took 0.85 s against 1.35 s uncompressed and 1.0 s
 * against 2.0 s with zstd; 1 MB batches gained little more (0.7 s, 0.9 s). */
#define CLIENT_BATCH_BYTES_DEFAULT (64 * KiB)
/* A batch never passes the broker's hard cap on message.max.bytes. */
#define CLIENT_BATCH_BYTES_MAX BATCH_BYTES_MAX
/* max.request.size: a record (in a batch of its own) and a Produce request stay below this;
 * Java's default, just under the broker's message.max.bytes default. */
#define CLIENT_REQUEST_BYTES_DEFAULT (1 * MiB)
/* buffer.memory: bytes of records a producer holds before tape_producer_send waits (Java's
 * default); the hard bound keeps a configuration typo from eating the machine. */
#define CLIENT_BUFFER_BYTES_DEFAULT (32 * MiB)
#define CLIENT_BUFFER_BYTES_MAX (1 * GiB)
/* max.in.flight.requests.per.connection: Produce requests pipelined to one broker. Leaves
 * room in the connection's ring for metadata and InitProducerId requests. */
#define CLIENT_IN_FLIGHT_DEFAULT 5
#define CLIENT_IN_FLIGHT_MAX (CLIENT_CONN_REQUESTS_MAX / 2)
/* Assignors one group member offers in JoinGroup: range, roundrobin and cooperative-sticky
 * each once, and one spare. */
#define CLIENT_GROUP_ASSIGNORS_MAX 4

/* fetch.max.bytes and max.partition.fetch.bytes: what one Fetch answer may carry in all and
 * per partition (Java's and librdkafka's defaults); the broker still returns a first batch
 * larger than either whole. */
#define CLIENT_FETCH_BYTES_DEFAULT (50 * MiB)
#define CLIENT_PARTITION_FETCH_BYTES_DEFAULT (1 * MiB)
/* Fetch answers a consumer holds (their frames, until every record in them was returned)
 * before it sends no more Fetch requests: librdkafka's queued.max.messages.kbytes. */
#define CLIENT_FETCH_BUFFER_BYTES_DEFAULT (64 * MiB)
#define CLIENT_FETCH_BUFFER_BYTES_MAX (1 * GiB)
/* Partitions one consumer reads at once: every partition a broker may host. */
#define CLIENT_ASSIGNED_MAX PARTITIONS_MAX

/* ---- the metadata store (replication/metastore.h) ---------------------------------------- */

/* A key: etcd has no limit of its own below its request size; tape's keys are paths like
 * "/<cluster>/topics/<topic>/<partition>", a topic name (249) plus a little. */
#define METASTORE_KEY_BYTES_MAX 1024
/* A value: partition state and broker registrations are a few hundred bytes; etcd refuses
 * requests over 1.5 MiB (--max-request-bytes), and base64 makes a value 4/3 as large. */
#define METASTORE_VALUE_BYTES_MAX (512 * KiB)
/* Compares, and operations, in one transaction: etcd's --max-txn-ops default. */
#define METASTORE_TXN_OPS_MAX 128
/* Keys one store holds: every partition a broker can host, plus brokers and topics. */
#define METASTORE_KEYS_MAX (4 * PARTITIONS_MAX)
/* Keys one range answers; a longer prefix says "more" and the caller continues after the last
 * key. Also bounds a watch's re-read of its prefix after a compaction. */
#define METASTORE_RANGE_KVS_MAX METASTORE_KEYS_MAX
/* Memory one answer (a range, a watch batch) may take: every key of the store at about 200
 * bytes of partition state each, with room. */
#define METASTORE_ANSWER_BYTES_MAX (256 * MiB)
/* Leases one local store keeps (one per broker registration and controller candidacy). */
#define METASTORE_LEASES_MAX 4096
/* Lease TTLs accepted, in seconds: etcd's own minimum is about 1.5 s (3/2 of its election
 * timeout) and it rounds up; a day is far past any liveness use. */
#define METASTORE_LEASE_TTL_S_MIN 1
#define METASTORE_LEASE_TTL_S_MAX (24 * 3600)
/* The local store checks lease deadlines this often, so expiry is seen within 100 ms. */
#define METASTORE_LEASE_TICK_MS 100
/* Events the local store remembers for watches that resume from an older revision; a watch
 * from before them gets the prefix re-read (a reset), as a compacted etcd watch does. */
#define METASTORE_HISTORY_EVENTS_MAX 16384
/* Bytes of keys, values and revisions the local store keeps: its checkpoint holds them all and
 * is read whole (CHECKPOINT_BYTES_MAX); a write that would pass this gets -ENOSPC. */
#define METASTORE_LOCAL_BYTES_MAX (CHECKPOINT_BYTES_MAX - 64 * KiB)
/* Watches open on one store: one per broker, a few for tests and tools. */
#define METASTORE_WATCHES_MAX 64

/* ---- etcd's JSON gateway (replication/etcd.h) -------------------------------------------- */

/* Endpoints in metadata.store=etcd://h:p,h:p,...: an etcd cluster has 3 or 5 members. */
#define ETCD_ENDPOINTS_MAX 16
/* Connecting to one endpoint; the next is tried after this. Loopback or a LAN answers in
 * well under a millisecond; a dead host's SYN is what this bounds. */
#define ETCD_CONNECT_TIMEOUT_MS 1000
/* One unary call, over all endpoints tried. A lease TTL is a few seconds, so a keepalive that
 * has not come back in 3 s is as good as lost; the caller's self-fencing counts on it. */
#define ETCD_CALL_TIMEOUT_MS 3000
/* A JSON answer read into memory: a range over METASTORE_ANSWER_BYTES_MAX's worth of keys in
 * base64 and JSON. One watch message is bounded the same way (etcd splits large batches). */
#define ETCD_RESPONSE_BYTES_MAX (METASTORE_ANSWER_BYTES_MAX / 2)
/* Calls waiting or in flight on one client (watches included). */
#define ETCD_CALLS_MAX 1024
/* The helper job that drives libcurl gives the helper thread back at least this often, so
 * segment rolls and checkpoints queued behind it wait no longer (HELPER_THREADS is 1). */
#define ETCD_SLICE_MS 20
/* A broken watch stream is reopened after this delay, doubling up to the max. */
#define ETCD_WATCH_RETRY_MS 100
#define ETCD_WATCH_RETRY_MS_MAX 2000

/* ---- the cluster (replication/cluster.c) ----------------------------------------------- */

/* Brokers one cluster view keeps, in a fixed array (~300 bytes each). Kafka clusters past a
 * few hundred brokers exist, tape's target is far below. */
#define CLUSTER_BROKERS_MAX 256
/* Replicas of one partition (replication factor, ISR size). Kafka allows more; beyond 16
 * copies of a log nobody gains durability, and a fixed array keeps a partition state small. */
#define CLUSTER_REPLICAS_MAX 16
/* A leader's ISR change waits this long for the controller to decide, then is withdrawn (and
 * proposed again later): long enough for a controller election (a lease TTL of a few
 * seconds), short enough that a lost controller does not freeze a partition's ISR. */
#define CLUSTER_ISR_WAIT_MS 5000

/* ---- the replica fetcher (replication/fetcher.h) ----------------------------------------- */

/* The largest answer frame a follower reads from its leader: a leader builds no response
 * larger than RESPONSE_BYTES_MAX (Fetch max_bytes is clamped to it), plus its framing; a
 * larger size prefix is a broken peer and closes the connection. */
#define REPLICA_RESPONSE_BYTES_MAX (RESPONSE_BYTES_MAX + 64 * KiB)

/* ---- relations --------------------------------------------------------------------------- */

_Static_assert(SEGMENT_BYTES_MAX < (1ull << 31), "index positions are 32-bit signed in Kafka");
_Static_assert(SEGMENT_BYTES_MIN >= BATCH_HEADER_BYTES, "a segment holds a batch header");
_Static_assert(BATCH_BYTES_MAX <= SEGMENT_BYTES_MAX, "the largest batch fits in one segment");
_Static_assert(BATCH_BYTES_DEFAULT <= BATCH_BYTES_MAX, "default within bounds");
_Static_assert(SEGMENT_BYTES_DEFAULT <= SEGMENT_BYTES_MAX, "default within bounds");
_Static_assert(READ_SCAN_BYTES >= INDEX_INTERVAL_BYTES + BATCH_HEADER_BYTES,
               "a scan window covers one index interval and the next batch header");
_Static_assert(DECOMPRESSED_BYTES_MAX >= BATCH_BYTES_MAX, "an uncompressed batch is allowed");
_Static_assert(CONN_CHUNK_BYTES >= 4096, "a chunk holds many small requests");
_Static_assert(FETCH_PIPE_BYTES_MIN > 4 * KiB && FETCH_PIPE_BYTES_MIN <= FETCH_PIPE_BYTES,
               "a usable pipe moves more than one page per splice");
_Static_assert(2ull * COMPACTION_KEYS_MAX * 24 <= 48 * MiB,
               "the key map stays within its stated bound");
_Static_assert(INDEX_FILE_BYTES_MAX >= INDEX_ENTRIES_MAX * TIME_INDEX_ENTRY_BYTES,
               "tape verify reads any index the default interval can produce");
_Static_assert(OFFSETS_PER_GROUP_MAX <= OFFSETS_MAX, "one group can reach its own bound");
_Static_assert(OFFSET_METADATA_BYTES_MAX <= INT16_MAX, "metadata is an int16-length string");
_Static_assert(OFFSET_METADATA_TOTAL_BYTES_MAX >= OFFSET_METADATA_BYTES_MAX,
               "one offset at the metadata limit fits");
_Static_assert(ASSIGN_PARTITIONS_MAX <= INT32_MAX / ASSIGN_MEMBERS_MAX,
               "the sticky assignor's claims (members x partitions) index with int32");
_Static_assert(CLIENT_BATCH_BYTES_DEFAULT <= CLIENT_REQUEST_BYTES_DEFAULT,
               "a full batch fits in a request");
_Static_assert(CLIENT_REQUEST_BYTES_DEFAULT <= CLIENT_BUFFER_BYTES_DEFAULT,
               "the largest record fits in the producer's buffer");
_Static_assert(REPLICA_RESPONSE_BYTES_MAX > RESPONSE_BYTES_MAX,
               "a follower reads any answer its leader may build");
_Static_assert(CLIENT_IN_FLIGHT_MAX < CLIENT_CONN_REQUESTS_MAX, "room for metadata requests");

_Static_assert(CLIENT_FETCH_BYTES_DEFAULT + 1 * MiB < CLIENT_RESPONSE_BYTES_MAX,
               "a Fetch answer at the default fetch.max.bytes fits in a response frame");
_Static_assert(CLIENT_PARTITION_FETCH_BYTES_DEFAULT <= CLIENT_FETCH_BYTES_DEFAULT,
               "one partition fits in a fetch");
_Static_assert(METASTORE_VALUE_BYTES_MAX / 3 * 4 + METASTORE_KEY_BYTES_MAX * 2 < 1536 * KiB,
               "a put of the largest value fits etcd's default request size");
_Static_assert(METASTORE_RANGE_KVS_MAX >= METASTORE_KEYS_MAX, "one range can read a store");
_Static_assert(ETCD_CONNECT_TIMEOUT_MS < ETCD_CALL_TIMEOUT_MS, "a call outlives one connect");
_Static_assert(ETCD_SLICE_MS < ETCD_CONNECT_TIMEOUT_MS, "slices are short against calls");

#endif
