import { RegisteredTask } from '../discovery/registered-task';
import { TaskRegistry } from '../discovery/task.registry';
import { messages } from '../errors/messages';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskData, TaskSource } from '../task/task-record';
import { AddTaskOptions, EnqueueOptions } from './add-task-options';
import { TaskOrigin } from './caller-context';
import { DurableEnqueue } from './durable-enqueue';
import { assertJsonArgs, newTask, unknownTaskError, validateAddTaskOptions } from './task-factory';
import { TaskRuntime } from './task-runtime';
import { TaskStorage } from './task-storage';

export type AnyMethod = (...args: any[]) => unknown;

/**
 * The add path behind TaskManager.addTask/enqueue, retries and the scheduler: resolves
 * the function, checks and builds the task (or finds the live holder of its key), and
 * admits it at once (written behind) or once its row is committed (enqueue).
 */
export class TaskIntake {
  private readonly durable: DurableEnqueue;

  constructor(
    private readonly options: ResolvedTaskOptions,
    private readonly registry: TaskRegistry,
    private readonly runtime: TaskRuntime,
    private readonly storage: TaskStorage,
  ) {
    this.durable = new DurableEnqueue(runtime, storage, options.enqueueTimeout);
  }

  /** The registered task of a decorated method or a registered name. */
  resolve(fnOrName: AnyMethod | string): RegisteredTask {
    if (typeof fnOrName !== 'function' && typeof fnOrName !== 'string') {
      throw new TypeError('addTask: the first argument must be a @BackgroundTask method or its registered name');
    }
    const registered = this.registry.find(fnOrName);
    if (registered) return registered;
    throw unknownTaskError(fnOrName);
  }

  /**
   * The task is admitted at once, its row written behind; returns its id (or the live key holder's).
   * `origin`: the calling context its attempts run in (the scheduler's tasks have none).
   */
  submit(
    registered: RegisteredTask,
    args: unknown[],
    options: AddTaskOptions,
    source: TaskSource,
    argsCipher: string | null = null,
    origin: TaskOrigin | null = null,
  ): string {
    const task = this.prepare(registered, args, options, source, argsCipher, false);
    if (typeof task === 'string') return task;
    this.runtime.admit(task, registered, options.eager ?? registered.definition.eager, origin);
    return task.id;
  }

  /** Durable: resolves once the row is committed (or written through `transaction`); without a database it is submit. */
  async enqueue(registered: RegisteredTask, args: unknown[], options: EnqueueOptions, origin: TaskOrigin | null): Promise<string> {
    const { transaction, ...addOptions } = options ?? {};
    if (!this.storage.persistent) {
      if (transaction !== undefined) throw new TypeError(messages.transactionWithoutDatabase());
      return this.submit(registered, args, addOptions, 'manual', null, origin);
    }
    const task = this.prepare(registered, args, addOptions, 'manual', null, true);
    if (typeof task === 'string') return task;
    return this.durable.enqueue(task, registered, addOptions.eager ?? registered.definition.eager, transaction, origin);
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
}
