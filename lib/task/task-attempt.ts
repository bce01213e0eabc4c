/** One attempt of a task as the engine keeps it. Times are epoch milliseconds. */
export interface TaskAttempt {
  /** Counts from 1 across the task's whole life (a requeue after a restart continues the count). */
  attempt: number;
  startTime: number;
  /** Null while the attempt runs (or when a crash ended it unrecorded). */
  endTime: number | null;
  /** `"Name: message"` of its failure; null for the attempt that succeeded. */
  error: string | null;
}

/** An attempt as the detail record (`GET /:task_id`) shows it. */
export interface TaskAttemptRecord {
  attempt: number;
  start_time: string;
  end_time: string | null;
  error: string | null;
}

/** Attempts kept per task: the latest ones, so a task with thousands of retries keeps a bounded row. */
export const MAX_KEPT_ATTEMPTS = 100;

/** JSON characters of a result kept; a longer one is replaced by a marker (see capResult). */
export const MAX_RESULT_CHARS = 64 * 1024;
/** Characters of a cut result's JSON kept in its marker. */
const RESULT_PREVIEW_CHARS = 1024;

/** What a cut result is replaced with: the size it had and the start of its JSON. */
export interface TruncatedResult {
  $truncated: { chars: number; limit: number };
  preview: string;
}

/**
 * The task's return value as JSON can hold it: `undefined` becomes null, Dates
 * strings, BigInts strings; a value whose JSON is longer than MAX_RESULT_CHARS
 * becomes a TruncatedResult; one that cannot be serialised (a cycle) a marker string.
 */
export function capResult(value: unknown): unknown {
  // Most tasks return nothing or a plain scalar: no JSON round trip for those.
  if (value === undefined || value === null || typeof value === 'function' || typeof value === 'symbol') return null;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value === 0 ? 0 : value;
  // Escaped, a character takes at most 6: a string this short is kept as it is.
  if (typeof value === 'string' && value.length * 6 + 2 <= MAX_RESULT_CHARS) return value;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch (error) {
    return `[result not serialisable: ${error instanceof Error ? error.message : String(error)}]`;
  }
  if (text === undefined) return null;
  if (text.length > MAX_RESULT_CHARS) {
    const cut: TruncatedResult = { $truncated: { chars: text.length, limit: MAX_RESULT_CHARS }, preview: text.slice(0, RESULT_PREVIEW_CHARS) };
    return cut;
  }
  return JSON.parse(text) as unknown;
}

export function toAttemptRecord(attempt: TaskAttempt): TaskAttemptRecord {
  return {
    attempt: attempt.attempt,
    start_time: new Date(attempt.startTime).toISOString(),
    end_time: attempt.endTime === null ? null : new Date(attempt.endTime).toISOString(),
    error: attempt.error,
  };
}
