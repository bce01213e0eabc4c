import { DatabaseTarget, describeEachDatabase } from '../support/databases';
import { suiteBackend } from '../support/suite-backend';
import { blankTask } from '../support/task-data';

describeEachDatabase('cancelledSince (schema version 8)', (target: DatabaseTarget) => {
  const suite = suiteBackend(target);
  const { prefix } = suite;

  it("finds an owner's cancelled rows that ended since, and no others", async () => {
    const now = Date.now();
    const ended = (status: 'cancelled' | 'success', owner: string, endTime: number) =>
      blankTask({ status, owner, startTime: endTime - 5, endTime, createdAt: endTime - 10, durable: true });
    const mine = ended('cancelled', 'A', now - 1000);
    const rows = [
      mine,
      ended('cancelled', 'A', now - 120_000), // before `since`
      ended('cancelled', 'B', now - 1000), // another owner's
      ...Array.from({ length: 200 }, (_, i) => ended('success', 'A', now - i)),
    ];
    await suite.backend.saveBatch(rows);
    expect(await suite.backend.cancelledSince('A', now - 60_000)).toEqual([{ id: mine.id, version: mine.version }]);
    expect(await suite.backend.cancelledSince('C', now - 60_000)).toEqual([]);
  });

  if (target.name === 'sqlite') {
    it('reads the partial index of cancelled rows, not every row that ended since', async () => {
      const table = `"${prefix}tasks"`;
      const plan = (await suite.dataSource.query(
        `EXPLAIN QUERY PLAN SELECT id, version FROM ${table} WHERE prune_at >= ? AND status = 'cancelled' AND owner = ?`,
        [0, 'A'],
      )) as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toContain(`${prefix}tasks_cancelled`);
    });
  }
});
