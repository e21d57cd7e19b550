/*
 * tests/support/logtest.c: see logtest.h.
 */
#include "tests/support/logtest.h"

#include "base/assert.h"
#include "log/log_read.h"
#include "tests/support/batches.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct lt_append_req {
	struct partition_append a;
	int *err;
};

static void lt_done(struct partition_append *a, int err)
{
	struct lt_append_req *req = (struct lt_append_req *)a;
	if (req->err)
		*req->err = err;
	free(a->batches);
	free(req);
}

int lt_append(struct partition *p, const uint8_t *batch, size_t len, int *err)
{
	struct lt_append_req *req = calloc(1, sizeof(*req));
	ASSERT(req);
	req->a.batches = malloc(len);
	ASSERT(req->a.batches);
	memcpy(req->a.batches, batch, len);
	req->a.len = (uint32_t)len;
	req->a.done = lt_done;
	req->a.origin = APPEND_CLIENT;
	req->err = err;
	if (err)
		*err = 1; /* not done yet */
	int rc = partition_append(p, &req->a);
	if (rc < 0) {
		free(req->a.batches);
		free(req);
	}
	return rc;
}

int lt_append_simple(struct partition *p, int records, size_t value_bytes, int64_t ts)
{
	uint8_t *b;
	size_t len = test_batch_simple(records, value_bytes, ts, &b);
	int rc = lt_append(p, b, len, NULL);
	free(b);
	return rc;
}

void lt_drain(struct reactor *r)
{
	ASSERT(reactor_drain(r) == 0);
}

char *lt_crash_copy(const char *src)
{
	char *dst = test_tmpdir("crash");
	char *cmd;
	ASSERT(asprintf(&cmd, "cp -a '%s'/. '%s'/", src, dst) > 0);
	ASSERT(system(cmd) == 0);
	free(cmd);
	return dst;
}

static bool read_flag;
static int read_rc;
static void on_read(struct log_read *rd, int err)
{
	(void)rd;
	read_flag = true;
	read_rc = err;
}

static int run_read(struct reactor *r, struct partition *p, struct log_read *rd)
{
	rd->done = on_read;
	read_flag = false;
	int rc = log_read_start(p, rd);
	if (rc == 1) {
		ASSERT(reactor_run_until(r, &read_flag) == 0 && read_flag);
		rc = read_rc;
	}
	return rc;
}

int lt_read_all(struct reactor *r, struct partition *p, int64_t max_offset, uint8_t **out,
                size_t *len)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	int64_t offset = partition_log_start_offset(p);
	while (offset < max_offset) {
		struct log_read rd;
		memset(&rd, 0, sizeof(rd));
		rd.offset = offset;
		rd.max_bytes = 1 << 20;
		rd.max_offset = max_offset;
		int rc = run_read(r, p, &rd);
		if (rc < 0) {
			free(buf);
			return rc;
		}
		if (rd.ranges_count == 0) {
			log_read_release(&rd);
			break;
		}
		for (unsigned i = 0; i < rd.ranges_count; i++) {
			buf = realloc(buf, n + rd.ranges[i].len);
			ASSERT(pread(rd.ranges[i].fd, buf + n, rd.ranges[i].len,
			             (off_t)rd.ranges[i].position) == (ssize_t)rd.ranges[i].len);
			n += rd.ranges[i].len;
		}
		log_read_release(&rd);
		/* The next offset follows the last batch returned. */
		struct record_batch_header h;
		size_t pos = 0, last = 0;
		while (pos < n) {
			record_batch_header_read(buf + pos, &h);
			last = pos;
			pos += record_batch_size(&h);
		}
		record_batch_header_read(buf + last, &h);
		offset = record_batch_last_offset(&h) + 1;
	}
	*out = buf;
	*len = n;
	return 0;
}

int lt_read_at(struct reactor *r, struct partition *p, int64_t offset, int64_t *first)
{
	struct log_read rd;
	memset(&rd, 0, sizeof(rd));
	rd.offset = offset;
	rd.max_bytes = 1;
	rd.max_offset = INT64_MAX;
	int rc = run_read(r, p, &rd);
	if (rc == 0) {
		*first = rd.ranges_count ? rd.first_offset : -1;
		log_read_release(&rd);
	}
	return rc;
}

size_t lt_file_read(const char *path, uint8_t **out)
{
	int fd = open(path, O_RDONLY);
	ASSERT(fd >= 0);
	struct stat st;
	ASSERT(fstat(fd, &st) == 0);
	*out = malloc((size_t)st.st_size + 1);
	ASSERT(*out);
	ASSERT(pread(fd, *out, (size_t)st.st_size, 0) == st.st_size);
	close(fd);
	return (size_t)st.st_size;
}

void lt_file_write(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT(fd >= 0);
	ASSERT(write(fd, buf, len) == (ssize_t)len);
	close(fd);
}

char *lt_path(const char *dir, const char *name)
{
	char *p;
	ASSERT(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}
