import { LoggerService } from '@nestjs/common';

export interface LogLine {
  level: string;
  message: string;
  context: string;
  t: number;
}

/** Nest's log lines as the app writes them, kept for a test to count. */
export class CapturingLogger implements LoggerService {
  readonly lines: LogLine[] = [];
  private push(level: string, message: unknown, rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? String(rest[rest.length - 1]) : '';
    this.lines.push({ level, message: String(message), context, t: Date.now() });
  }
  log(message: unknown, ...rest: unknown[]) {
    this.push('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.push('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.push('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.push('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.push('verbose', message, rest);
  }
  matching(pattern: RegExp, since = 0): LogLine[] {
    return this.lines.filter((l) => l.t >= since && pattern.test(l.message));
  }
}
