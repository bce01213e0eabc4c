import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { DatabaseOutage, describeError } from './database-outage';
import { TaskData, snapshotTask } from '../task/task-record';
import { isTerminal } from '../task/task-status';
import { StartedBacklog } from './started-backlog';
import { TaskBackend } from './task-backend';

/**
 * Changes written together in one transaction at most. Each batch's rows are built and
 * held until it commits; 3,000 rather than 5,000 took ~10 MB off the peak RSS of a
 * 1M-task burst on SQLite, at no measurable cost in throughput (see maxWriteBacklog:
 * two batches, one in flight and the next ready; on PostgreSQL both may be in flight,
 * see TaskBackend's writeBatchesInFlight).
 */
const MAX_BATCH = 3000;
/** Of each batch, the share kept for new tasks' first rows that nobody awaits (see takeBatch). */
const FIRST_ROWS_SHARE = 0.1;
/**
 * A batch taken while another is in flight (writeBatchesInFlight > 1) under a backlog holds
 * only changes of started tasks, and goes only once this share of a batch of them is queued.
 * Filled up with new tasks' first rows as the only batch is, the second batch wrote ~20 % of
 * a 100,000-task burst twice (pending, then finished; ~120,000 rows instead of ~104,000),
 * and the new rows are written by the first loop's share anyway.
 */
const ALONGSIDE_MIN = 0.5;
/** Group-commit window for changes that should reach the database promptly. */
const PROMPT_WINDOW_MS = 10;
/**
 * At the latest this long after a running task changes (its start when not durable, its
 * progress, a log line), the change is written: other instances show running tasks from
 * the database. Changes within the window ride one write, so a task that logs a thousand
 * lines a second is still written about four times a second, and one that ends within
 * it is written once, finished.
 */
export const LIVE_WRITE_MS = 250;
const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/**
 * Write-behind with group commit. Changed tasks are collected and written in
 * batches, one transaction each, up to the backend's `writeBatchesInFlight` of them at
 * once (PostgreSQL: 2), with disjoint task ids: a task changed again while a batch
 * holding it is in flight waits for that batch to end, so a later change of a task
 * never overtakes an earlier one. New and finished tasks, and the start of a
 * durable task, are written within a few milliseconds; the other changes of a running
 * task (its start when not durable, progress, logs) within LIVE_WRITE_MS; the rest
 * within `snapshotInterval`. A failed write keeps
 * the tasks queued and is retried with back-off (changes meanwhile wait for that
 * retry); the outage and the recovery are logged once each, through the
 * DatabaseOutage the reads share. Past `maxBacklog` unwritten changes of started
 * tasks, the batches in flight included, hasRoom says no (StartedBacklog): the
 * engine's start gate.
 */
export class WriteBehind {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly dirty = new Map<string, TaskData>();
  /** Durable tasks whose start has been queued for writing (see startedDurable). */
  private readonly runningDurable = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  /** Writer loops running (at most maxInFlight, each with one batch in flight at a time), for stop() to await. */
  private readonly writers = new Set<Promise<void>>();
  /** Of them, those not yet ended (writers lets go of an ended one a tick later). */
  private running = 0;
  private readonly maxInFlight: number;
  private failures = 0;
  private stopped = false;
  private flushWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** New tasks whose caller waits for their first write (durable enqueue), by id. */
  private readonly writeWaiters = new Map<string, () => void>();
  /** Ids in the batches being written now: takeBatch leaves their newer changes queued. */
  private readonly inFlight = new Set<string>();
  /** Tasks whose caller gave up while their batch was in flight: told if it commits after all, dropped if it fails. */
  private readonly withdrawn = new Map<string, () => void>();
  private readonly started: StartedBacklog;

  constructor(
    private readonly backend: TaskBackend,
    private readonly intervalMs: number,
    private readonly outage: DatabaseOutage = new DatabaseOutage(),
    private readonly liveMs = LIVE_WRITE_MS,
    maxBacklog = Infinity,
  ) {
    this.started = new StartedBacklog(maxBacklog);
    this.maxInFlight = Math.max(1, Math.floor(backend.capabilities.writeBatchesInFlight ?? 1));
  }

  /** Tasks waiting to be written. */
  get backlog(): number {
    return this.dirty.size;
  }

  /** Unwritten changes of tasks that started, the batches in flight included: what maxBacklog bounds. */
  get startedBacklog(): number {
    return this.started.size;
  }

  /** See StartedBacklog.hasRoom: false past maxBacklog, and `wake` is called once there is room. */
  hasRoom(wake: () => void): boolean {
    return this.started.hasRoom(wake);
  }

  get healthy(): boolean {
    return this.failures === 0;
  }

