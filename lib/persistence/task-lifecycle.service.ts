import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskPersistence } from './task-persistence.service';
import { TaskRuntime } from '../engine/task-runtime';

/**
 * Startup (open the database, requeue, start writing, start observers) and shutdown
 * (stop writing, write finished tasks, hand back unfinished ones, close observers,
 * close the database), in that order. The writing half of shutdown runs in
 * beforeApplicationShutdown, so it finishes before TypeORM's own module destroys
 * a DataSource the application shares with us (in its onApplicationShutdown).
 */
@Injectable()
export class TaskLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private stopped = false;
  private closed = false;

  constructor(
    private readonly runtime: TaskRuntime,
    private readonly persistence: TaskPersistence,
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
  ) {}

  /** Open the database, requeue, start writing, start observers; only then do tasks start. */
  async onApplicationBootstrap(): Promise<void> {
    await this.persistence.start();
    await this.runtime.observers.startup();
    this.runtime.unhold();
  }

  /** Stop intake, let running tasks finish for the grace period, save or mark the rest, write out. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.runtime.stopIntake();
    await this.runtime.settleRunning(this.options.shutdownGracePeriod * 1000);
    const left = await this.persistence.saveUnfinished(this.runtime.stopIntake());
    for (const task of left) this.runtime.interrupt(task, 'the application shut down');
    if (left.length > 0) this.logger.warn(`${left.length} unfinished task(s) marked interrupted at shutdown`);
    await this.persistence.flush();
  }

  /** Close observers, then the database. */
  async onApplicationShutdown(): Promise<void> {
    await this.beforeApplicationShutdown();
    if (this.closed) return;
    this.closed = true;
    await this.runtime.observers.close();
    await this.persistence.close();
    this.runtime.streams.complete();
    this.runtime.remote.complete();
  }
}
