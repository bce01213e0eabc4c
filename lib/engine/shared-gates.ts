import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { GateAnswer, GateClaim } from '../storage/gate-claims';
import { FunctionGates } from './function-gates';
import type { QueuedTask } from './task-queue';
import { TaskStorage } from './task-storage';

/** How often a function whose shared slots are all taken elsewhere tries again, and unwritten releases are retried. */
export const SHARED_RETRY_MS = 250;

/** What a task holds in the backend while it runs: a concurrency slot to give back. */
interface HeldSlot {
  funcName: string;
  slot: number;
}

/** Answer used while this instance's lease may have ended: its claims could be taken over, so none is made. */
const FENCED: GateAnswer = { granted: false, limit: 'concurrency', retryInMs: null };

/**
 * The cross-instance half of flow control, with a backend shared by several instances: a
 * task of a limited function, admitted by this process's gates, starts only once the
 * backend granted it a concurrency slot and a rate row (TaskBackend.claimGate, one
 * transaction); while the claim is out the task stays pending and holds its queue slot.
 * A refusal parks it again (FunctionGates.refused): a rate refusal until the backend's
 * next free time, a concurrency refusal until a slot frees here or the next retry round
 * (SHARED_RETRY_MS), which lets one task try. A database that cannot be reached refuses:
 * limited functions wait rather than overrun their limit. The slot goes back when the task ends.
 */
export class SharedGates {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly held = new Map<string, HeldSlot>();
  /** Releases that failed (the database was unreachable): retried each round. */
  private readonly unreleased: HeldSlot[] = [];
  /** Claims not answered yet (shutdown waits for them). */
  readonly pending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly storage: TaskStorage,
    private readonly gates: FunctionGates,
    private readonly fenceOpen: () => boolean,
  ) {}

  /** True when the task's start must be settled with the other instances first. */
  needed(next: QueuedTask): boolean {
    return this.storage.persistent && this.gates.isLimited(next);
  }

  /**
   * Asks the backend for the task's start. Granted: `launch()` starts it (false: it could
   * not start, and what was granted is given back). Refused, or not started: `giveBack()`
   * frees the queue slot the task held meanwhile.
   */
  claim(next: QueuedTask, launch: () => boolean, giveBack: () => void): void {
    const { definition } = next.registered;
    const rate = definition.rateLimit ?? null;
    const windowMs = rate ? Math.round(rate.perSeconds * 1000) : 0;
    const claim: GateClaim = {
      funcName: definition.name,
      concurrency: definition.concurrency ?? null,
      rate: rate ? { key: next.rateKey ?? '', max: rate.max, windowMs } : null,
      now: Date.now(),
    };
    this.gates.claimBegan(next);
    const asked = this.fenceOpen() ? this.storage.claimGate(claim) : Promise.resolve(FENCED);
    const work = asked
      .catch((error: unknown) => {
        this.logger.debug?.(`Flow-control claim of ${definition.name} failed: ${String(error)}`);
        return FENCED;
      })
      .then((answer) => this.answered(next, claim, answer, launch, giveBack))
      .catch((error: unknown) => this.logger.error(`Flow control of ${definition.name} failed: ${String(error)}`))
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  /** The task ended: its slot goes back to the backend. */
  ended(taskId: string): void {
    // Without a shared database (or a limited function's claim) none is held: no lookup by id.
    if (this.held.size === 0) return;
    const slot = this.held.get(taskId);
    if (!slot) return;
    this.held.delete(taskId);
    this.release(slot);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private answered(next: QueuedTask, claim: GateClaim, answer: GateAnswer, launch: () => boolean, giveBack: () => void): void {
    this.gates.claimEnded(next);
    if (!answer.granted) {
      this.gates.refused(next, answer);
      giveBack();
      this.keepRetrying();
      return;
    }
    this.gates.granted(claim.funcName);
    const started = next.task.status === 'pending' && !this.stopped && launch();
    if (answer.rateSlot !== null && claim.rate) {
      const { key, windowMs } = claim.rate;
      const at = started ? next.task.startTime : null;
      this.storage.settleRateSlot(claim.funcName, key, answer.rateSlot, at, windowMs).catch((error: unknown) => {
        // Left reserved: the row frees after its grace period, later than needed but never early.
        this.logger.debug?.(`Settling a rate slot of ${claim.funcName} failed: ${String(error)}`);
      });
    }
    const slot = answer.slot === null ? null : { funcName: claim.funcName, slot: answer.slot };
    if (started) {
      if (slot) this.held.set(next.task.id, slot);
      return;
    }
    if (slot) this.release(slot);
    this.gates.ended(next.task.id, claim.funcName);
    giveBack();
  }

  private release(slot: HeldSlot): void {
    this.storage.releaseGateSlot(slot.funcName, slot.slot).catch(() => {
      this.unreleased.push(slot);
      this.keepRetrying();
    });
  }

  /** Rounds every SHARED_RETRY_MS while some function waits for a shared slot or a release is unwritten. */
  private keepRetrying(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.round(), SHARED_RETRY_MS);
    this.timer.unref();
  }

  private round(): void {
    for (const slot of this.unreleased.splice(0)) this.release(slot);
    this.gates.probe();
    if (!this.gates.probing && this.unreleased.length === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
