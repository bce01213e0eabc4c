import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { atLeast, checkLevel, formatLifecycleLine, formatLogLine, lifecycleLevel } from './log-format';
import { TaskLifecycleEvent, TaskLogEvent, TaskLogLevel, TaskObserver } from './task-observer';

export interface FileLoggerOptions {
  /** Size (bytes) past which the file is rotated. Default 10 MB. */
  maxBytes?: number;
  /** Rotated files kept: `path.1` (newest) to `path.N`. 0 truncates instead. Default 5. */
  backups?: number;
  /** Also write lifecycle lines (RUNNING, SUCCESS, FAILED, ...). Default false. */
  logLifecycle?: boolean;
  /** Lower levels are not written (lifecycle: failed = error, interrupted = warning, others info). Default 'info'. */
  minLevel?: TaskLogLevel;
}

/** Lines held in memory while the disk is slow; past this, lines are dropped and counted. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * Writes task logs (and, with `logLifecycle`, lifecycle events) to a file, one
 * plain line per event (see formatLogLine), rotated by size like a classic
 * RotatingFileHandler: when the next line would pass `maxBytes`, `path` becomes
 * `path.1`, `path.1` becomes `path.2`, ... and the oldest beyond `backups` is gone.
 *
 * Writes are asynchronous, in order, batched through one queue: a task never
 * waits for the disk. `close()` (called at application shutdown) writes what is
 * queued. One FileLogger per file and per process: two writers rotating one file
 * would lose lines.
 */
export class FileLogger extends TaskObserver {
  /** Absolute path of the file. */
  readonly path: string;
  readonly maxBytes: number;
  readonly backups: number;
  readonly logLifecycle: boolean;
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private queue: string[] = [];
  private queuedBytes = 0;
  private dropped = 0;
  private handle: fs.FileHandle | null = null;
  private size = 0;
  private writing: Promise<void> | null = null;
  private failing = false;

  constructor(file: string, options: FileLoggerOptions = {}) {
    super();
    if (typeof file !== 'string' || file.length === 0) throw new TypeError('FileLogger: path must be a non-empty string');
    const { maxBytes = 10 * 1024 * 1024, backups = 5, logLifecycle = false, minLevel = 'info' } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024)
      throw new TypeError(`FileLogger: maxBytes must be an integer of at least 1024, got ${maxBytes}`);
    if (!Number.isSafeInteger(backups) || backups < 0 || backups > 1000)
      throw new TypeError(`FileLogger: backups must be an integer from 0 to 1000, got ${backups}`);
    if (typeof logLifecycle !== 'boolean') throw new TypeError('FileLogger: logLifecycle must be true or false');
    this.path = path.resolve(file);
    this.maxBytes = maxBytes;
    this.backups = backups;
    this.logLifecycle = logLifecycle;
    this.minLevel = checkLevel('FileLogger', minLevel);
  }

  override onLog(event: TaskLogEvent): void {
    this.push(formatLogLine(event));
  }

  override onLifecycle(event: TaskLifecycleEvent): void {
    if (this.logLifecycle && atLeast(lifecycleLevel(event.status), this.minLevel)) this.push(formatLifecycleLine(event));
  }

  /** Opens the file (creating its directory), so a path that cannot be written is reported at startup. */
  override async startup(): Promise<void> {
    await this.open();
  }

  /** Writes everything queued, then closes the file. Later events open it again. */
  override async close(): Promise<void> {
    await this.flush();
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  /** Resolves when every line queued so far is written (or dropped on a write error). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private push(line: string): void {
    const text = `${line}\n`;
    if (this.queuedBytes + text.length > MAX_QUEUED_BYTES) {
      this.dropped++;
      return;
    }
    this.queue.push(text);
    this.queuedBytes += text.length;
    this.writing ??= this.drain().finally(() => (this.writing = null));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const lines = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      if (this.dropped > 0) {
        lines.push(`${new Date().toISOString()} WARN  FileLogger dropped ${this.dropped} line(s): the file could not keep up\n`);
        this.dropped = 0;
      }
      try {
        await this.write(lines);
        if (this.failing) {
          this.failing = false;
          this.logger.log(`FileLogger writes to ${this.path} again`);
        }
      } catch (error) {
        if (!this.failing) {
          this.failing = true;
          this.logger.warn(`FileLogger cannot write to ${this.path} (${String(error)}); its lines are dropped until it can`);
        }
        const handle = this.handle;
        this.handle = null;
        await handle?.close().catch(() => undefined);
      }
    }
  }

  /** Appends lines in order, rotating before a line that would pass maxBytes. */
  private async write(lines: string[]): Promise<void> {
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.from(line, 'utf8');
      const handle = await this.open();
      if (this.size + chunkBytes + bytes.length > this.maxBytes && this.size + chunkBytes > 0) {
        if (chunkBytes > 0) await this.append(handle, chunk, chunkBytes);
        chunk = [];
        chunkBytes = 0;
        await this.rotate();
      }
      chunk.push(bytes);
      chunkBytes += bytes.length;
    }
    if (chunkBytes > 0) await this.append(await this.open(), chunk, chunkBytes);
  }

  private async append(handle: fs.FileHandle, chunk: Buffer[], bytes: number): Promise<void> {
    await handle.write(Buffer.concat(chunk, bytes));
    this.size += bytes;
  }

  private async open(): Promise<fs.FileHandle> {
    if (this.handle) return this.handle;
    await fs.mkdir(path.dirname(this.path), { recursive: true });
    const handle = await fs.open(this.path, 'a');
    this.size = (await handle.stat()).size;
    this.handle = handle;
    return handle;
  }

  private async rotate(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
    if (this.backups === 0) {
      await fs.truncate(this.path, 0);
      return;
    }
    await fs.rm(`${this.path}.${this.backups}`, { force: true });
    for (let i = this.backups - 1; i >= 1; i--) await renameIfExists(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    await renameIfExists(this.path, `${this.path}.1`);
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
