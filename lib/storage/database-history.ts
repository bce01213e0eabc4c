import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { TaskHistory } from './task-history';
import { computeMetrics } from './compute-metrics';
import { MemoryTaskStore } from './memory-task.store';
import { pageOf } from './task-filter';
import { AuditEntry } from '../task/audit-entry';
import { TaskData } from '../task/task-record';
import { isTerminal } from '../task/task-status';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';
import { TaskBackend } from './task-backend';
import { WriteBehind } from './write-behind';
import { DatabaseOutage, describeError } from './database-outage';

const RETENTION_BATCH = 2000;
const MIN_PROBE_MS = 500;
const MAX_PROBE_MS = 30_000;

/**
 * The database as the manager reads it. Reads first write what is queued, so
 * the database holds every change made so far, then ask it; when it cannot be
 * reached they answer from memory instead of failing. A read that fails starts an
 * outage (the backend fails a call that does not answer within its query timeout: a
 * black-holed server never fails one by itself): until the database answers again,
 * reads go to memory at once, and a background probe with back-off finds out when it
 * does. The wait is the backend's to bound, not a deadline here: a read also waits for
 * the queued writes, which take as long as the backlog is large, and a slow but
 * answering SQLite file is no outage.
 */
export class DatabaseHistory implements TaskHistory {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** Audit writes in order, one at a time, so reads see them in the order they happened. */
  private auditChain: Promise<void> = Promise.resolve();
  private probeTimer: NodeJS.Timeout | null = null;
  private probeFailures = 0;
  private closed = false;

  constructor(
    private readonly backend: TaskBackend,
    private readonly writer: WriteBehind,
    private readonly memory: MemoryTaskStore,
    private readonly instanceId: string,
    /** Shared with the write-behind: one outage line and one recovery line for both. */
    private readonly outage: DatabaseOutage,
  ) {}

  changed(task: TaskData): void {
    // Every new task is owned, so one a dead instance left unfinished can be found and settled.
    if (task.owner === null && !isTerminal(task.status)) task.owner = this.instanceId;
    this.writer.changed(task);
  }

  async get(id: string): Promise<TaskData | null> {
    return this.read(
      () => this.backend.getTask(id),
      () => this.memory.get(id) ?? null,
    );
  }

  async list(query: TaskQuery): Promise<TaskPage<TaskData>> {
    return this.read(
      () => this.backend.listTasks(query),
      () => pageOf(this.memory.values(), query),
    );
  }

  async metrics(): Promise<TaskMetrics> {
    return this.read(
      () => this.backend.metrics(),
      () => computeMetrics(this.memory.values()),
    );
  }

  async deleteBefore(cutoff: number): Promise<string[]> {
    await this.writer.flush();
    const removed: string[] = [];
    for (;;) {
      const ids = await this.backend.deleteTerminalBefore(cutoff, RETENTION_BATCH);
      removed.push(...ids);
      if (ids.length < RETENTION_BATCH) return removed;
      // Let requests and tasks run between batches of a large prune.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  recordAudit(entry: AuditEntry): void {
    this.auditChain = this.auditChain.then(() =>
      this.backend.appendAudit(entry).catch((error) => this.logger.warn(`Could not store audit entry ${entry.entry_id}: ${String(error)}`)),
    );
  }

  async audit(limit: number, offset: number): Promise<AuditEntry[]> {
    await this.auditChain;
    return this.backend.listAudit(limit, offset);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(deadlineMs: number): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    return this.writer.stop(deadlineMs);
  }

  async reserveKey(key: string, taskId: string): Promise<string> {
    try {
      return await this.backend.reserveIdempotencyKey(key, taskId);
    } catch (error) {
      // Never lose a task over a key check: run it, and say so.
      this.logger.warn(`Idempotency key check failed (${String(error)}); running task ${taskId} without it`);
      return taskId;
    }
  }

  private async read<T>(fromDatabase: () => Promise<T>, fromMemory: () => T): Promise<T> {
    if (this.outage.down) return fromMemory();
    try {
      await this.writer.flush();
      return await fromDatabase();
    } catch (error) {
      // A failed flush was reported by the write-behind, which retries on its own.
      if (!this.outage.down) this.readFailed(error);
      return fromMemory();
    }
  }

  private readFailed(error: unknown): void {
    this.outage.failed('reads', `Cannot read task history (${describeError(error)}); answering from memory until the database answers again`);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probeTimer || this.closed) return;
    const delay = Math.min(MAX_PROBE_MS, MIN_PROBE_MS * 2 ** this.probeFailures);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      void this.probe();
    }, delay);
    this.probeTimer.unref?.();
  }

  /** One cheap read (the aggregate metrics); reads resume once it answers. */
  private async probe(): Promise<void> {
    try {
      await this.backend.metrics();
      this.probeFailures = 0;
      this.outage.recovered('reads');
    } catch {
      this.probeFailures++;
      this.scheduleProbe();
    }
  }
}
