import { Injectable } from '@nestjs/common';
import { BackgroundTask, getTaskContext } from '../../lib';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { Gate } from '../support/gate';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { TaskData } from '../../lib';
import { blankTask } from '../support/task-data';

@Injectable()
class Jobs {
  static ran: string[] = [];
  static gate = new Gate();

  @BackgroundTask()
  async blocker(): Promise<void> {
    await new Promise((resolve) => getTaskContext()!.signal.addEventListener('abort', resolve));
  }

  @BackgroundTask({ requeueOnInterrupt: true })
  async idempotentBlocker(label: string): Promise<void> {
    if (Jobs.ran.includes('first-run-done')) {
      Jobs.ran.push(label);
      return;
    }
    Jobs.ran.push('first-run-done');
    await new Promise((resolve) => getTaskContext()!.signal.addEventListener('abort', resolve));
  }

  @BackgroundTask()
  async record(label: string, payload: { n: number; s: string }): Promise<void> {
    Jobs.ran.push(`${label}:${payload.n}:${payload.s}`);
  }

  @BackgroundTask()
  async fails(): Promise<void> {
    throw new TypeError('bad input');
  }
}

describeEachDatabase('persistence lifecycle', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));
  beforeEach(() => (Jobs.ran = []));

  it('survives a restart: pending tasks run again, running ones become interrupted or run again, history stays', async () => {
    const first = await createPersistentApp(target.options, prefix, { requeuePending: true, maxConcurrentTasks: 2 }, { providers: [Jobs] });
    const jobs = first.app.get(Jobs);
    const done = first.manager.addTask(jobs.record, ['done', { n: 1, s: 'ünïcode "quoted"' }]);
    await first.manager.waitFor(done);
    const failed = first.manager.addTask(jobs.fails);
    await first.manager.waitFor(failed);
    const blocked = first.manager.addTask(jobs.blocker);
    const again = first.manager.addTask(jobs.idempotentBlocker, ['second-run']);
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = first.manager.addTask(jobs.record, ['waited', { n: 2, s: 'x' }], { tags: { k: 'v' }, priority: 4 });
    await first.app.close();
    expect(Jobs.ran).toEqual(['done:1:ünïcode "quoted"', 'first-run-done']);

    const second = await createPersistentApp(target.options, prefix, { requeuePending: true }, { providers: [Jobs] });
    await second.manager.drain();
    expect(Jobs.ran.sort()).toEqual(['done:1:ünïcode "quoted"', 'first-run-done', 'second-run', 'waited:2:x'].sort());
    const get = async (id: string) => (await second.manager.getTask(id))!;
    expect((await get(done)).status).toBe('success');
    expect(await get(failed)).toMatchObject({ status: 'failed', error: 'TypeError: bad input' });
    expect((await get(failed)).stacktrace).toContain('TypeError: bad input');
    expect(await get(blocked)).toMatchObject({ status: 'interrupted' });
    expect(await get(again)).toMatchObject({ status: 'success' });
    expect(await get(waiting)).toMatchObject({ status: 'success', tags: { k: 'v' }, priority: 4 });
    const listed = await second.manager.listTasks({ status: 'success' });
    expect(listed.total).toBe(3);
    const metrics = await second.manager.metrics();
    expect(metrics).toMatchObject({ total: 5, success: 3, failed: 1, interrupted: 1 });
    await second.app.close();
  });

  it('keeps idempotency keys across restarts and keeps the audit log', async () => {
    const first = await createPersistentApp(target.options, prefix, {}, { providers: [Jobs] });
    const jobs = first.app.get(Jobs);
    const id = first.manager.addTask(jobs.record, ['keyed', { n: 3, s: 'k' }], { idempotencyKey: `order-${prefix}` });
    await first.manager.waitFor(id);
    const failed = first.manager.addTask(jobs.fails);
    await first.manager.waitFor(failed);
    await first.manager.retry(failed, { actor: 'alice' });
    await first.manager.drain();
    await first.app.close();

    const second = await createPersistentApp(target.options, prefix, {}, { providers: [Jobs] });
    const duplicate = second.manager.addTask(jobs.record, ['keyed', { n: 3, s: 'k' }], { idempotencyKey: `order-${prefix}` });
    const record = await second.manager.waitFor(duplicate);
    expect(record.status).toBe('cancelled');
    expect(record.error).toBe(`DuplicateTask: idempotency key "order-${prefix}" is held by task ${id}`);
    expect(Jobs.ran).toEqual(['keyed:3:k']);
    const audit = await second.manager.audit();
    expect(audit[0]).toMatchObject({ action: 'retry', task_id: failed, actor: 'alice' });
    await second.app.close();
  });

  it('settles tasks a dead instance left unfinished: durable ones run again, the others become interrupted', async () => {
    const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    const row = (id: string, status: 'pending' | 'running', durable: boolean): TaskData =>
      blankTask({
        id,
        funcName: 'Jobs.record',
        status,
        startTime: status === 'running' ? Date.now() : null,
        args: [id, { n: 9, s: 'dead' }],
        durable,
        owner: 'gone-host/4242/deadbeef',
      });
    const ids = [`orphan-a-${prefix}`, `orphan-b-${prefix}`, `orphan-c-${prefix}`];
    await backend.saveBatch([row(ids[0], 'pending', true), row(ids[1], 'running', false), row(ids[2], 'pending', false)]);
    await backend.close();
    const app = await createPersistentApp(target.options, prefix, {}, { providers: [Jobs] });
    await app.manager.drain();
    expect(Jobs.ran).toEqual([`${ids[0]}:9:dead`]);
    expect((await app.manager.getTask(ids[0]))!.status).toBe('success');
    for (const id of ids.slice(1)) {
      expect(await app.manager.getTask(id)).toMatchObject({ status: 'interrupted', error: 'Interrupted: the instance running it stopped' });
    }
    await app.app.close();
  });
});