  /**
   * Marks a task changed; creation, terminal states and a durable task's start are
   * written promptly.
   */
  changed(task: TaskData): void {
    this.dirty.set(task.id, task);
    this.started.changed(task);
    const started = this.startedDurable(task);
    // While the database is failing, the back-off retry set by onFailure stands: a
    // prompt change used to pull it forward to 10 ms, so every finishing task retried
    // at once (seen as a connection attempt per change against a down server) and the
    // back-off never applied. The retry writes this change too.
    if (this.failures > 0) return;
    const prompt = started || task.version <= 1 || isTerminal(task.status);
    this.scheduleIn(prompt ? PROMPT_WINDOW_MS : task.status === 'running' ? Math.min(this.liveMs, this.intervalMs) : this.intervalMs);
  }

  /**
   * True the first time a durable task is seen running (again after a requeue).
   * Recovery turns a durable task stored as `running` into `interrupted`, and one
   * stored as `pending` into a new run: if the start waited for `snapshotInterval`
   * (60 s by default), a crash in that time ran a task that was caught running a
   * second time (seen with a task recovered by a live instance, which starts with no
   * other write to ride along with). Tracks running durable tasks only.
   */
  private startedDurable(task: TaskData): boolean {
    if (!task.durable) return false;
    if (task.status !== 'running') {
      this.runningDurable.delete(task.id);
      return false;
    }
    if (this.runningDurable.has(task.id)) return false;
    this.runningDurable.add(task.id);
    return true;
  }

  /**
   * Queues a new task's first write and resolves once a batch holding it has
   * committed, in the same group commit as every other change; while the database
   * fails it keeps waiting (the write is retried with back-off).
   */
  whenWritten(task: TaskData): Promise<void> {
    return new Promise<void>((resolve) => {
      this.writeWaiters.set(task.id, resolve);
      this.changed(task);
    });
  }

  /**
   * The caller of whenWritten gave up. True when the task was never sent to the
   * database: it is dropped, nothing of it exists. False when a batch holding it is
   * being written now: `lateCommit` is called once that batch ends, committed or failed.
   * A failure cannot tell a batch that never committed from one whose COMMIT went
   * through and only the answer was lost; dropping the task then left a pending row
   * that nobody ran here and recovery ran after a restart, for a caller told it failed.
   */
  withdraw(task: TaskData, lateCommit: () => void): boolean {
    this.writeWaiters.delete(task.id);
    if (this.inFlight.has(task.id)) {
      this.withdrawn.set(task.id, lateCommit);
      return false;
    }
    if (this.dirty.get(task.id) === task) {
      this.dirty.delete(task.id);
      this.started.dropped(task.id);
    }
    return true;
  }

  /** Writes everything queued so far; rejects if the database cannot be reached. */
  async flush(): Promise<void> {
    if (this.dirty.size === 0 && this.inFlight.size === 0) return;
    await new Promise<void>((resolve, reject) => {
      this.flushWaiters.push({ resolve, reject });
      this.scheduleIn(0);
      // The write timer is unref'd so it never holds a process open by itself, but a
      // caller awaiting flush() must get its write: in a process with nothing else
      // keeping the event loop alive (a script on SQLite, whose driver holds no
      // handle), the unref'd timer let the process exit with the write never made.
      this.timer?.ref?.();
    });
  }

