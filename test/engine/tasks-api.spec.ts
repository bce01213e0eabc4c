import { INestApplication, Injectable } from '@nestjs/common';
import {
  BackgroundTask,
  InvalidTransitionError,
  TaskArgumentError,
  TaskContext,
  TaskManager,
  UnknownTaskError,
  getTaskContext,
  reportProgress,
  taskLog,
} from '../../lib';
import { createManagerApp } from '../support/app';

async function deepHelper(): Promise<TaskContext | undefined> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  await Promise.all([Promise.resolve(), new Promise((resolve) => setImmediate(resolve))]);
  taskLog('from a helper', { level: 'warning', step: 2 });
  return getTaskContext();
}

@Injectable()
class Jobs {
  seen: { ctx?: TaskContext; nested?: TaskContext; args?: unknown[] }[] = [];
  failNext = true;

  @BackgroundTask({ name: 'jobs.contextual' })
  async contextual(a: string, b: { n: number }): Promise<void> {
    const ctx = getTaskContext();
    taskLog(`start ${a}`);
    reportProgress(0.5);
    const nested = await deepHelper();
    reportProgress(2, 'almost');
    this.seen.push({ ctx, nested, args: [a, b] });
  }

  @BackgroundTask()
  async flaky(input: { id: number }): Promise<void> {
    this.seen.push({ args: [input] });
    if (this.failNext) {
      this.failNext = false;
      throw new Error('first run fails');
    }
  }

  @BackgroundTask()
  async noop(): Promise<void> {}

  @BackgroundTask({ persist: true })
  async durable(payload: unknown): Promise<void> {
    void payload;
  }

  notATask(): void {}
}

