// The monotonic clock, which a step of the wall clock (NTP) does not move.

/**
 * Milliseconds on the monotonic clock. Not performance.now(): the global `performance` loads Node's perf_hooks the
 * first time it is read, about 2 ms of every run's start-up here; process.hrtime is loaded with Node itself.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
