/*
 * tests/support/logtest.h: helpers for tests that drive a partition through a real reactor:
 * synchronous appends and reads, crash copies of a partition directory (the files as they
 * are, without a clean close), and reading a whole partition back.
 */
#ifndef TAPE_TESTS_SUPPORT_LOGTEST_H
#define TAPE_TESTS_SUPPORT_LOGTEST_H

#include "io/reactor.h"
#include "log/partition.h"

#include <stddef.h>
#include <stdint.h>

/* Appends one batch (copied; freed when done) and returns partition_append's result. *err
 * gets done's error once the reactor has run (NULL: ignore). */
int lt_append(struct partition *p, const uint8_t *batch, size_t len, int *err);
/* Appends one simple batch of n records of value_bytes at timestamp ts. */
int lt_append_simple(struct partition *p, int records, size_t value_bytes, int64_t ts);
/* Runs the reactor until nothing is in flight. */
void lt_drain(struct reactor *r);

/* Copies every file of src into a new temp directory (a crash image). Returns its path. */
char *lt_crash_copy(const char *src);
/* Reads every batch from log start to max_offset with log_read_start into one malloc'ed
 * buffer (*len bytes). Returns 0 or the read's error. */
int lt_read_all(struct reactor *r, struct partition *p, int64_t max_offset, uint8_t **out,
                size_t *len);
/* Reads one batch at offset; returns the read's error (0) and sets *first to its base. */
int lt_read_at(struct reactor *r, struct partition *p, int64_t offset, int64_t *first);
/* File helpers. */
size_t lt_file_read(const char *path, uint8_t **out);
void lt_file_write(const char *path, const uint8_t *buf, size_t len);
char *lt_path(const char *dir, const char *name);

#endif
