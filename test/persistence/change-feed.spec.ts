/**
 * The polled change feed (MySQL/MariaDB, SQLite) against a real database, read the way an
 * instance reads it (RemoteChanges, with a stand-in for the runtime): other writers'
 * changes arrive, those of tasks this instance holds do not; a transaction that took its
 * number before a later one but committed after it (a gap below the cursor) still arrives;
 * ids are read in batches, not one query per change; and an instance's own writes are
 * moved over, not read back.
 */
import { Logger } from '@nestjs/common';
import type { TaskRuntime } from '../../lib/engine/task-runtime';
import { RemoteTasks } from '../../lib/engine/remote-tasks';
import { RemoteChanges } from '../../lib/persistence/remote-changes';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { toRowParams, WRITE_COLUMNS } from '../../lib/persistence/typeorm/task-rows';
import { TaskData } from '../../lib/task/task-record';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';

describeEachDatabase(
  'polled change feed',
  (target) => {
    const prefix = uniquePrefix();
    let backend: TypeOrmTaskBackend;
    /** Another instance's backend on the same tables. */
    let other: TypeOrmTaskBackend;
    let feed: RemoteChanges;
    const remote = new RemoteTasks(10_000);
    const held = new Map<string, TaskData>();
    const arrived: TaskData[] = [];
    let reads = 0;

    beforeAll(async () => {
      backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
      await backend.open();
      other = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
      await other.open();
      const getTasks = backend.getTasks.bind(backend);
      backend.getTasks = (ids) => {
        reads++;
        return getTasks(ids);
      };
      const runtime = { accepting: true, remote, live: (id: string) => held.get(id), cancel: () => 'running' } as unknown as TaskRuntime;
      remote.changes.subscribe((task) => arrived.push(task));
      remote.setDemand(true);
      feed = new RemoteChanges(backend, runtime, new Logger('test'), 'this-host/1/me');
      await feed.start();
    });
    afterAll(async () => {
      await feed?.stop();
      await other?.close();
      await backend?.dropTables();
      await backend?.close();
    });

    const arrivedOf = (id: string) => arrived.filter((t) => t.id === id);
    async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    it("brings other writers' changes, not this instance's own, reading ids in batches", async () => {
      const mine = blankTask({ status: 'running', version: 2 });
      held.set(mine.id, mine);
      // Written here earlier and no longer in memory: still this instance's own change.
      const evicted = blankTask({ status: 'success', version: 3, owner: 'this-host/1/me' });
      const theirs = Array.from({ length: 1200 }, () => blankTask({ status: 'success', version: 3, owner: 'other/1/x' }));
      const readsBefore = reads;
      await other.saveBatch([mine, evicted, ...theirs]);
      // One of this instance's own writes in between (the next test: it is moved over).
      await backend.saveBatch([blankTask({ status: 'cancelled', version: 9, owner: 'other/1/x' })]);
      const last = blankTask({ status: 'success', version: 3, owner: 'other/1/x' });
      await other.saveBatch([last]);
      await until('every task of the other writer', () => [...theirs, last].every((t) => arrivedOf(t.id).length === 1));
      expect(arrivedOf(mine.id)).toEqual([]);
      expect(arrivedOf(evicted.id)).toEqual([]);
      // 1,201 ids: three reads of at most 500, not 1,201.
      expect(reads - readsBefore).toBeLessThanOrEqual(4);
    });

    it("moves the cursor over this instance's own writes without reading their rows, and counts them seen", async () => {
      const start = await backend.changeCursor();
      const own = Array.from({ length: 3 }, () => blankTask({ status: 'success', version: 2, owner: 'other/1/x' }));
      for (const task of own) await backend.saveBatch([task]);
      const theirs = blankTask({ status: 'success', version: 2, owner: 'other/1/x' });
      await other.saveBatch([theirs]);
      const page = await backend.changesAfter(start, 1000);
      expect(page.passed).toEqual([start.seq + 1, start.seq + 2, start.seq + 3]);
      expect(page.changes.map((c) => c.id)).toEqual([theirs.id]);
      // Another instance reads them all.
      const seen = await other.changesAfter(start, 1000);
      expect(seen.passed).toBeUndefined();
      expect(seen.changes.map((c) => c.id).sort()).toEqual([...own, theirs].map((t) => t.id).sort());
    });

    it('brings the rows of a transaction that committed after a later one', async () => {
      const d = new Dialect(target.name === 'sqlite' ? 'sqlite' : 'mysql');
      const meta = d.id(`${prefix}meta`);
      const tasks = d.id(`${prefix}tasks`);
      // A writer takes its number, then another writes and commits under the next one...
      await backend.source.query(
        `UPDATE ${meta} SET value = CAST(value AS ${target.name === 'sqlite' ? 'INTEGER' : 'UNSIGNED'}) + 1 WHERE name = 'change_seq'`,
      );
      const taken = Number((await backend.source.query(`SELECT value FROM ${meta} WHERE name = 'change_seq'`))[0].value);
      const later = blankTask({ status: 'success', version: 2 });
      await other.saveBatch([later]);
      await until('the later transaction', () => arrivedOf(later.id).length === 1);
      // ...and the first commits only now, under its own, lower number.
      const late = blankTask({ status: 'success', version: 2 });
      const columns = [...WRITE_COLUMNS, 'change_seq'];
      await backend.source.query(d.placeholders(`INSERT INTO ${tasks} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`), [
        ...toRowParams(late, d),
        taken,
      ]);
      await until('the late transaction', () => arrivedOf(late.id).length > 0);
      expect(arrivedOf(late.id)[0]).toMatchObject({ status: 'success' });
    });
  },
  ['sqlite', 'mysql'],
);
