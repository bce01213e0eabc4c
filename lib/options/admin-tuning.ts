/**
 * Internal knobs of the admin surface. Not options of the module: the defaults are
 * the documented behaviour of the stream and the login; tests override this provider
 * to run in milliseconds.
 */
export const TASKFLOW_ADMIN_TUNING = Symbol('TASKFLOW_ADMIN_TUNING');

export interface AdminTuning {
  /** Period of the `: keep-alive` comment on SSE streams (15 s). */
  keepAliveMs: number;
  /** Smallest gap between two `metrics` events (1 s). */
  metricsIntervalMs: number;
  /** Changes of one task within this window are merged into one event (at most 100 ms). */
  flushWindowMs: number;
  /** Events kept for `Last-Event-ID` replay (at least 1000). */
  replayBufferSize: number;
  /** Bytes that may wait for a client that does not read; past it the client is dropped. */
  maxClientQueueBytes: number;
  /** Bytes of SSE events handed to a client's response per turn of the event loop while it has room; also that room (at least the socket's high-water mark). */
  streamPageBytes: number;
  /** Bytes of SSE events handed to Nest per turn of the event loop for all clients together. */
  streamTurnBytes: number;
  /** Events of one flush a dashboard's view stream gets one by one; past that, a `resync` instead (100). */
  viewBurstEvents: number;
  /** Least gap between two `resync` events of a view stream under a burst (100 ms). */
  viewResyncMs: number;
  /** Largest such gap, reached while a burst lasts (2 s). */
  viewResyncMaxMs: number;
  /** Failed logins for one username from one address before 429 (5). */
  loginMaxFailures: number;
  /** The window those failures are counted in (15 min). */
  loginWindowMs: number;
  /** Failed logins from one address, over all usernames, before each further attempt waits (password spraying). */
  loginAddressMaxFailures: number;
  /** First wait past that budget; it doubles with each further failure, up to `loginWindowMs`. */
  loginAddressBaseDelayMs: number;
  /** Bound on the number of (address, username) pairs, and of addresses, tracked. */
  loginThrottleMaxKeys: number;
  /** Clock of the login throttle (epoch ms). */
  now: () => number;
}

export const DEFAULT_ADMIN_TUNING: AdminTuning = {
  keepAliveMs: 15_000,
  metricsIntervalMs: 1_000,
  flushWindowMs: 50,
  replayBufferSize: 1_000,
  maxClientQueueBytes: 4 * 1024 * 1024,
  streamPageBytes: 64 * 1024,
  streamTurnBytes: 256 * 1024,
  viewBurstEvents: 100,
  viewResyncMs: 100,
  viewResyncMaxMs: 2_000,
  loginMaxFailures: 5,
  loginWindowMs: 15 * 60 * 1000,
  loginAddressMaxFailures: 20,
  loginAddressBaseDelayMs: 1_000,
  loginThrottleMaxKeys: 10_000,
  now: () => Date.now(),
};
