import { Logger } from '@nestjs/common';
import { TaskRuntime } from '../engine/task-runtime';
import { TaskBackend } from '../storage/task-backend';
import { isTerminal } from '../task/task-status';

/** How often an owner looks for its tasks cancelled through another instance. */
export const CANCEL_POLL_MS = 500;
/** How far back each look reaches (the canceller's clock stamps the end; clocks differ a little). */
const LOOK_BACK_MS = 60_000;

/**
 * The owner's half of a cancel made on another instance: that instance writes the row
 * cancelled at once (with a version far ahead); this one finds its live tasks among
 * the recently cancelled rows it owns, and cancels them here too (a pending one never
 * starts, a running one has its signal aborted), within CANCEL_POLL_MS plus a query.
 */
export class RemoteCancels {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly backend: TaskBackend,
    private readonly runtime: TaskRuntime,
    private readonly instanceId: string,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), CANCEL_POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    if (this.busy || !this.runtime.accepting) return;
    this.busy = true;
    try {
      for (const row of await this.backend.cancelledSince(this.instanceId, Date.now() - LOOK_BACK_MS)) {
        const task = this.runtime.live(row.id);
        if (!task || isTerminal(task.status)) continue;
        task.version = Math.max(task.version, row.version);
        this.runtime.cancel(task);
        this.logger.log(`Task ${task.id} cancelled through another instance`);
      }
    } catch (error) {
      this.logger.debug?.(`Looking for cancelled tasks failed: ${String(error)}`);
    } finally {
      this.busy = false;
    }
  }
}
