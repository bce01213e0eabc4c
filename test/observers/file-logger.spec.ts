import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { BackgroundTask, FileLogger, InvalidOptionError, TaskLifecycleEvent, TaskLogEvent, TaskManagerModule, taskLog } from '../../lib';
import { resolveOptions } from '../../lib/options/resolve-options';
import { createManagerApp } from '../support/app';

const ID = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN |ERROR) \[[0-9a-f-]{8}\] \S+ attempt=\d+ .*$/;

function logEvent(message: string, extra: Partial<TaskLogEvent> = {}): TaskLogEvent {
  return {
    taskId: ID,
    funcName: 'EmailService.sendEmail',
    level: 'info',
    message,
    attempt: 1,
    tags: {},
    extra: {},
    timestamp: new Date('2026-04-30T10:00:01.123Z'),
    ...extra,
  };
}

function lifecycleEvent(extra: Partial<TaskLifecycleEvent> = {}): TaskLifecycleEvent {
  return {
    taskId: ID,
    funcName: 'EmailService.sendEmail',
    status: 'success',
    attempt: 1,
    duration: 1.02,
    error: null,
    tags: {},
    timestamp: new Date('2026-04-30T10:00:02.143Z'),
    ...extra,
  };
}

function lines(file: string): string[] {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
}

@Injectable()
class Email {
  @BackgroundTask()
  async send(to: string): Promise<void> {
    taskLog(`Sending to ${to}`);
  }

  @BackgroundTask()
  async fail(): Promise<void> {
    throw new TypeError('bad\naddress');
  }
}

