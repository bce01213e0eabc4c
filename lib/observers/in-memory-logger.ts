import { checkLevel } from './log-format';
import { TaskLifecycleEvent, TaskLogEvent, TaskLogLevel, TaskObserver } from './task-observer';

export interface InMemoryLoggerOptions {
  /** Lower log levels are not kept. Default 'debug' (everything). */
  minLevel?: TaskLogLevel;
  /** Events kept per list; the oldest go first. Default 10000. */
  maxEvents?: number;
}

/** Keeps events in arrays, for tests: `logs`, `lifecycle`, `clear()`. */
export class InMemoryLogger extends TaskObserver {
  readonly logs: TaskLogEvent[] = [];
  /** Every lifecycle event (not filtered by level). */
  readonly lifecycle: TaskLifecycleEvent[] = [];
  private readonly maxEvents: number;

  constructor(options: InMemoryLoggerOptions = {}) {
    super();
    const { minLevel = 'debug', maxEvents = 10_000 } = options;
    if (!Number.isSafeInteger(maxEvents) || maxEvents < 1)
      throw new TypeError(`InMemoryLogger: maxEvents must be an integer of at least 1, got ${maxEvents}`);
    this.minLevel = checkLevel('InMemoryLogger', minLevel);
    this.maxEvents = maxEvents;
  }

  override onLog(event: TaskLogEvent): void {
    this.keep(this.logs, event);
  }

  override onLifecycle(event: TaskLifecycleEvent): void {
    this.keep(this.lifecycle, event);
  }

  clear(): void {
    this.logs.length = 0;
    this.lifecycle.length = 0;
  }

  private keep<T>(list: T[], event: T): void {
    list.push(event);
    if (list.length > this.maxEvents) list.splice(0, list.length - this.maxEvents);
  }
}
