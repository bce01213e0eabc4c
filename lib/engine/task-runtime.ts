import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { RegisteredTask } from '../discovery/registered-task';
import { messages } from '../errors/messages';
import { ObserverHub } from '../observers/observer-hub';
import { toLifecycleEvent } from '../observers/task-observer';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { MemoryTaskStore, StoreEntry } from '../storage/memory-task.store';
import { TaskData } from '../task/task-record';
import { isTerminal } from '../task/task-status';
import { ATTEMPT_TRACER, AttemptTracer } from './attempt-tracer';
import { TaskOrigin, captureOrigin } from './caller-context';
import { DispatchScope } from './dispatch-scope';
import { formatError } from './format-error';
import type { FlowControl } from './flow-control';
import { IdempotencyKeys } from './idempotency-keys';
import { TaskArguments } from './task-arguments';
import { TaskChanges } from './task-changes';
import { ExecutionHooks, TaskExecution } from './task-execution';
import { runtimeExecutionHooks } from './execution-hooks';
import { TaskExecutor, WORKER_EXECUTOR, asyncExecutor } from './task-executor';
import type { DelayedTasks } from './delayed-tasks';
import type { QueuedTask, TaskQueue } from './task-queue';
import { RemoteTasks } from './remote-tasks';
import { TaskStorage } from './task-storage';
import type { WorkHandoff } from './work-handoff';
import { wireStartPath } from './start-path';
import { TaskRuntimeReads } from './task-runtime-reads';

/**
 * The life of live tasks behind TaskManager: admission, the running executions
 * and how each ends. Its parts each hold one concern: the records in memory
 * (MemoryTaskStore), the queue and its cap (TaskQueue), idempotency keys, change
 * streams (TaskChanges), argument encryption (TaskArguments), waiters, and the
 * backend (TaskStorage), which every change reaches through `changed`.
 */
@Injectable()
export class TaskRuntime extends TaskRuntimeReads {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  // The start path (start-path.ts): queue, delays, handoff and flow control.
  private readonly queue: TaskQueue;
  /** Tasks whose run_at is still ahead: they reach the queue when due. */
  protected readonly delays: DelayedTasks;
  /** Work given to and taken from other instances on a shared database, and the lease fence. */
  readonly handoff: WorkHandoff;
  /** Each function's admission check before its task starts (paused, concurrency, rate limit), across instances too. */
  protected readonly flow: FlowControl;
  protected readonly keys: IdempotencyKeys;
  readonly streams = new TaskChanges((task) => this.present(task));
  /** Tasks other instances changed (filled by the change feed on a shared database). */
  readonly remote: RemoteTasks;
  readonly observers: ObserverHub;
  readonly args: TaskArguments;
  private readonly hooks: ExecutionHooks;
  /** Called when a running task gave its slot back (work sharing then looks for pooled work). */
  slotFreed: (() => void) | null = null;
  accepting = true;
  /** Resolves once startup has finished and tasks may start (unhold); the scheduler waits for it. */
  readonly started: Promise<void>;
  private markStarted!: () => void;

  constructor(
    @Inject(TASKFLOW_OPTIONS) options: ResolvedTaskOptions,
    store: MemoryTaskStore,
    private readonly storage: TaskStorage,
    @Optional() @Inject(WORKER_EXECUTOR) private readonly workerExecutor: TaskExecutor | null = null,
    @Optional() @Inject(ATTEMPT_TRACER) private readonly tracer: AttemptTracer | null = null,
  ) {
    super(options, store);
    this.keys = new IdempotencyKeys(storage, (id) => this.store.get(id));
    store.onEvicted((task) => this.keys.forget(task));
    this.args = new TaskArguments(options.encryptArgsKey);
    ({
      queue: this.queue,
      delays: this.delays,
      handoff: this.handoff,
      flow: this.flow,
    } = wireStartPath(options.maxConcurrentTasks ?? Infinity, store, storage, this.keys, this.args, {
      start: (next) => this.start(next),
      fail: (next, error) => this.failBeforeStart(next.task, error),
    }));
    this.observers = new ObserverHub(options.loggers);
    this.remote = new RemoteTasks(options.maxInMemory);
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    this.hooks = runtimeExecutionHooks(this, (task, attempt, entry) => this.settled(task, attempt, entry), this.observers, options);
  }

  /**
   * What a task created now by a call of the application carries to its attempts: the
   * caller's async context (with `propagateContext`) and the span active here. Tasks of the
   * scheduler, requeue, recovery and other instances have none.
   */
  callerOrigin(): TaskOrigin | null {
    return captureOrigin(this.options.propagateContext, this.tracer);
  }

