/**
 * Several app processes on one database: instance A, on "another host" (so its
 * peers cannot see that its process is gone), is SIGKILLed holding pending and
 * running durable tasks. Instances B and C, started together right after the kill,
 * recover them only once A's lease has run out, both claiming at the same time;
 * every task runs exactly once across B and C.
 */
import { CrashChild, CrashTaskKind } from '../support/crash-child';
import { describeEachOf } from '../support/crash-db';
import { acceptedTasks, untilSettled, untilStoredAndRunning, useCrashSuite } from '../support/crash-suite';

const N = 1500;
const LEASE_SECONDS = 2;

describeEachOf(['postgres', 'mysql'], 'recovery across instances', (target) => {
  const suite = useCrashSuite(target.options);
  const { prefix } = suite;

  it("recovers a killed instance's tasks after its lease, once each, with two instances claiming at once", async () => {
    const { table } = suite;
    const ledger = suite.ledger();
    const plan: CrashTaskKind[] = Array.from({ length: N }, (_, i) => (i === 0 ? 'blocker' : i === 1 ? 'resumable' : 'quick'));
    const options = { requeuePending: true, maxConcurrentTasks: 2, instanceLeaseSeconds: LEASE_SECONDS };
    const a = CrashChild.start('A', { database: target.options, prefix, ledger: ledger.file, hostname: 'remote-host-a', block: true, options, plan });
    const readyA = await a.waitForEvent('ready');
    await a.waitForEvent('all-accepted');
    const tasks = acceptedTasks(a);
    const [blocker, resumable] = [tasks[0].id, tasks[1].id];
    await untilStoredAndRunning(table, tasks, [blocker, resumable], "A's tasks stored, its blockers running");
    const killedAt = await a.kill();
    const leaseA = (await table.backend.listInstances()).find((i) => i.id === readyA.instance)!;
    expect(leaseA).toBeDefined();
    const atKill = await table.byId();
    expect(tasks.filter((t) => atKill.get(t.id)?.owner === readyA.instance)).toHaveLength(N);

    // B and C start together; both run recovery at startup and then on every heartbeat.
    const peer = { database: target.options, prefix, ledger: ledger.file, block: false, options: { ...options, maxConcurrentTasks: 4 } };
    const b = CrashChild.start('B', peer);
    const c = CrashChild.start('C', peer);
    const [readyB, readyC] = await Promise.all([b.waitForEvent('ready'), c.waitForEvent('ready')]);

    const after = await untilSettled(table, tasks, 'every task of A terminal', 20_000, 50);
    const drainedAt = Date.now();
    await Promise.all([b.close(), c.close()]);

    const lines = ledger.read();
    const recoveredLines = lines.filter((l) => l.pid === b.pid || l.pid === c.pid);
    const firstRecovered = Math.min(...recoveredLines.map((l) => l.t));
    // Nothing of A ran anywhere before A's lease ended.
    expect(firstRecovered).toBeGreaterThanOrEqual(leaseA.leaseUntil);
    const done = ledger.doneCounts();
    for (const t of tasks) {
      const row = after.get(t.id)!;
      if (t.id === blocker) {
        expect(row).toMatchObject({ status: 'interrupted', error: 'Interrupted: the instance running it stopped' });
        expect(lines.filter((l) => l.id === t.id).map((l) => [l.what, l.pid])).toEqual([['start', a.pid]]);
      } else {
        expect({ id: t.id, status: row.status, done: done.get(t.id) }).toEqual({ id: t.id, status: 'success', done: 1 });
      }
    }
    const resumed = lines.filter((l) => l.id === resumable);
    expect(resumed.map((l) => l.what)).toEqual(['start', 'start', 'done']);
    expect(resumed[0].pid).toBe(a.pid);
    expect([b.pid, c.pid]).toContain(resumed[1].pid);
    const byB = recoveredLines.filter((l) => l.pid === b.pid && l.what === 'done').length;
    const byC = recoveredLines.filter((l) => l.pid === c.pid && l.what === 'done').length;
    expect(byB + byC).toBe(N - 1);
    // Each row ends owned by the instance that claimed it, B or C.
    for (const t of tasks) expect([readyB.instance, readyC.instance]).toContain(after.get(t.id)!.owner);

    console.log(
      `[${target.name}] A killed ${killedAt - readyA.t} ms after it was ready; its lease ran until ${leaseA.leaseUntil - killedAt} ms after the kill; ` +
        `B/C ready ${readyB.t - killedAt}/${readyC.t - killedAt} ms after the kill; first recovered task ran ${firstRecovered - killedAt} ms after the kill ` +
        `(${firstRecovered - leaseA.leaseUntil} ms after the lease ended); all ${N} settled ${drainedAt - killedAt} ms after the kill; ` +
        `completed by B ${byB}, by C ${byC}`,
    );
  });
});
