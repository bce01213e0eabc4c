/**
 * Durable delayed tasks across processes: a task still waiting for its due time when its
 * process is SIGKILLed runs once after the restart, not before it is due (every database);
 * and with two live replicas on PostgreSQL, due tasks left by a killed replica and due
 * rows of the shared pool each run exactly once, on one of them, none early.
 */
import * as path from 'node:path';
import type { DelayedAppConfig } from './fixtures/delayed-app';
import { CrashChild, pollUntil } from '../support/crash-child';
import { describeEachOf } from '../support/crash-db';
import { acceptedTasks, useCrashSuite } from '../support/crash-suite';
import { describeEachDatabase } from '../support/databases';
import { blankTask } from '../support/task-data';

const FIXTURE = path.join(__dirname, 'fixtures', 'delayed-app.ts');

function start(name: string, config: DelayedAppConfig): CrashChild {
  return CrashChild.start(name, config, { fixture: FIXTURE });
}

describeEachDatabase('delayed tasks and SIGKILL', (target) => {
  const suite = useCrashSuite(target.options);

  it('runs a durable task that was waiting at a SIGKILL once after the restart, when due and not before', async () => {
    const ledger = suite.ledger();
    const common = { database: target.options, prefix: suite.prefix, ledger: ledger.file };
    // Due well after the kill below, so they were all still waiting when the process died.
    const delaysMs = Array.from({ length: 10 }, (_, i) => 5000 + i * 100);
    const first = start('first', { ...common, delaysMs });
    await first.waitForEvent('all-accepted');
    const tasks = acceptedTasks(first);
    await first.kill();
    expect(ledger.read()).toEqual([]);
    const stored = await Promise.all(tasks.map((t) => suite.table.backend.getTask(t.id)));
    expect(stored.map((t) => t?.status)).toEqual(tasks.map(() => 'pending'));

    const second = start('second', common);
    await second.waitForEvent('ready');
    await pollUntil('every delayed task run', () => tasks.every((t) => ledger.doneCounts().has(t.id)), 30_000, 50);
    await second.close();

    const done = ledger.read();
    expect(tasks.filter((t) => ledger.doneCounts().get(t.id) !== 1)).toEqual([]);
    expect(done.every((line) => line.pid === second.pid)).toBe(true);
    const runAt = new Map(stored.map((t) => [t!.id, t!.runAt!]));
    expect(done.filter((line) => line.t < runAt.get(line.id)!)).toEqual([]);
  }, 90_000);
});

describeEachOf(['postgres'], 'delayed tasks on two live replicas', (target) => {
  const suite = useCrashSuite(target.options);

  it('runs each due task exactly once across two replicas: those of a killed replica and those of the shared pool, none early', async () => {
    const ledger = suite.ledger();
    const common = { database: target.options, prefix: suite.prefix, ledger: ledger.file, options: { instanceLeaseSeconds: 2 } };
    const b = start('B', common);
    const c = start('C', common);
    await Promise.all([b.waitForEvent('ready'), c.waitForEvent('ready')]);

    // A replica that accepts 20 delayed tasks and dies before any is due.
    const a = start('A', { ...common, delaysMs: Array.from({ length: 20 }, (_, i) => 3000 + i * 100) });
    await a.waitForEvent('all-accepted');
    await a.kill();
    const orphaned = acceptedTasks(a).map((t) => t.id);
    // 20 more in the shared pool (no owner), as a clean shutdown or another writer leaves them.
    const now = Date.now();
    const pooled = Array.from({ length: 20 }, (_, i) =>
      blankTask({ funcName: 'Delayed.note', args: [i], durable: true, owner: null, runAt: now + 2000 + i * 100 }),
    );
    await suite.table.backend.saveBatch(pooled);

    const ids = [...orphaned, ...pooled.map((t) => t.id)];
    await pollUntil('every due task run', () => ids.every((id) => ledger.doneCounts().has(id)), 45_000, 50);
    await Promise.all([b.close(), c.close()]);

    const counts = ledger.doneCounts();
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    const runAt = new Map<string, number>();
    for (const id of ids) runAt.set(id, (await suite.table.backend.getTask(id))!.runAt!);
    const lines = ledger.read();
    expect(lines.filter((l) => l.t < runAt.get(l.id)!)).toEqual([]);
    const lateness = lines.filter((l) => pooled.some((p) => p.id === l.id)).map((l) => l.t - runAt.get(l.id)!);
    const byB = lines.filter((l) => l.pid === b.pid).length;
    console.log(
      `[postgres] B ran ${byB}, C ${lines.length - byB} of ${ids.length}; pooled rows late by max ${Math.max(...lateness)} ms, ` +
        `median ${lateness.sort((x, y) => x - y)[lateness.length >> 1]} ms`,
    );
    expect(lines.every((l) => l.pid === b.pid || l.pid === c.pid)).toBe(true);
    // About a second: the pool is polled every 250 ms. A sanity bound for a loaded shared machine.
    expect(Math.max(...lateness)).toBeLessThan(5000);
  }, 120_000);
});
