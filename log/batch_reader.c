/*
 * log/batch_reader.c: sequential whole-batch reads of a segment file; see batch_reader.h.
 */
#include "log/batch_reader.h"

#include "base/errors.h"
#include "base/limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_BYTES (1u << 20)

int batch_reader_init(struct batch_reader *br, int fd, uint64_t position, uint64_t file_end,
                      unsigned checks, uint32_t max_bytes)
{
	memset(br, 0, sizeof(*br));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	br->fd = fd;
	br->file_end = (uint64_t)st.st_size < file_end ? (uint64_t)st.st_size : file_end;
	br->position = position;
	br->checks = checks;
	br->max_bytes = max_bytes;
	br->buf_pos = position;
	return 0;
}

void batch_reader_free(struct batch_reader *br)
{
	free(br->buf);
	br->buf = NULL;
}

/* Makes [position, position + want) available in buf, as far as the file has it. Returns the
 * bytes available from position (may be less than want at the end of the file) or -errno. */
static int64_t fill(struct batch_reader *br, uint64_t want)
{
	uint64_t have_from = br->position - br->buf_pos;
	if (br->position >= br->buf_pos && have_from + want <= br->buf_len)
		return (int64_t)want;
	uint64_t avail = br->file_end > br->position ? br->file_end - br->position : 0;
	uint64_t target = want > CHUNK_BYTES ? want : CHUNK_BYTES;
	if (target > avail)
		target = avail;
	if (br->buf_cap < target) {
		uint8_t *p = realloc(br->buf, target);
		if (!p)
			return -ENOMEM;
		br->buf = p;
		br->buf_cap = target;
	}
	size_t got = 0;
	while (got < target) {
		ssize_t n = pread(br->fd, br->buf + got, target - got, (off_t)(br->position + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	br->buf_pos = br->position;
	br->buf_len = got;
	return (int64_t)(got < want ? got : want);
}

enum batch_status batch_reader_next(struct batch_reader *br, const uint8_t **batch,
                                    struct record_batch_header *h, uint64_t *position)
{
	*position = br->position;
	int64_t n = fill(br, RB_HEADER_BYTES);
	if (n < 0) {
		br->err = (int)n;
		return BATCH_INVALID;
	}
	const uint8_t *p = br->buf + (br->position - br->buf_pos);
	if (n < RB_LOG_OVERHEAD) {
		for (int64_t i = 0; i < n; i++)
			if (p[i])
				return BATCH_TORN;
		return BATCH_END;
	}
	int64_t size = record_batch_peek_size(p, (size_t)n, br->max_bytes);
	if (size < 0) {
		/* A zero length where nothing was ever written: preallocated space. */
		uint32_t length;
		memcpy(&length, p + RB_BATCH_LENGTH, 4);
		if (length == 0) {
			for (int64_t i = 0; i < n; i++)
				if (p[i])
					goto invalid;
			return BATCH_END;
		}
	invalid:
		br->err = -TAPE_EBADBATCH;
		return BATCH_INVALID;
	}
	n = fill(br, (uint64_t)size);
	if (n < 0) {
		br->err = (int)n;
		return BATCH_INVALID;
	}
	if (n < size)
		return BATCH_TORN;
	p = br->buf + (br->position - br->buf_pos);
	int rc = record_batch_validate(p, (size_t)size, br->checks, h);
	if (rc < 0) {
		br->err = rc;
		return BATCH_INVALID;
	}
	*batch = p;
	br->position += (uint64_t)size;
	return BATCH_OK;
}

const char *batch_status_name(enum batch_status s)
{
	switch (s) {
	case BATCH_OK:
		return "ok";
	case BATCH_END:
		return "end";
	case BATCH_TORN:
		return "torn";
	case BATCH_INVALID:
		return "invalid";
	}
	return "?";
}
