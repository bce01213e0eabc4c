import { Inject, Injectable, Logger } from '@nestjs/common';
import { Subject } from 'rxjs';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { ArgsCipher } from '../crypto/args-cipher';
import { RegisteredTask } from '../discovery/registered-task';
import { messages } from '../errors/messages';
import { ObserverHub } from '../observers/observer-hub';
import { TaskLogLevel, toLifecycleEvent } from '../observers/task-observer';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { MemoryTaskStore } from '../storage/memory-task.store';
import { TaskData, TaskRecord, toTaskRecord } from '../task/task-record';
import { KEY_RELEASING_STATUSES, isTerminal } from '../task/task-status';
import { DispatchScope } from './dispatch-scope';
import { PriorityQueue } from './priority-queue';
import { logTimestamp } from './task-context';
import { ExecutionHooks, TaskExecution } from './task-execution';
import { TaskHistory } from '../storage/task-history';
import { TaskWaiters } from './task-waiters';
import { formatError } from './format-error';
import { appendLogLine } from './task-log-buffer';

const PUMP_BATCH = 1000;

interface QueuedTask {
  task: TaskData;
  registered: RegisteredTask;
}

/**
 * The mechanics behind TaskManager: the in-memory store, the priority queue and
 * its concurrency cap, running executions, change notification, waiters.
 */
@Injectable()
export class TaskRuntime {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  readonly store: MemoryTaskStore;
  private readonly queue = new PriorityQueue<QueuedTask>();
  private readonly executions = new Map<string, TaskExecution>();
  private readonly idempotency = new Map<string, string>();
  private readonly waiters = new TaskWaiters((task) => this.present(task));
  readonly changes = new Subject<TaskRecord>();
  /** The changed tasks themselves, for consumers that present them later (the SSE hub coalesces first). */
  readonly changedTasks = new Subject<TaskData>();
  readonly stopping = new Subject<void>();
  readonly observers: ObserverHub;
  private readonly hooks: ExecutionHooks;
  private pumpScheduled = false;
  /** Tasks started since the event loop last reached its check phase (see pump). */
  private startsThisTurn = 0;
  private runningCount = 0;
  accepting = true;
  /** Nothing starts until startup has finished (observers ready, requeue done). */
  private held = true;
  /** Set by the persistence layer when a database is configured. */
  history: TaskHistory | null = null;
  /** Resolves once startup has finished and tasks may start (unhold); the scheduler waits for it. */
  readonly started: Promise<void>;
  private markStarted!: () => void;
  /** Decrypts `argsCipher` just before a run (`encryptArgsKey`); null without a key. */
  readonly cipher: ArgsCipher | null;

