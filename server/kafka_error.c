/*
 * server/kafka_error.c: project error codes to Kafka's (kafka-protocol.md §11).
 */
#include "server/kafka_error.h"

#include "base/errors.h"
#include "protocol/errors.h"

#include <errno.h>

int16_t kafka_error_from(int err)
{
	if (err > 0)
		err = -err;
	switch (err) {
	case 0:
		return KAFKA_NONE;
	case -TAPE_ECRC:
		return KAFKA_CORRUPT_MESSAGE;
	case -TAPE_EBADBATCH:
		return KAFKA_INVALID_RECORD;
	case -TAPE_ETOOLARGE:
		return KAFKA_MESSAGE_TOO_LARGE;
	case -TAPE_ERANGE:
		return KAFKA_OFFSET_OUT_OF_RANGE;
	case -TAPE_ENOTLEADER:
		return KAFKA_NOT_LEADER_OR_FOLLOWER;
	case -TAPE_ESEQUENCE:
		return KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER;
	case -TAPE_EPRODUCER_FENCED:
		return KAFKA_INVALID_PRODUCER_EPOCH;
	case -TAPE_ECODEC:
		return KAFKA_UNSUPPORTED_COMPRESSION_TYPE;
	case -TAPE_EMETADATA:
		return KAFKA_OFFSET_METADATA_TOO_LARGE;
	case -TAPE_EBUSY:
		return KAFKA_REQUEST_TIMED_OUT; /* retriable: the partition is busy, try again */
	case -TAPE_ECLOSED:
		return KAFKA_NOT_LEADER_OR_FOLLOWER; /* retriable: refresh metadata */
	case -TAPE_EFAILED:
	case -TAPE_EQUARANTINED:
	case -TAPE_ECORRUPT:
	case -EIO:
	case -ENOSPC:
	case -EDQUOT:
	case -EROFS:
		return KAFKA_KAFKA_STORAGE_ERROR;
	default:
		return KAFKA_UNKNOWN_SERVER_ERROR;
	}
}
