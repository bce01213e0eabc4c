/**
 * Two live instances that share a hostname but not a PID namespace (containers
 * with `network_mode: host`, pods with `hostNetwork: true`): both apps are pid 1
 * of their own namespace. At startup an instance forgets the instance rows of
 * dead processes on its own host (so a restart need not wait for the lease); it
 * must not take a live peer of another namespace for one of those and steal the
 * tasks it is running. Needs `unshare --pid --fork` (root); skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { CrashChild } from '../support/crash-child';
import { acceptedTasks, untilStoredAndRunning, useCrashSuite } from '../support/crash-suite';
import { databaseTargets } from '../support/databases';

const UNSHARE = ['unshare', '--pid', '--fork', '--kill-child'];
const unshareWorks = spawnSync(UNSHARE[0], [...UNSHARE.slice(1), 'true'], { timeout: 5000 }).status === 0;
const sqlite = databaseTargets().find((t) => t.name === 'sqlite')!;

(unshareWorks ? describe : describe.skip)('instances sharing a hostname across PID namespaces [sqlite]', () => {
  if (!unshareWorks) console.warn('Skipping the PID-namespace test: `unshare --pid --fork` is not permitted here (needs root).');
  const suite = useCrashSuite(sqlite.options, () => sqlite.dispose());
  const { prefix } = suite;

  it('does not take a live peer with the same hostname and pid for a dead process, nor claim its tasks', async () => {
    const { table } = suite;
    const ledger = suite.ledger();
    const common = {
      database: sqlite.options,
      prefix,
      ledger: ledger.file,
      hostname: 'shared-host',
      options: { requeuePending: true, maxConcurrentTasks: 2 },
    };
    const a = CrashChild.start(
      'A',
      { ...common, ledgerPid: 101, block: true, plan: ['blocker', 'resumable', 'quick', 'quick', 'quick'] },
      { wrapper: UNSHARE },
    );
    const readyA = await a.waitForEvent('ready');
    await a.waitForEvent('all-accepted');
    const tasks = acceptedTasks(a);
    await untilStoredAndRunning(table, tasks, [tasks[0].id, tasks[1].id], 'A running its blockers, its other tasks stored');
    expect(readyA.pid).toBe(1);

    // B: same hostname, also pid 1, another namespace. Its startup recovery is over when it is ready.
    const b = CrashChild.start('B', { ...common, ledgerPid: 102, block: true }, { wrapper: UNSHARE });
    const readyB = await b.waitForEvent('ready');
    expect(readyB.pid).toBe(1);
    const rows = await table.byId();
    expect(tasks.map((t) => [t.kind, rows.get(t.id)?.status, rows.get(t.id)?.owner])).toEqual([
      ['blocker', 'running', readyA.instance],
      ['resumable', 'running', readyA.instance],
      ['quick', 'pending', readyA.instance],
      ['quick', 'pending', readyA.instance],
      ['quick', 'pending', readyA.instance],
    ]);
    expect(ledger.read().filter((l) => l.pid === 102)).toEqual([]);
    const instances = (await table.backend.listInstances()).map((i) => i.id);
    expect(instances).toEqual(expect.arrayContaining([readyA.instance, readyB.instance]));
    await Promise.all([a.close(), b.close()]);
  });
});
