import { TaskAttempt, TaskAttemptRecord, toAttemptRecord } from './task-attempt';
import { TaskStatus, isTerminal } from './task-status';

export type TaskSource = 'manual' | 'scheduled';

/**
 * The record as REST and SSE show it. Keys are in contract order; `args` and
 * `result` are present only with `displayFuncArgs`, `attempts` only in the
 * detail record (`GET /:task_id`).
 */
export interface TaskRecord {
  task_id: string;
  func_name: string;
  status: TaskStatus;
  created_at: string;
  start_time: string | null;
  end_time: string | null;
  duration: number | null;
  retries_used: number;
  error: string | null;
  logs: string[];
  stacktrace: string | null;
  tags: Record<string, string>;
  source: TaskSource;
  priority: number | null;
  executor: 'async' | 'worker';
  progress: number | null;
  /** The instance that owns or last ran the task (null without a database, and while it waits in the shared pool). */
  instance: string | null;
  /** When a task added with `delay` or `runAt` is due (it starts no earlier); null for one added without. */
  run_at: string | null;
  args?: unknown[];
  /** The task's return value (JSON); null until it succeeds. */
  result?: unknown;
  /** Oldest first. */
  attempts?: TaskAttemptRecord[];
}

/**
 * The full state of one task as the engine and the persistence backends hold it.
 * Times are epoch milliseconds; `args` are the JSON-safe arguments (or the
 * encrypted payload when argument encryption is on).
 */
/** The tags of every task made without any, shared and frozen: nothing changes a task's tags once it is made. */
export const NO_TAGS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * The logs of every task until its first line, shared and frozen (most tasks never log):
 * the engine gives a task its own array when it appends the first (ownLogs).
 */
export const NO_LOGS: string[] = Object.freeze([]) as unknown as string[];

export interface TaskData {
  id: string;
  funcName: string;
  status: TaskStatus;
  createdAt: number;
  startTime: number | null;
  endTime: number | null;
  retriesUsed: number;
  error: string | null;
  stacktrace: string | null;
  logs: string[];
  tags: Record<string, string>;
  source: TaskSource;
  priority: number | null;
  progress: number | null;
  /** Epoch ms before which the task does not start (`delay` / `runAt` of addTask); absent or null: at once. */
  runAt?: number | null;
  args: unknown[];
  /** The return value of the successful attempt, JSON-safe and size-capped (capResult); null before. */
  result?: unknown;
  /** Each attempt's start, end and error, oldest first (at most MAX_KEPT_ATTEMPTS, the latest). */
  attempts?: TaskAttempt[];
  /** Encrypted argument payload (base64) when `encryptArgsKey` is set; `args` is then `[]`. */
  argsCipher: string | null;
  idempotencyKey: string | null;
  /** True when the task must survive restarts (requeuePending or `persist`). */
  durable: boolean;
  /** Instance currently running (or holding) the task, for multi-instance recovery. */
  owner: string | null;
  /** Bumped on every change; lets writers skip stale snapshots. */
  version: number;
  /**
   * True while no write of this task has been sent to a database, so none can have its
   * row: the first write then inserts without looking for one, and the lease fence need
   * not hold it (no other instance can know of it). Cleared when a batch holding it is
   * sent, not when that commits: the row may be committed while the answer is still on
   * its way. Absent means unknown.
   */
  unstored?: boolean;
  /** Set for a task of `executor: 'worker'`; absent means the event loop ('async'). */
  executor?: 'worker';
  /**
   * True while a stored row of this task is not in the metric counts yet (written
   * into the application's transaction, whose counts the next write adds). Absent: counted.
   */
  uncounted?: boolean;
}

/** `withAttempts`: the detail record of one task (its attempt history). */
export function toTaskRecord(task: TaskData, withArgs: boolean, withAttempts = false): TaskRecord {
  const record: TaskRecord = {
    task_id: task.id,
    func_name: task.funcName,
    status: task.status,
    created_at: iso(task.createdAt),
    start_time: task.startTime === null ? null : iso(task.startTime),
    end_time: task.endTime === null ? null : iso(task.endTime),
    duration: task.startTime !== null && task.endTime !== null ? (task.endTime - task.startTime) / 1000 : null,
    retries_used: task.retriesUsed,
    error: task.error,
    logs: task.logs.slice(),
    stacktrace: task.stacktrace,
    tags: { ...task.tags },
    source: task.source,
    priority: task.priority,
    executor: task.executor ?? 'async',
    progress: task.progress,
    instance: task.owner,
    run_at: task.runAt === null || task.runAt === undefined ? null : iso(task.runAt),
  };
  if (withArgs) {
    record.args = task.argsCipher !== null ? ['<encrypted>'] : task.args;
    record.result = task.status === 'success' ? (task.result ?? null) : null;
  }
  if (withAttempts) record.attempts = (task.attempts ?? []).map(toAttemptRecord);
  return record;
}

/**
 * The task as it is now, for use later (the SSE replay buffer, a write-behind batch).
 * The engine changes a live task in place, its logs array included, but never what a
 * terminal one shows (a retry is a new record), nor tags or args once the task is
 * admitted: a terminal task is its own snapshot, a live one is copied with its logs.
 */
export function snapshotTask(task: TaskData): TaskData {
  if (isTerminal(task.status)) return task;
  const copy = { ...task, logs: task.logs.slice() };
  // The running attempt's entry is completed in place when it ends.
  if (task.attempts) copy.attempts = task.attempts.map((a) => ({ ...a }));
  return copy;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
