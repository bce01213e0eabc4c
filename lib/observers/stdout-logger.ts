import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { atLeast, checkLevel, formatLifecycleLine, formatLogLine, lifecycleLevel } from './log-format';
import { TaskLifecycleEvent, TaskLogEvent, TaskLogLevel, TaskObserver } from './task-observer';

export interface StdoutLoggerOptions {
  /** Also print lifecycle lines (RUNNING, SUCCESS, FAILED, ...). Default false. */
  logLifecycle?: boolean;
  /** Lower levels are not printed. Default 'info'. */
  minLevel?: TaskLogLevel;
  /** Context of the Nest Logger. Default 'Taskflow'. */
  context?: string;
}

/**
 * Prints task logs (and, with `logLifecycle`, lifecycle events) through Nest's
 * Logger, so they follow the application's logger (ConsoleLogger on stdout by
 * default, or whatever `app.useLogger()` installed) and its timestamps. Levels
 * map to debug / log / warn / error. Lines as in FileLogger, without the timestamp
 * (the logger adds its own).
 */
export class StdoutLogger extends TaskObserver {
  readonly logLifecycle: boolean;
  private readonly logger: Logger;

  constructor(options: StdoutLoggerOptions = {}) {
    super();
    const { logLifecycle = false, minLevel = 'info', context = LOGGER_CONTEXT } = options;
    if (typeof logLifecycle !== 'boolean') throw new TypeError('StdoutLogger: logLifecycle must be true or false');
    this.logLifecycle = logLifecycle;
    this.minLevel = checkLevel('StdoutLogger', minLevel);
    this.logger = new Logger(context);
  }

  override onLog(event: TaskLogEvent): void {
    this.print(event.level, formatLogLine(event, false));
  }

  override onLifecycle(event: TaskLifecycleEvent): void {
    const level = lifecycleLevel(event.status);
    if (this.logLifecycle && atLeast(level, this.minLevel)) this.print(level, formatLifecycleLine(event, false));
  }

  private print(level: TaskLogLevel, line: string): void {
    if (level === 'debug') this.logger.debug(line);
    else if (level === 'warning') this.logger.warn(line);
    else if (level === 'error') this.logger.error(line);
    else this.logger.log(line);
  }
}