  /** Final writes at shutdown: tries until everything is written or `deadlineMs` passes. */
  async stop(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    this.clearTimer();
    while (this.dirty.size > 0 || this.inFlight.size > 0) {
      try {
        await this.writeNow();
      } catch {
        if (Date.now() >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(MIN_BACKOFF_MS, Math.max(0, deadline - Date.now()))));
      }
    }
    this.stopped = true;
    this.clearTimer();
    this.started.openForGood();
    if (this.dirty.size > 0) this.logger.error(`${this.dirty.size} task change(s) could not be written before shutdown: the database is unreachable`);
  }

  private scheduleIn(ms: number): void {
    if (this.stopped) return;
    const due = Date.now() + ms;
    if (this.timer && this.timerDue <= due) return;
    this.clearTimer();
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = Infinity;
      void this.writeNow().catch(() => undefined);
    }, ms);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
  }

  /**
   * Starts a writer loop unless maxInFlight run already, and waits for every loop to end.
   * flush() is answered by the last loop to end with nothing left queued (see writeAll),
   * never by the first: two callers of the one-writer version both started a writer, and
   * the first to finish answered every flush() while the other's batch was still being
   * written (seen as a flush() that returned before the last 545 of 100,000 tasks were stored).
   */
  private async writeNow(): Promise<void> {
    if (this.running < this.maxInFlight && this.dirty.size > 0) {
      const run = this.writeAll();
      this.writers.add(run);
      const done = () => this.writers.delete(run);
      run.then(done, done);
    }
    await Promise.all(this.writers);
  }

  /**
   * Writes batches until none is left to take: the rest, if any, wait for the batch in
   * flight that holds their tasks, whose loop takes them once it ends. A failed batch ends
   * its loop (onFailure set the back-off retry); another loop goes on, and writes the
   * requeued tasks at once unless its own batch fails too.
   */
  private async writeAll(): Promise<void> {
    this.running++;
    try {
      for (let batch = this.takeBatch(); batch.length > 0; batch = this.takeBatch()) await this.writeBatch(batch);
    } finally {
      this.running--;
    }
    // Nothing queued and no batch in flight: every change queued so far is written (checked
    // in the tick that found nothing to take, so no change came in between).
    if (this.dirty.size === 0 && this.inFlight.size === 0) this.onSuccess();
  }

  private async writeBatch(batch: TaskData[]): Promise<void> {
    const started = this.started.taken(batch);
    // The engine keeps changing a live task's object while its batch is written,
    // across the backend's awaits: given the object itself, a backend wrote a row
    // in one state and its metrics delta in another (seen as ~900 of 100,000 tasks
    // stored as success but still counted pending). A snapshot is one state throughout.
    const rows = batch.map(snapshotTask);
    // Sent from here on: the row may be committed before the answer comes back (or the
    // batch fail after its commit), so the lease fence holds these tasks like stored ones.
    // A finished task is its own snapshot, and never starts again: cleared once written.
    for (const task of batch) if (!isTerminal(task.status)) task.unstored = false;
    try {
      await this.backend.saveBatch(rows);
    } catch (error) {
      for (const task of batch) this.inFlight.delete(task.id);
      // Keep what was not superseded by a newer change meanwhile, and not given up on.
      const requeued: TaskData[] = [];
      const givenUp: (() => void)[] = [];
      for (const task of batch) {
        const lateCommit = this.withdrawn.get(task.id);
        if (lateCommit) {
          this.withdrawn.delete(task.id);
          givenUp.push(lateCommit);
          continue;
        }
        if (this.dirty.has(task.id)) continue;
        this.dirty.set(task.id, task);
        requeued.push(task);
      }
      this.started.settled(started, requeued);
      // Perhaps committed: each ends as a record of its own that says so (queued anew, so
      // written with the retry), whether or not its first row got in.
      for (const lateCommit of givenUp) lateCommit();
      this.onFailure(error);
      throw error;
    }
    for (const task of batch) {
      this.inFlight.delete(task.id);
      task.unstored = false;
      // Only where set: assigned to every task, the property (absent from a new one) gave each
      // record a property store of its own, 40 B more for the memory store to hold.
      if (task.uncounted) task.uncounted = false;
    }
    if (this.writeWaiters.size > 0 || this.withdrawn.size > 0) this.written(batch);
    this.started.settled(started);
  }

  /**
   * Up to MAX_BATCH queued changes of tasks in no batch in flight, out of `dirty` and
   * into `inFlight`: all of them in queue order when they fit, otherwise first the first
   * rows a caller awaits (durable enqueue), then the changes of started tasks, then the
   * other new tasks' first rows, which always keep FIRST_ROWS_SHARE of the batch. In
   * queue order, a burst of new tasks (pending) filled batch after batch while the
   * started tasks' changes waited behind them, and the start gate (maxBacklog) held the
   * engine idle meanwhile; written first, they reopen the gate at every commit, and a
   * new task that starts before its first row is written is written once, started.
   */
  private takeBatch(): TaskData[] {
    const alongside = this.inFlight.size > 0;
    const batch: TaskData[] = [];
    const take = (task: TaskData | undefined, limit: number): boolean => {
      if (batch.length >= limit) return false;
      // In flight: in this batch already, or in another one.
      if (task && !this.inFlight.has(task.id)) {
        this.inFlight.add(task.id);
        batch.push(task);
      }
      return true;
    };
    const share = Math.ceil(MAX_BATCH * FIRST_ROWS_SHARE);
    let limit = MAX_BATCH;
    if (this.dirty.size > MAX_BATCH) {
      const ahead = MAX_BATCH - share;
      for (const id of this.writeWaiters.keys()) if (!take(this.dirty.get(id), ahead)) break;
      for (const id of this.started.queuedIds()) if (!take(this.dirty.get(id), ahead)) break;
      if (alongside) {
        // Alongside another batch: only changes of started tasks (and awaited first rows),
        // and only half a batch of them or more (see ALONGSIDE_MIN).
        if (batch.length < ahead * ALONGSIDE_MIN) {
          for (const task of batch) this.inFlight.delete(task.id);
          return [];
        }
        limit = batch.length;
      }
    }
    for (const task of this.dirty.values()) if (!take(task, limit)) break;
    for (const task of batch) this.dirty.delete(task.id);
    return batch;
  }

  private written(batch: readonly TaskData[]): void {
    for (const task of batch) {
      const waiter = this.writeWaiters.get(task.id) ?? this.withdrawn.get(task.id);
      this.writeWaiters.delete(task.id);
      this.withdrawn.delete(task.id);
      waiter?.();
    }
  }

  private onSuccess(): void {
    this.outage.recovered('writes');
    this.failures = 0;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private onFailure(error: unknown): void {
    this.outage.failed('writes', `Cannot write task history (${describeError(error)}); keeping ${this.dirty.size} change(s) in memory and retrying`);
    this.failures++;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w.reject(error);
    this.scheduleIn(Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.failures - 1)));
  }
}
