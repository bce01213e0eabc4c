import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Observable } from 'rxjs';
import { TASKFLOW_OPTIONS } from '../constants';
import { RegisteredTask } from '../discovery/registered-task';
import { TaskRegistry } from '../discovery/task.registry';
import { InvalidTransitionError } from '../errors/invalid-transition.error';
import { TaskNotFoundError } from '../errors/task-not-found.error';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { AuditEntry } from '../task/audit-entry';
import { BulkRetryResult, DeleteHistoryResult, RetryFailedResult } from '../task/bulk-retry-result';
import { SCHEDULE_SOURCE, ScheduleSource } from './schedule-source';
import { ScheduleInfo } from '../task/schedule-info';
import { TaskData, TaskRecord, TaskSource } from '../task/task-record';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';
import { isTerminal } from '../task/task-status';
import { ActorOptions, AddTaskOptions, EnqueueOptions, NO_ADD_TASK_OPTIONS, NO_ARGS } from './add-task-options';
import { auditEntry } from '../storage/audit-log';
import { AnyMethod, TaskIntake } from './task-intake';
import { TaskReplays } from './task-replays';
import { retryCandidates } from './retry-candidates';
import type { PauseState, RegisteredTaskInfo, TaskCallArguments } from './task-manager.types';
import { TaskRuntime } from './task-runtime';
import { TaskStorage } from './task-storage';
import { waitElsewhere } from './wait-elsewhere';

// The answer shapes are exported here too: lib/index.ts and the controllers take them from this file.
export type { PauseState, RegisteredTaskInfo } from './task-manager.types';

/**
 * The public runtime API: enqueue, inspect, cancel and retry tasks. Injectable
 * anywhere once TaskAdminModule or TaskManagerModule is imported.
 */
@Injectable()
export class TaskManager {
  private readonly replays: TaskReplays;
  private schedulerRef: ScheduleSource | null | undefined;
  private readonly intake: TaskIntake;

  /** Every change of a task record, as REST shows it. */
  readonly events$: Observable<TaskRecord>;
  /** Emits once when the application shuts down. */
  readonly stopping$: Observable<void>;
  /** @internal The changed tasks, unpresented (mutable: read, never change). For the SSE hub. */
  readonly taskChanges$: Observable<TaskData>;
  /** @internal Tasks other instances changed, as the change feed reads them (shared database only). For the SSE hub. */
  readonly remoteChanges$: Observable<TaskData>;

  constructor(
    @Inject(TASKFLOW_OPTIONS) options: ResolvedTaskOptions,
    private readonly registry: TaskRegistry,
    private readonly runtime: TaskRuntime,
    private readonly storage: TaskStorage,
    private readonly moduleRef: ModuleRef,
  ) {
    this.events$ = runtime.streams.changes.asObservable();
    this.stopping$ = runtime.streams.stopping.asObservable();
    this.taskChanges$ = runtime.streams.changedTasks.asObservable();
    this.remoteChanges$ = runtime.remote.changes.asObservable();
    this.intake = new TaskIntake(options, registry, runtime, storage);
    // A replay is a call of the application like addTask: it runs in the context of the retry call.
    this.replays = new TaskReplays(registry, runtime, (registered, args, opts, source, cipher) =>
      this.intake.submit(registered, args, opts, source, cipher, runtime.callerOrigin()),
    );
  }

  /**
   * Enqueues a registered task and returns its id (UUID v4) at once. `fn` is the
   * decorated method (`this.svc.method`) or its registered name; `args` are checked
   * against its parameters.
   */
  // One signature, not an overload per form: with overloads, a wrong argument to a method was reported
  // against the name-string form ("not assignable to type 'string'") instead of as the argument mismatch.
  addTask<F extends AnyMethod | string>(fn: F, ...rest: TaskCallArguments<F, AddTaskOptions>): string;
  addTask(fnOrName: AnyMethod | string, args: unknown[] = NO_ARGS, options: AddTaskOptions = NO_ADD_TASK_OPTIONS): string {
    return this.intake.submit(this.intake.resolve(fnOrName), args, options, 'manual', null, this.runtime.callerOrigin());
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
  // One signature, as addTask's.
  enqueue<F extends AnyMethod | string>(fn: F, ...rest: TaskCallArguments<F, EnqueueOptions>): Promise<string>;
  async enqueue(fnOrName: AnyMethod | string, args: unknown[] = [], options: EnqueueOptions = {}): Promise<string> {
    // The caller's context, taken at the call: the task may be admitted later, in a commit's.
    return this.intake.enqueue(this.intake.resolve(fnOrName), args, options, this.runtime.callerOrigin());
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

  /**
   * @internal Calls `listener` with each changed task (unpresented, mutable: read, never
   * change), without RxJS; returns what removes it. For the SSE hub, which hears every change.
   */
  onTaskChange(listener: (task: TaskData) => void): () => void {
    return this.runtime.streams.listen(listener);
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
    const candidates = await retryCandidates(this.storage, filter);
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
      .map((r) => ({
        name: r.definition.name,
        paused: this.runtime.gates.isPaused(r.definition.name),
        options: { ...r.definition } as Record<string, unknown>,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Pauses a function (the decorated method or its registered name): its pending tasks,
   * and those added meanwhile, stay pending until resume(), on every instance sharing the
   * database and across restarts; running ones finish. Audited as `pause`.
   */
  async pause(fnOrName: AnyMethod | string, opts: ActorOptions = {}): Promise<PauseState> {
    return this.setPaused(fnOrName, true, opts);
  }

  /** Lets a paused function's tasks start again, in priority order. Audited as `resume`. */
  async resume(fnOrName: AnyMethod | string, opts: ActorOptions = {}): Promise<PauseState> {
    return this.setPaused(fnOrName, false, opts);
  }

  /** Whether the function (by registered name) is paused, as this instance knows it. */
  isPaused(name: string): boolean {
    return this.runtime.gates.isPaused(name);
  }

  private async setPaused(fnOrName: AnyMethod | string, paused: boolean, opts: ActorOptions): Promise<PauseState> {
    const registered = this.intake.resolve(fnOrName);
    const name = registered.definition.name;
    await this.runtime.gates.paused.set(name, paused);
    this.recordAudit(paused ? 'pause' : 'resume', null, opts, { func_name: name });
    return { func_name: name, paused };
  }

  /** Scheduled tasks and their next and last runs (`GET {path}/schedules`). */
  async schedules(): Promise<ScheduleInfo[]> {
    return this.scheduleSource()?.list() ?? [];
  }

  /** Resolves with the terminal record of the task. */
  async waitFor(id: string): Promise<TaskRecord> {
    const task = await this.find(id);
    if (!task) throw new TaskNotFoundError(id);
    if (this.runtime.isLive(task)) return this.runtime.waitFor(id);
    if (isTerminal(task.status)) return this.runtime.present(task);
    return waitElsewhere(id, {
      find: (taskId) => this.find(taskId),
      isLive: (found) => this.runtime.isLive(found),
      waitHere: (taskId) => this.runtime.waitFor(taskId),
      present: (found) => this.runtime.present(found),
    });
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

  /** @internal The scheduler's add path: admitted at once, its row written behind, in no caller's context. */
  submit(registered: RegisteredTask, args: unknown[], options: AddTaskOptions, source: TaskSource, argsCipher: string | null = null): string {
    return this.intake.submit(registered, args, options, source, argsCipher);
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
