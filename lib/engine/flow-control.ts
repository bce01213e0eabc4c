import { messages } from '../errors/messages';
import { FunctionGates } from './function-gates';
import { PausedFunctions } from './paused-functions';
import { SharedGates } from './shared-gates';
import { TaskArguments } from './task-arguments';
import type { Admission, QueuedTask } from './task-queue';
import { TaskStorage } from './task-storage';

/**
 * Flow control as the runtime sees it: each function's admission check before its task
 * starts (FunctionGates: paused, concurrency, rate limit, in this process) and, on a
 * shared database, the claim that settles the same limits with the other instances
 * (SharedGates) before the task really starts.
 */
export class FlowControl {
  readonly gates: FunctionGates;
  private readonly shared: SharedGates;

  constructor(
    storage: TaskStorage,
    private readonly args: TaskArguments,
    fenceOpen: () => boolean,
    hooks: { requeue: (next: QueuedTask) => void; fail: (next: QueuedTask, error: unknown) => void },
  ) {
    this.gates = new FunctionGates(new PausedFunctions(storage), {
      requeue: hooks.requeue,
      keyOf: (next) => this.rateKeyOf(next),
      fail: hooks.fail,
    });
    this.shared = new SharedGates(storage, this.gates, fenceOpen);
  }

  admit(next: QueuedTask): Admission {
    return this.gates.admit(next);
  }

  /**
   * Starts an admitted task with `launch` (false: it failed before running), after its
   * claim was granted when other instances must agree; `giveBack` frees its queue slot
   * when that claim is refused or it did not start. True when it holds a queue slot.
   */
  start(next: QueuedTask, launch: (next: QueuedTask) => boolean, giveBack: () => void): boolean {
    if (this.shared.needed(next)) {
      this.shared.claim(next, () => launch(next), giveBack);
      return true;
    }
    if (launch(next)) return true;
    this.gates.ended(next.task.id, next.task.funcName);
    return false;
  }

  /** The task's start time is set: counted in its rate window. */
  started(next: QueuedTask): void {
    this.gates.started(next);
  }

  /** A task that held its function's slot ended: here and, on a shared database, there. */
  ended(taskId: string, funcName: string): void {
    this.gates.ended(taskId, funcName);
    this.shared.ended(taskId);
  }

  /** Claims not answered yet. */
  get pendingClaims(): Iterable<Promise<void>> {
    return this.shared.pending;
  }

  stop(): void {
    this.gates.stop();
    this.shared.stop();
  }

  /** The rate-limit partition of a task: `rateLimitKey` over its (decrypted) arguments. */
  private rateKeyOf({ task, registered }: QueuedTask): string {
    const keyOf = registered.definition.rateLimitKey;
    if (!keyOf) return '';
    const key: unknown = keyOf(...this.args.forRun(task));
    if (typeof key !== 'string') throw new TypeError(messages.badRateLimitKey(registered.definition.name, typeof key));
    return key;
  }
}
