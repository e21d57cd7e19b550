/*
 * log/checkpoint.c: durable small files. Format and write order in checkpoint.h.
 */
#include "log/checkpoint.h"

#include "base/endian.h"
#include "base/errors.h"
#include "base/hash.h"
#include "base/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[8] = { 'T', 'A', 'P', 'E', 'C', 'K', 'P', 'T' };
#define VERSION 1

/* XXH3-64 of the payload, seeded with the version, kind and length, so a header that
 * changed is caught as surely as a payload that did. */
static uint64_t checksum(const uint8_t *header, const void *payload, size_t len)
{
	return hash64_seed(payload, len, load_be64(header + 8));
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int checkpoint_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int checkpoint_write_tmp(const char *dir, const char *name, enum checkpoint_kind kind,
                         const void *payload, size_t len)
{
	if (len > CHECKPOINT_BYTES_MAX - CHECKPOINT_HEADER_BYTES)
		return -TAPE_ETOOLARGE;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s.tmp", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	uint8_t header[CHECKPOINT_HEADER_BYTES];
	memcpy(header, magic, 8);
	store_be16(header + 8, VERSION);
	store_be16(header + 10, (uint16_t)kind);
	store_be32(header + 12, (uint32_t)len);
	store_be64(header + 16, checksum(header, payload, len));

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, header, sizeof(header));
	if (rc == 0 && len)
		rc = write_all(fd, payload, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int checkpoint_commit(const char *dir, const char *name)
{
	char from[PATH_MAX], to[PATH_MAX];
	if (snprintf(from, sizeof(from), "%s/%s.tmp", dir, name) >= (int)sizeof(from) ||
	    snprintf(to, sizeof(to), "%s/%s", dir, name) >= (int)sizeof(to))
		return -ENAMETOOLONG;
	if (rename(from, to) < 0)
		return -errno;
	return checkpoint_sync_dir(dir);
}

/* True when "<dir>/<name>" is a valid checkpoint of kind holding exactly payload. Every file
 * this process wrote was synced with its directory before checkpoint_write returned, and what
 * survived a restart is on disk by definition, so such a file is already durable. */
static bool already_holds(const char *dir, const char *name, enum checkpoint_kind kind,
                          const void *payload, size_t len)
{
	uint8_t *old;
	size_t old_len;
	if (checkpoint_read(dir, name, kind, &old, &old_len) < 0)
		return false;
	bool same = old_len == len && (len == 0 || memcmp(old, payload, len) == 0);
	free(old);
	return same;
}

int checkpoint_write(const char *dir, const char *name, enum checkpoint_kind kind,
                     const void *payload, size_t len)
{
	if (already_holds(dir, name, kind, payload, len))
		return 0;
	int rc = checkpoint_write_tmp(dir, name, kind, payload, len);
	return rc < 0 ? rc : checkpoint_commit(dir, name);
}

static int read_whole(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size > (off_t)CHECKPOINT_BYTES_MAX)
		return -TAPE_ETOOLARGE;
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -TAPE_ECORRUPT;
		}
		got += (size_t)n;
	}
	*out = buf;
	*len = size;
	return 0;
}

int checkpoint_read(const char *dir, const char *name, enum checkpoint_kind kind, uint8_t **payload,
                    size_t *len)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint8_t *buf = NULL;
	size_t size = 0;
	int rc = read_whole(fd, &buf, &size);
	close(fd);
	if (rc < 0)
		return rc;
	rc = -TAPE_ECORRUPT;
	if (size < CHECKPOINT_HEADER_BYTES || memcmp(buf, magic, 8) != 0 ||
	    load_be16(buf + 8) != VERSION || load_be16(buf + 10) != (uint16_t)kind ||
	    load_be32(buf + 12) != size - CHECKPOINT_HEADER_BYTES)
		goto out;
	size_t plen = size - CHECKPOINT_HEADER_BYTES;
	if (load_be64(buf + 16) != checksum(buf, buf + CHECKPOINT_HEADER_BYTES, plen))
		goto out;
	memmove(buf, buf + CHECKPOINT_HEADER_BYTES, plen);
	*payload = buf;
	*len = plen;
	return 0;
out:
	free(buf);
	return rc;
}
