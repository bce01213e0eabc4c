import { Logger } from '@nestjs/common';
import { TaskLifecycleEvent, TaskLogEvent, TaskObserver } from '../lib';

/** Prints task logs and lifecycle events through Nest's Logger, so the console shows what runs. */
export class ConsoleObserver extends TaskObserver {
  private readonly logger = new Logger('Tasks');

  override onLog(event: TaskLogEvent): void {
    const line = `${event.funcName} ${event.taskId.slice(0, 8)} | ${event.message}`;
    if (event.level === 'error') this.logger.error(line);
    else if (event.level === 'warning') this.logger.warn(line);
    else this.logger.log(line);
  }

  override onLifecycle(event: TaskLifecycleEvent): void {
    const duration = event.duration === null ? '' : ` in ${event.duration.toFixed(2)} s`;
    const error = event.error ? ` (${event.error})` : '';
    const line = `${event.funcName} ${event.taskId.slice(0, 8)} -> ${event.status}${duration}${error}`;
    if (event.status === 'failed') this.logger.error(line);
    else if (event.status === 'interrupted' || event.status === 'cancelled') this.logger.warn(line);
    else this.logger.log(line);
  }
}
