import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Observable } from 'rxjs';
import { TASKFLOW_OPTIONS } from '../constants';
import { RegisteredTask } from '../discovery/registered-task';
import { TaskRegistry } from '../discovery/task.registry';
import { InvalidTransitionError } from '../errors/invalid-transition.error';
import { messages } from '../errors/messages';
import { TaskNotFoundError } from '../errors/task-not-found.error';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { AuditEntry } from '../task/audit-entry';
import { BulkRetryResult, DeleteHistoryResult, RetryFailedResult } from '../task/bulk-retry-result';
import { SCHEDULE_SOURCE, ScheduleSource } from './schedule-source';
import { ScheduleInfo } from '../task/schedule-info';
import { TaskData, TaskRecord, TaskSource } from '../task/task-record';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';
import { RETRYABLE_STATUSES } from '../task/task-status';
import { ActorOptions, AddTaskOptions, EnqueueOptions } from './add-task-options';
import { DurableEnqueue } from './durable-enqueue';
import { auditEntry } from '../storage/audit-log';
import { assertJsonArgs, newTask, unknownTaskError, validateAddTaskOptions } from './task-factory';
import { TaskReplays } from './task-replays';
import { TaskRuntime } from './task-runtime';
import { TaskStorage } from './task-storage';

type AnyMethod = (...args: any[]) => unknown;

/** The rest of addTask's arguments: the method's own parameters, or any arguments after a registered name
 * (`[F]`, so neither `never` nor a union is split into cases). */
type AddTaskArguments<F> = [F] extends [AnyMethod]
  ? Parameters<F> extends []
    ? [args?: [], options?: AddTaskOptions]
    : [args: Parameters<F>, options?: AddTaskOptions]
  : [args?: unknown[], options?: AddTaskOptions];

/** What registeredTasks() shows of each @BackgroundTask. */
export interface RegisteredTaskInfo {
  name: string;
  options: Record<string, unknown>;
}

const PAGE = 5000;

/**
 * The public runtime API: enqueue, inspect, cancel and retry tasks. Injectable
 * anywhere once TaskAdminModule or TaskManagerModule is imported.
 */
@Injectable()
export class TaskManager {
  private readonly replays: TaskReplays;
  private schedulerRef: ScheduleSource | null | undefined;
  private readonly durable: DurableEnqueue;

