/*
 * log/compaction.h: log compaction (cleanup.policy=compact): sealed segments rewritten to keep
 * the latest record of every key, tombstones dropped once older than delete.retention.ms.
 *
 * Offsets never change: a kept record stays at its offset, a kept batch keeps its baseOffset
 * and lastOffsetDelta, so compaction leaves gaps in the offsets, never a shift. Producer state
 * and leader epochs are untouched. The file protocol and the crash rules are in the header of
 * compaction.c.
 */
#ifndef TAPE_LOG_COMPACTION_H
#define TAPE_LOG_COMPACTION_H

#include "log/partition.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Compacts the cleanable range of part: the sealed segments wholly below both the high
 * watermark and the active segment, from the oldest on (a segment in a quarantined range ends
 * the range). The work runs on a helper thread; done(arg, err) follows on the reactor thread
 * (done may be NULL): err is 0, -TAPE_EFAILED or -TAPE_ECLOSED when the partition failed or
 * began closing meanwhile (the files on disk are consistent either way), -TAPE_ETOOLARGE when
 * the first segment alone has more keys than COMPACTION_KEYS_MAX, or -errno of a failed step
 * (the segments finished before it are compacted, the others are as they were).
 * now_ms is the wall clock, compared with record timestamps for tombstones.
 *
 * Returns 0, or at once: -TAPE_EBUSY while a compaction, truncation or roll is in progress,
 * -TAPE_EFAILED when the partition failed, -TAPE_ECLOSED when it is closing, -TAPE_ECONFIG when
 * the topic's cleanup.policy does not have compact, -ENOMEM.
 *
 * While it runs part->compacting is set: retention, truncation and delete-records must refuse
 * (-TAPE_EBUSY) so that no segment of the range is deleted under the job.
 */
int partition_compact(struct partition *part, int64_t now_ms, void (*done)(void *arg, int err),
                      void *arg);

/*
 * The blocking steps, as the job runs them on its helper thread. Tools and crash tests call
 * them directly on the files of a partition that nobody has open.
 */

/* Key -> latest offset, by the XXH3-128 of the key bytes. Bounded: keys_max distinct keys,
 * at most COMPACTION_KEYS_MAX. */
struct compaction_map;
int compaction_map_new(uint64_t keys_max, struct compaction_map **out);
void compaction_map_free(struct compaction_map *map);
/* Pass 1 over one segment file (fd borrowed, its first size bytes, every batch CRC-checked):
 * records every keyed record's offset. Returns 0 when the whole segment is mapped, 1 when the
 * map filled, -TAPE_ECORRUPT at an invalid batch, or -errno of a failed read. After
 * a 1 or -TAPE_ECORRUPT the entries added stay valid: they name real records, later than
 * those of the segments mapped whole, so those segments can still be cleaned. */
int compaction_map_segment(struct compaction_map *map, int fd, uint64_t size);

/* Pass 2 over one segment file: writes "<dir>/<base>.cleaned" with the records to keep, and
 * fdatasyncs it. *rewritten is false (and no file is left) when every batch would stay as it
 * is. tombstone_horizon_ms: tombstones with a timestamp below it are dropped. 0 or -errno. */
int compaction_clean_segment(const struct compaction_map *map, const char *dir, int64_t base_offset,
                             int fd, uint64_t size, int64_t tombstone_horizon_ms, bool *rewritten);

/* The steps after a .cleaned file is complete, in order. A crash test stops after any. */
enum compaction_step {
	COMPACTION_SIDECARS_REMOVED, /* old .index/.timeindex/.digest unlinked, directory synced */
	COMPACTION_SWAP_NAMED,       /* .cleaned renamed to .swap, directory synced */
	COMPACTION_LOG_REPLACED,     /* .swap renamed over .log, directory synced */
};
/* Runs the steps up to and including last. 0 or -errno. */
int compaction_swap(const char *dir, int64_t base_offset, enum compaction_step last);
/* Opens the new "<base>.log", builds its indexes and seals it (.index, .timeindex, .digest,
 * each synced). *out is a sealed segment owning its descriptor. 0 or -errno. */
int compaction_open_cleaned(const char *dir, int64_t base_offset, uint32_t index_interval_bytes,
                            struct segment **out);

#endif