  /**
   * Stores a new task and dispatches it: now, or after the response when inside a dispatch
   * scope. Its attempts run in `origin`'s context (callerOrigin), or detached without one. Its
   * store entry goes with it to its end: finishing it needs no lookup by id.
   */
  admit(task: TaskData, registered: RegisteredTask, eager: boolean, origin: TaskOrigin | null = null): void {
    if (!this.accepting) throw new Error(messages.managerStopped());
    this.keys.bind(task);
    const entry = this.store.addNew(task);
    this.changed(task);
    this.announce(task, 0);
    const scope = eager ? undefined : DispatchScope.current();
    if (scope) scope.defer(() => this.dispatch(task, registered, origin, entry));
    else this.dispatch(task, registered, origin, entry);
  }

  /**
   * A task whose row was committed after its enqueue() had already given up: kept as
   * a `cancelled` record that says why, never run.
   */
  abandon(task: TaskData, reason: string): void {
    task.status = 'cancelled';
    task.endTime = Date.now();
    task.error = reason;
    this.store.add(task);
    this.settled(task, 0);
  }

  /** Takes back a task the database handed over (requeue after a restart, or recovery). */
  resume(task: TaskData, registered: RegisteredTask): void {
    task.status = 'pending';
    task.startTime = null;
    task.endTime = null;
    task.progress = null;
    this.store.add(task);
    this.keys.bind(task);
    this.changed(task);
    // Through the key check like a new task, not straight to the queue: a crash
    // between storing a new keyed task and storing that it lost its key (one group
    // commit later) left a pending duplicate that ran on recovery although another
    // task held the key. Its own key (the usual case) lets it through.
    this.dispatch(task, registered, null);
  }

  /**
   * Hands an unfinished task back to the database at shutdown: its attempt is
   * aborted and it is stored as pending with no owner, for the next start.
   */
  release(task: TaskData, reason: string): void {
    this.delays.remove(task.id);
    this.detach(task)?.stop(new Error(reason));
    task.status = 'pending';
    task.startTime = null;
    task.owner = null;
    this.changed(task);
  }

  /** Lets queued tasks start (end of startup). */
  unhold(): void {
    this.markStarted();
    this.queue.unhold();
  }

  /** Drops from memory the terminal records that ended before `cutoff`; returns them. */
  forgetFinishedBefore(cutoff: number): TaskData[] {
    const removed: TaskData[] = [];
    for (const task of [...this.store.values()]) {
      if (isTerminal(task.status) && (task.endTime ?? task.createdAt) < cutoff && this.store.delete(task.id)) {
        this.keys.forget(task);
        removed.push(task);
      }
    }
    return removed;
  }

  /** Cancels a live task: a pending one never starts, a running one has its signal aborted. */
  cancel(task: TaskData): 'pending' | 'running' {
    this.delays.remove(task.id);
    const execution = this.detach(task);
    if (execution) {
      execution.stop(new Error(messages.cancelled()));
      this.queue.release();
      this.flow.ended(task.id, task.funcName);
    }
    task.status = 'cancelled';
    task.endTime = Date.now();
    this.settled(task, execution?.attempt ?? 0);
    return execution ? 'running' : 'pending';
  }

  /** Marks a task caught unfinished at shutdown as interrupted and aborts its attempt. */
  interrupt(task: TaskData, reason: string): void {
    this.delays.remove(task.id);
    const execution = this.detach(task);
    execution?.stop(new Error(reason));
    task.status = 'interrupted';
    task.endTime = Date.now();
    task.error = task.error ?? `Interrupted: ${reason}`;
    this.settled(task, execution?.attempt ?? 0);
  }

  /** Stops starting tasks; returns those still pending or running. */
  stopIntake(): TaskData[] {
    this.accepting = false;
    this.queue.stop();
    this.delays.stop();
    this.flow.stop();
    return this.unfinishedTasks();
  }