  /** Every change of a task record, as REST shows it. */
  readonly events$: Observable<TaskRecord>;
  /** Emits once when the application shuts down. */
  readonly stopping$: Observable<void>;
  /** @internal The changed tasks, unpresented (mutable: read, never change). For the SSE hub. */
  readonly taskChanges$: Observable<TaskData>;
  /** @internal Tasks other instances changed, as the change feed reads them (shared database only). For the SSE hub. */
  readonly remoteChanges$: Observable<TaskData>;

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly registry: TaskRegistry,
    private readonly runtime: TaskRuntime,
    private readonly storage: TaskStorage,
    private readonly moduleRef: ModuleRef,
  ) {
    this.events$ = runtime.streams.changes.asObservable();
    this.stopping$ = runtime.streams.stopping.asObservable();
    this.taskChanges$ = runtime.streams.changedTasks.asObservable();
    this.remoteChanges$ = runtime.remote.changes.asObservable();
    this.durable = new DurableEnqueue(runtime, storage, options.enqueueTimeout);
    this.replays = new TaskReplays(registry, runtime, (registered, args, opts, source, cipher) =>
      this.submit(registered, args, opts, source, cipher),
    );
  }

  /**
   * Enqueues a registered task and returns its id (UUID v4) at once. `fn` is the
   * decorated method (`this.svc.method`) or its registered name; `args` are checked
   * against its parameters.
   */
  // One signature, not an overload per form: with overloads, a wrong argument to a method was reported
  // against the name-string form ("not assignable to type 'string'") instead of as the argument mismatch.
  addTask<F extends AnyMethod | string>(fn: F, ...rest: AddTaskArguments<F>): string;
  addTask(fnOrName: AnyMethod | string, args: unknown[] = [], options: AddTaskOptions = {}): string {
    return this.submit(this.resolve(fnOrName), args, options, 'manual');
  }

  /**
   * Enqueues durably: resolves with the id once the task's row is committed (it then
   * survives a SIGKILL: recovery runs it), or, with `transaction`, once the row is
   * written through that open transaction: the task starts after it commits and never
   * exists if it rolls back. A key held by a pending, running or successful task of
   * any instance or earlier run resolves to that task's id, creating nothing. Rejects
   * with EnqueueTimeoutError when the row is not committed within `enqueueTimeout`.
   * Without a database it is addTask.
   */
  enqueue<F extends AnyMethod>(
    fn: F,
    ...rest: Parameters<F> extends [] ? [args?: [], options?: EnqueueOptions] : [args: Parameters<F>, options?: EnqueueOptions]
  ): Promise<string>;
  enqueue(name: string, args?: unknown[], options?: EnqueueOptions): Promise<string>;
  async enqueue(fnOrName: AnyMethod | string, args: unknown[] = [], options: EnqueueOptions = {}): Promise<string> {
    const registered = this.resolve(fnOrName);
    const { transaction, ...addOptions } = options ?? {};
    if (!this.storage.persistent) {
      if (transaction !== undefined) throw new TypeError(messages.transactionWithoutDatabase());
      return this.submit(registered, args, addOptions, 'manual');
    }
    const task = this.prepare(registered, args, addOptions, 'manual', null, true);
    if (typeof task === 'string') return task;
    return this.durable.enqueue(task, registered, addOptions.eager ?? registered.definition.eager, transaction);
  }

  /** The detail record (with `attempts`), or null when no such task exists. */
  async getTask(id: string): Promise<TaskRecord | null> {
    const task = await this.find(id);
    return task ? this.runtime.presentDetail(task) : null;
  }

  /** Filtered (status, function, q, tags, since), newest first, paged. */
  async listTasks(query: TaskQuery = {}): Promise<TaskPage<TaskRecord>> {
    const page = await this.page(query);
    return { items: page.items.map((t) => this.runtime.present(t)), total: page.total };
  }

  async metrics(): Promise<TaskMetrics> {
    return this.storage.metrics();
  }

  /** @internal A task as REST shows it. */
  toRecord(task: TaskData): TaskRecord {
    return this.runtime.present(task);
  }

  /** Pending and running tasks, oldest first. */
  liveTasks(): TaskRecord[] {
    return this.runtime
      .unfinishedTasks()
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((t) => this.runtime.present(t));
  }

  /** @internal Whether other instances' changes are wanted here (the SSE hub: while a stream is open). */
  followRemote(on: boolean): void {
    this.runtime.remote.setDemand(on);
  }

  /** @internal Pending and running tasks other instances hold, as far as this one has seen them change (oldest change first). */
  remoteLiveTasks(): TaskRecord[] {
    return this.runtime.remote
      .liveTasks()
      .filter((t) => !this.runtime.live(t.id))
      .map((t) => this.runtime.present(t));
  }

  /** Cancels a pending task (it never runs) or a running one (its signal is aborted). */
  async cancel(id: string, opts: ActorOptions = {}): Promise<TaskRecord> {
    const task = await this.find(id);
    if (!task) throw new TaskNotFoundError(id);
    if (!this.runtime.isLive(task)) {
      if (!this.storage.persistent || (task.status !== 'pending' && task.status !== 'running')) {
        throw new InvalidTransitionError(id, 'cancel', task.status, ['pending', 'running']);
      }
      // Held by another instance (or by none): written cancelled now, aborted by its owner within a heartbeat of the watcher.
      const cancelled = await this.storage.cancelElsewhere(task);
      // This instance's stream shows it at once; the owner's shows it once the owner aborted it.
      this.runtime.remote.accept(cancelled);
      this.recordAudit('cancel', id, opts, { previous_status: task.status, instance: task.owner });
      return this.runtime.present(cancelled);
    }
    const was = this.runtime.cancel(task);
    this.recordAudit('cancel', id, opts, { previous_status: was });
    return this.runtime.present(task);
  }

  /** Runs a failed or interrupted task again as a new record with the same args, tags and priority. */
  async retry(id: string, opts: ActorOptions = {}): Promise<TaskRecord> {
    const original = await this.find(id);
    if (!original) throw new TaskNotFoundError(id);
    const copy = this.replays.copy(original);
    this.recordAudit('retry', id, opts, { new_task_id: copy.id });
    return this.runtime.present(copy);
  }

  /** Retries each failed or interrupted task among `ids` (duplicates once); the rest are skipped. */
  async bulkRetry(ids: readonly string[], opts: ActorOptions = {}): Promise<BulkRetryResult> {
    const unique = [...new Set(ids)];
    const tasks = await Promise.all(unique.map((id) => this.find(id)));
    const result = this.replays.all(tasks, unique.length);
    this.recordAudit('bulk_retry', 'bulk', opts, { requested: unique.length, dispatched: result.dispatched, skipped: result.skipped });
    return result;
  }

  /**
   * Retries failed and interrupted tasks created since `since` (epoch ms; null = all) not replayed
   * before: RETRY_FAILED_MAX_PER_CALL at most, newest first; when that stops it, `remaining` counts
   * the candidates left for the next call. Yields to the event loop after each page read and while
   * replaying (TaskReplays.failed), so a large backlog does not hold it.
   */
  async retryFailed(filter: { since: number | null; funcName?: string }, opts: ActorOptions = {}): Promise<RetryFailedResult> {
    const candidates: TaskData[] = [];
    for (const status of RETRYABLE_STATUSES) {
      const query: TaskQuery = { status, funcName: filter.funcName, since: filter.since ?? undefined, limit: PAGE };
      for (let offset = 0; ; offset += PAGE) {
        const page = await this.page({ ...query, offset });
        candidates.push(...page.items);
        // An in-memory page is a synchronous scan of every record: one per turn of the event loop.
        await new Promise(setImmediate);
        if (page.items.length < PAGE) break;
      }
    }
    const { result, remaining } = await this.replays.failed(candidates);
    this.recordAudit('bulk_retry', 'bulk', opts, {
      since: filter.since === null ? 'all' : new Date(filter.since).toISOString(),
      func_name: filter.funcName ?? null,
      dispatched: result.dispatched,
      skipped: result.skipped,
      remaining,
    });
    return result;
  }

  /** Removes terminal records that ended before `cutoff` (epoch ms) from memory and the database. */
  async deleteHistory(cutoff: number, opts: ActorOptions = {}): Promise<DeleteHistoryResult> {
    const removed = new Set<string>();
    for (const task of this.runtime.forgetFinishedBefore(cutoff)) {
      this.replays.forget(task.id);
      removed.add(task.id);
    }
    const fromStore = removed.size;
    const fromBackend = await this.storage.deleteBefore(cutoff);
    for (const id of fromBackend) removed.add(id);
    const result = { deleted: removed.size, store: fromStore, backend: fromBackend.length };
    this.recordAudit('delete_history', null, opts, { before: new Date(cutoff).toISOString(), ...result });
    return result;
  }

  /** Admin actions, newest first. */
  async audit(limit = 200, offset = 0): Promise<AuditEntry[]> {
    return this.storage.audit(limit, offset);
  }

  /** Name and options of every @BackgroundTask. */
  registeredTasks(): RegisteredTaskInfo[] {
    return this.registry
      .all()
      .map((r) => ({ name: r.definition.name, options: { ...r.definition } as Record<string, unknown> }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Scheduled tasks and their next and last runs (`GET {path}/schedules`). */
  async schedules(): Promise<ScheduleInfo[]> {
    return this.scheduleSource()?.list() ?? [];
  }

  /** Resolves with the terminal record of the task. */
  async waitFor(id: string): Promise<TaskRecord> {
    const task = await this.find(id);
    if (!task) throw new TaskNotFoundError(id);
    if (!this.runtime.isLive(task)) return this.runtime.present(task);
    return this.runtime.waitFor(id);
  }

  /** Resolves when nothing is pending or running. */
  drain(): Promise<void> {
    return this.runtime.drain();
  }

  /**
   * Resolves once every change made so far is in the database (at once without
   * one); rejects while the database cannot be reached. `addTask` writes within a
   * ~10 ms group commit on its own: await this when the caller must know.
   */
  async flush(): Promise<void> {
    await this.storage.flush();
  }

  /** @internal Shared by addTask, retries and the scheduler: the task is admitted at once, its row written behind. */
  submit(registered: RegisteredTask, args: unknown[], options: AddTaskOptions, source: TaskSource, argsCipher: string | null = null): string {
    const task = this.prepare(registered, args, options, source, argsCipher, false);
    if (typeof task === 'string') return task;
    this.runtime.admit(task, registered, options.eager ?? registered.definition.eager);
    return task.id;
  }

  /**
   * A new task checked and built, or the id of the live task here holding its key.
   * With `encryptArgsKey`, the arguments are encrypted here, before the first write;
   * `argsCipher` is an already encrypted payload (a retry of an encrypted task), kept
   * as it is. `durable`: stored to survive restarts whatever the options say (enqueue).
   */
  private prepare(
    registered: RegisteredTask,
    args: unknown[],
    options: AddTaskOptions,
    source: TaskSource,
    argsCipher: string | null,
    durable: boolean,
  ): TaskData | string {
    if (!this.runtime.accepting) throw new Error(messages.managerStopped());
    const { definition } = registered;
    if (!Array.isArray(args)) throw new TypeError(`addTask: args of ${definition.name} must be an array`);
    validateAddTaskOptions(options);
    const held = options.idempotencyKey === undefined ? undefined : this.runtime.keyHolder(options.idempotencyKey);
    if (held) return held;
    durable ||= this.options.requeuePending || definition.persist;
    const encrypts = this.runtime.args.encrypts;
    // Encrypted arguments are JSON inside, so they must be JSON values too.
    if (durable || (encrypts && argsCipher === null)) assertJsonArgs(definition.name, args);
    this.runtime.executorOf(registered).checkArgs?.(definition.name, args);
    const task = newTask(definition.name, args, options, { priority: definition.priority, source, durable });
    if (definition.executor === 'worker') task.executor = 'worker';
    if (argsCipher !== null) {
      task.args = [];
      task.argsCipher = argsCipher;
    } else if (encrypts) {
      task.args = [];
      task.argsCipher = this.runtime.args.encrypt(definition.name, args);
    }
    return task;
  }

  private scheduleSource(): ScheduleSource | null {
    if (this.schedulerRef === undefined) {
      try {
        this.schedulerRef = this.moduleRef.get<ScheduleSource>(SCHEDULE_SOURCE, { strict: false });
      } catch {
        this.schedulerRef = null;
      }
    }
    return this.schedulerRef;
  }

  private resolve(fnOrName: AnyMethod | string): RegisteredTask {
    if (typeof fnOrName !== 'function' && typeof fnOrName !== 'string') {
      throw new TypeError('addTask: the first argument must be a @BackgroundTask method or its registered name');
    }
    const registered = this.registry.find(fnOrName);
    if (registered) return registered;
    throw unknownTaskError(fnOrName);
  }

  private async find(id: string): Promise<TaskData | null> {
    return this.runtime.live(id) ?? this.storage.get(id);
  }

  private page(query: TaskQuery): Promise<TaskPage<TaskData>> {
    return this.storage.list(query);
  }

  /** @internal Audits a sign-in (`login`) or a refused one (`login_failed`); called by the auth routes. */
  recordLogin(succeeded: boolean, opts: ActorOptions, detail: Record<string, unknown>): void {
    this.recordAudit(succeeded ? 'login' : 'login_failed', null, opts, detail);
  }

  private recordAudit(action: AuditEntry['action'], taskId: string | null, opts: ActorOptions, detail: Record<string, unknown>): void {
    this.storage.recordAudit(auditEntry(action, taskId, opts.actor ?? 'system', opts.role === undefined ? detail : { ...detail, role: opts.role }));
  }
}
