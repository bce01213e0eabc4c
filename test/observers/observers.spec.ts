import { AsyncLocalStorage } from 'node:async_hooks';
import { INestApplication, Injectable, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BackgroundTask,
  InMemoryLogger,
  ScheduledTask,
  StdoutLogger,
  TaskLifecycleEvent,
  TaskLogEvent,
  TaskManager,
  TaskManagerModule,
  TaskManagerOptions,
  TaskObserver,
  reportProgress,
  taskLog,
} from '../../lib';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { Gate } from '../support/gate';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';

@Injectable()
class Work {
  static calls: string[] = [];
  failuresLeft = 0;

  @BackgroundTask({ retries: 1, delay: 1 })
  async greet(name: string): Promise<string> {
    taskLog(`Hello ${name}`, { channel: 'email' });
    taskLog('details', { level: 'debug' });
    if (this.failuresLeft-- > 0) throw new RangeError('not yet');
    taskLog('careful', { level: 'warning' });
    return name;
  }

  @BackgroundTask()
  async chatty(lines: number): Promise<void> {
    for (let i = 0; i < lines; i++) taskLog(`line ${i}`);
  }
}

/** Throws from everything, synchronously or by rejecting. */
class Throwing extends TaskObserver {
  calls = 0;
  override onLog(): void {
    this.calls++;
    throw new Error('onLog exploded');
  }
  override async onLifecycle(): Promise<void> {
    this.calls++;
    throw new Error('onLifecycle exploded');
  }
  override startup(): void {
    throw new Error('startup exploded');
  }
  override close(): void {
    throw new Error('close exploded');
  }
}

/** Never settles anything. */
class Hanging extends TaskObserver {
  logCalls = 0;
  lifecycleCalls = 0;
  override onLog(): Promise<void> {
    this.logCalls++;
    return new Promise(() => undefined);
  }
  override onLifecycle(): Promise<void> {
    this.lifecycleCalls++;
    return new Promise(() => undefined);
  }
  override startup(): Promise<void> {
    return new Promise(() => undefined);
  }
  override close(): Promise<void> {
    return new Promise(() => undefined);
  }
}

const FAKE = { doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] as ('queueMicrotask' | 'nextTick' | 'setImmediate')[] };

