import { Inject, Injectable } from '@nestjs/common';
import { TASKFLOW_OPTIONS } from '../constants';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { DatabaseHistory } from '../storage/database-history';
import { DatabaseOutage } from '../storage/database-outage';
import { TaskInsightQueries } from '../storage/insight-queries';
import { newInstanceId } from '../storage/instance-identity';
import { InstanceState } from '../storage/instance-state';
import { MemoryHistory } from '../storage/memory-history';
import { MemoryInsights } from '../storage/memory-insights';
import { MemoryTaskBackend } from '../storage/memory-task.backend';
import { MemoryTaskStore } from '../storage/memory-task.store';
import { GateAnswer, GateClaim } from '../storage/gate-claims';
import { InsertedTask, TaskBackend } from '../storage/task-backend';
import { TaskHistory } from '../storage/task-history';
import { WriteBehind } from '../storage/write-behind';
import { AuditEntry } from '../task/audit-entry';
import { TaskData } from '../task/task-record';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';

/** How far a cancel written by another instance moves a task's version ahead of its owner's writes. */
export const REMOTE_CANCEL_VERSION_STEP = 1_000_000;

/**
 * The engine's one door to the TaskBackend. A persistent backend is read through
 * memory until it is open (startup), then through a write-behind with a memory
 * fallback; a memory backend is read directly. Callers never ask which.
 */
