/*
 * client/partitioner.h: which partition a keyed record goes to, exactly as the Java client's
 * default partitioner puts it (and librdkafka's murmur2 / murmur2_random partitioners), so
 * that records with one key land in one partition whichever client produced them:
 *
 *     partition = (murmur2(key bytes) & 0x7fffffff) % partitions
 *
 * murmur2 is Kafka's variant of MurmurHash2 (Utils.murmur2): seed 0x9747b28c, the key read as
 * little-endian 32-bit words, the 1-3 trailing bytes folded in last.
 */
#ifndef TAPE_CLIENT_PARTITIONER_H
#define TAPE_CLIENT_PARTITIONER_H

#include <stddef.h>
#include <stdint.h>

/* Utils.murmur2(key) as Java returns it (an int), here in its two's complement bits. */
uint32_t partitioner_murmur2(const void *key, size_t len);

/* The partition for a non-null key among partitions (> 0). */
int32_t partitioner_by_key(const void *key, size_t len, int32_t partitions);

#endif
