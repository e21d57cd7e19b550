/*
 * client/tape_error.h: filling a struct tape_error (client/tape.h), inside libtape only; and
 * which of the broker's error codes a client retries, and which mean its metadata is stale.
 */
#ifndef TAPE_CLIENT_TAPE_ERROR_H
#define TAPE_CLIENT_TAPE_ERROR_H

#include "client/tape.h"

#include <stddef.h>

/* Sets err (may be NULL) to code and the formatted message; returns code, so that a failing
 * path reads `return tape_error_set(err, -EINVAL, "...")`. A message longer than the field is
 * cut. */
__attribute__((format(printf, 3, 4))) int tape_error_set(struct tape_error *err, int code,
                                                         const char *fmt, ...);
/* Sets err to -TAPE_EKAFKA with kafka_code; returns -TAPE_EKAFKA. */
__attribute__((format(printf, 3, 4))) int
tape_error_kafka(struct tape_error *err, int16_t kafka_code, const char *fmt, ...);
/* Copies src into err (either may be NULL); returns src's code. */
int tape_error_copy(struct tape_error *err, const struct tape_error *src);

/* tape_strerror(code) as it reads inside a sentence: "connection refused", not
 * "Connection refused". Writes into buf and returns it. */
const char *tape_error_text(int code, char *buf, size_t len);
/* "NOT_LEADER_OR_FOLLOWER (6)" for a Kafka code; writes into buf and returns it. */
const char *tape_error_kafka_text(int16_t kafka_code, char *buf, size_t len);

/* Kafka codes whose request may succeed if sent again (Java's RetriableException). */
bool tape_error_kafka_retriable(int16_t kafka_code);
/* Kafka codes that mean the client's idea of the partition's leader is out of date (Java's
 * InvalidMetadataException): the metadata is refreshed before the retry. */
bool tape_error_kafka_stale_metadata(int16_t kafka_code);

#endif
