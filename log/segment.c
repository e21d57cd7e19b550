/*
 * log/segment.c: segment files and their sidecars; format and lifecycle in segment.h.
 * Everything here but segment_index_batch blocks and runs on helper threads or at start-up.
 */
#include "log/segment.h"

#include "base/assert.h"
#include "base/errors.h"
#include "base/limits.h"
#include "log/batch_reader.h"
#include "log/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void segment_name(char out[SEGMENT_NAME_BYTES], int64_t base_offset)
{
	snprintf(out, SEGMENT_NAME_BYTES, "%020" PRId64, base_offset);
}

int segment_path(char *out, size_t cap, const char *dir, int64_t base_offset, const char *suffix)
{
	int n = snprintf(out, cap, "%s/%020" PRId64 "%s", dir, base_offset, suffix);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

bool segment_parse_name(const char *name, int64_t *base_offset)
{
	if (strlen(name) != 24 || strcmp(name + 20, ".log") != 0)
		return false;
	int64_t v = 0;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		if (v > (INT64_MAX - (name[i] - '0')) / 10)
			return false;
		v = v * 10 + (name[i] - '0');
	}
	*base_offset = v;
	return true;
}

static struct segment *segment_new(int64_t base_offset, int fd)
{
	struct segment *seg = calloc(1, sizeof(*seg));
	if (!seg)
		return NULL;
	seg->base_offset = base_offset;
	seg->fd = fd;
	seg->state = SEGMENT_ACTIVE;
	seg->next_offset = base_offset;
	seg->synced_next_offset = base_offset;
	seg->max_timestamp = -1;
	offset_index_init(&seg->oidx);
	time_index_init(&seg->tidx);
	return seg;
}

int segment_create(const char *dir, int64_t base_offset, uint64_t prealloc_bytes, int64_t now_ms,
                   struct segment **out)
{
	char path[PATH_MAX];
	int rc = segment_path(path, sizeof(path), dir, base_offset, ".log");
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (prealloc_bytes && fallocate(fd, 0, 0, (off_t)prealloc_bytes) < 0 &&
	    errno != EOPNOTSUPP) {
		rc = -errno;
		goto fail;
	}
	rc = checkpoint_sync_dir(dir); /* D3 */
	if (rc < 0)
		goto fail;
	struct segment *seg = segment_new(base_offset, fd);
	if (!seg) {
		rc = -ENOMEM;
		goto fail;
	}
	seg->prealloc_end = prealloc_bytes;
	seg->created_ms = now_ms;
	*out = seg;
	return 0;
fail:
	close(fd);
	unlink(path);
	return rc;
}

int segment_open(const char *dir, int64_t base_offset, struct segment **out)
{
	char path[PATH_MAX];
	int rc = segment_path(path, sizeof(path), dir, base_offset, ".log");
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	struct segment *seg = segment_new(base_offset, fd);
	if (!seg) {
		close(fd);
		return -ENOMEM;
	}
	seg->size = seg->reserved = (uint64_t)st.st_size;
	seg->prealloc_end = (uint64_t)st.st_size;
	seg->created_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	seg->state = SEGMENT_SEALED;
	*out = seg;
	return 0;
}

int segment_index_batch(struct segment *seg, const struct record_batch_header *h, uint64_t position,
                        uint32_t index_interval_bytes)
{
	int64_t last = record_batch_last_offset(h);
	ASSERT(last >= seg->base_offset && last - seg->base_offset <= UINT32_MAX);
	uint32_t rel = (uint32_t)(last - seg->base_offset);
	int rc = 0;
	if (h->max_timestamp > seg->max_timestamp)
		seg->max_timestamp = h->max_timestamp;
	/* Kafka's rule: an entry once more than an interval was written since the last one. */
	if (seg->bytes_since_index > index_interval_bytes) {
		rc = offset_index_append(&seg->oidx, rel, (uint32_t)position);
		if (rc == 0)
			rc = time_index_maybe_append(&seg->tidx, seg->max_timestamp, rel);
		seg->bytes_since_index = 0;
	}
	seg->bytes_since_index += record_batch_size(h);
	seg->next_offset = last + 1;
	return rc;
}