@Injectable()
export class TaskStorage {
  /** `host/pid/random[/scope]`: the owner of this instance's tasks and holder of its leases. */
  readonly instanceId = newInstanceId();
  private history: TaskHistory;
  private attached = false;
  private writer: WriteBehind | null = null;
  private markOpened!: () => void;
  /** Resolves once a persistent backend is open and written to. */
  private readonly opened = new Promise<void>((resolve) => (this.markOpened = resolve));
  private readonly memoryInsights: MemoryInsights;

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly backend: TaskBackend,
    private readonly store: MemoryTaskStore,
  ) {
    this.memoryInsights = new MemoryInsights(store);
    // Until open(), a persistent backend is not connected: memory answers, as the backend will after a failure.
    this.history = new MemoryHistory(this.persistent ? new MemoryTaskBackend(store) : backend);
  }

  /** Records outlive this process and are shared by every instance (see BackendCapabilities). */
  get persistent(): boolean {
    return this.backend.capabilities.persistent;
  }

  /**
   * Opens a persistent backend and starts writing to it, first what was changed
   * before startup (in onModuleInit, say). Nothing to do for the memory backend.
   */
  async open(): Promise<void> {
    if (!this.persistent || this.attached) return;
    await this.backend.open();
    const outage = new DatabaseOutage();
    const writer = new WriteBehind(this.backend, this.options.snapshotInterval * 1000, outage, undefined, this.options.maxWriteBacklog);
    this.history = new DatabaseHistory(this.backend, writer, this.store, this.instanceId, outage);
    this.writer = writer;
    this.attached = true;
    for (const task of this.store.values()) this.history.changed(task);
    this.markOpened();
  }

  /** The backend's name, for messages. */
  get kind(): string {
    return this.backend.kind;
  }

  /** True when the backend writes a new task's row at once (keyed and transactional enqueue). */
  get insertsTasks(): boolean {
    return typeof this.backend.insertTask === 'function';
  }

  /** See TaskBackend.insertTask; waits for open() first. */
  async insertTask(task: TaskData, transaction?: unknown): Promise<InsertedTask> {
    await this.opened;
    return this.backend.insertTask!(task, transaction);
  }

  /**
   * A new task's first write through the group commit (see WriteBehind.whenWritten),
   * once the backend is open; `withdraw` gives up on it (WriteBehind.withdraw).
   */
  writeNew(task: TaskData): { written: Promise<void>; withdraw: (lateCommit: () => void) => boolean } {
    let withdrawn = false;
    const written = this.opened.then(() => (withdrawn ? undefined : this.writer!.whenWritten(task)));
    return {
      written,
      withdraw: (lateCommit) => {
        withdrawn = true;
        return this.writer ? this.writer.withdraw(task, lateCommit) : true;
      },
    };
  }

  /** Task changes waiting to be written to the database (0 without one): the health check bounds it. */
  get writeBacklog(): number {
    return this.writer?.backlog ?? 0;
  }

  /** Unwritten changes of started tasks (0 without a database): what maxWriteBacklog bounds. */
  get startedWriteBacklog(): number {
    return this.writer?.startedBacklog ?? 0;
  }

  /**
   * The start gate (maxWriteBacklog): false while too many started tasks wait to be
   * written, and `wake` is called once they do not. Always true without a database.
   */
  hasWriteRoom(wake: () => void): boolean {
    return this.writer?.hasRoom(wake) ?? true;
  }

  /** Final writes at shutdown, for at most `deadlineMs`. */
  close(deadlineMs: number): Promise<void> {
    return this.history.close(deadlineMs);
  }

  changed(task: TaskData): void {
    this.history.changed(task);
  }

  get(id: string): Promise<TaskData | null> {
    return this.history.get(id);
  }

  list(query: TaskQuery): Promise<TaskPage<TaskData>> {
    return this.history.list(query);
  }

  metrics(): Promise<TaskMetrics> {
    return this.history.metrics();
  }

  deleteBefore(cutoff: number): Promise<string[]> {
    return this.history.deleteBefore(cutoff);
  }

  recordAudit(entry: AuditEntry): void {
    this.history.recordAudit(entry);
  }

  audit(limit: number, offset: number): Promise<AuditEntry[]> {
    return this.history.audit(limit, offset);
  }

  reserveKey(key: string, taskId: string): Promise<string> {
    return this.history.reserveKey(key, taskId);
  }

  flush(): Promise<void> {
    return this.history.flush();
  }

  /**
   * Cancels a task this instance does not hold (another instance runs or holds it, or
   * nobody does) by writing it cancelled at once; its owner sees that and aborts it.
   * The version jumps well ahead, so the owner's own writes of the task until then
   * (at lower versions) cannot undo it. Returns the cancelled record.
   */
  async cancelElsewhere(task: TaskData): Promise<TaskData> {
    const cancelled: TaskData = {
      ...task,
      logs: task.logs.slice(),
      status: 'cancelled',
      endTime: Date.now(),
      version: task.version + REMOTE_CANCEL_VERSION_STEP,
    };
    await this.history.flush().catch(() => undefined);
    await this.backend.saveBatch([cancelled]);
    return cancelled;
  }

  /** Every instance sharing the backend, with its lease state and the tasks it owns (see TaskBackend.describeInstances). */
  describeInstances(): Promise<InstanceState[]> {
    return this.backend.describeInstances();
  }

  /** A named lease held by this instance (see TaskBackend.tryAcquireLease); a ttl of 0 gives it back. */
  tryAcquireLease(name: string, ttlSeconds: number): Promise<boolean> {
    return this.backend.tryAcquireLease(name, this.instanceId, ttlSeconds);
  }

  /** Flow control across instances (TaskBackend.claimGate), held by this instance. */
  claimGate(claim: GateClaim): Promise<GateAnswer> {
    return this.backend.claimGate(this.instanceId, claim);
  }

  settleRateSlot(funcName: string, key: string, slot: number, startedAt: number | null, windowMs: number): Promise<void> {
    return this.backend.settleRateSlot(this.instanceId, funcName, key, slot, startedAt, windowMs);
  }

  releaseGateSlot(funcName: string, slot: number): Promise<void> {
    return this.backend.releaseGateSlot(this.instanceId, funcName, slot);
  }

  pausedFunctions(): Promise<string[]> {
    return this.backend.pausedFunctions();
  }

  setPaused(funcName: string, paused: boolean): Promise<void> {
    return this.backend.setPaused(funcName, paused);
  }

  /** Refuses the token `jti` until `untilEpochMs`, on every instance sharing the backend. */
  revokeToken(jti: string, untilEpochMs: number): Promise<void> {
    return this.backend.revokeToken(jti, untilEpochMs);
  }

  /** The ids of the signed-out tokens that have not expired yet. */
  revokedTokens(now = Date.now()): Promise<string[]> {
    return this.backend.listRevokedTokens(now);
  }

  /**
   * True when the backend was asked for bounded insight queries and has none: the
   * dashboard then derives them from listings and metrics over its whole history.
   */
  get lacksInsights(): boolean {
    return this.attached && this.backend.insights === null;
  }

  /**
   * Runs an insight query on the backend (after writing what is queued, as every
   * read does), or on memory when it has none, is not open, or fails.
   */
  async insight<T>(query: (queries: TaskInsightQueries) => Promise<T>): Promise<T> {
    const own = this.attached ? this.backend.insights : null;
    if (own) {
      try {
        await this.history.flush();
        return await query(own);
      } catch {
        // Answered from memory below, like every read while the database is unreachable.
      }
    }
    // The memory backend's own queries read these same records.
    return query(this.persistent ? this.memoryInsights : (this.backend.insights ?? this.memoryInsights));
  }
}