  constructor(@Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions) {
    this.store = new MemoryTaskStore(options.maxInMemory, (task) => this.forgetKey(task));
    this.observers = new ObserverHub(options.loggers);
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    this.cipher = options.encryptArgsKey ? new ArgsCipher(options.encryptArgsKey) : null;
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

  /** Stores a new task and dispatches it: now, or after the response when inside a dispatch scope. */
  admit(task: TaskData, registered: RegisteredTask, eager: boolean): void {
    if (!this.accepting) throw new Error(messages.managerStopped());
    if (task.idempotencyKey) this.idempotency.set(task.idempotencyKey, task.id);
    this.store.add(task);
    this.changed(task);
    this.announce(task, 0);
    const scope = eager ? undefined : DispatchScope.current();
    const dispatch = () => this.dispatch(task, registered);
    if (scope) scope.defer(dispatch);
    else dispatch();
  }

  /** Takes back a task the database handed over (requeue after a restart, or recovery). */
  resume(task: TaskData, registered: RegisteredTask): void {
    task.status = 'pending';
    task.startTime = null;
    task.endTime = null;
    task.progress = null;
    this.store.add(task);
    if (task.idempotencyKey) this.idempotency.set(task.idempotencyKey, task.id);
    this.changed(task);
    // Through the key check like a new task, not straight to the queue: a crash
    // between storing a new keyed task and storing that it lost its key (one group
    // commit later) left a pending duplicate that ran on recovery although another
    // task held the key. Its own key (the usual case) lets it through.
    this.dispatch(task, registered);
  }

  /**
   * Hands an unfinished task back to the database at shutdown: its attempt is
   * aborted and it is stored as pending with no owner, for the next start.
   */
  release(task: TaskData, reason: string): void {
    const execution = this.executions.get(task.id);
    execution?.stop(new Error(reason));
    this.executions.delete(task.id);
    task.status = 'pending';
    task.startTime = null;
    task.owner = null;
    this.changed(task);
  }

  /** Lets queued tasks start (end of startup). */
  unhold(): void {
    this.held = false;
    this.markStarted();
    if (this.queue.size > 0) this.schedulePump();
  }

  /** The id of the live task holding `key`, if any. */
  keyHolder(key: string): string | undefined {
    const id = this.idempotency.get(key);
    const holder = id ? this.store.get(id) : undefined;
    return holder && !KEY_RELEASING_STATUSES.includes(holder.status) ? holder.id : undefined;
  }

  forgetKey(task: TaskData): void {
    if (task.idempotencyKey && this.idempotency.get(task.idempotencyKey) === task.id) {
      this.idempotency.delete(task.idempotencyKey);
    }
  }

  /** Cancels a live task: a pending one never starts, a running one has its signal aborted. */
  cancel(task: TaskData): 'pending' | 'running' {
    const execution = this.executions.get(task.id);
    if (execution) {
      execution.stop(new Error(messages.cancelled()));
      this.executions.delete(task.id);
      this.releaseSlot();
    }
    task.status = 'cancelled';
    task.endTime = Date.now();
    this.settled(task, execution?.attempt ?? 0);
    return execution ? 'running' : 'pending';
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

  /** Stops starting tasks; returns those still pending or running. */
  stopIntake(): TaskData[] {
    this.accepting = false;
    const unfinished: TaskData[] = [];
    for (const task of this.store.values()) if (!isTerminal(task.status)) unfinished.push(task);
    return unfinished;
  }

  /** Waits up to `ms` for running tasks to finish (none start meanwhile). */
  async settleRunning(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.runningCount > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ...[...this.executions.keys()].map((id) => this.waitFor(id)),
        new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now()))),
      ]);
      clearTimeout(timer);
    }
  }

  /** Resolves with the terminal record of a live task. */
  waitFor(id: string): Promise<TaskRecord> {
    return this.waiters.forTask(id);
  }

  drain(): Promise<void> {
    return this.waiters.forDrain(this.store.unfinished);
  }

  /** Ends events$ and stopping$ at shutdown. */
  completeStreams(): void {
    this.stopping.next();
    this.stopping.complete();
    this.changes.complete();
    this.changedTasks.complete();
  }

  present(task: TaskData): TaskRecord {
    return toTaskRecord(task, this.options.displayFuncArgs);
  }

  /** Every change goes through here: version, write-behind, and the live stream. */
  changed(task: TaskData): void {
    task.version++;
    this.history?.changed(task);
    if (this.changedTasks.observed) this.changedTasks.next(task);
    if (this.changes.observed) this.changes.next(this.present(task));
  }

  /** With a database, a keyed task waits until the key is settled across instances. */
  private dispatch(task: TaskData, registered: RegisteredTask): void {
    const key = task.idempotencyKey;
    if (!key || !this.history) return this.schedule(task, registered);
    void this.history.reserveKey(key, task.id).then((holder) => {
      if (holder === task.id || task.status !== 'pending') return this.schedule(task, registered);
      task.status = 'cancelled';
      task.endTime = Date.now();
      task.error = `DuplicateTask: idempotency key "${key}" is held by task ${holder}`;
      this.forgetKey(task);
      task.idempotencyKey = null;
      this.settled(task, 0);
    });
  }

  private schedule(task: TaskData, registered: RegisteredTask): void {
    if (task.status !== 'pending') return;
    this.queue.push({ task, registered }, task.priority ?? 0);
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => this.pump());
  }

  /**
   * Starts waiting tasks while slots are free, highest priority first. After
   * PUMP_BATCH starts in one turn of the event loop it yields (setImmediate), so a
   * burst of tasks cannot starve I/O: timers, the database writes, HTTP. Counted
   * per turn, not per call: under a concurrency cap each call starts only the few
   * tasks that fit, and tasks that settle in microtasks call it again at once, so a
   * per-call count never reached the limit (100,000 queued no-op tasks ran in one
   * turn before the first group commit could start).
   */
  private pump(): void {
    this.pumpScheduled = false;
    const cap = this.options.maxConcurrentTasks ?? Infinity;
    while (this.accepting && !this.held && this.runningCount < cap) {
      if (this.startsThisTurn >= PUMP_BATCH) {
        this.pumpScheduled = true;
        setImmediate(() => {
          this.startsThisTurn = 0;
          this.pump();
        });
        return;
      }
      const next = this.queue.pop();
      if (!next) return;
      if (next.task.status === 'pending') {
        if (this.startsThisTurn++ === 0) setImmediate(() => (this.startsThisTurn = 0));
        this.start(next);
      }
    }
  }

  private start({ task, registered }: QueuedTask): void {
    // Encrypted arguments are decrypted here, only to run; a task whose payload
    // cannot be decrypted fails at once with ArgsDecryptionError, no attempt runs.
    let args = task.args;
    if (task.argsCipher !== null) {
      try {
        args = ArgsCipher.decrypt(this.cipher, task.funcName, task.argsCipher);
      } catch (error) {
        const { text, stack } = formatError(error);
        task.status = 'failed';
        task.endTime = Date.now(); // start_time stays null: it never started
        task.error = text;
        task.stacktrace = stack;
        this.settled(task, 0);
        return;
      }
    }
    this.runningCount++;
    task.status = 'running';
    task.startTime = Date.now();
    const execution = new TaskExecution(task, registered, args, this.hooks);
    this.executions.set(task.id, execution);
    this.changed(task);
    this.announce(task, 1);
    execution.run().then(
      () => this.executionEnded(execution),
      (error) => {
        this.logger.error(`Task ${task.id} crashed its runner: ${String(error)}`);
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
    if (this.queue.size > 0) this.schedulePump();
  }

  private appendLog(task: TaskData, level: TaskLogLevel, message: string, extra: Record<string, unknown>, attempt: number): void {
    const now = Date.now();
    appendLogLine(task.logs, `${logTimestamp(now)} ${message}`, this.options.maxLogLines);
    this.changed(task);
    if (this.observers.size > 0) {
      this.observers.log({ taskId: task.id, funcName: task.funcName, level, message, attempt, tags: task.tags, extra, timestamp: new Date(now) });
    }
  }

  /** A task reached a terminal status: notify, wake waiters, and keep memory bounded. */
  private settled(task: TaskData, attempt: number): void {
    this.changed(task);
    this.announce(task, attempt);
    this.store.finish(task);
    this.waiters.settled(task, this.store.unfinished);
  }

  /** Tells observers of a lifecycle change; nothing is built when there are none. */
  private announce(task: TaskData, attempt: number): void {
    if (this.observers.size > 0) this.observers.lifecycle(toLifecycleEvent(task, attempt));
  }
}