describe('FileLogger', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-filelog-'))));
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  it('writes one plain, timestamped line per log event (short id, name, attempt, message, tags, extras)', async () => {
    const file = path.join(dir, 'tasks.log');
    const logger = new FileLogger(file);
    logger.onLog(logEvent('Sending to x', { tags: { source: 'signup' } }));
    logger.onLog(logEvent('two\nlines', { level: 'warning', attempt: 2, extra: { order: 7 } }));
    logger.onLifecycle(lifecycleEvent());
    await logger.close();
    expect(lines(file)).toEqual([
      '2026-04-30T10:00:01.123Z INFO  [3fa85f64] EmailService.sendEmail attempt=1 Sending to x tags=source=signup',
      '2026-04-30T10:00:01.123Z WARN  [3fa85f64] EmailService.sendEmail attempt=2 two\\nlines extra={"order":7}',
    ]);
  });

  it('writes lifecycle lines only with logLifecycle, filtered by their level', async () => {
    const file = path.join(dir, 'tasks.log');
    const logger = new FileLogger(file, { logLifecycle: true, minLevel: 'warning' });
    logger.onLog(logEvent('below warning'));
    logger.onLifecycle(lifecycleEvent());
    logger.onLifecycle(lifecycleEvent({ status: 'failed', attempt: 3, error: 'TypeError: bad\naddress' }));
    logger.onLifecycle(lifecycleEvent({ status: 'interrupted', duration: null }));
    await logger.close();
    // (minLevel filters onLog in the hub; called directly, the line is written.)
    expect(lines(file).slice(1)).toEqual([
      '2026-04-30T10:00:02.143Z FAILED [3fa85f64] EmailService.sendEmail attempt=3 duration=1.020s error="TypeError: bad\\naddress"',
      '2026-04-30T10:00:02.143Z INTERRUPTED [3fa85f64] EmailService.sendEmail attempt=1',
    ]);
  });

  it('rotates by size: path.1 is the newest backup, at most `backups` are kept, no line is cut or lost in what is kept', async () => {
    const file = path.join(dir, 'rotating.log');
    const logger = new FileLogger(file, { maxBytes: 1024, backups: 2 });
    for (let i = 0; i < 100; i++) logger.onLog(logEvent(`message number ${String(i).padStart(3, '0')}`));
    await logger.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['rotating.log', 'rotating.log.1', 'rotating.log.2']);
    const kept = [...lines(`${file}.2`), ...lines(`${file}.1`), ...lines(file)];
    for (const name of ['rotating.log', 'rotating.log.1', 'rotating.log.2']) {
      expect(fs.statSync(path.join(dir, name)).size).toBeLessThanOrEqual(1024);
      expect(fs.readFileSync(path.join(dir, name), 'utf8').endsWith('\n')).toBe(true);
    }
    expect(kept.every((l) => LOG_LINE.test(l))).toBe(true);
    const numbers = kept.map((l) => Number(l.slice(-3)));
    // Oldest to newest, consecutive, ending with the last message.
    expect(numbers).toEqual(numbers.map((_, i) => 100 - numbers.length + i));
    expect(numbers.at(-1)).toBe(99);
  });

  it('continues an existing file and rotates it when full; backups: 0 truncates instead', async () => {
    const file = path.join(dir, 'existing.log');
    fs.writeFileSync(file, 'x'.repeat(1000) + '\n');
    const logger = new FileLogger(file, { maxBytes: 1024, backups: 0 });
    logger.onLog(logEvent('first after restart'));
    await logger.close();
    expect(fs.readdirSync(dir)).toEqual(['existing.log']);
    expect(lines(file)).toHaveLength(1);
    expect(lines(file)[0]).toContain('first after restart');
  });

  it('is ordered and complete under a burst, and a write error is reported once without throwing', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const file = path.join(dir, 'burst.log');
    const logger = new FileLogger(file);
    for (let i = 0; i < 5000; i++) logger.onLog(logEvent(`burst ${i}`));
    await logger.flush();
    const written = lines(file);
    expect(written).toHaveLength(5000);
    expect(written.every((l, i) => l.endsWith(` burst ${i}`))).toBe(true);
    await logger.close();

    const broken = new FileLogger(dir); // a directory cannot be opened for appending
    broken.onLog(logEvent('lost'));
    broken.onLog(logEvent('lost too'));
    await broken.flush();
    await expect(broken.startup()).rejects.toThrow();
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('FileLogger cannot write'))).toHaveLength(1);
  });

  it('validates its options', () => {
    expect(() => new FileLogger('')).toThrow(/path must be a non-empty string/);
    expect(() => new FileLogger('x.log', { maxBytes: 10 })).toThrow(/maxBytes must be an integer of at least 1024/);
    expect(() => new FileLogger('x.log', { backups: -1 })).toThrow(/backups must be an integer from 0 to 1000/);
    expect(() => new FileLogger('x.log', { minLevel: 'verbose' as never })).toThrow(/minLevel must be one of/);
  });

  describe('in an app: logFile / logLifecycle shorthand', () => {
    it('writes task logs and lifecycle lines, flushed at shutdown', async () => {
      const file = path.join(dir, 'nested', 'app.log');
      const { app, manager } = await createManagerApp({ logFile: file, logLifecycle: true }, { providers: [Email] });
      const email = app.get(Email);
      const ok = manager.addTask(email.send, ['ada@example.com'], { tags: { source: 'signup' } });
      const ko = manager.addTask(email.fail);
      await manager.drain();
      await app.close();
      const written = lines(file).map((l) => l.slice(25));
      expect(written).toEqual(
        expect.arrayContaining([
          `INFO  [${ok.slice(0, 8)}] Email.send attempt=1 Sending to ada@example.com tags=source=signup`,
          `PENDING [${ok.slice(0, 8)}] Email.send attempt=0 tags=source=signup`,
          `RUNNING [${ok.slice(0, 8)}] Email.send attempt=1 tags=source=signup`,
          `RUNNING [${ko.slice(0, 8)}] Email.fail attempt=1`,
          expect.stringMatching(new RegExp(`^SUCCESS \\[${ok.slice(0, 8)}\\] Email\\.send attempt=1 duration=\\d\\.\\d{3}s tags=source=signup$`)),
          expect.stringMatching(
            new RegExp(`^FAILED \\[${ko.slice(0, 8)}\\] Email\\.fail attempt=1 duration=\\d\\.\\d{3}s error="TypeError: bad\\\\naddress"$`),
          ),
        ]),
      );
      expect(written).toHaveLength(7);
    });

    it('does not duplicate lines when `loggers` already has a FileLogger on the same file', async () => {
      const file = path.join(dir, 'same.log');
      const mine = new FileLogger(path.join(dir, '.', 'same.log'));
      const resolved = resolveOptions({ logFile: file, loggers: [mine] }, 'manager');
      expect(resolved.loggers).toEqual([mine]);
      const { app, manager } = await createManagerApp({ logFile: file, loggers: [mine] }, { providers: [Email] });
      await manager.waitFor(manager.addTask(app.get(Email).send, ['bo@example.com']));
      await app.close();
      expect(lines(file)).toHaveLength(1);
    });

    it('refuses two FileLoggers on one file', () => {
      const file = path.join(dir, 'twice.log');
      expect(() => TaskManagerModule.forRoot({ loggers: [new FileLogger(file), new FileLogger(file)] })).toThrow(InvalidOptionError);
      expect(() => TaskManagerModule.forRoot({ loggers: [new FileLogger(file), new FileLogger(file)] })).toThrow(
        /two FileLoggers write to .*twice\.log/,
      );
    });
  });
});
