/**
 * A database outage under a running app: the app reaches the server through a TCP
 * proxy that is cut (every connection reset, new ones refused) while tasks finish.
 * Nothing crashes, tasks keep running and being added, reads answer from memory,
 * the outage and the recovery are each logged once, and after the proxy is restored
 * every record reaches the database (checked through a separate connection to the
 * real server port).
 */
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BackgroundTask, TaskManager, TaskManagerModule } from '../../lib';
import { CapturingLogger } from '../support/capturing-logger';
import { pollUntil } from '../support/crash-child';
import { describeEachOf, serverAddress, throughPort } from '../support/crash-db';
import { useCrashSuite } from '../support/crash-suite';
import { Gate } from '../support/gate';
import { TcpProxy } from '../support/tcp-proxy';

@Injectable()
class OutageJobs {
  static gates = new Map<number, Gate>();
  static ran: number[] = [];

  static gate(i: number): Gate {
    let gate = OutageJobs.gates.get(i);
    if (!gate) OutageJobs.gates.set(i, (gate = new Gate()));
    return gate;
  }

  @BackgroundTask()
  async step(i: number): Promise<void> {
    await OutageJobs.gate(i).promise;
    OutageJobs.ran.push(i);
  }

  @BackgroundTask()
  async quick(i: number): Promise<void> {
    OutageJobs.ran.push(i);
  }
}

const OUTAGE = /Cannot write task history/;
const RECOVERY = /Database reachable again/;

describeEachOf(['postgres', 'mysql'], 'database outage', (target) => {
  const suite = useCrashSuite(target.options);

  it('keeps running tasks through an outage, logs it once, and writes everything once the database is back', async () => {
    const { prefix, table: direct } = suite;
    const proxy = new TcpProxy(serverAddress(target.options));
    const port = await proxy.start();
    const logger = new CapturingLogger();
    OutageJobs.ran = [];
    OutageJobs.gates.clear();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TaskManagerModule.forRoot({
          database: throughPort(target.options, port),
          tablePrefix: prefix,
          requeuePending: true,
          instanceLeaseSeconds: 3,
          shutdownGracePeriod: 0,
        }),
      ],
      providers: [OutageJobs],
    }).compile();
    const app = moduleRef.createNestApplication({ logger });
    try {
      await app.init();
      const manager = app.get(TaskManager);
      const jobs = app.get(OutageJobs);
      const status = async (ids: string[]) => {
        const rows = await direct.byId();
        return ids.map((id) => rows.get(id)?.status ?? 'missing');
      };

      // Before: tasks finish and are stored.
      const before = [0, 1, 2, 3, 4].map((i) => manager.addTask(jobs.quick, [i]));
      await Promise.all(before.map((id) => manager.waitFor(id)));
      await pollUntil('the first tasks stored', async () => (await status(before)).every((s) => s === 'success'));
      const stepIds = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((i) => manager.addTask(jobs.step, [i]));
      await pollUntil('the gated tasks stored as running', async () => (await status(stepIds)).every((s) => s === 'running'));

      // The outage: tasks complete, new ones are added and run, reads answer from memory.
      const cutAt = Date.now();
      proxy.cut();
      for (const i of [10, 11, 12, 13, 14]) OutageJobs.gate(i).open();
      await Promise.all(stepIds.slice(0, 5).map((id) => manager.waitFor(id)));
      const during = [20, 21, 22, 23, 24].map((i) => manager.addTask(jobs.quick, [i]));
      await Promise.all(during.map((id) => manager.waitFor(id)));
      await pollUntil('the outage logged', () => logger.matching(OUTAGE).length > 0, 10_000);
      const listStarted = Date.now();
      const listed = await manager.listTasks({ limit: 100 });
      const listMs = Date.now() - listStarted;
      expect(listed.total).toBe(20);
      expect(listed.items.filter((t) => t.status === 'success')).toHaveLength(15);
      expect(listed.items.filter((t) => t.status === 'running')).toHaveLength(5);
      expect(await manager.getTask(during[0])).toMatchObject({ status: 'success' });
      expect(await manager.metrics()).toMatchObject({ total: 20, success: 15, running: 5 });
      expect(await status([...before, ...stepIds.slice(0, 5)])).toEqual([
        'success',
        'success',
        'success',
        'success',
        'success',
        'running',
        'running',
        'running',
        'running',
        'running',
      ]);
      expect(await status(during)).toEqual(['missing', 'missing', 'missing', 'missing', 'missing']);

      // Reads during a known outage answer from memory without trying the database
      // (they used to force a write attempt each); flush() still tries at once. Three
      // failed flushes make four failures in all, so the back-off is past 1 s.
      for (let i = 0; i < 3; i++) await expect(manager.flush()).rejects.toThrow();

      // More tasks finish: they wait for the back-off retry instead of forcing one each.
      // Restored right away, the next write comes at the back-off time (>= 1 s after
      // three failures: 0.5 s, 1 s, 2 s...), not 10 ms after these changes.
      const refusedBefore = proxy.refused;
      const lastRefused = proxy.refusedAt[proxy.refusedAt.length - 1];
      for (const i of [15, 16, 17, 18, 19]) OutageJobs.gate(i).open();
      await manager.drain();
      const outageMs = Date.now() - cutAt;
      const restoredAt = Date.now();
      proxy.restore();
      const all = [...before, ...stepIds, ...during];
      const storedAt = await pollUntil(
        'every record in the database',
        async () => ((await status(all)).every((s) => s === 'success') ? Date.now() : undefined),
        35_000,
        20,
      );
      expect(proxy.refused).toBe(refusedBefore);
      expect(storedAt - lastRefused).toBeGreaterThanOrEqual(900);
      await pollUntil('the recovery logged', () => logger.matching(RECOVERY).length > 0, 5_000);
      expect(OutageJobs.ran.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
      expect(await manager.metrics()).toMatchObject({ total: 20, success: 20 });
      const refusedTimeline = proxy.refusedAt.map((t) => t - cutAt).join(', ');
      const storedAfterMs = storedAt - restoredAt;

      const outageLines = logger.matching(OUTAGE);
      const recoveryLines = logger.matching(RECOVERY);
      expect(outageLines).toHaveLength(1);
      expect(recoveryLines).toHaveLength(1);
      const noisy = logger.lines.filter((l) => (l.level === 'error' || l.level === 'warn') && !OUTAGE.test(l.message));
      expect(noisy).toEqual([]);
      console.log(
        `[${target.name}] outage of ${outageMs} ms: connection attempts refused at +${refusedTimeline} ms; listTasks answered from memory in ${listMs} ms; ` +
          `after restore, all records stored within ${storedAfterMs} ms (${storedAt - lastRefused} ms after the last failed attempt); log lines:\n  ${outageLines[0].level}: ${outageLines[0].message}\n  ${recoveryLines[0].level}: ${recoveryLines[0].message}`,
      );
    } finally {
      for (const gate of OutageJobs.gates.values()) gate.open();
      proxy.restore();
      await app.close();
      await proxy.stop();
    }
  });
});
