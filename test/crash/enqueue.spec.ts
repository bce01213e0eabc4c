/**
 * enqueue() across processes, on every database: rows committed just before a
 * SIGKILL run after a restart, once (inside a transaction and without one); one key
 * enqueued on two instances at once is one task; and an unreachable database makes
 * enqueue reject within enqueueTimeout, leaving nothing behind, while the app stays up.
 */
import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BackgroundTask, EnqueueTimeoutError, TaskManager, TaskManagerModule } from '../../lib';
import { CrashChild, ChildEvent, Ledger, pollUntil } from '../support/crash-child';
import { describeEachOf, serverAddress, throughPort } from '../support/crash-db';
import { useCrashSuite } from '../support/crash-suite';
import { describeEachDatabase } from '../support/databases';
import { TcpProxy } from '../support/tcp-proxy';
import type { EnqueueAppConfig } from './fixtures/enqueue-app';

const FIXTURE = path.join(__dirname, 'fixtures', 'enqueue-app.ts');

function start(name: string, config: EnqueueAppConfig): CrashChild {
  return CrashChild.start(name, config as unknown as Record<string, unknown>, { fixture: FIXTURE });
}

/** The id of the `committed <id>` (or `committed-tx <id>`) line a killed child wrote. */
function committedId(ledger: Ledger, what: 'committed' | 'committed-tx'): string {
  const line = ledger.read().find((l) => (l.what as string) === what);
  if (!line) throw new Error(`the child wrote no ${what} line`);
  return line.id;
}

const event = (name: string) => (e: ChildEvent) => (e as unknown as { ev: string }).ev === name;

describeEachDatabase('enqueue across processes', (target) => {
  const suite = useCrashSuite(target.options);

  it('tasks whose rows were committed just before a SIGKILL (inside a transaction and without one) run after a restart, once', async () => {
    const ledger = suite.ledger();
    const first = start('first', { database: target.options, prefix: suite.prefix, ledger: ledger.file, mode: 'kill' });
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    const ids = [committedId(ledger, 'committed'), committedId(ledger, 'committed-tx')];
    const before = await suite.table.byId();
    for (const id of ids) {
      expect(ledger.doneCounts().get(id)).toBeUndefined();
      expect(before.get(id)?.status).toBe('pending');
    }

    // The same host and a dead pid: recovered at once, not after the dead instance's 60 s lease.
    const second = start('second', { database: target.options, prefix: suite.prefix, ledger: ledger.file, mode: 'run' });
    await pollUntil('both tasks stored as successful', async () => {
      const rows = await suite.table.byId();
      return ids.every((id) => rows.get(id)?.status === 'success');
    });
    await second.close();
    expect(await second.exited).toEqual({ code: 0, signal: null });
    for (const id of ids) expect(ledger.doneCounts().get(id)).toBe(1);
  }, 60_000);

  it('one key enqueued 20 times on each of two instances at once: one id, one run; later calls get the holder', async () => {
    const ledger = suite.ledger();
    const key = `order-${Date.now()}`;
    const config = { database: target.options, prefix: suite.prefix, ledger: ledger.file, mode: 'keyed' as const, key, count: 20 };
    const before = (await suite.table.rows()).length;
    const a = start('a', config);
    const b = start('b', config);
    await Promise.all([a.waitFor(event('ready')), b.waitFor(event('ready'))]);
    a.send('go');
    b.send('go');
    const [idsA, idsB] = await Promise.all(
      [a, b].map(async (child) => ((await child.waitFor(event('ids'), 30_000)) as unknown as { ids: string[] }).ids),
    );
    const ids = new Set([...idsA, ...idsB]);
    expect(ids.size).toBe(1);
    const [holder] = ids;
    await pollUntil('the holder stored as successful', async () => (await suite.table.byId()).get(holder)?.status === 'success', 30_000);
    await Promise.all([a.close(), b.close()]);
    expect([await a.exited, await b.exited]).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    expect((await suite.table.rows()).length).toBe(before + 1);
    expect(ledger.doneCounts().get(holder)).toBe(1);

    // After the holder succeeded, and in a process started after it: the holder's id.
    const c = start('c', { ...config, count: 3 });
    await c.waitFor(event('ready'));
    c.send('go');
    const later = ((await c.waitFor(event('ids'), 30_000)) as unknown as { ids: string[] }).ids;
    await c.close();
    expect(await c.exited).toEqual({ code: 0, signal: null });
    expect(later).toEqual([holder, holder, holder]);
    expect((await suite.table.rows()).length).toBe(before + 1);
  }, 60_000);
});

@Injectable()
class OutageJobs {
  @BackgroundTask()
  async work(): Promise<void> {}
}

describeEachOf(['postgres', 'mysql'], 'enqueue while the database is unreachable', (target) => {
  const suite = useCrashSuite(target.options);

  it('rejects within enqueueTimeout with EnqueueTimeoutError, leaves no record, and the app stays up', async () => {
    const proxy = new TcpProxy(serverAddress(target.options));
    const port = await proxy.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TaskManagerModule.forRoot({
          database: throughPort(target.options, port),
          tablePrefix: suite.prefix,
          enqueueTimeout: 1,
          shutdownGracePeriod: 0,
        }),
      ],
      providers: [OutageJobs],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
      const manager = app.get(TaskManager);
      const jobs = app.get(OutageJobs);
      await manager.waitFor(await manager.enqueue(jobs.work));
      await manager.flush();
      const before = (await suite.table.rows()).length;

      proxy.cut();
      for (const options of [{}, { idempotencyKey: 'while-down' }]) {
        const startedAt = Date.now();
        const outcome = await manager.enqueue(jobs.work, [], options).then(
          (id) => ({ id }),
          (error: unknown) => ({ error }),
        );
        const took = Date.now() - startedAt;
        expect(outcome).toEqual({ error: expect.any(EnqueueTimeoutError) });
        // The bound, plus what a loaded machine adds to one timer. A timer is due from the event
        // loop's cached clock, which can lag Date.now() by a millisecond (seen: 999 ms).
        expect(took).toBeGreaterThanOrEqual(999);
        expect(took).toBeLessThan(3000);
      }
      expect(manager.liveTasks()).toEqual([]);

      proxy.restore();
      const after = await manager.enqueue(jobs.work, [], { idempotencyKey: 'while-down' });
      await manager.waitFor(after);
      await manager.flush();
      const rows = await suite.table.rows();
      expect(rows.length).toBe(before + 1);
      expect(rows.map((r) => r.id)).toContain(after);
    } finally {
      proxy.restore();
      await app.close();
      await proxy.stop();
    }
  }, 60_000);
});
