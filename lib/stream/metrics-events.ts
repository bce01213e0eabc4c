import type { Logger } from '@nestjs/common';
import type { TaskMetrics } from '../task/task-metrics';

/**
 * The pacing of the stream's named `metrics` event: sent as soon as one is allowed after
 * a change, never two within `intervalMs`, and only while `wanted()` (clients are
 * connected and the hub is open).
 */
export class MetricsEvents {
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  private busy = false;
  private lastAt = -Infinity;

  constructor(
    private readonly read: () => Promise<TaskMetrics>,
    private readonly intervalMs: number,
    private readonly wanted: () => boolean,
    private readonly send: (metrics: TaskMetrics) => void,
    private readonly logger: Logger,
  ) {}

  /** Something changed: a metrics event is due. */
  changed(): void {
    this.dirty = true;
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || this.busy || !this.wanted()) return;
    const wait = Math.max(0, this.lastAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sendNow();
    }, wait);
    this.timer.unref();
  }

  private async sendNow(): Promise<void> {
    if (!this.dirty || !this.wanted()) return;
    if (Date.now() - this.lastAt < this.intervalMs) return this.schedule();
    this.dirty = false;
    this.busy = true;
    try {
      const metrics = await this.read();
      if (this.wanted()) {
        this.lastAt = Date.now();
        this.send(metrics);
      }
    } catch (error) {
      this.logger.warn(`Metrics for the stream failed: ${String(error)}`);
    } finally {
      this.busy = false;
    }
    if (this.dirty) this.schedule();
  }
}
