/**
 * executor: 'worker' end to end, on a pool of one thread that booted the app's own module as
 * a Nest application context (so constructor injection works there): live logs and progress,
 * timeouts and retries, cancellation that terminates a runaway thread, crashes that fail one
 * attempt while the pool heals, values that cannot cross a thread, and the event loop of the
 * app staying free while a worker task burns CPU.
 */
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import * as http from 'node:http';
import { threadId } from 'node:worker_threads';
import { TaskArgumentError, TaskManager, TaskRecord } from '../../lib';
import { TaskRegistry } from '../../lib/discovery/task.registry';
import { AttemptContext } from '../../lib/engine/task-context';
import { WORKER_EXECUTOR, TaskExecutor } from '../../lib/engine/task-executor';
import { CpuTasks, WorkerAppModule } from './fixtures/worker-app';

// A thread boots the whole app module from TypeScript source: seconds on a loaded machine.
jest.setTimeout(60_000);

describe("executor: 'worker'", () => {
  let app: INestApplication;
  let manager: TaskManager;
  let tasks: CpuTasks;
  let baseUrl: string;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [WorkerAppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    manager = app.get(TaskManager);
    tasks = app.get(CpuTasks);
    baseUrl = await app.getUrl();
    // The pool's one thread has booted once this returns.
    await manager.waitFor(manager.addTask(tasks.compute, [1]));
  });

  afterAll(async () => {
    agent.destroy();
    await app?.close();
  });

  /** Milliseconds of one GET /ping over a kept-alive connection. */
  function timedPing(): Promise<number> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      http
        .get(`${baseUrl}/ping`, { agent }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`status ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  }

  /** The first record of task `id` on events$ that satisfies `test`. */
  function recordWhere(id: string, test: (r: TaskRecord) => boolean): Promise<TaskRecord> {
    return new Promise((resolve) => {
      const subscription = manager.events$.subscribe((r) => {
        if (r.task_id === id && test(r)) {
          subscription.unsubscribe();
          resolve(r);
        }
      });
    });
  }

  it('runs on another thread whose context injected the provider; the record says executor "worker"', async () => {
    const id = manager.addTask(tasks.compute, [6]);
    const record = await manager.waitFor(id);
    expect(record).toMatchObject({ status: 'success', executor: 'worker', error: null });
    expect(record.logs).toHaveLength(1);
    expect(record.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d computed 42 on thread (\d+)$/);
    expect(record.logs[0]).not.toMatch(new RegExp(`thread ${threadId}$`));

    // The value the worker returned reaches the engine (what result capture stores).
    const executor = app.get<TaskExecutor>(WORKER_EXECUTOR);
    const registered = app.get(TaskRegistry).find('CpuTasks.compute')!;
    const value = await executor.run(registered, [3], new AttemptContext('direct', 'CpuTasks.compute', 1, {}), {
      log: () => undefined,
      progress: () => undefined,
    });
    expect(value).toEqual({ value: 21, threadId: expect.any(Number) });
  });

  it('lists the executor in GET /tasks/registered', async () => {
    const res = await request(app.getHttpServer()).get('/tasks/registered').expect(200);
    const compute = (res.body as { name: string; options: Record<string, unknown> }[]).find((t) => t.name === 'CpuTasks.compute');
    expect(compute?.options.executor).toBe('worker');
  });

  it('keeps the HTTP routes of the app answering while a worker task burns CPU for 2 s (p99 < 250 ms)', async () => {
    const id = manager.addTask(tasks.burn, [2000]);
    await recordWhere(id, (r) => r.status === 'running');
    const latencies: number[] = [];
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      latencies.push(await timedPing());
    }
    const record = await manager.waitFor(id);
    expect(record.status).toBe('success');
    expect(record.duration).toBeGreaterThanOrEqual(1.9);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
    expect(latencies.length).toBeGreaterThanOrEqual(20);
    // On the event loop the route would wait out the whole 2 s burn. The bound is a sanity bound
    // (test files run in parallel on 2 cores, so the OS may delay this thread); bench row 7
    // measures the real p99 (~10 ms on a quiet machine).
    expect(p99).toBeLessThan(250);
  });

  it('shows taskLog lines, progress and the task context on the record while the task runs', async () => {
    const id = manager.addTask(tasks.chatty, [], { tags: { kind: 'live' } });
    const live = await recordWhere(id, (r) => r.status === 'running' && r.logs.some((l) => l.endsWith(' step 3')) && (r.progress ?? 0) > 0);
    expect(live.logs[0]).toMatch(new RegExp(`context ${id} CpuTasks.chatty attempt=1 tag=live$`));
    expect(live.executor).toBe('worker');
    const cancelled = await manager.cancel(id);
    expect(cancelled.status).toBe('cancelled');
    // The task saw its signal (it stops on it): the thread is free for the next task at once.
    const next = await manager.waitFor(manager.addTask(tasks.compute, [2]));
    expect(next.status).toBe('success');
  });

  it('times attempts out and retries them with back-off, as for async tasks', async () => {
    const record = await manager.waitFor(manager.addTask(tasks.sleepy));
    expect(record).toMatchObject({ status: 'failed', retries_used: 1, error: 'TaskTimeoutError: Attempt timed out after 0.3 s' });
    expect(record.logs.map((l) => l.replace(/^\d{4}-\d\d-\d\dT\S+ /, ''))).toEqual(['attempt 1', '--- Retry 1 ---', 'attempt 2']);
  });

  it('terminates a thread that ignores its aborted signal 2 s after cancel; the next task runs on its replacement', async () => {
    const id = manager.addTask(tasks.spin);
    const spinning = await recordWhere(id, (r) => r.logs.length > 0);
    const spunOn = Number(/thread (\d+)$/.exec(spinning.logs[0])![1]);
    const cancelledAt = Date.now();
    expect((await manager.cancel(id)).status).toBe('cancelled');
    const next = await manager.waitFor(manager.addTask(tasks.compute, [5]));
    expect(next.status).toBe('success');
    const ranOn = Number(/thread (\d+)$/.exec(next.logs[0])![1]);
    expect(ranOn).not.toBe(spunOn);
    expect(Date.now() - cancelledAt).toBeGreaterThanOrEqual(1900);
    expect((await manager.getTask(id))!.status).toBe('cancelled');
  });

  it('fails the attempt of a worker that calls process.exit(1) with WorkerCrashedError, and the next task succeeds', async () => {
    const crashed = await manager.waitFor(manager.addTask(tasks.exit));
    expect(crashed.status).toBe('failed');
    expect(crashed.error).toBe('WorkerCrashedError: the worker thread running CpuTasks.exit died: worker exited with code: 1; the pool replaces it');
    expect((await manager.waitFor(manager.addTask(tasks.compute, [1]))).status).toBe('success');
  });

  it('fails the attempt of a worker whose thread dies of an uncaught exception, and the pool heals', async () => {
    const crashed = await manager.waitFor(manager.addTask(tasks.throwLater));
    expect(crashed.error).toMatch(
      /^WorkerCrashedError: the worker thread running CpuTasks.throwLater died: thrown from a timer; the pool replaces it$/,
    );
    expect((await manager.waitFor(manager.addTask(tasks.compute, [1]))).status).toBe('success');
  });

  it("reports a task's own error with its name and message, as for async tasks", async () => {
    const record = await manager.waitFor(manager.addTask(tasks.fail));
    expect(record.error).toBe('RangeError: bad input');
    expect(record.stacktrace).toContain('worker-app.ts');
  });

  it('refuses at addTask arguments that cannot cross a thread, naming the path', () => {
    expect(() => manager.addTask(tasks.echo, [{ nested: [1, () => 2] }])).toThrow(TaskArgumentError);
    expect(() => manager.addTask(tasks.echo, [{ nested: [1, () => 2] }])).toThrow(/args\[0\]\.nested\[1\] is a function/);
    expect(() => manager.addTask(tasks.echo, [new (class Money {})()])).toThrow(/args\[0\] is a Money/);
    // What structured clone carries is accepted: Dates, Maps, Sets, typed arrays, cycles.
    const cyclic: Record<string, unknown> = { at: new Date(0), map: new Map([['k', new Set([1])]]), bytes: new Uint8Array(2) };
    cyclic.self = cyclic;
    expect(() => manager.addTask(tasks.echo, [cyclic])).not.toThrow();
  });

  it('fails an attempt whose result cannot cross back, naming the path', async () => {
    const record = await manager.waitFor(manager.addTask(tasks.returnsFunction));
    expect(record.error).toMatch(
      /^TypeError: the result of CpuTasks.returnsFunction cannot cross back from its worker thread: result.callback is a function/,
    );
  });
  // Last: it closes the app.
  it('shutdown waits shutdownGracePeriod (0 here), then destroys the pool: a runaway task is interrupted, close does not hang', async () => {
    const id = manager.addTask(tasks.spin);
    await recordWhere(id, (r) => r.logs.length > 0);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect((await manager.getTask(id))!.status).toBe('interrupted');
  });
});
