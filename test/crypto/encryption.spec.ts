import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BackgroundTask, InMemoryLogger, TaskArgumentError, taskLog } from '../../lib';
import { createManagerApp } from '../support/app';
import { DatabaseTarget, describeEachDatabase, uniquePrefix } from '../support/databases';
import { Gate } from '../support/gate';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';

const SECRET = 'card-4111-1111-1111-1111';
const KEY = randomBytes(32).toString('base64');
const OTHER_KEY = randomBytes(32).toString('base64');

@Injectable()
class Billing {
  static received: unknown[][] = [];
  static failuresLeft = 0;
  static gate = new Gate();

  @BackgroundTask()
  async charge(card: string, order: { id: number; amount: number }): Promise<void> {
    Billing.received.push([card, order]);
    taskLog(`charged order ${order.id}`);
    if (Billing.failuresLeft-- > 0) throw new Error('gateway timeout');
  }

  @BackgroundTask()
  async blocker(): Promise<void> {
    await Billing.gate.promise;
  }
}

/** The stored row, read through a DataSource of its own (not the app's). */
async function storedRow(target: DatabaseTarget, prefix: string, id: string): Promise<Record<string, unknown>> {
  const ds = new DataSource(target.options);
  await ds.initialize();
  try {
    const row = await ds
      .createQueryBuilder()
      .select('*')
      .from(`${prefix}tasks`, 't')
      .where('t.id = :id', { id })
      .getRawOne<Record<string, unknown>>();
    if (!row) throw new Error(`task ${id} is not stored in ${prefix}tasks`);
    return row;
  } finally {
    await ds.destroy();
  }
}

