import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { TaskManager } from '../engine/task-manager.service';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskStorage } from '../engine/task-storage';

const FIRST_ROUND_MS = 30_000;
const ROUND_MS = 6 * 3600_000;
const TIMEOUT_NAME = 'taskflow:retention:first';
const INTERVAL_NAME = 'taskflow:retention';
/** Held a little less than a round, so the next round can take it again. */
const LEASE_SECONDS = ROUND_MS / 1000 - 600;

/**
 * Prunes terminal records older than `retentionDays` shortly after start and
 * every 6 hours, through the same path as DELETE {path}/history. With several
 * instances on one database, one prunes per round (a lease row decides).
 * Timers live in a SchedulerRegistry of @nestjs/schedule private to this package.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private running: Promise<void> | null = null;

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly manager: TaskManager,
    private readonly storage: TaskStorage,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.retentionDays === null) return;
    const first = setTimeout(() => void this.prune(), FIRST_ROUND_MS);
    const every = setInterval(() => void this.prune(), ROUND_MS);
    first.unref();
    every.unref();
    this.scheduler.addTimeout(TIMEOUT_NAME, first);
    this.scheduler.addInterval(INTERVAL_NAME, every);
  }

  /** Before the database closes: stop the timers and let a round in progress finish. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const [has, remove] of [
      [() => this.scheduler.doesExist('timeout', TIMEOUT_NAME), () => this.scheduler.deleteTimeout(TIMEOUT_NAME)],
      [() => this.scheduler.doesExist('interval', INTERVAL_NAME), () => this.scheduler.deleteInterval(INTERVAL_NAME)],
    ] as const) {
      if (has()) remove();
    }
    await this.running;
  }

  /** One round (skipped when another instance holds this round's lease). */
  prune(now = Date.now()): Promise<void> {
    this.running ??= this.round(now).finally(() => (this.running = null));
    return this.running;
  }

  private async round(now: number): Promise<void> {
    const days = this.options.retentionDays;
    if (days === null) return;
    try {
      // Across instances one round per lease; the memory backend's lease is this instance's own.
      if (!(await this.storage.tryAcquireLease('taskflow:retention', LEASE_SECONDS))) return;
      const result = await this.manager.deleteHistory(now - days * 86_400_000, { actor: 'retention' });
      if (result.deleted > 0) this.logger.log(`Retention pruned ${result.deleted} task record(s) older than ${days} day(s)`);
    } catch (error) {
      this.logger.warn(`Retention round failed, will try next round: ${String(error)}`);
    }
  }
}
