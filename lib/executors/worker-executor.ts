import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { MessageChannel, MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { RegisteredTask } from '../discovery/registered-task';
import { TaskRegistry } from '../discovery/task.registry';
import { AttemptContext, AttemptSink } from '../engine/task-context';
import { TaskExecutor } from '../engine/task-executor';
import { TaskArgumentError } from '../errors/task-argument.error';
import { TaskDefinitionError } from '../errors/task-definition.error';
import { WorkerCrashedError } from '../errors/worker-crashed.error';
import { messages } from '../errors/messages';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { cloneProblem } from './structured-clone-check';
import { TaskThreadPool, createTaskThreadPool } from './worker-pool';
import { AbortMessage, AttemptRequest, WorkerMessage, fromCrossingError, toCrossingError } from './worker-protocol';

/** How long a worker may run on after its attempt's signal was aborted before its thread is terminated. */
export const WORKER_ABORT_GRACE_MS = 2000;

/**
 * Runs `executor: 'worker'` attempts on a thread pool. The attempt's signal is forwarded to
 * the thread; a thread that is still busy WORKER_ABORT_GRACE_MS later is terminated (the pool
 * replaces it), which is what stops a loop that never looks at its signal.
 */
@Injectable()
export class WorkerExecutor implements TaskExecutor, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private pool: TaskThreadPool | null = null;

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly registry: TaskRegistry,
  ) {}

  /** Worker tasks without a pool are a startup error; with one, the threads start booting now. */
  onApplicationBootstrap(): void {
    const names = this.registry
      .all()
      .filter((r) => r.definition.executor === 'worker')
      .map((r) => r.definition.name);
    if (names.length === 0) return;
    if (!this.options.workers) throw new TaskDefinitionError(messages.workerPoolMissing(names.join(', ')));
    this.threads();
  }

  /** Called after shutdown's grace period (the lifecycle waits it out first): running threads are terminated. */
  async onApplicationShutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }

  checkArgs(funcName: string, args: unknown[]): void {
    const problem = cloneProblem(args, 'args');
    if (problem) throw new TaskArgumentError(messages.argsCannotCross(funcName, problem));
  }

  async run(registered: RegisteredTask, args: unknown[], context: AttemptContext, sink: AttemptSink): Promise<unknown> {
    const name = registered.definition.name;
    const pool = this.threads();
    const { port1, port2 } = new MessageChannel();
    const terminate = new AbortController();
    let grace: NodeJS.Timeout | undefined;
    const signal = context.signal;
    const onAbort = () => {
      port1.postMessage({ type: 'abort', reason: toCrossingError(signal.reason) } satisfies AbortMessage);
      grace = setTimeout(
        () => terminate.abort(new WorkerCrashedError(messages.workerTerminated(name, WORKER_ABORT_GRACE_MS))),
        WORKER_ABORT_GRACE_MS,
      );
    };
    // An aborted attempt is over for the engine: late lines of its thread belong to no attempt.
    const deliver = (message: WorkerMessage) => {
      if (signal.aborted) return;
      if (message.type === 'log') sink.log(message.level, message.message, message.extra);
      else sink.progress(message.fraction, message.message);
    };
    port1.on('message', deliver);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const request: AttemptRequest = {
      funcName: name,
      args,
      taskId: context.taskId,
      attempt: context.attempt,
      tags: { ...context.tags },
      port: port2,
    };
    try {
      let outcome;
      try {
        outcome = await pool.run(request, { transferList: [port2], signal: terminate.signal });
      } catch (error) {
        if (terminate.signal.aborted) throw terminate.signal.reason;
        throw new WorkerCrashedError(messages.workerCrashed(name, crashDescription(error)));
      }
      // Lines posted just before the result may still be queued on the port: take them first, in order.
      drain(port1, deliver);
      if (outcome.ok) return outcome.value;
      throw fromCrossingError(outcome.error);
    } finally {
      clearTimeout(grace);
      signal.removeEventListener('abort', onAbort);
      port1.close();
    }
  }

  private threads(): TaskThreadPool {
    if (this.pool) return this.pool;
    if (!this.options.workers) throw new Error(messages.noWorkerExecutor('a worker task'));
    const pool = createTaskThreadPool(this.options.workers);
    // An error of an idle thread (one that crashed between attempts) has no attempt to fail; the pool replaces the thread.
    pool.on('error', (error) => this.logger.error(`A task worker thread failed between attempts: ${error.message}`));
    this.pool = pool;
    return pool;
  }
}

function drain(port: MessagePort, deliver: (message: WorkerMessage) => void): void {
  for (let entry = receiveMessageOnPort(port); entry; entry = receiveMessageOnPort(port)) deliver(entry.message as WorkerMessage);
}

function crashDescription(error: unknown): string {
  // Duck-typed: the error may come from another realm (a vm context such as jest's), where instanceof Error fails.
  if (typeof error !== 'object' || error === null || typeof (error as Error).message !== 'string') return String(error);
  const { message, code } = error as NodeJS.ErrnoException;
  return code ? `${message} (${code})` : message;
}
