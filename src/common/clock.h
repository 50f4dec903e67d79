/*
 * clock — the one monotonic clock of the process, in milliseconds: for timeouts, expiries,
 * idle times and rate limits, which a change of the wall clock must not move. Thread-safe;
 * no state. (log.c keeps its own nanosecond clock, which tests replace.)
 */
#ifndef MEETOA_COMMON_CLOCK_H
#define MEETOA_COMMON_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t clock_monotonic_ms(void);

#endif
