/*
 * base/errors.c: tape_strerror() for both errno values and the project's reserved range.
 */
#include "base/errors.h"

#include <limits.h>
#include <string.h>

static const char *const project_messages[TAPE_ERRNO_END - TAPE_ERRNO_BASE] = {
	[TAPE_ECORRUPT - TAPE_ERRNO_BASE] = "data is corrupt",
	[TAPE_EFAILED - TAPE_ERRNO_BASE] = "partition failed after an I/O error; reopen from disk",
	[TAPE_EBADBATCH - TAPE_ERRNO_BASE] = "malformed record batch",
	[TAPE_ECRC - TAPE_ERRNO_BASE] = "record batch CRC-32C mismatch",
	[TAPE_ETOOLARGE - TAPE_ERRNO_BASE] = "size over its limit",
	[TAPE_ERANGE - TAPE_ERRNO_BASE] = "offset out of range",
	[TAPE_EQUARANTINED - TAPE_ERRNO_BASE] = "range quarantined after corruption",
	[TAPE_ESEQUENCE - TAPE_ERRNO_BASE] = "out-of-order producer sequence",
	[TAPE_EPRODUCER_FENCED - TAPE_ERRNO_BASE] = "producer epoch is stale",
	[TAPE_ECODEC - TAPE_ERRNO_BASE] = "unsupported or failing compression codec",
	[TAPE_ECONFIG - TAPE_ERRNO_BASE] = "invalid configuration",
	[TAPE_EBUSY - TAPE_ERRNO_BASE] = "operation already in progress",
	[TAPE_ECLOSED - TAPE_ERRNO_BASE] = "closed",
	[TAPE_EPROTO - TAPE_ERRNO_BASE] = "malformed protocol message",
	[TAPE_EMETADATA - TAPE_ERRNO_BASE] = "offset metadata is too large",
	[TAPE_EKAFKA - TAPE_ERRNO_BASE] = "the broker answered with an error",
	[TAPE_ERESOLVE - TAPE_ERRNO_BASE] = "host name does not resolve",
	[TAPE_EVERSION - TAPE_ERRNO_BASE] = "no API version both sides support",
	[TAPE_ECOMPACTED - TAPE_ERRNO_BASE] = "revision compacted",
	[TAPE_EMETASTORE - TAPE_ERRNO_BASE] = "the metadata store answered an error",
	[TAPE_ENOTLEADER - TAPE_ERRNO_BASE] = "this broker no longer leads the partition",
};

const char *tape_strerror(int err)
{
	/* INT_MIN has no positive counterpart; it is no code of ours, and libc names it. */
	if (err < 0 && err != INT_MIN)
		err = -err;
	if (err >= TAPE_ERRNO_BASE && err < TAPE_ERRNO_END)
		return project_messages[err - TAPE_ERRNO_BASE];
	return strerror(err);
}
