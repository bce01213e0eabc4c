import { StatusSummary } from './task-metrics';
import { TaskStatus } from './task-status';

/**
 * Read models of the dashboard's insight routes (`GET {path}/insights/...`). Times
 * are ISO-8601 UTC strings, durations seconds, like the task record.
 */

/** One minute of `GET {path}/insights/throughput`: tasks that finished in it, by status. */
export interface ThroughputBucket {
  /** Start of the minute. */
  start: string;
  success: number;
  failed: number;
  interrupted: number;
  cancelled: number;
}

/** `GET {path}/insights/throughput?minutes=60`. */
export interface ThroughputReport {
  minutes: number;
  bucket_seconds: number;
  /** Start of the first bucket (a whole minute). */
  from: string;
  /** When the report was made (the last bucket is the current, partial minute). */
  to: string;
  /** Oldest first, one per minute, empty minutes included. */
  buckets: ThroughputBucket[];
}

/** The most recent failure of a function. */
export interface LastFailure {
  task_id: string;
  /** End time (or creation time when it never ran). */
  at: string;
  error: string | null;
}

/** One row of `GET {path}/insights/functions`. */
export interface FunctionInsight extends StatusSummary {
  func_name: string;
  /** Whether a @BackgroundTask of this name is registered in this application. */
  registered: boolean;
  last_failure: LastFailure | null;
}

/** Failed and interrupted tasks that share an error signature. */
export interface DeadLetterGroup {
  /** The first line of the error with ids, numbers and addresses masked. */
  signature: string;
  /** The full error of the newest task of the group. */
  error: string;
  count: number;
  /** By status (failed, interrupted). */
  statuses: Partial<Record<TaskStatus, number>>;
  /** Functions involved, most frequent first. */
  functions: string[];
  /** Creation times of the oldest and newest task of the group (among those scanned). */
  first_seen: string;
  last_seen: string;
  sample_task_id: string;
  /** Ids of the group's tasks, newest first, at most `DEAD_LETTER_IDS_PER_GROUP`. */
  task_ids: string[];
}

/** `GET {path}/insights/dead-letters?since=7d&func_name=`. */
export interface DeadLetterReport {
  /** Cutoff on created_at, or null for all time (as `since` of retry-failed). */
  since: string | null;
  /** Failed and interrupted tasks looked at (the newest first). */
  scanned: number;
  /** True when more matched than were scanned: counts cover the newest `scanned` only. */
  truncated: boolean;
  /** Largest group first. */
  groups: DeadLetterGroup[];
}

export const DEAD_LETTER_SCAN_LIMIT = 20_000;
export const DEAD_LETTER_IDS_PER_GROUP = 1_000;
export const DEAD_LETTER_MAX_GROUPS = 200;
export const MAX_THROUGHPUT_MINUTES = 1440;