describeEachDatabase('argument encryption at rest', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));
  beforeEach(() => {
    Billing.received = [];
    Billing.failuresLeft = 0;
    Billing.gate = new Gate();
  });

  it('stores only ciphertext (read back from the database directly), decrypts to run, and keeps args out of the API and observers', async () => {
    const memory = new InMemoryLogger();
    const { app, manager } = await createPersistentApp(
      target.options,
      prefix,
      { encryptArgsKey: KEY, requeuePending: true, loggers: [memory] },
      { providers: [Billing] },
    );
    const id = manager.addTask(app.get(Billing).charge, [SECRET, { id: 7, amount: 12.5 }]);
    const record = await manager.waitFor(id);
    expect(record.status).toBe('success');
    expect(Billing.received).toEqual([[SECRET, { id: 7, amount: 12.5 }]]);
    expect(JSON.stringify(await manager.getTask(id))).not.toContain(SECRET);
    expect(JSON.stringify([memory.logs, memory.lifecycle])).not.toContain(SECRET);
    await app.close();

    const row = await storedRow(target, prefix, id);
    expect(JSON.parse(String(row.args))).toEqual([]);
    expect(String(row.args_cipher)).toMatch(/^v1:[0-9a-f]{8}:[A-Za-z0-9+/]+=*$/);
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(JSON.stringify(row)).not.toContain('12.5');
  });

  it('retries, bulk retries and requeues with the encrypted payload (the copy is written encrypted from its first write)', async () => {
    const first = await createPersistentApp(
      target.options,
      prefix,
      { encryptArgsKey: KEY, requeuePending: true, maxConcurrentTasks: 1 },
      { providers: [Billing] },
    );
    const billing = first.app.get(Billing);
    Billing.failuresLeft = 2;
    const failedA = await first.manager.waitFor(first.manager.addTask(billing.charge, [SECRET, { id: 1, amount: 1 }]));
    const failedB = await first.manager.waitFor(first.manager.addTask(billing.charge, [SECRET, { id: 2, amount: 2 }]));
    expect([failedA.status, failedB.status]).toEqual(['failed', 'failed']);

    const retried = await first.manager.retry(failedA.task_id);
    expect((await first.manager.waitFor(retried.task_id)).status).toBe('success');
    const bulk = await first.manager.bulkRetry([failedB.task_id]);
    expect((await first.manager.waitFor(bulk.results[0].new_task_id)).status).toBe('success');
    expect(Billing.received.slice(2)).toEqual([
      [SECRET, { id: 1, amount: 1 }],
      [SECRET, { id: 2, amount: 2 }],
    ]);

    // A pending task survives the restart encrypted and runs with its arguments.
    first.manager.addTask(billing.blocker);
    const waiting = first.manager.addTask(billing.charge, [SECRET, { id: 3, amount: 3 }]);
    await first.manager.listTasks({ limit: 1 }); // a database read writes what is queued first
    const pendingRow = await storedRow(target, prefix, waiting);
    expect(pendingRow.status).toBe('pending');
    expect(String(pendingRow.args_cipher)).toMatch(/^v1:/);
    expect(JSON.stringify(pendingRow)).not.toContain(SECRET);
    await first.app.close();
    Billing.gate.open();

    const second = await createPersistentApp(target.options, prefix, { encryptArgsKey: KEY, requeuePending: true }, { providers: [Billing] });
    expect((await second.manager.waitFor(waiting)).status).toBe('success');
    expect(Billing.received.at(-1)).toEqual([SECRET, { id: 3, amount: 3 }]);
    await second.app.close();
    for (const id of [retried.task_id, bulk.results[0].new_task_id]) {
      const row = await storedRow(target, prefix, id);
      expect(String(row.args_cipher)).toMatch(/^v1:/);
      expect(JSON.stringify(row)).not.toContain(SECRET);
    }
  });

  it('fails a task whose arguments were encrypted with another key, or with no key configured, with a clear error and no attempt', async () => {
    async function leavePending(): Promise<string> {
      Billing.gate = new Gate();
      const app = await createPersistentApp(
        target.options,
        prefix,
        { encryptArgsKey: KEY, requeuePending: true, maxConcurrentTasks: 1 },
        { providers: [Billing] },
      );
      app.manager.addTask(app.app.get(Billing).blocker);
      const id = app.manager.addTask(app.app.get(Billing).charge, [SECRET, { id: 9, amount: 9 }]);
      await app.app.close();
      Billing.gate.open();
      return id;
    }

    const rotated = await leavePending();
    const withOtherKey = await createPersistentApp(
      target.options,
      prefix,
      { encryptArgsKey: OTHER_KEY, requeuePending: true },
      { providers: [Billing] },
    );
    const failed = await withOtherKey.manager.waitFor(rotated);
    await withOtherKey.app.close();
    expect(failed).toMatchObject({ status: 'failed', retries_used: 0, start_time: null });
    expect(failed.error).toMatch(
      /^ArgsDecryptionError: the arguments of Billing\.charge were encrypted with another key \(key id [0-9a-f]{8}; the configured encryptArgsKey has id [0-9a-f]{8}\)\. Was the key rotated\?/,
    );
    expect(failed.end_time).not.toBeNull();

    const keyless = await leavePending();
    const withoutKey = await createPersistentApp(target.options, prefix, { requeuePending: true }, { providers: [Billing] });
    const failedToo = await withoutKey.manager.waitFor(keyless);
    await withoutKey.app.close();
    expect(failedToo.error).toMatch(
      /^ArgsDecryptionError: the arguments of Billing\.charge are encrypted \(key id [0-9a-f]{8}\) but no encryptArgsKey is configured/,
    );
    expect(Billing.received).toEqual([]);
  });
});

describe('argument encryption in memory', () => {
  it('refuses arguments that JSON cannot carry, at the call', async () => {
    const { app, manager } = await createManagerApp({ encryptArgsKey: KEY }, { providers: [Billing] });
    expect(() => manager.addTask('Billing.charge', [new Date(), { id: 1, amount: 1 }])).toThrow(TaskArgumentError);
    expect(() => manager.addTask('Billing.charge', [new Date(), { id: 1, amount: 1 }])).toThrow(/args\[0\] is a Date/);
    await app.close();
  });
});