int segment_rebuild_indexes(struct segment *seg, uint32_t index_interval_bytes, bool open_tail)
{
	offset_index_free(&seg->oidx);
	time_index_free(&seg->tidx);
	seg->bytes_since_index = 0;
	seg->next_offset = seg->base_offset;
	seg->max_timestamp = -1;
	struct batch_reader br;
	int rc = batch_reader_init(&br, seg->fd, 0, seg->size, 0, BATCH_BYTES_MAX);
	if (rc < 0)
		return rc;
	const uint8_t *b;
	struct record_batch_header h;
	uint64_t pos;
	enum batch_status st;
	while ((st = batch_reader_next(&br, &b, &h, &pos)) == BATCH_OK) {
		rc = segment_index_batch(seg, &h, pos, index_interval_bytes);
		if (rc < 0)
			break;
	}
	if (rc == 0 && st == BATCH_END && open_tail)
		seg->size = seg->reserved = pos;
	else if (rc == 0 && (st != BATCH_END || pos != seg->size))
		rc = br.err ? br.err : -TAPE_ECORRUPT;
	batch_reader_free(&br);
	return rc;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	*len = (size_t)st.st_size;
	*out = malloc(*len ? *len : 1);
	if (!*out) {
		rc = -ENOMEM;
		goto out;
	}
	if (*len && pread(fd, *out, *len, 0) != (ssize_t)*len) {
		free(*out);
		rc = -EIO;
	}
out:
	close(fd);
	return rc;
}

static int write_file_synced(const char *path, const void *buf, size_t len);

/* Maps a valid index file into idx; false when missing or invalid. */
static bool map_index(const char *dir, struct segment *seg, const char *suffix, bool time)
{
	char path[PATH_MAX];
	if (segment_path(path, sizeof(path), dir, seg->base_offset, suffix) < 0)
		return false;
	uint8_t *buf;
	size_t len;
	if (read_file(path, &buf, &len) < 0)
		return false;
	bool ok = time ? time_index_valid(buf, len, UINT32_MAX)
	               : offset_index_valid(buf, len, (uint32_t)seg->size, UINT32_MAX);
	free(buf);
	if (!ok)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	int rc = time ? time_index_map(&seg->tidx, fd, len) : offset_index_map(&seg->oidx, fd, len);
	close(fd);
	return rc == 0;
}

int segment_load_indexes(struct segment *seg, const char *dir, uint32_t index_interval_bytes,
                         bool open_tail)
{
	if (!map_index(dir, seg, ".index", false) || !map_index(dir, seg, ".timeindex", true))
		return segment_rebuild_indexes(seg, index_interval_bytes, open_tail);
	/* The tail after the last index entry gives the next offset and the last timestamps. */
	uint64_t from = 0;
	struct offset_index_entry e;
	if (seg->oidx.count) {
		e = offset_index_entry_at(&seg->oidx, seg->oidx.count - 1);
		from = e.position;
	}
	struct time_index_entry te;
	if (time_index_last(&seg->tidx, &te))
		seg->max_timestamp = te.timestamp;
	struct batch_reader br;
	int rc = batch_reader_init(&br, seg->fd, from, seg->size, 0, BATCH_BYTES_MAX);
	if (rc < 0)
		return rc;
	const uint8_t *b;
	struct record_batch_header h;
	uint64_t pos;
	enum batch_status st;
	while ((st = batch_reader_next(&br, &b, &h, &pos)) == BATCH_OK) {
		seg->next_offset = record_batch_last_offset(&h) + 1;
		if (h.max_timestamp > seg->max_timestamp)
			seg->max_timestamp = h.max_timestamp;
		seg->bytes_since_index += record_batch_size(&h);
	}
	batch_reader_free(&br);
	if (st == BATCH_END && open_tail) {
		seg->size = seg->reserved = pos;
		return 0;
	}
	if (st != BATCH_END || pos != seg->size)
		return segment_rebuild_indexes(seg, index_interval_bytes, open_tail);
	return 0;
}

/* Writes path by way of path.tmp and a rename: the old file may be mapped (a sealed
 * segment's index), and truncating a mapped file under the mapping would fault. */
/* True when path holds exactly buf: writing it again would cost a sync and change nothing. (An
 * absent file is written even when buf is empty: a clean open rebuilds a missing index by a
 * scan, which refuses a segment holding a quarantined range.) */
static bool file_holds(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	bool same = fstat(fd, &st) == 0 && st.st_size == (off_t)len;
	if (same && len) {
		uint8_t *old = malloc(len);
		same = old && pread(fd, old, len, 0) == (ssize_t)len && memcmp(old, buf, len) == 0;
		free(old);
	}
	close(fd);
	return same;
}

static int replace_file(const char *path, const void *buf, size_t len)
{
	if (file_holds(path, buf, len))
		return 0;
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int rc = write_file_synced(tmp, buf, len);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	return rc;
}