describe('TaskManager API', () => {
  let app: INestApplication;
  let manager: TaskManager;
  let jobs: Jobs;

  beforeEach(async () => {
    ({ app, manager } = await createManagerApp({}, { providers: [Jobs] }));
    jobs = app.get(Jobs);
  });

  afterEach(() => app.close());

  it('returns a UUID v4 synchronously and runs the task with its args', async () => {
    const id = manager.addTask(jobs.contextual, ['x', { n: 1 }], { tags: { source: 'signup' } });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const events: string[] = [];
    const sub = manager.events$.subscribe((r) => events.push(r.status));
    const pending = await manager.getTask(id);
    expect(Object.keys(pending!)).toEqual([
      'task_id',
      'func_name',
      'status',
      'created_at',
      'start_time',
      'end_time',
      'duration',
      'retries_used',
      'error',
      'logs',
      'stacktrace',
      'tags',
      'source',
      'priority',
      'executor',
      'progress',
      'instance',
      'run_at',
      'attempts',
    ]);
    const record = await manager.waitFor(id);
    sub.unsubscribe();
    expect(events.at(-1)).toBe('success');
    expect(record.func_name).toBe('jobs.contextual');
    expect(record.tags).toEqual({ source: 'signup' });
    expect(record.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(jobs.seen[0].args).toEqual(['x', { n: 1 }]);
  });

  it('keeps the task context and taskLog working through nested awaits', async () => {
    const id = manager.addTask(jobs.contextual, ['y', { n: 2 }], { tags: { k: 'v' } });
    const record = await manager.waitFor(id);
    const { ctx, nested } = jobs.seen[0];
    expect(ctx).toMatchObject({ taskId: id, funcName: 'jobs.contextual', attempt: 1, tags: { k: 'v' } });
    expect(nested?.taskId).toBe(id);
    expect(ctx!.signal).toBeInstanceOf(AbortSignal);
    expect(record.logs).toHaveLength(3);
    expect(record.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d start y$/);
    expect(record.logs[1]).toMatch(/ from a helper$/);
    expect(record.logs[2]).toMatch(/ almost$/);
    expect(record.progress).toBe(1);
    expect(getTaskContext()).toBeUndefined();
  });

  it('returns the existing id for a live idempotency key and enqueues again once it failed', async () => {
    const first = manager.addTask(jobs.flaky, [{ id: 1 }], { idempotencyKey: 'order-1' });
    expect(manager.addTask(jobs.flaky, [{ id: 1 }], { idempotencyKey: 'order-1' })).toBe(first);
    expect((await manager.waitFor(first)).status).toBe('failed');
    const second = manager.addTask(jobs.flaky, [{ id: 1 }], { idempotencyKey: 'order-1' });
    expect(second).not.toBe(first);
    expect((await manager.waitFor(second)).status).toBe('success');
    expect(manager.addTask(jobs.flaky, [{ id: 1 }], { idempotencyKey: 'order-1' })).toBe(second);
    expect((await manager.listTasks()).total).toBe(2);
  });

  it('retry creates a new record with the same args and tags; only failed or interrupted tasks', async () => {
    const id = manager.addTask(jobs.flaky, [{ id: 7 }], { tags: { tenant: 'acme' }, priority: 3 });
    expect((await manager.waitFor(id)).status).toBe('failed');
    const copy = await manager.retry(id, { actor: 'bob' });
    expect(copy.task_id).not.toBe(id);
    expect(copy).toMatchObject({ func_name: 'Jobs.flaky', tags: { tenant: 'acme' }, priority: 3 });
    const done = await manager.waitFor(copy.task_id);
    expect(done.status).toBe('success');
    expect(jobs.seen.map((s) => s.args)).toEqual([[{ id: 7 }], [{ id: 7 }]]);
    await expect(manager.retry(copy.task_id)).rejects.toBeInstanceOf(InvalidTransitionError);
    expect((await manager.getTask(id))!.status).toBe('failed');
    const [entry] = await manager.audit();
    expect(entry).toMatchObject({ action: 'retry', task_id: id, actor: 'bob', detail: { new_task_id: copy.task_id } });
  });

  it('bulk retry dedupes ids and skips what cannot be retried; retry-failed does not replay twice', async () => {
    const failed = manager.addTask(jobs.flaky, [{ id: 1 }]);
    const ok = manager.addTask(jobs.noop);
    await manager.drain();
    const bulk = await manager.bulkRetry([failed, failed, ok, 'missing']);
    expect(bulk.dispatched).toBe(1);
    expect(bulk.skipped).toBe(2);
    expect(bulk.results).toEqual([{ original_task_id: failed, new_task_id: expect.any(String) }]);
    await manager.drain();
    jobs.failNext = true;
    const again = manager.addTask(jobs.flaky, [{ id: 2 }]);
    await manager.drain();
    const replay = await manager.retryFailed({ since: null });
    expect(replay.results.map((r) => r.original_task_id)).toEqual([again]);
    await manager.drain();
    expect((await manager.retryFailed({ since: null })).dispatched).toBe(0);
  });

  it('refuses unregistered functions and names, and non-JSON args of durable tasks', () => {
    expect(() => manager.addTask(jobs.notATask as never)).toThrow(UnknownTaskError);
    expect(() => manager.addTask('ghost')).toThrow(/"ghost" is not a registered background task/);
    expect(() => manager.addTask(jobs.durable, [new Date()])).toThrow(TaskArgumentError);
    expect(() => manager.addTask(jobs.durable, [{ f: () => 1 }])).toThrow(/args\[0\]\.f is a function/);
    expect(() => manager.addTask(jobs.noop, [], { tags: { n: 1 as unknown as string } })).toThrow(/tag "n" must be a string/);
    expect(manager.addTask('Jobs.noop')).toMatch(/-/);
  });

  it('lists with filters and paging, newest first, and computes metrics', async () => {
    const a = manager.addTask(jobs.noop, [], { tags: { team: 'a' } });
    await manager.waitFor(a);
    const b = manager.addTask(jobs.flaky, [{ id: 3 }], { tags: { team: 'b' } });
    await manager.waitFor(b);
    const c = manager.addTask(jobs.noop, [], { tags: { team: 'b' } });
    await manager.waitFor(c);
    const all = await manager.listTasks();
    expect(all.items.map((t) => t.task_id)).toEqual([c, b, a]);
    expect((await manager.listTasks({ status: 'failed' })).items.map((t) => t.task_id)).toEqual([b]);
    expect((await manager.listTasks({ tags: { team: 'b' } })).total).toBe(2);
    expect((await manager.listTasks({ q: 'FIRST RUN' })).items.map((t) => t.task_id)).toEqual([b]);
    expect((await manager.listTasks({ funcName: 'Jobs.noop', limit: 1, offset: 1 })).items.map((t) => t.task_id)).toEqual([a]);
    const m = await manager.metrics();
    expect(m).toMatchObject({ total: 3, success: 2, failed: 1, pending: 0, success_rate: 0.666667 });
    expect(m.by_function['Jobs.noop']).toMatchObject({ total: 2, success: 2, failed: 0, success_rate: 1 });
    expect(m.p95_duration_seconds).not.toBeNull();
  });

  it('waitFor rejects unknown ids and drain resolves at once when idle', async () => {
    await expect(manager.waitFor('nope')).rejects.toThrow('Task nope not found');
    await expect(manager.drain()).resolves.toBeUndefined();
  });

  it('emits every change on events$', async () => {
    const statuses: string[] = [];
    const sub = manager.events$.subscribe((r) => statuses.push(r.status));
    await manager.waitFor(manager.addTask(jobs.noop));
    sub.unsubscribe();
    expect(statuses).toEqual(['pending', 'running', 'success']);
  });

  it('runs the decorated method in place when called directly', async () => {
    await jobs.noop();
    expect((await manager.listTasks()).total).toBe(0);
  });
});
