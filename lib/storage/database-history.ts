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

const RETENTION_BATCH = 2000;

/**
 * The database as the manager reads it. Reads first write what is queued, so
 * the database holds every change made so far, then ask it; when it cannot be
 * reached they answer from memory instead of failing.
 */
export class DatabaseHistory implements TaskHistory {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** Audit writes in order, one at a time, so reads see them in the order they happened. */
  private auditChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly backend: TaskBackend,
    private readonly writer: WriteBehind,
    private readonly memory: MemoryTaskStore,
    private readonly instanceId: string,
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
    try {
      await this.writer.flush();
      return await fromDatabase();
    } catch {
      return fromMemory();
    }
  }
}