  /** Waits up to `ms` for running tasks to finish (none start meanwhile). */
  async settleRunning(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.queue.running > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ...this.runningTasks().map((task) => this.waitFor(task.id)),
        ...this.flow.pendingClaims,
        new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now()))),
      ]);
      clearTimeout(timer);
    }
  }

  /** Every change goes through here: version, the backend, and the live streams. */
  changed(task: TaskData): void {
    task.version++;
    this.remote.forget(task.id);
    this.storage.changed(task);
    this.streams.publish(task);
  }

  /**
   * A keyed task waits until its key is settled (across instances with a persistent
   * backend), then one with a run_at still ahead waits for it; the rest join the queue.
   */
  private dispatch(task: TaskData, registered: RegisteredTask, origin: TaskOrigin | null, entry?: StoreEntry): void {
    if (!this.keys.needsSettling(task)) return this.enter(task, registered, origin, entry);
    this.keys.settle(
      task,
      () => this.enter(task, registered, origin, entry),
      (holder) => {
        task.status = 'cancelled';
        task.endTime = Date.now();
        task.error = `DuplicateTask: idempotency key "${task.idempotencyKey}" is held by task ${holder}`;
        this.keys.forget(task);
        task.idempotencyKey = null;
        this.settled(task, 0);
      },
    );
  }

  /** A task free to run (its key settled) waits for its run_at, or joins the queue. */
  private enter(task: TaskData, registered: RegisteredTask, origin: TaskOrigin | null, entry?: StoreEntry): void {
    if (task.status === 'pending' && !this.delays.hold(task, registered, origin)) this.queue.push(task, registered, origin, entry);
  }

  /**
   * Starts a queued task its gates admitted; false when it failed before running (its
   * arguments cannot be decrypted). A limited function's task on a shared database first
   * claims its start from the other instances: it keeps the queue slot meanwhile.
   */
  private start(next: QueuedTask): boolean {
    return this.flow.start(next, this.launchNext, this.giveBackSlot);
  }

  /** start's callbacks, made once rather than per task. */
  private readonly launchNext = (next: QueuedTask): boolean => this.accepting && this.launch(next);
  private readonly giveBackSlot = (): void => this.queue.release();
  private readonly onExecutionEnded = (error: unknown, execution: TaskExecution): void => {
    if (error !== undefined) this.logger.error(`Task ${execution.task.id} crashed its runner: ${String(error)}`);
    this.executionEnded(execution);
  };

  private launch(next: QueuedTask): boolean {
    const { task, registered, origin } = next;
    let args: unknown[];
    try {
      args = this.args.forRun(task);
    } catch (error) {
      this.failBeforeStart(task, error);
      return false;
    }
    task.status = 'running';
    task.startTime = Date.now();
    this.flow.started(next);
    const execution = new TaskExecution(task, registered, args, this.hooks, this.executorOf(registered), origin, this.tracer);
    // Held, as every task that starts is (entered through add or admit); a record somehow not held is again.
    const entry = this.store.entryFor(task.id, next.entry) ?? this.store.add(task);
    entry.execution = execution;
    execution.storeEntry = entry;
    this.changed(task);
    this.announce(task, 1);
    execution.start(this.onExecutionEnded);
    return true;
  }

  /** Takes the running execution of a task off its record (cancel, interrupt, release); undefined when none runs. */
  private detach(task: TaskData): TaskExecution | undefined {
    const entry = this.store.entryFor(task.id);
    const execution = entry?.execution as TaskExecution | null | undefined;
    if (!execution || execution.detached) return undefined;
    execution.detached = true;
    entry!.execution = null;
    return execution;
  }

  /** The executor of a task's attempts; a worker task without a worker executor is a startup error (checked there). */
  executorOf(registered: RegisteredTask): TaskExecutor {
    if (registered.definition.executor !== 'worker') return asyncExecutor;
    if (!this.workerExecutor) throw new Error(messages.noWorkerExecutor(registered.definition.name));
    return this.workerExecutor;
  }

  private executionEnded(execution: TaskExecution): void {
    // Already detached by a cancel, an interrupt or a release, which gave its slot back.
    if (execution.detached) return;
    execution.detached = true;
    // Its entry, unless that was evicted at the task's end already (a small maxInMemory) or replaced.
    const entry = execution.storeEntry;
    if (entry?.execution === execution) entry.execution = null;
    this.queue.release();
    this.flow.ended(execution.task.id, execution.task.funcName);
    this.slotFreed?.();
  }

  /** A task that cannot start ends failed at once; start_time stays null: it never started. */
  private failBeforeStart(task: TaskData, error: unknown): void {
    const { text, stack } = formatError(error);
    task.status = 'failed';
    task.endTime = Date.now();
    task.error = text;
    task.stacktrace = stack;
    this.settled(task, 0);
  }

  /** A task reached a terminal status: notify, wake waiters, and keep memory bounded. */
  private settled(task: TaskData, attempt: number, entry?: StoreEntry): void {
    this.changed(task);
    this.announce(task, attempt);
    this.store.finish(task, entry);
    this.waiters.settled(task, this.store.unfinished);
  }

  /** Tells observers of a lifecycle change; nothing is built when there are none. */
  private announce(task: TaskData, attempt: number): void {
    if (this.observers.size > 0) this.observers.lifecycle(toLifecycleEvent(task, attempt));
  }
}
