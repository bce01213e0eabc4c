import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { LOG_LEVELS, TaskLifecycleEvent, TaskLogEvent, TaskObserver } from './task-observer';

/** Calls still unsettled per observer before further events to it are dropped. */
const MAX_IN_FLIGHT = 1000;
/** Longest startup/close may take before it is abandoned. */
const HOOK_TIMEOUT_MS = 5000;

/**
 * Delivers events to observers without ever letting one affect a task or
 * another observer: calls are not awaited, errors are caught (and reported once
 * per observer), and an observer that stops settling its calls stops receiving events.
 */
export class ObserverHub {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly inFlight = new Map<TaskObserver, number>();
  private readonly reported = new Set<TaskObserver>();

  constructor(private readonly observers: readonly TaskObserver[]) {}

  get size(): number {
    return this.observers.length;
  }

  log(event: TaskLogEvent): void {
    const rank = LOG_LEVELS.indexOf(event.level);
    for (const o of this.observers) {
      if (o.onLog && rank >= LOG_LEVELS.indexOf(o.minLevel ?? 'info')) this.call(o, () => o.onLog!(event));
    }
  }

  lifecycle(event: TaskLifecycleEvent): void {
    for (const o of this.observers) if (o.onLifecycle) this.call(o, () => o.onLifecycle!(event));
  }

  async startup(): Promise<void> {
    await Promise.all(this.observers.map((o) => this.bounded(o, 'startup', () => o.startup?.())));
  }

  async close(): Promise<void> {
    await Promise.all(this.observers.map((o) => this.bounded(o, 'close', () => o.close?.())));
  }

  private call(observer: TaskObserver, fn: () => void | Promise<void>): void {
    const busy = this.inFlight.get(observer) ?? 0;
    if (busy >= MAX_IN_FLIGHT) {
      this.report(observer, new Error(`${MAX_IN_FLIGHT} of its calls have not settled; events to it are dropped until they do`));
      return;
    }
    try {
      const result = fn();
      if (result && typeof (result as Promise<void>).then === 'function') {
        this.inFlight.set(observer, busy + 1);
        (result as Promise<void>).then(
          () => this.settle(observer),
          (error) => {
            this.settle(observer);
            this.report(observer, error);
          },
        );
      }
    } catch (error) {
      this.report(observer, error);
    }
  }

  private settle(observer: TaskObserver): void {
    this.inFlight.set(observer, (this.inFlight.get(observer) ?? 1) - 1);
  }

  private async bounded(observer: TaskObserver, hook: string, fn: () => unknown): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${hook}() did not finish within ${HOOK_TIMEOUT_MS} ms`)), HOOK_TIMEOUT_MS);
          timer.unref();
        }),
      ]);
    } catch (error) {
      this.report(observer, error, true);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private report(observer: TaskObserver, error: unknown, always = false): void {
    if (!always && this.reported.has(observer)) return;
    this.reported.add(observer);
    const name = observer.constructor?.name ?? 'observer';
    this.logger.warn(
      `Task observer ${name} failed (further failures of it are not logged): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
