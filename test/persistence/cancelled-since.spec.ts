import { DataSource } from 'typeorm';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { DatabaseTarget, describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';

describeEachDatabase('cancelledSince (schema version 7)', (target: DatabaseTarget) => {
  const prefix = uniquePrefix();
  let dataSource: DataSource;
  let backend: TypeOrmTaskBackend;

  beforeAll(async () => {
    dataSource = new DataSource(target.options);
    backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: prefix });
    await backend.open();
  });

  afterAll(async () => {
    await backend?.dropTables().catch(() => undefined);
    await backend?.close();
    if (dataSource?.isInitialized) await dataSource.destroy();
  });

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
    await backend.saveBatch(rows);
    expect(await backend.cancelledSince('A', now - 60_000)).toEqual([{ id: mine.id, version: mine.version }]);
    expect(await backend.cancelledSince('C', now - 60_000)).toEqual([]);
  });

  if (target.name === 'sqlite') {
    it('reads the partial index of cancelled rows, not every row that ended since', async () => {
      const table = `"${prefix}tasks"`;
      const plan = (await dataSource.query(
        `EXPLAIN QUERY PLAN SELECT id, version FROM ${table} WHERE prune_at >= ? AND status = 'cancelled' AND owner = ?`,
        [0, 'A'],
      )) as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toContain(`${prefix}tasks_cancelled`);
    });
  }
});