/** An app whose init and close are driven past the observers' 5 s hook time-box with fake timers. */
async function bootWithFakeTimers(options: TaskManagerOptions): Promise<{ app: INestApplication; manager: TaskManager; close: () => Promise<void> }> {
  jest.useFakeTimers(FAKE);
  const moduleRef = await Test.createTestingModule({
    imports: [TaskManagerModule.forRoot({ shutdownGracePeriod: 0, ...options })],
    providers: [Work],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const init = app.init();
  await jest.advanceTimersByTimeAsync(5_000);
  await init;
  const close = async () => {
    const closing = app.close();
    await jest.advanceTimersByTimeAsync(5_000);
    await closing;
  };
  return { app, manager: app.get(TaskManager), close };
}

describe('observers', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('a throwing and a hanging observer affect neither the task nor a third observer; each failure is reported once', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const throwing = new Throwing();
    const hanging = new Hanging();
    const memory = new InMemoryLogger();
    const { app, manager, close } = await bootWithFakeTimers({ loggers: [throwing, hanging, memory] });
    const work = app.get(Work);
    work.failuresLeft = 1;
    const id = manager.addTask(work.greet, ['Ada'], { tags: { team: 'core' } });
    const done = manager.waitFor(id);
    await jest.advanceTimersByTimeAsync(1_000);
    const record = await done;
    expect(record).toMatchObject({ status: 'success', retries_used: 1, error: null });
    expect(record.logs.filter((l) => !l.startsWith('---')).map((l) => l.slice(20))).toEqual([
      'Hello Ada',
      'details',
      'Hello Ada',
      'details',
      'careful',
    ]);

    // The third observer got everything (minLevel debug), in order, with every field.
    expect(memory.logs.map((e) => [e.level, e.message, e.attempt])).toEqual([
      ['info', 'Hello Ada', 1],
      ['debug', 'details', 1],
      ['info', 'Hello Ada', 2],
      ['debug', 'details', 2],
      ['warning', 'careful', 2],
    ]);
    expect(memory.logs[0]).toMatchObject({ taskId: id, funcName: 'Work.greet', tags: { team: 'core' }, extra: { channel: 'email' } });
    expect(memory.logs[0].timestamp).toBeInstanceOf(Date);
    expect(memory.lifecycle.map((e) => [e.status, e.attempt])).toEqual([
      ['pending', 0],
      ['running', 1],
      ['success', 2],
    ]);
    // Lifecycle durations cover the whole run, back-off included, as the record's do.
    const success = memory.lifecycle[2];
    expect(success.duration).toBe(record.duration);
    expect(success.duration).toBeGreaterThanOrEqual(1);

    expect(throwing.calls).toBeGreaterThan(0);
    expect(hanging.logCalls).toBe(3); // 'info' and above only (its minLevel is the default)
    const reports = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith('Task observer'));
    expect(reports.filter((m) => m.includes('Throwing')).length).toBeLessThanOrEqual(2); // startup (always) + the first event failure
    expect(reports.some((m) => m.includes('Hanging') && m.includes('startup() did not finish within 5000 ms'))).toBe(true);

    await close();
    expect(warn.mock.calls.map((c) => String(c[0])).some((m) => m.includes('Hanging') && m.includes('close() did not finish'))).toBe(true);
  });

  it('stops delivering to an observer with 1000 unsettled calls, and nobody else notices', async () => {
    const hanging = new Hanging();
    const memory = new InMemoryLogger();
    const { app, manager, close } = await bootWithFakeTimers({ loggers: [hanging, memory], maxLogLines: 5000 });
    const record = await manager.waitFor(manager.addTask(app.get(Work).chatty, [1500]));
    expect(record.status).toBe('success');
    expect(hanging.logCalls).toBe(1000 - hanging.lifecycleCalls);
    expect(memory.logs).toHaveLength(1500);
    expect(memory.lifecycle.map((e) => e.status)).toEqual(['pending', 'running', 'success']);
    await close();
  });

  it('InMemoryLogger filters logs by minLevel, keeps every lifecycle event, and clears', async () => {
    const memory = new InMemoryLogger({ minLevel: 'warning' });
    const { app, manager, close } = await bootWithFakeTimers({ loggers: [memory] });
    await manager.waitFor(manager.addTask(app.get(Work).greet, ['Bo']));
    expect(memory.logs.map((e) => e.message)).toEqual(['careful']);
    expect(memory.lifecycle).toHaveLength(3);
    memory.clear();
    expect(memory.logs).toHaveLength(0);
    expect(memory.lifecycle).toHaveLength(0);
    await close();
    expect(() => new InMemoryLogger({ minLevel: 'loud' as never })).toThrow(/minLevel must be one of debug, info, warning, error/);
  });

  it('StdoutLogger prints through Nest Logger at the matching level, lifecycle only when asked', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const quiet = new StdoutLogger();
    const loud = new StdoutLogger({ logLifecycle: true, context: 'Jobs' });
    const { app, manager, close } = await bootWithFakeTimers({ loggers: [quiet, loud] });
    const id = manager.addTask(app.get(Work).greet, ['Cy']);
    await manager.waitFor(id);
    await close();
    const id8 = id.slice(0, 8);
    const infoLines = log.mock.calls.map((c) => String(c[0])).filter((m) => m.includes(`[${id8}]`));
    expect(infoLines.filter((m) => m === `INFO  [${id8}] Work.greet attempt=1 Hello Cy extra={"channel":"email"}`)).toHaveLength(2);
    expect(infoLines.filter((m) => /^(PENDING|RUNNING|SUCCESS) /.test(m))).toEqual([
      `PENDING [${id8}] Work.greet attempt=0`,
      `RUNNING [${id8}] Work.greet attempt=1`,
      expect.stringMatching(new RegExp(`^SUCCESS \\[${id8}\\] Work\\.greet attempt=1 duration=\\d+\\.\\d{3}s$`)),
    ]);
    expect(warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes(`[${id8}]`))).toHaveLength(2);
  });
});

describe('reportProgress reaches observers as a log line only with a message', () => {
  @Injectable()
  class Progressing {
    @BackgroundTask()
    async run(): Promise<void> {
      reportProgress(0.5);
      reportProgress(0.75, 'three quarters');
    }
  }

  it('logs the message with the fraction in extra', async () => {
    const memory = new InMemoryLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [TaskManagerModule.forRoot({ loggers: [memory] })],
      providers: [Progressing],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const manager = app.get(TaskManager);
    await manager.waitFor(manager.addTask(app.get(Progressing).run));
    expect(memory.logs.map((e) => [e.message, e.extra])).toEqual([['three quarters', { progress: 0.75 }]]);
    await app.close();
  });
});

