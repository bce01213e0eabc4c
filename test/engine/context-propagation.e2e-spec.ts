import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Controller, Get, INestApplication, Injectable, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { filter, firstValueFrom } from 'rxjs';
import request from 'supertest';
import { BackgroundTask, ScheduledTask, TaskAdminModule, TaskManager, TaskManagerOptions, getTaskContext } from '../../lib';
import { createManagerApp } from '../support/app';
import { Gate } from '../support/gate';

/** What nestjs-cls and request-id middlewares do: one AsyncLocalStorage of the application's. */
const requestContext = new AsyncLocalStorage<{ requestId: string }>();
const seen = (): string | undefined => requestContext.getStore()?.requestId;

@Injectable()
class Work {
  static runs: { task: string; attempt: number; requestId: string | undefined }[] = [];
  static gate = new Gate();
  static started = new Gate();
  static failFirst = 0;
  static childId = '';

  constructor(private readonly manager: TaskManager) {}

  @BackgroundTask({ retries: 2, delay: 0 })
  async record(label: string): Promise<void> {
    const context = getTaskContext()!;
    // The child's own task context, not its parent's (whose context it was created in).
    expect(context.funcName).toBe('Work.record');
    Work.runs.push({ task: label, attempt: context.attempt, requestId: seen() });
    if (context.attempt <= Work.failFirst) throw new Error(`attempt ${context.attempt} fails`);
  }

  @BackgroundTask()
  async hold(): Promise<void> {
    Work.runs.push({ task: 'hold', attempt: 1, requestId: seen() });
    Work.started.open();
    await Work.gate.promise;
  }

  /** Adds a child task from inside a task: the child gets the caller's values and its own task context. */
  @BackgroundTask()
  async parent(): Promise<void> {
    Work.childId = this.manager.addTask(this.record, ['child']);
  }

  @BackgroundTask({ persist: true })
  async durable(label: string): Promise<void> {
    Work.runs.push({ task: label, attempt: 1, requestId: seen() });
  }
}

const done = (manager: TaskManager, id: string) => manager.waitFor(id);

function reset(): void {
  Work.runs = [];
  Work.gate = new Gate();
  Work.started = new Gate();
  Work.failFirst = 0;
}

