/**
 * Shared work on one database: replica A is busy (one slot, taken by a slow task) with
 * 200 pending durable tasks behind it; replica B, idle, takes a share of them within
 * about a second, and every task runs exactly once across both (the ledger, written
 * synchronously by each process, counts the runs).
 */
import { CrashChild, CrashTaskKind } from '../support/crash-child';
import { describeEachOf } from '../support/crash-db';
import { acceptedTasks, useCrashSuite } from '../support/crash-suite';
import { pollUntil } from '../support/crash-child';

const PENDING = 200;
const SLOW_MS = 3_000;

describeEachOf(['postgres', 'mysql'], 'shared work across replicas', (target) => {
  const suite = useCrashSuite(target.options);

  it("lets an idle replica run a busy replica's pending durable tasks, each exactly once", async () => {
    const { prefix, table } = suite;
    const ledger = suite.ledger();
    const common = { database: target.options, prefix, ledger: ledger.file, slowMs: SLOW_MS };
    const b = CrashChild.start('B', { ...common, options: { requeuePending: true, maxConcurrentTasks: 4, instanceLeaseSeconds: 5 } });
    await b.waitForEvent('ready');
    const plan: CrashTaskKind[] = ['slow', ...Array.from({ length: PENDING }, (): CrashTaskKind => 'quick')];
    const a = CrashChild.start('A', { ...common, plan, options: { requeuePending: true, maxConcurrentTasks: 1, instanceLeaseSeconds: 5 } });
    const accepted = await a.waitForEvent('all-accepted');
    const tasks = acceptedTasks(a);
    expect(tasks).toHaveLength(PENDING + 1);

    await pollUntil(
      'every task done',
      () => {
        const done = ledger.doneCounts();
        return tasks.every((t) => done.has(t.id));
      },
      60_000,
      50,
    );
    await pollUntil('every row stored as success', async () => {
      const rows = await table.byId();
      return tasks.every((t) => rows.get(t.id)?.status === 'success');
    });
    await Promise.all([a.close(), b.close()]);

    const lines = ledger.read();
    const done = ledger.doneCounts();
    const byB = lines.filter((l) => l.what === 'done' && l.pid === b.pid);
    const firstByB = Math.min(...byB.map((l) => l.t));
    console.log(
      `[${target.name}] B ran ${byB.length} of ${PENDING + 1} tasks, A ${lines.filter((l) => l.what === 'done' && l.pid === a.pid).length}; ` +
        `B's first run ${firstByB - accepted.t} ms after A accepted them all`,
    );
    expect(tasks.filter((t) => done.get(t.id) !== 1)).toEqual([]);
    expect(byB.length).toBeGreaterThan(0);
    expect(firstByB - accepted.t).toBeLessThan(1500);
  }, 120_000);
});
