import { Inject, Injectable, Logger } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { RegisteredTask } from '../discovery/registered-task';
import { TaskRegistry } from '../discovery/task.registry';
import { InvalidTransitionError } from '../errors/invalid-transition.error';
import { messages } from '../errors/messages';
import { TaskNotFoundError } from '../errors/task-not-found.error';
import { UnknownTaskError } from '../errors/unknown-task.error';
import { ObserverHub } from '../observers/observer-hub';
import { TaskLogLevel } from '../observers/task-observer';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { computeMetrics } from '../store/compute-metrics';
import { MemoryTaskStore } from '../store/memory-task.store';
import { pageOf } from '../store/task-filter';
import { AuditEntry } from '../task/audit-entry';
import { BulkRetryResult, DeleteHistoryResult } from '../task/bulk-retry-result';
import { TaskData, TaskRecord, TaskSource, toTaskRecord } from '../task/task-record';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';
import { KEY_RELEASING_STATUSES, RETRYABLE_STATUSES, TaskStatus, isTerminal } from '../task/task-status';
import { ScheduleInfo } from '../task/schedule-info';
import { ActorOptions, AddTaskOptions } from './add-task-options';
import { AuditLog } from './audit-log';
import { DispatchScope } from './dispatch-scope';
import { PriorityQueue } from './priority-queue';
import { logTimestamp } from './task-context';
import { ExecutionHooks, TaskExecution } from './task-execution';
import { appendLogLine } from './task-log-buffer';
import { assertJsonArgs, newTask, validateAddTaskOptions } from './task-factory';
import { TaskHistory } from './task-history';

type AnyMethod = (...args: any[]) => unknown;

interface QueuedTask {
  task: TaskData;
  registered: RegisteredTask;
}

/** What registeredTasks() shows of each @BackgroundTask. */
export interface RegisteredTaskInfo {
  name: string;
  options: Record<string, unknown>;
}

/**
 * The public runtime API: enqueue, inspect, cancel and retry tasks. Injectable
 * anywhere once TaskAdminModule or TaskManagerModule is imported.
 */
@Injectable()
export class TaskManager {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly store: MemoryTaskStore;
  private readonly queue = new PriorityQueue<QueuedTask>();
  private readonly executions = new Map<string, TaskExecution>();
  private readonly idempotency = new Map<string, string>();
  private readonly waiters = new Map<string, ((record: TaskRecord) => void)[]>();
  private drainWaiters: (() => void)[] = [];
  private readonly changes = new Subject<TaskRecord>();
  private readonly stopping = new Subject<void>();
  private readonly audits = new AuditLog();
  private readonly observers: ObserverHub;
  private readonly hooks: ExecutionHooks;
  private pumpScheduled = false;
  private accepting = true;
  private runningCount = 0;
  /** Set by the persistence layer when a database is configured. */
  private history: TaskHistory | null = null;

