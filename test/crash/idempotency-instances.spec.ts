/**
 * Idempotency keys across instances: two apps on one database add a task with the
 * same key at the same moment. The database settles it: exactly one task runs, the
 * other's record ends `cancelled` with `DuplicateTask: ...` naming the winner, in
 * both apps' views and in the database itself.
 */
import { Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager, TaskRecord, getTaskContext } from '../../lib';
import { pollUntil } from '../support/crash-child';
import { describeEachOf } from '../support/crash-db';
import { useCrashSuite } from '../support/crash-suite';
import { createPersistentApp } from '../support/persistent-app';

@Injectable()
class KeyedJobs {
  static ran: { key: string; taskId: string }[] = [];

  @BackgroundTask()
  async charge(key: string): Promise<void> {
    KeyedJobs.ran.push({ key, taskId: getTaskContext()!.taskId });
    // Stay running a moment, so the loser's check meets a live holder.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const KEYS = 30;

describeEachOf(['postgres', 'mysql'], 'idempotency across two instances', (target) => {
  const suite = useCrashSuite(target.options);

  it('runs one task per key when two instances add it at the same time', async () => {
    const { prefix, table: direct } = suite;
    const options = { requeuePending: true };
    const [a, b] = await Promise.all([
      createPersistentApp(target.options, prefix, options, { providers: [KeyedJobs] }),
      createPersistentApp(target.options, prefix, options, { providers: [KeyedJobs] }),
    ]);
    KeyedJobs.ran = [];
    try {
      const keys = Array.from({ length: KEYS }, (_, i) => `order-${prefix}-${i}`);
      const add = (manager: TaskManager, jobs: KeyedJobs, key: string) => manager.addTask(jobs.charge, [key], { idempotencyKey: key });
      const [jobsA, jobsB] = [a.app.get(KeyedJobs), b.app.get(KeyedJobs)];
      // Same tick, alternating which instance asks first.
      const pairs = keys.map((key, i) =>
        i % 2 === 0
          ? { key, idA: add(a.manager, jobsA, key), idB: add(b.manager, jobsB, key) }
          : { key, idB: add(b.manager, jobsB, key), idA: add(a.manager, jobsA, key) },
      );
      const records = await Promise.all(
        pairs.map(async (p) => ({ ...p, recA: await a.manager.waitFor(p.idA), recB: await b.manager.waitFor(p.idB) })),
      );

      // Each instance writes its own records within a group commit; after both have
      // flushed, either one reads every outcome from the database.
      await Promise.all([a.manager.flush(), b.manager.flush()]);
      let winsA = 0;
      for (const { key, idA, idB, recA, recB } of records) {
        const ran = KeyedJobs.ran.filter((r) => r.key === key);
        expect(ran).toHaveLength(1);
        const winner = ran[0].taskId;
        expect([idA, idB]).toContain(winner);
        const [won, lost]: TaskRecord[] = winner === idA ? [recA, recB] : [recB, recA];
        if (winner === idA) winsA++;
        expect(won.status).toBe('success');
        expect(lost).toMatchObject({ status: 'cancelled', error: `DuplicateTask: idempotency key "${key}" is held by task ${winner}` });
        // The other instance sees the same outcome.
        const other = winner === idA ? b.manager : a.manager;
        expect(await other.getTask(winner)).toMatchObject({ status: 'success' });
      }
      const rows = await pollUntil('every record stored', async () => {
        const all = await direct.byId();
        return records.every(
          (r) => ['success', 'cancelled'].includes(all.get(r.idA)?.status ?? '') && ['success', 'cancelled'].includes(all.get(r.idB)?.status ?? ''),
        )
          ? all
          : undefined;
      });
      for (const { idA, idB } of records) expect([rows.get(idA)!.status, rows.get(idB)!.status].sort()).toEqual(['cancelled', 'success']);
      expect(await a.manager.metrics()).toMatchObject({ total: 2 * KEYS, success: KEYS, cancelled: KEYS });
      console.log(
        `[${target.name}] ${KEYS} keys added by both instances in the same tick: instance A won ${winsA}, B won ${KEYS - winsA}; each key ran once`,
      );
    } finally {
      await Promise.all([a.app.close(), b.app.close()]);
    }
  });
});