int segment_write_indexes(struct segment *seg, const char *dir)
{
	char path[PATH_MAX];
	int rc = segment_path(path, sizeof(path), dir, seg->base_offset, ".index");
	if (rc == 0)
		rc = replace_file(path, seg->oidx.entries, offset_index_bytes(&seg->oidx));
	if (rc == 0)
		rc = segment_path(path, sizeof(path), dir, seg->base_offset, ".timeindex");
	if (rc == 0)
		rc = replace_file(path, seg->tidx.entries, time_index_bytes(&seg->tidx));
	return rc;
}

static int write_file_synced(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (len && pwrite(fd, buf, len, 0) != (ssize_t)len)
		rc = errno ? -errno : -EIO;
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int segment_digest(int fd, uint64_t size, struct hash128 *out)
{
	struct hash128_stream *s = hash128_stream_new();
	uint8_t *buf = malloc(1u << 20);
	int rc = 0;
	if (!s || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint64_t pos = 0; pos < size;) {
		size_t want = size - pos < (1u << 20) ? (size_t)(size - pos) : (1u << 20);
		ssize_t n = pread(fd, buf, want, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -TAPE_ECORRUPT;
			goto out;
		}
		hash128_stream_update(s, buf, (size_t)n);
		pos += (uint64_t)n;
	}
	*out = hash128_stream_digest(s);
out:
	free(buf);
	if (s)
		hash128_stream_free(s);
	return rc;
}

static int write_digest(const char *dir, struct segment *seg)
{
	struct hash128 d;
	int rc = segment_digest(seg->fd, seg->size, &d);
	if (rc < 0)
		return rc;
	char line[96], path[PATH_MAX], tmp[PATH_MAX];
	int n = snprintf(line, sizeof(line), "XXH3_128 %016" PRIx64 "%016" PRIx64 " %" PRIu64 "\n",
	                 d.high, d.low, seg->size);
	if (segment_path(path, sizeof(path), dir, seg->base_offset, ".digest") < 0 ||
	    segment_path(tmp, sizeof(tmp), dir, seg->base_offset, ".digest.tmp") < 0)
		return -ENAMETOOLONG;
	rc = write_file_synced(tmp, line, (size_t)n);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	return rc;
}

int segment_read_digest(const char *dir, int64_t base_offset, struct hash128 *digest,
                        uint64_t *size)
{
	char path[PATH_MAX];
	if (segment_path(path, sizeof(path), dir, base_offset, ".digest") < 0)
		return -ENAMETOOLONG;
	uint8_t *buf;
	size_t len;
	int rc = read_file(path, &buf, &len);
	if (rc < 0)
		return rc;
	char text[96] = { 0 };
	memcpy(text, buf, len < sizeof(text) - 1 ? len : sizeof(text) - 1);
	free(buf);
	char hex[33] = { 0 };
	if (sscanf(text, "XXH3_128 %32[0-9a-f] %" SCNu64, hex, size) != 2 || strlen(hex) != 32)
		return -TAPE_ECORRUPT;
	char high[17] = { 0 };
	memcpy(high, hex, 16);
	digest->high = strtoull(high, NULL, 16);
	digest->low = strtoull(hex + 16, NULL, 16);
	return 0;
}

int segment_seal(struct segment *seg, const char *dir)
{
	if (fdatasync(seg->fd) < 0)
		return -errno;
	if (ftruncate(seg->fd, (off_t)seg->size) < 0)
		return -errno;
	if (fsync(seg->fd) < 0) /* the new size is metadata */
		return -errno;
	int rc = segment_write_indexes(seg, dir);
	if (rc == 0)
		rc = write_digest(dir, seg);
	if (rc == 0)
		rc = checkpoint_sync_dir(dir);
	return rc;
}

int segment_delete_files(const char *dir, int64_t base_offset)
{
	static const char *const suffixes[] = { ".log",        ".index",   ".timeindex", ".digest",
		                                ".digest.tmp", ".cleaned", ".swap" };
	int rc = 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char path[PATH_MAX];
		if (segment_path(path, sizeof(path), dir, base_offset, suffixes[i]) < 0)
			return -ENAMETOOLONG;
		if (unlink(path) < 0 && errno != ENOENT && rc == 0)
			rc = -errno;
	}
	int s = checkpoint_sync_dir(dir);
	return rc ? rc : s;
}

void segment_free(struct segment *seg)
{
	if (!seg)
		return;
	if (seg->fd >= 0)
		close(seg->fd);
	offset_index_free(&seg->oidx);
	time_index_free(&seg->tidx);
	free(seg);
}