  /** Every change of a task record, as REST shows it. */
  readonly events$: Observable<TaskRecord> = this.changes.asObservable();
  /** Emits once when the application shuts down. */
  readonly stopping$: Observable<void> = this.stopping.asObservable();

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly registry: TaskRegistry,
  ) {
    this.store = new MemoryTaskStore(options.maxInMemory, (task) => this.forgetKey(task));
    this.observers = new ObserverHub(options.loggers);
    this.hooks = {
      changed: (task) => this.changed(task),
      settled: (task, attempt) => this.settled(task, attempt),
      log: (task, level, message, extra, attempt) => this.appendLog(task, level, message, extra, attempt),
      retryLine: (task, n) => {
        appendLogLine(task.logs, `--- Retry ${n} ---`, this.options.maxLogLines);
        this.changed(task);
      },
    };
  }

  /**
   * Enqueues a registered task and returns its id (UUID v4) at once. `fn` is the
   * decorated method (`this.svc.method`) or its registered name; `args` are checked
   * against its parameters.
   */
  addTask<F extends AnyMethod>(fn: F, ...rest: Parameters<F> extends [] ? [args?: [], options?: AddTaskOptions] : [args: Parameters<F>, options?: AddTaskOptions]): string;
  addTask(name: string, args?: unknown[], options?: AddTaskOptions): string;
  addTask(fnOrName: AnyMethod | string, args: unknown[] = [], options: AddTaskOptions = {}): string {
    return this.enqueue(fnOrName, args, options, 'manual');
  }

  /** Shared by addTask and the scheduler. */
  enqueue(fnOrName: AnyMethod | string, args: unknown[], options: AddTaskOptions, source: TaskSource): string {
    if (!this.accepting) throw new Error(messages.managerStopped());
    const registered = this.resolve(fnOrName);
    if (!Array.isArray(args)) throw new TypeError(`addTask: args of ${registered.definition.name} must be an array`);
    validateAddTaskOptions(options);
    const key = options.idempotencyKey;
    if (key !== undefined) {
      const holder = this.keyHolder(key);
      if (holder) return holder;
    }
    const { definition } = registered;
    const durable = this.options.requeuePending || definition.persist;
    if (durable) assertJsonArgs(definition.name, args);
    const task = newTask(definition.name, args, options, { priority: definition.priority, source, durable });
    if (key !== undefined) this.idempotency.set(key, task.id);
    this.store.add(task);
    this.changed(task);
    this.observers.lifecycle(this.lifecycleEvent(task, 0));
    const eager = options.eager ?? definition.eager;
    const scope = eager ? undefined : DispatchScope.current();
    if (scope) scope.defer(() => this.schedule(task, registered));
    else this.schedule(task, registered);
    return task.id;
  }

  /** The record, or null when no such task exists. */
  async getTask(id: string): Promise<TaskRecord | null> {
    const task = await this.find(id);
    return task ? this.present(task) : null;
  }

  /** Filtered, newest first, paged (SPEC §4). */
  async listTasks(query: TaskQuery = {}): Promise<TaskPage<TaskRecord>> {
    const page = this.history ? await this.history.list(query) : pageOf(this.store.values(), query);
    return { items: page.items.map((t) => this.present(t)), total: page.total };
  }

  async metrics(): Promise<TaskMetrics> {
    return this.history ? this.history.metrics() : computeMetrics(this.store.values());
  }

  /** Pending and running tasks, oldest first. */
  liveTasks(): TaskRecord[] {
    const live: TaskData[] = [];
    for (const task of this.store.values()) if (!isTerminal(task.status)) live.push(task);
    return live.sort((a, b) => a.createdAt - b.createdAt).map((t) => this.present(t));
  }

  /** Cancels a pending task (it never runs) or a running one (its signal is aborted). */
  async cancel(id: string, opts: ActorOptions = {}): Promise<TaskRecord> {
    const task = await this.find(id);
    if (!task) throw new TaskNotFoundError(id);
    if (isTerminal(task.status) || !this.store.get(id)) {
      throw new InvalidTransitionError(id, 'cancel', task.status, ['pending', 'running']);
    }
    const execution = this.executions.get(id);
    execution?.stop(new Error(messages.cancelled()));
    if (execution) this.executions.delete(id);
    task.status = 'cancelled';
    task.endTime = Date.now();
    if (execution) this.releaseSlot();
    this.settled(task, execution?.attempt ?? 0);
    this.recordAudit('cancel', id, opts, { previous_status: execution ? 'running' : 'pending' });
    return this.present(task);
  }

  /** Runs a failed or interrupted task again as a new record with the same args and tags. */
  async retry(id: string, opts: ActorOptions = {}): Promise<TaskRecord> {
    const original = await this.find(id);
    if (!original) throw new TaskNotFoundError(id);
    const copy = this.retryCopy(original);
    this.recordAudit('retry', id, opts, { new_task_id: copy.id });
    return this.present(copy);
  }

  /** Retries each failed or interrupted task among `ids` (duplicates once); the rest are skipped. */
  async bulkRetry(ids: readonly string[], opts: ActorOptions = {}): Promise<BulkRetryResult> {
    const unique = [...new Set(ids)];
    const tasks = await Promise.all(unique.map((id) => this.find(id)));
    const result = this.retryAll(tasks, unique.length);
    this.recordAudit('bulk_retry', 'bulk', opts, { requested: unique.length, dispatched: result.dispatched, skipped: result.skipped });
    return result;
  }

  /** Retries failed and interrupted tasks created since `since` (epoch ms; null = all) not retried before. */
  async retryFailed(filter: { since: number | null; funcName?: string }, opts: ActorOptions = {}): Promise<BulkRetryResult> {
    const candidates: TaskData[] = [];
    for (const status of RETRYABLE_STATUSES) {
      const query: TaskQuery = { status, funcName: filter.funcName, since: filter.since ?? undefined };
      for (let offset = 0; ; offset += 5000) {
        const page = this.history ? await this.history.list({ ...query, limit: 5000, offset }) : pageOf(this.store.values(), { ...query, limit: 5000, offset });
        candidates.push(...page.items);
        if (page.items.length < 5000) break;
      }
    }
    const fresh = candidates.filter((t) => !this.retried.has(t.id));
    const result = this.retryAll(fresh, fresh.length);
    this.recordAudit('bulk_retry', 'bulk', opts, {
      since: filter.since === null ? 'all' : new Date(filter.since).toISOString(),
      func_name: filter.funcName ?? null,
      dispatched: result.dispatched,
      skipped: result.skipped,
    });
    return result;
  }

  /** Removes terminal records that ended before `cutoff` (epoch ms) from memory and the database. */
  async deleteHistory(cutoff: number, opts: ActorOptions = {}): Promise<DeleteHistoryResult> {
    const removed = new Set<string>();
    let store = 0;
    for (const task of [...this.store.values()]) {
      if (isTerminal(task.status) && (task.endTime ?? task.createdAt) < cutoff && this.store.delete(task.id)) {
        this.forgetKey(task);
        removed.add(task.id);
        store++;
      }
    }
    let backend = 0;
    if (this.history) {
      for (const id of await this.history.deleteBefore(cutoff)) {
        removed.add(id);
        backend++;
      }
    }
    const result = { deleted: removed.size, store, backend };
    this.recordAudit('delete_history', null, opts, { before: new Date(cutoff).toISOString(), ...result });
    return result;
  }

  /** Admin actions, newest first. */
  async audit(limit = 200, offset = 0): Promise<AuditEntry[]> {
    return this.history ? this.history.audit(limit, offset) : this.audits.list(limit, offset);
  }

  /** Name and options of every @BackgroundTask. */
  registeredTasks(): RegisteredTaskInfo[] {
    return this.registry
      .all()
      .map((r) => ({ name: r.definition.name, options: { ...r.definition } as Record<string, unknown> }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Scheduled tasks and their next and last runs. */
  async schedules(): Promise<ScheduleInfo[]> {
    return [];
  }

  /** Resolves with the terminal record of the task. */
  async waitFor(id: string): Promise<TaskRecord> {
    const task = await this.find(id);
    if (!task) throw new TaskNotFoundError(id);
    if (isTerminal(task.status)) return this.present(task);
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  /** Resolves when nothing is pending or running. */
  drain(): Promise<void> {
    if (this.store.unfinished === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Connects the database layer (called by the persistence lifecycle before any task runs). */
  attachHistory(history: TaskHistory | null): void {
    this.history = history;
  }

  /**
   * Stops intake and execution: pending tasks never start, running attempts are
   * aborted. Returns what was unfinished so the caller can save or mark it.
   */
  stopIntake(): TaskData[] {
    this.accepting = false;
    const unfinished: TaskData[] = [];
    for (const task of this.store.values()) if (!isTerminal(task.status)) unfinished.push(task);
    return unfinished;
  }

  /** Marks a task caught unfinished at shutdown as interrupted and aborts its attempt. */
  interrupt(task: TaskData, reason: string): void {
    const execution = this.executions.get(task.id);
    execution?.stop(new Error(reason));
    this.executions.delete(task.id);
    task.status = 'interrupted';
    task.endTime = Date.now();
    task.error = task.error ?? `Interrupted: ${reason}`;
    this.settled(task, execution?.attempt ?? 0);
  }

  /** Ends the streams of events$ and stopping$ at shutdown. */
  completeStreams(): void {
    this.stopping.next();
    this.stopping.complete();
    this.changes.complete();
  }

  /** Waits up to `ms` for running tasks to finish (none start meanwhile). */
  async settleRunning(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.runningCount > 0 && Date.now() < deadline) {
      const running = [...this.executions.keys()];
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.race(running.map((id) => this.waitFor(id))),
        new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now()))),
      ]);
      clearTimeout(timer);
    }
  }

  async startObservers(): Promise<void> {
    await this.observers.startup();
  }

  async closeObservers(): Promise<void> {
    await this.observers.close();
  }

  /** Starts a task the database handed back (requeue after restart or recovery). */
  resume(task: TaskData): boolean {
    const registered = this.registry.find(task.funcName);
    if (!registered) return false;
    task.status = 'pending';
    task.startTime = null;
    task.endTime = null;
    this.store.add(task);
    if (task.idempotencyKey) this.idempotency.set(task.idempotencyKey, task.id);
    this.changed(task);
    this.schedule(task, registered);
    return true;
  }

  // ---- internals -------------------------------------------------------------------------

  private recordAudit(action: AuditEntry['action'], taskId: string | null, opts: ActorOptions, detail: Record<string, unknown>): void {
    const entry = this.audits.record(action, taskId, opts.actor ?? 'system', detail);
    this.history?.recordAudit(entry);
  }

  private readonly retried = new Set<string>();

  private resolve(fnOrName: AnyMethod | string): RegisteredTask {
    if (typeof fnOrName !== 'function' && typeof fnOrName !== 'string') {
      throw new TypeError('addTask: the first argument must be a @BackgroundTask method or its registered name');
    }
    const registered = this.registry.find(fnOrName);
    if (registered) return registered;
    const what = typeof fnOrName === 'string' ? `"${fnOrName}"` : `function ${fnOrName.name || '(anonymous)'}`;
    throw new UnknownTaskError(messages.unknownTask(what), typeof fnOrName === 'string' ? fnOrName : fnOrName.name);
  }

  private keyHolder(key: string): string | undefined {
    const id = this.idempotency.get(key);
    const holder = id ? this.store.get(id) : undefined;
    if (holder && !KEY_RELEASING_STATUSES.includes(holder.status)) return holder.id;
    return undefined;
  }

  private forgetKey(task: TaskData): void {
    if (task.idempotencyKey && this.idempotency.get(task.idempotencyKey) === task.id) {
      this.idempotency.delete(task.idempotencyKey);
    }
    this.retried.delete(task.id);
  }

  private async find(id: string): Promise<TaskData | null> {
    const live = this.store.get(id);
    if (live) return live;
    return this.history ? this.history.get(id) : null;
  }

  private retryCopy(original: TaskData): TaskData {
    if (!RETRYABLE_STATUSES.includes(original.status)) {
      throw new InvalidTransitionError(original.id, 'retry', original.status, RETRYABLE_STATUSES);
    }
    const registered = this.registry.find(original.funcName);
    if (!registered) throw new UnknownTaskError(messages.unregisteredOnRetry(original.funcName), original.funcName);
    const key = original.idempotencyKey && !this.keyHolder(original.idempotencyKey) ? original.idempotencyKey : undefined;
    const id = this.enqueue(registered.method as AnyMethod, original.args, { tags: original.tags, priority: original.priority ?? undefined, idempotencyKey: key }, original.source);
    const copy = this.store.get(id)!;
    copy.argsCipher = original.argsCipher;
    this.retried.add(original.id);
    return copy;
  }

  private retryAll(tasks: (TaskData | null)[], requested: number): BulkRetryResult {
    const results: BulkRetryResult['results'] = [];
    for (const task of tasks) {
      if (!task) continue;
      try {
        results.push({ original_task_id: task.id, new_task_id: this.retryCopy(task).id });
      } catch (error) {
        if (!(error instanceof InvalidTransitionError || error instanceof UnknownTaskError)) throw error;
      }
    }
    return { dispatched: results.length, skipped: requested - results.length, results };
  }

  private schedule(task: TaskData, registered: RegisteredTask): void {
    if (task.status !== 'pending') return;
    this.queue.push({ task, registered }, task.priority ?? 0);
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(() => this.pump());
    }
  }

  /** Starts waiting tasks while slots are free, highest priority first. */
  private pump(): void {
    this.pumpScheduled = false;
    const cap = this.options.maxConcurrentTasks ?? Infinity;
    while (this.accepting && this.runningCount < cap) {
      const next = this.queue.pop();
      if (!next) return;
      if (next.task.status !== 'pending') continue;
      this.start(next);
    }
  }

  private start({ task, registered }: QueuedTask): void {
    this.runningCount++;
    task.status = 'running';
    task.startTime = Date.now();
    const execution = new TaskExecution(task, registered, task.args, this.hooks);
    this.executions.set(task.id, execution);
    this.changed(task);
    this.observers.lifecycle(this.lifecycleEvent(task, 1));
    execution.run().then(
      () => this.executionEnded(execution),
      (error) => {
        this.logger.error(`Task ${task.id} crashed the runner: ${String(error)}`);
        this.executionEnded(execution);
      },
    );
  }

  private executionEnded(execution: TaskExecution): void {
    if (this.executions.get(execution.task.id) !== execution) return;
    this.executions.delete(execution.task.id);
    this.releaseSlot();
  }

  private releaseSlot(): void {
    this.runningCount--;
    if (this.queue.size > 0 && !this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(() => this.pump());
    }
  }

  private appendLog(task: TaskData, level: TaskLogLevel, message: string, extra: Record<string, unknown>, attempt: number): void {
    const now = Date.now();
    appendLogLine(task.logs, `${logTimestamp(now)} ${message}`, this.options.maxLogLines);
    this.changed(task);
    if (this.observers.size > 0) {
      this.observers.log({ taskId: task.id, funcName: task.funcName, level, message, attempt, tags: task.tags, extra, timestamp: new Date(now) });
    }
  }

  private changed(task: TaskData): void {
    task.version++;
    this.history?.changed(task);
    if (this.changes.observed) this.changes.next(this.present(task));
  }

  /** A task reached a terminal status: notify, wake waiters, and keep memory bounded. */
  private settled(task: TaskData, attempt: number): void {
    this.changed(task);
    this.observers.lifecycle(this.lifecycleEvent(task, attempt));
    this.store.finish(task);
    const waiting = this.waiters.get(task.id);
    if (waiting) {
      this.waiters.delete(task.id);
      const record = this.present(task);
      for (const resolve of waiting) resolve(record);
    }
    if (this.store.unfinished === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private lifecycleEvent(task: TaskData, attempt: number) {
    return {
      taskId: task.id,
      funcName: task.funcName,
      status: task.status as TaskStatus,
      attempt,
      duration: task.startTime !== null && task.endTime !== null ? (task.endTime - task.startTime) / 1000 : null,
      error: task.error,
      tags: task.tags,
      timestamp: new Date(),
    };
  }

  private present(task: TaskData): TaskRecord {
    return toTaskRecord(task, this.options.displayFuncArgs);
  }
}
