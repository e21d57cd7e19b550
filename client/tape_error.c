/*
 * client/tape_error.c: the one place libtape writes error text, and its classification of the
 * broker's error codes.
 *
 * Owns: the wording rules of client/tape.h (one line, lower case start, no newline) and the
 * retriable / stale-metadata sets, taken from the Java client's exception hierarchy
 * (org.apache.kafka.common.errors: RetriableException and InvalidMetadataException
 * subclasses). Must not know: where the errors come from.
 */
#include "client/tape_error.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tape_error_clear(struct tape_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->kafka_code = 0;
	err->message[0] = '\0';
}

__attribute__((format(printf, 4, 0))) static void
vset(struct tape_error *err, int code, int16_t kafka_code, const char *fmt, va_list ap)
{
	err->code = code;
	err->kafka_code = kafka_code;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	/* One line, whatever the pieces held. */
	for (char *s = err->message; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

int tape_error_set(struct tape_error *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int tape_error_kafka(struct tape_error *err, int16_t kafka_code, const char *fmt, ...)
{
	if (!err)
		return -TAPE_EKAFKA;
	va_list ap;
	va_start(ap, fmt);
	vset(err, -TAPE_EKAFKA, kafka_code, fmt, ap);
	va_end(ap);
	return -TAPE_EKAFKA;
}

int tape_error_copy(struct tape_error *err, const struct tape_error *src)
{
	if (err && src && err != src)
		*err = *src;
	return src ? src->code : 0;
}

const char *tape_error_text(int code, char *buf, size_t len)
{
	snprintf(buf, len, "%s", tape_strerror(code));
	/* libc capitalises ("Connection refused"); in the middle of a line it reads lower case.
	 * Only the first letter, and only when the second is lower case too (not "EOF"). */
	if (len > 1 && isupper((unsigned char)buf[0]) && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

const char *tape_error_kafka_text(int16_t kafka_code, char *buf, size_t len)
{
	const char *name = kafka_error_name(kafka_code);
	snprintf(buf, len, "%s (%d)", name ? name : "unknown error", kafka_code);
	return buf;
}

bool tape_error_kafka_retriable(int16_t kafka_code)
{
	switch (kafka_code) {
	case KAFKA_CORRUPT_MESSAGE: /* a batch damaged on the way: sending it again may work */
	case KAFKA_UNKNOWN_TOPIC_OR_PARTITION:
	case KAFKA_LEADER_NOT_AVAILABLE:
	case KAFKA_NOT_LEADER_OR_FOLLOWER:
	case KAFKA_REQUEST_TIMED_OUT:
	case KAFKA_REPLICA_NOT_AVAILABLE:
	case KAFKA_NETWORK_EXCEPTION:
	case KAFKA_COORDINATOR_LOAD_IN_PROGRESS:
	case KAFKA_COORDINATOR_NOT_AVAILABLE:
	case KAFKA_NOT_COORDINATOR:
	case KAFKA_NOT_ENOUGH_REPLICAS:
	case KAFKA_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
	case KAFKA_CONCURRENT_TRANSACTIONS:
	case KAFKA_KAFKA_STORAGE_ERROR:
	case KAFKA_FETCH_SESSION_ID_NOT_FOUND:
	case KAFKA_INVALID_FETCH_SESSION_EPOCH:
	case KAFKA_LISTENER_NOT_FOUND:
	case KAFKA_FENCED_LEADER_EPOCH:
	case KAFKA_UNKNOWN_LEADER_EPOCH:
	case KAFKA_OFFSET_NOT_AVAILABLE:
	case KAFKA_PREFERRED_LEADER_NOT_AVAILABLE:
	case KAFKA_UNSTABLE_OFFSET_COMMIT:
	case KAFKA_THROTTLING_QUOTA_EXCEEDED:
		return true;
	default:
		return false;
	}
}

bool tape_error_kafka_stale_metadata(int16_t kafka_code)
{
	switch (kafka_code) {
	case KAFKA_UNKNOWN_TOPIC_OR_PARTITION:
	case KAFKA_LEADER_NOT_AVAILABLE:
	case KAFKA_NOT_LEADER_OR_FOLLOWER:
	case KAFKA_REPLICA_NOT_AVAILABLE:
	case KAFKA_KAFKA_STORAGE_ERROR:
	case KAFKA_LISTENER_NOT_FOUND:
	case KAFKA_FENCED_LEADER_EPOCH:
	case KAFKA_UNKNOWN_LEADER_EPOCH:
		return true;
	default:
		return false;
	}
}
