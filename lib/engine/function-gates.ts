import { GateRefusal } from '../storage/gate-claims';
import { FunctionGate, RateKeyState } from './function-gate';
import { PausedFunctions } from './paused-functions';
import type { Admission, QueuedTask } from './task-queue';
import { WakeTimer } from './wake-timer';

/** What the gates need of the runtime. */
export interface GateHooks {
  /** Puts a task the gate lets go back in the queue, at its place. */
  requeue(next: QueuedTask): void;
  /** The task's rate-limit key (`rateLimitKey` over its arguments); may throw. */
  keyOf(next: QueuedTask): string;
  /** Ends a task that cannot be admitted (its key could not be computed) as failed. */
  fail(next: QueuedTask, error: unknown): void;
}

/** Starts of one function between sweeps of its idle rate keys. */
const SWEEP_EVERY = 1024;

/**
 * The admission check of each function before its task starts: paused, its concurrency,
 * its rate limit. A task that may not start yet is parked here, by function (and by rate
 * key), in queue order, so it neither fails nor holds up other functions' tasks behind it;
 * it goes back to the queue when its reason is gone: a slot of its function freed, its
 * rate window moved on (one timer for the earliest such time, whatever the number of
 * keys), or the function resumed. Functions without limits cost one lookup.
 *
 * This is what one process enforces; across instances a shared backend settles the same
 * limits when the task starts (SharedGates), and a refusal parks the task here again.
 */
export class FunctionGates {
  private readonly gates = new Map<string, FunctionGate>();
  private readonly timer = new WakeTimer((keys) => this.woken(keys));
  private startsSinceSweep = 0;
  private stopped = false;

  constructor(
    readonly paused: PausedFunctions,
    private readonly hooks: GateHooks,
  ) {
    paused.onChange = (name, isPaused) => {
      if (!isPaused) this.release(name);
    };
  }

  isPaused(name: string): boolean {
    return this.paused.has(name);
  }

  /** True when the function has a limit of its own (so a shared backend must settle its starts). */
  isLimited(next: QueuedTask): boolean {
    const { concurrency, rateLimit } = next.registered.definition;
    return (concurrency ?? null) !== null || (rateLimit ?? null) !== null;
  }

  /**
   * Whether pooled tasks of this function should be claimed here: not while it is paused,
   * nor while this instance already holds some of its tasks back.
   */
  claimable(name: string): boolean {
    return !this.paused.has(name) && !(this.gates.get(name)?.holdsTasks ?? false);
  }

  /** The check before a task starts: 'start' takes one of its function's slots here. */
  admit(next: QueuedTask): Admission {
    const name = next.task.funcName;
    if (this.paused.has(name)) {
      const gate = this.gateOf(next);
      gate.hold(gate.waiting, next);
      return 'park';
    }
    if (!this.isLimited(next)) return 'start';
    const gate = this.gateOf(next);
    if (gate.free <= 0) {
      gate.hold(gate.waiting, next);
      return 'park';
    }
    if (gate.rateLimit) {
      let key: string;
      try {
        key = next.rateKey ??= this.hooks.keyOf(next);
      } catch (error) {
        this.hooks.fail(next, error);
        return 'drop';
      }
      const state = gate.key(key);
      const now = Date.now();
      const at = state.window.nextAllowed(now);
      if (at > now) {
        gate.hold(state.held, next);
        this.wakeAt(name, key, at);
        return 'park';
      }
      // Claims out may take the room left: the next one waits for their answers.
      if (state.claiming > 0 && state.window.allowance(now) <= state.claiming) {
        gate.hold(state.held, next);
        return 'park';
      }
    }
    if (gate.concurrency !== null) gate.holders.add(next.task.id);
    return 'start';
  }

  /** The task started (its start time is set): counted in its rate window. */
  started(next: QueuedTask): void {
    if (this.gates.size === 0) return;
    const gate = this.gates.get(next.task.funcName);
    if (!gate?.rateLimit || next.rateKey === undefined || next.task.startTime === null) return;
    const state = gate.key(next.rateKey);
    state.window.record(next.task.startTime);
    // Tasks held by this key go when the window next allows one.
    if (state.held.size > 0) this.wakeAt(next.task.funcName, next.rateKey, state.window.nextAllowed(next.task.startTime));
    if (++this.startsSinceSweep >= SWEEP_EVERY) {
      this.startsSinceSweep = 0;
      gate.sweep(Date.now());
    }
  }

  /** The task ended (or never started after taking a slot): its slot goes to the next one held. */
  ended(taskId: string, funcName: string): void {
    // No gate yet (no function was paused or limited): no lookup.
    if (this.gates.size === 0) return;
    const gate = this.gates.get(funcName);
    if (gate?.holders.delete(taskId)) this.release(funcName);
  }