describe('propagateContext: a task runs in the async context of the call that created it', () => {
  let app: INestApplication | undefined;
  let manager: TaskManager;
  const start = async (options: TaskManagerOptions = {}) => {
    ({ app, manager } = await createManagerApp(options, { providers: [Work] }));
  };
  beforeEach(reset);
  afterEach(async () => {
    Work.gate.open();
    await app?.close();
    app = undefined;
  });

  it('is on by default: the caller’s AsyncLocalStorage values reach every attempt, retries included', async () => {
    await start();
    Work.failFirst = 2;
    const id = requestContext.run({ requestId: 'r-1' }, () => manager.addTask(Work.prototype.record, ['a']));
    const other = requestContext.run({ requestId: 'r-2' }, () => manager.addTask(Work.prototype.record, ['b']));
    expect((await done(manager, id)).status).toBe('success');
    expect((await done(manager, other)).status).toBe('success');
    expect(Work.runs.filter((r) => r.task === 'a')).toEqual([
      { task: 'a', attempt: 1, requestId: 'r-1' },
      { task: 'a', attempt: 2, requestId: 'r-1' },
      { task: 'a', attempt: 3, requestId: 'r-1' },
    ]);
    expect(Work.runs.filter((r) => r.task === 'b').map((r) => r.requestId)).toEqual(['r-2', 'r-2', 'r-2']);
  });

  it('a delayed task keeps the caller’s values until it is due', async () => {
    await start();
    const id = requestContext.run({ requestId: 'r-later' }, () => manager.addTask(Work.prototype.record, ['later'], { delay: 0.05 }));
    expect((await manager.getTask(id))?.status).toBe('pending');
    expect((await done(manager, id)).status).toBe('success');
    expect(Work.runs).toEqual([{ task: 'later', attempt: 1, requestId: 'r-later' }]);
  });

  it('a task added by a task inherits the caller’s values, with its own task context', async () => {
    await start();
    const id = requestContext.run({ requestId: 'r-parent' }, () => manager.addTask(Work.prototype.parent));
    await done(manager, id);
    expect((await done(manager, Work.childId)).status).toBe('success');
    expect(Work.runs).toEqual([{ task: 'child', attempt: 1, requestId: 'r-parent' }]);
  });

  it('a retry through the manager runs in the context of the retry call', async () => {
    await start();
    Work.failFirst = 3;
    const id = requestContext.run({ requestId: 'first' }, () => manager.addTask(Work.prototype.record, ['r']));
    expect((await done(manager, id)).status).toBe('failed');
    Work.failFirst = 0;
    const copy = await requestContext.run({ requestId: 'retried' }, () => manager.retry(id));
    await done(manager, copy.task_id);
    expect(Work.runs.map((r) => r.requestId)).toEqual(['first', 'first', 'first', 'retried']);
  });

  it('false turns it off: no task sees the caller’s values, although the queue started it inside that call', async () => {
    await start({ propagateContext: false });
    Work.failFirst = 1;
    const id = requestContext.run({ requestId: 'r-1' }, () => manager.addTask(Work.prototype.record, ['a']));
    await done(manager, id);
    expect(Work.runs).toEqual([
      { task: 'a', attempt: 1, requestId: undefined },
      { task: 'a', attempt: 2, requestId: undefined },
    ]);
  });

  it('a task that kept no context does not inherit the one of the task whose end freed its slot', async () => {
    await start({ maxConcurrentTasks: 1, propagateContext: false });
    const holder = requestContext.run({ requestId: 'holder' }, () => manager.addTask(Work.prototype.hold));
    await Work.started.promise;
    const queued = manager.addTask(Work.prototype.record, ['next']);
    expect((await manager.getTask(queued))?.status).toBe('pending');
    Work.gate.open();
    await done(manager, holder);
    await done(manager, queued);
    expect(Work.runs.map((r) => r.requestId)).toEqual([undefined, undefined]);
  });

  it('enqueue() keeps the caller’s context through the commit of its row (SQLite)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-context-'));
    try {
      await start({ snapshotDb: path.join(dir, 'tasks.db') });
      const id = await requestContext.run({ requestId: 'durable' }, () => manager.enqueue(Work.prototype.durable, ['d']));
      await done(manager, id);
      expect(Work.runs).toEqual([{ task: 'd', attempt: 1, requestId: 'durable' }]);
      await app!.close();
      app = undefined;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a requeued task runs in no context, not even that of the startup that requeued it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-context-'));
    const snapshotDb = path.join(dir, 'tasks.db');
    try {
      // A durable task left pending by a shutdown: the next start requeues it.
      await start({ snapshotDb, maxConcurrentTasks: 1 });
      const blocker = manager.addTask(Work.prototype.hold);
      await Work.started.promise;
      const left = requestContext.run({ requestId: 'first run' }, () => manager.addTask(Work.prototype.durable, ['left']));
      await app!.close();
      app = undefined;
      reset();
      await requestContext.run({ requestId: 'startup' }, () => start({ snapshotDb, requeuePending: true }));
      const requeued = await manager.waitFor(left);
      expect(requeued.status).toBe('success');
      expect(Work.runs.filter((r) => r.task === 'left')).toEqual([{ task: 'left', attempt: 1, requestId: undefined }]);
      expect((await manager.getTask(blocker))?.status).toBe('interrupted');
    } finally {
      await app?.close();
      app = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

@Injectable()
class Ticker {
  static runs: (string | undefined)[] = [];
  static ran = new Gate();
  @ScheduledTask({ every: 1 })
  async tick(): Promise<void> {
    Ticker.runs.push(seen());
    Ticker.ran.open();
  }
}

describe('scheduled tasks run in no caller context', () => {
  it('even when their slot is freed by a task that carries one', async () => {
    reset();
    const { app, manager } = await createManagerApp({ maxConcurrentTasks: 1 }, { providers: [Work, Ticker] });
    try {
      const holder = requestContext.run({ requestId: 'holder' }, () => manager.addTask(Work.prototype.hold));
      await Work.started.promise;
      Ticker.runs = [];
      Ticker.ran = new Gate();
      // The next slot's run waits behind the holder.
      await firstValueFrom(manager.events$.pipe(filter((r) => r.source === 'scheduled' && r.status === 'pending')));
      Work.gate.open();
      await manager.waitFor(holder);
      await Ticker.ran.promise;
      expect(Work.runs).toEqual([{ task: 'hold', attempt: 1, requestId: 'holder' }]);
      expect(Ticker.runs[0]).toBeUndefined();
    } finally {
      Work.gate.open();
      await app.close();
    }
  });
});

@Controller('jobs')
class JobsController {
  constructor(private readonly manager: TaskManager) {}

  @Get()
  add(@Query('label') label: string): { task_id: string } {
    return { task_id: this.manager.addTask(Work.prototype.record, [label]) };
  }
}

describe('a request id set by a middleware reaches the tasks its request added', () => {
  it('also when the tasks start after the response (autoInstall), each with its own request’s id', async () => {
    reset();
    const moduleRef = await Test.createTestingModule({
      imports: [TaskAdminModule.forRoot({ autoInstall: true, shutdownGracePeriod: 0 })],
      providers: [Work],
      controllers: [JobsController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.use((req: { headers: Record<string, string> }, _res: unknown, next: () => void) =>
      requestContext.run({ requestId: req.headers['x-request-id'] }, next),
    );
    await app.init();
    try {
      const manager = app.get(TaskManager);
      const server = app.getHttpServer();
      const answers = await Promise.all(
        ['one', 'two', 'three'].map((label) => request(server).get('/jobs').query({ label }).set('X-Request-Id', `req-${label}`).expect(200)),
      );
      for (const answer of answers) await manager.waitFor((answer.body as { task_id: string }).task_id);
      expect(Object.fromEntries(Work.runs.map((r) => [r.task, r.requestId]))).toEqual({ one: 'req-one', two: 'req-two', three: 'req-three' });
    } finally {
      await app.close();
    }
  });
});
