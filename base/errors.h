/*
 * base/errors.h: error codes and the one strerror.
 *
 * Functions return int: 0 on success, -errno for system failures (straight from a CQE's res),
 * or -TAPE_E* for the project's own conditions. The project codes live in a reserved range
 * above any errno, so one negative int carries either and tape_strerror() names both.
 * Kafka error numbers never appear here: server/ maps these to Kafka codes in one function;
 * libtape reports a broker's error as -TAPE_EKAFKA with the Kafka code beside it.
 */
#ifndef TAPE_BASE_ERRORS_H
#define TAPE_BASE_ERRORS_H

/* The tag is tape_errno, not tape_error: struct tape_error is libtape's (client/tape.h). */
enum tape_errno {
	TAPE_ERRNO_BASE = 10000,
	TAPE_ECORRUPT = TAPE_ERRNO_BASE, /* bytes failed a checksum or structure check */
	TAPE_EFAILED,                    /* partition is in its sticky failed state */
	TAPE_EBADBATCH,                  /* record batch is malformed (magic, lengths, count) */
	TAPE_ECRC,                       /* record batch CRC-32C does not match */
	TAPE_ETOOLARGE,                  /* batch or decompressed size over its limit */
	TAPE_ERANGE,                     /* offset outside [log start, log end] */
	TAPE_EQUARANTINED,               /* range refused: corruption below the recovery point */
	TAPE_ESEQUENCE,                  /* idempotence: out-of-order sequence */
	TAPE_EPRODUCER_FENCED,           /* idempotence: producer epoch older than current */
	TAPE_ECODEC,                     /* unknown or failing compression codec */
	TAPE_ECONFIG,                    /* invalid configuration value */
	TAPE_EBUSY,                      /* another operation on this object is in progress */
	TAPE_ECLOSED,                    /* object is closing or closed */
	TAPE_EPROTO,                     /* malformed protocol message */
	TAPE_EMETADATA,                  /* offset metadata over offset.metadata.max.bytes */
	TAPE_EKAFKA,                     /* client: the broker answered with a Kafka error code */
	TAPE_ERESOLVE,                   /* client: a broker's host name does not resolve */
	TAPE_EVERSION,                   /* client: no version of an API both sides support */
	TAPE_ECOMPACTED,                 /* metastore: the revision asked for was compacted away */
	TAPE_EMETASTORE,                 /* metastore: etcd answered an error tape does not map */
	TAPE_ENOTLEADER,                 /* this broker stopped leading the partition */
	TAPE_ERRNO_END
};

/* Names err, negative or positive, errno or project code. Never returns NULL. The text of a
 * project code or a known errno is static; for an errno libc does not know, it is libc's
 * per-thread string, valid until the next strerror() or tape_strerror() in that thread. */
const char *tape_strerror(int err);

#endif
