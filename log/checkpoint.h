/*
 * log/checkpoint.h: small durable files (recovery point, leader epochs, producer state).
 *
 * File layout (big-endian):
 *     0  8  magic "TAPECKPT"
 *     8  2  format version (1)
 *    10  2  kind (enum checkpoint_kind): a file is never read as another kind
 *    12  4  payload length
 *    16  8  XXH3-64 of the payload, seeded with bytes [8, 16) as a big-endian u64
 *    24  ...payload
 * Validity: magic, version, kind, length equal to the file's size - 24, and the checksum.
 * Anything else is -TAPE_ECORRUPT; a missing file is -ENOENT.
 *
 * Writing is tmp -> fsync -> rename -> fsync(dir) (ALICE, OSDI'14): "<name>.tmp" is written
 * and synced in full, then renamed over "<name>", then the directory is synced. A crash at any
 * point leaves either the old file or the new one whole, never a mix (D7). Leftover ".tmp"
 * files are ignored by readers and overwritten by the next write.
 *
 * Blocking: run from helper jobs or at start-up.
 */
#ifndef TAPE_LOG_CHECKPOINT_H
#define TAPE_LOG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

enum checkpoint_kind {
	CHECKPOINT_PARTITION = 1,
	CHECKPOINT_LEADER_EPOCH = 2,
	CHECKPOINT_PRODUCER_STATE = 3,
	CHECKPOINT_METADATA = 4,
	CHECKPOINT_METASTORE = 5, /* replication/metastore_local.c */
};

#define CHECKPOINT_HEADER_BYTES 24

/* Writes the checkpoint as above, unless the file already holds exactly these bytes: then
 * nothing is written or synced (an idle partition's open and close rewrite one file, not
 * three; with ~2 ms per fsync here that decides how fast 1000 partitions open and close). */
int checkpoint_write(const char *dir, const char *name, enum checkpoint_kind kind,
                     const void *payload, size_t len);
/* The two halves of checkpoint_write, so tests can stop between them. */
int checkpoint_write_tmp(const char *dir, const char *name, enum checkpoint_kind kind,
                         const void *payload, size_t len);
int checkpoint_commit(const char *dir, const char *name);

/* Reads and checks "<dir>/<name>"; *payload is malloc'ed (free it), *len its size.
 * Returns 0, -ENOENT, -TAPE_ECORRUPT, -TAPE_ETOOLARGE (over CHECKPOINT_BYTES_MAX) or -errno. */
int checkpoint_read(const char *dir, const char *name, enum checkpoint_kind kind, uint8_t **payload,
                    size_t *len);

/* fsync of a directory, for callers that create, rename or unlink files. 0 or -errno. */
int checkpoint_sync_dir(const char *dir);

#endif
