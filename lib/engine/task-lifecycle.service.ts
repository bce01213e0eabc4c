import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskRuntime } from './task-runtime';

/**
 * Startup and shutdown in SPEC §6's order. Shutdown: stop intake, give running
 * tasks `shutdownGracePeriod` to finish, then interrupt what is left.
 */
@Injectable()
export class TaskLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private stopped = false;

  constructor(
    private readonly runtime: TaskRuntime,
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.observers.startup();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.runtime.stopIntake();
    await this.runtime.settleRunning(this.options.shutdownGracePeriod * 1000);
    const unfinished = this.runtime.stopIntake();
    for (const task of unfinished) this.runtime.interrupt(task, 'the application shut down');
    if (unfinished.length > 0) this.logger.warn(`${unfinished.length} unfinished task(s) marked interrupted at shutdown`);
    await this.runtime.observers.close();
    this.runtime.completeStreams();
  }
}