const requestIds = new AsyncLocalStorage<string>();

/** Logs through taskLog from its observer hook, as shared code of an app might, and notes the caller's values it sees. */
class LoggingObserver extends TaskObserver {
  readonly logged = new Gate();
  readonly seen: (string | undefined)[] = [];
  override onLifecycle(event: TaskLifecycleEvent): void {
    if (event.status !== 'success') return;
    this.seen.push(requestIds.getStore());
    taskLog(`observed the end of ${event.funcName}`, { level: 'warning' });
    this.logged.open();
  }
}

describe('taskLog outside a running attempt', () => {
  afterEach(() => jest.restoreAllMocks());

  it("reaches Nest's logger from an observer of a task's end, which runs in the context of the task's caller", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const observer = new LoggingObserver();
    const moduleRef = await Test.createTestingModule({
      imports: [TaskManagerModule.forRoot({ shutdownGracePeriod: 0, loggers: [observer] })],
      providers: [Work],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const manager = app.get(TaskManager);
      const id = requestIds.run('request-1', () => manager.addTask(app.get(Work).greet, ['Ada']));
      const record = await requestIds.run('request-2', () => manager.waitFor(id));
      expect(record.status).toBe('success');
      await observer.logged.promise;
      // The observer of the task's end ran in the context of the call that created the task.
      expect(observer.seen).toEqual(['request-1']);
      expect(warn.mock.calls.map((c) => String(c[0]))).toContain('observed the end of Work.greet');
      // Not added to the finished record's logs.
      expect((await manager.getTask(id))!.logs.some((l) => l.includes('observed the end'))).toBe(false);
    } finally {
      await app.close();
    }
  });
});

/** Records when startup finished and what it saw before. */
class SlowStartup extends TaskObserver {
  static order: string[] = [];
  override async startup(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    SlowStartup.order.push('observer started');
  }
  override onLifecycle(event: TaskLifecycleEvent): void {
    if (event.status === 'running') SlowStartup.order.push(`running ${event.funcName}`);
  }
  override onLog(event: TaskLogEvent): void {
    SlowStartup.order.push(`log ${event.message}`);
  }
}

@Injectable()
class Requeued {
  static gate = new Gate();
  @BackgroundTask()
  async blocker(): Promise<void> {
    await Requeued.gate.promise;
  }

  @BackgroundTask()
  async later(label: string): Promise<void> {
    SlowStartup.order.push(`ran ${label}`);
    taskLog(`later ${label}`);
  }
}

@Injectable()
class StartupSchedule {
  /** Opened by the startup firing: it may come after the requeued task has finished. */
  static fired = new Gate();
  @ScheduledTask({ every: 3600, runOnStartup: true })
  async atStartup(): Promise<void> {
    SlowStartup.order.push('ran scheduled');
    StartupSchedule.fired.open();
  }
}

describeEachDatabase('observers start before any requeued or scheduled task runs', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));

  it('runs the requeued task and the startup schedule only after startup() resolved', async () => {
    Requeued.gate = new Gate();
    const first = await createPersistentApp(target.options, prefix, { requeuePending: true, maxConcurrentTasks: 1 }, { providers: [Requeued] });
    first.manager.addTask(first.app.get(Requeued).blocker);
    const waiting = first.manager.addTask(first.app.get(Requeued).later, ['requeued']);
    await first.app.close();
    Requeued.gate.open();
    SlowStartup.order = [];
    StartupSchedule.fired = new Gate();

    const second = await createPersistentApp(
      target.options,
      prefix,
      { requeuePending: true, loggers: [new SlowStartup()] },
      { providers: [Requeued, StartupSchedule] },
    );
    expect(await second.manager.waitFor(waiting)).toMatchObject({ status: 'success' });
    await StartupSchedule.fired.promise;
    const [schedule] = await second.manager.schedules();
    await second.manager.waitFor(schedule.last_task_id!);
    await second.app.close();
    expect(SlowStartup.order[0]).toBe('observer started');
    expect(SlowStartup.order).toEqual(
      expect.arrayContaining(['running Requeued.later', 'ran requeued', 'log later requeued', 'running StartupSchedule.atStartup', 'ran scheduled']),
    );
  });
});