  /** A start of this task is being asked of a shared backend: it counts against its rate key's room meanwhile. */
  claimBegan(next: QueuedTask): void {
    const gate = this.gates.get(next.task.funcName);
    if (gate?.rateLimit && next.rateKey !== undefined) gate.key(next.rateKey).claiming++;
  }

  /** The backend answered (before `started`, `refused` or `ended`); tasks its claim kept waiting may go. */
  claimEnded(next: QueuedTask): void {
    if (next.rateKey === undefined) return;
    const state = this.gates.get(next.task.funcName)?.keys.get(next.rateKey);
    if (!state) return;
    state.claiming = Math.max(0, state.claiming - 1);
    if (state.held.size > 0) this.wakeAt(next.task.funcName, next.rateKey, state.window.nextAllowed(Date.now()));
  }

  /**
   * A shared backend refused the start of a task admitted here: its slot here is given
   * back and it waits again, for a slot (tried again by `probe`) or its rate window.
   */
  refused(next: QueuedTask, refusal: Pick<GateRefusal, 'limit' | 'retryInMs'>): void {
    const name = next.task.funcName;
    const gate = this.gateOf(next);
    gate.holders.delete(next.task.id);
    if (next.task.status !== 'pending') return;
    if (refusal.limit === 'rate' && next.rateKey !== undefined) {
      gate.hold(gate.key(next.rateKey).held, next);
      this.wakeAt(name, next.rateKey, Date.now() + (refusal.retryInMs ?? 0));
      return;
    }
    gate.probing = true;
    gate.hold(gate.waiting, next);
  }

  /** A shared backend granted a start: its function is not crowded out elsewhere (any more). */
  granted(funcName: string): void {
    const gate = this.gates.get(funcName);
    if (!gate?.probing) return;
    gate.probing = false;
    this.release(funcName);
  }

  /** Lets one task of each function refused by a shared backend try again (slots elsewhere may have freed). */
  probe(): void {
    for (const name of this.gates.keys()) {
      const gate = this.gates.get(name)!;
      if (gate.probing) this.release(name);
    }
  }

  /** True while a shared backend refused a slot and tasks wait for one (a probe is due). */
  get probing(): boolean {
    for (const gate of this.gates.values()) if (gate.probing && gate.waiting.size > 0) return true;
    return false;
  }

  /** No more wake-ups (shutdown): held tasks stay pending, as the lifecycle then treats them. */
  stop(): void {
    this.stopped = true;
    this.timer.stop();
  }

  private gateOf(next: QueuedTask): FunctionGate {
    const name = next.task.funcName;
    let gate = this.gates.get(name);
    if (!gate) {
      gate = new FunctionGate(next.registered.definition);
      this.gates.set(name, gate);
    }
    return gate;
  }

  /** Sends back to the queue what the function's pause or concurrency held, as far as slots allow. */
  private release(name: string): void {
    const gate = this.gates.get(name);
    if (!gate || this.stopped || this.paused.has(name)) return;
    const budget = gate.probing ? Math.min(1, gate.free) : gate.free;
    for (const next of gate.take(gate.waiting, budget)) this.hooks.requeue(next);
    if (gate.concurrency === null) {
      // A resumed rate-limited function: its keys' held tasks go when their windows allow.
      for (const [key, state] of gate.keys) if (state.held.size > 0) this.wakeAt(name, key, state.window.nextAllowed(Date.now()));
    }
  }

  private wakeAt(name: string, key: string, at: number): void {
    if (!this.stopped) this.timer.schedule(`${name}\u0000${key}`, at);
  }

  /** Rate windows moved on: each key lets go as many held tasks as its window allows now. */
  private woken(keys: string[]): void {
    const now = Date.now();
    for (const wakeKey of keys) {
      const cut = wakeKey.indexOf('\u0000');
      const name = wakeKey.slice(0, cut);
      const key = wakeKey.slice(cut + 1);
      const gate = this.gates.get(name);
      const state = gate?.keys.get(key);
      if (!gate || !state || state.held.size === 0) continue;
      this.letGo(gate, name, key, state, now);
    }
  }

  private letGo(gate: FunctionGate, name: string, key: string, state: RateKeyState, now: number): void {
    const allowance = state.window.allowance(now) - state.claiming;
    if (allowance <= 0) {
      // Claims out wake the key again when answered.
      if (state.claiming > 0) return;
      this.wakeAt(name, key, state.window.nextAllowed(now));
      return;
    }
    for (const next of gate.take(state.held, allowance)) this.hooks.requeue(next);
    // Those let go schedule the next wake when they start; should none start (cancelled,
    // refused elsewhere), this one lets the rest go once the window has surely moved on.
    if (state.held.size > 0) this.wakeAt(name, key, now + gate.rateLimit!.windowMs);
  }
}
