import { TaskLogLevel } from '../observers/task-observer';
import { AttemptSink } from './task-context';
import type { LongTimeout } from './long-timeout';

/** Where an attempt's logs and progress go: its execution, which drops them once stopped. */
export interface AttemptOwner {
  attemptLog(attempt: number, level: TaskLogLevel, message: string, extra: Record<string, unknown>): void;
  attemptProgress(attempt: number, fraction: number, message: string | undefined): void;
}

/** One attempt in flight: the sink its task logs through, its timeout, whether its outcome came. */
export class AttemptRun implements AttemptSink {
  done = false;
  timer: LongTimeout | undefined = undefined;

  constructor(
    private readonly owner: AttemptOwner,
    readonly attempt: number,
  ) {}

  log(level: TaskLogLevel, message: string, extra: Record<string, unknown>): void {
    this.owner.attemptLog(this.attempt, level, message, extra);
  }

  progress(fraction: number, message: string | undefined): void {
    this.owner.attemptProgress(this.attempt, fraction, message);
  }
}
