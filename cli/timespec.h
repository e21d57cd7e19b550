/*
 * cli/timespec.h: the times and start positions users type, for `tape consume -o`, `tape
 * replay --from/--until` and `tape groups reset --to-datetime`.
 *
 * A time is one of:
 *   1700000000000               milliseconds since the epoch (digits only)
 *   2026-11-26T10:00:00Z        RFC 3339: date, 'T' (or 't' or a space), time with optional
 *   2026-11-26T10:00:00.250+01:00   fraction, then Z or an offset +HH:MM / -HH:MM
 *   2026-11-26                  a date alone: its midnight UTC
 *   -1h  -30m  -10s  -2d  -500ms    that long before now (units ms, s, m, h, d, w)
 *
 * A start (-o) is one of: beginning, end, N (an offset), -N (N records before the end),
 * @TIME (the first record at or after TIME).
 *
 * Pure: now_ms is given by the caller, nothing depends on the local time zone.
 */
#ifndef TAPE_CLI_TIMESPEC_H
#define TAPE_CLI_TIMESPEC_H

#include "client/tape.h"

#include <stddef.h>
#include <stdint.h>

/* Parses a time into *ms. Returns 0 or -EINVAL with a reason in why. */
int timespec_parse(const char *s, int64_t now_ms, int64_t *ms, char *why, size_t why_len);

/* Parses a start (as -o takes it) into *out. Returns 0 or -EINVAL with a reason in why. */
int timespec_parse_start(const char *s, int64_t now_ms, struct tape_start *out, char *why,
                         size_t why_len);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t timespec_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
