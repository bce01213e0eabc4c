/**
 * What a start of a limited function asks of a backend shared by several instances, and
 * what it answers. The engine enforces every limit in its own process first; a shared
 * backend then settles them across instances, one transaction per start.
 */
export interface GateClaim {
  funcName: string;
  /** The function's `concurrency`: one of its slots is taken until released. Null: none asked. */
  concurrency: number | null;
  /**
   * The function's rate limit for one key: a start is recorded in one of `max` rows of
   * the key; a row is free again `windowMs` after the start it recorded.
   */
  rate: { key: string; max: number; windowMs: number } | null;
  /** The caller's clock (epoch ms) when it sent the claim: rate rows are compared with it. */
  now: number;
}

/** A granted claim: what to settle once the task started (or did not) and to release when it ends. */
export interface GateGrant {
  granted: true;
  /** The concurrency slot taken, to release when the task ends; null when none was asked. */
  slot: number | null;
  /** The rate row reserved, to settle with the task's real start time; null when none was asked. */
  rateSlot: number | null;
}

/** A refused claim: which limit refused it, and for a rate limit when a row frees (ms from `now`). */
export interface GateRefusal {
  granted: false;
  limit: 'concurrency' | 'rate';
  retryInMs: number | null;
}

export type GateAnswer = GateGrant | GateRefusal;

/** The grant of a backend that does not coordinate instances: the engine's own limits are all there is. */
export const LOCAL_GRANT: GateGrant = { granted: true, slot: null, rateSlot: null };
