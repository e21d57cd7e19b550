/*
 * server/kafka_error.h: the one place where the project's error codes become Kafka's.
 */
#ifndef TAPE_SERVER_KAFKA_ERROR_H
#define TAPE_SERVER_KAFKA_ERROR_H

#include <stdint.h>

/* The Kafka error code for a -errno or -TAPE_E* result of an append or a read. */
int16_t kafka_error_from(int err);

#endif
