/*
 * io/fault.h: fault injection for tests, between the reactor's calls and the ring.
 *
 * LD_PRELOAD shims do not see io_uring submissions, so failures of writes and fsyncs are
 * injected here. A fault is armed on one kind of operation (write or fsync) and counts the
 * operations of that kind submitted after it was armed: the nth one (1-based) fails with
 * the given -errno without reaching the disk, or, for IO_FAULT_SHORT on a write, really writes
 * only the first half of its bytes and reports that count. A sticky fault also hits every
 * later operation of its kind (a disk that stays broken).
 */
#ifndef TAPE_IO_FAULT_H
#define TAPE_IO_FAULT_H

#include <stdbool.h>
#include <stdint.h>

struct reactor;

#define IO_FAULT_SHORT 1 /* a positive "error": complete the write short */

enum io_fault_on { IO_FAULT_ON_WRITE, IO_FAULT_ON_FSYNC };

/* Arms a fault; res is -EIO, -ENOSPC, ... or IO_FAULT_SHORT (writes only). Returns 0, or
 * -ENOSPC when all fault slots are armed. */
int reactor_fault_arm(struct reactor *r, enum io_fault_on on, uint64_t nth, int32_t res,
                      bool sticky);
/* Disarms every fault. */
void reactor_fault_clear(struct reactor *r);
/* Operations of this kind the faults have counted since the last clear. */
uint64_t reactor_fault_count(const struct reactor *r, enum io_fault_on on);

#endif
