/**
 * Per-function concurrency across processes: two replicas (child processes) on one
 * PostgreSQL database each add 10 tasks of a function with `concurrency: 2`; the ledger,
 * written synchronously by each process as a task starts and ends, shows at most 2 running
 * at any instant over both, each task run once, and both replicas running some.
 */
import { CrashChild, CrashTaskKind, pollUntil } from '../support/crash-child';
import { describeEachOf } from '../support/crash-db';
import { acceptedTasks, useCrashSuite } from '../support/crash-suite';
import { maxOverlapOf } from '../support/flow-records';

const PER_REPLICA = 10;
const TASK_MS = 150;

describeEachOf(['postgres'], 'per-function concurrency across processes', (target) => {
  const suite = useCrashSuite(target.options);

  it('runs at most 2 of 20 tasks at once over two processes, each once', async () => {
    const ledger = suite.ledger();
    const common = { database: target.options, prefix: suite.prefix, ledger: ledger.file, slowMs: TASK_MS, options: { instanceLeaseSeconds: 5 } };
    const plan: CrashTaskKind[] = Array(PER_REPLICA).fill('limited');
    const a = CrashChild.start('A', { ...common, plan, planOnGo: true });
    const b = CrashChild.start('B', { ...common, plan, planOnGo: true });
    // Both started (each holds a live lease) before either adds its tasks, at the same time.
    await Promise.all([a.waitForEvent('ready'), b.waitForEvent('ready')]);
    a.send('go');
    b.send('go');
    await Promise.all([a.waitForEvent('all-accepted'), b.waitForEvent('all-accepted')]);
    const tasks = [...acceptedTasks(a), ...acceptedTasks(b)];
    expect(tasks).toHaveLength(2 * PER_REPLICA);
    await pollUntil('every limited task done', () => tasks.every((t) => ledger.doneCounts().get(t.id) === 1), 60_000, 50);
    await Promise.all([a.close(), b.close()]);

    const lines = ledger.read().filter((l) => l.kind === 'limited');
    const events = lines.map((l): [number, number] => [l.t, l.what === 'start' ? 1 : -1]);
    const overlap = maxOverlapOf(events);
    const byPid = new Map<number, number>();
    for (const l of lines) if (l.what === 'done') byPid.set(l.pid, (byPid.get(l.pid) ?? 0) + 1);
    console.log(`[${target.name}] at most ${overlap} running at once; runs per process: ${[...byPid.values()].join(', ')}`);
    expect(tasks.filter((t) => ledger.doneCounts().get(t.id) !== 1)).toEqual([]);
    expect(lines.filter((l) => l.what === 'start')).toHaveLength(2 * PER_REPLICA);
    expect(overlap).toBe(2);
    expect(byPid.size).toBe(2);
  }, 120_000);
});
