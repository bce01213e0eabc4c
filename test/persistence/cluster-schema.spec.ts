/**
 * Schema step 4 (several instances as one cluster), on a real database of version 3
 * upgraded in place: its rows stay readable, its instance rows are listed (without the
 * start and heartbeat times they never had), a new instance's heartbeat records both,
 * the owner index serves the instance filter, and on MySQL/MariaDB and SQLite every write
 * after the upgrade carries a change sequence a reader's cursor finds (rows of version 3
 * have none until they are written again), one number per transaction, in order.
 */
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { SCHEMA_VERSION, tableNames } from '../../lib/persistence/typeorm/schema';
import { toRowParams, WRITE_COLUMNS } from '../../lib/persistence/typeorm/task-rows';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { seedSchemaVersion } from '../support/old-schema';
import { dropTaskTables } from '../support/persistent-app';
import { blankTask } from '../support/task-data';

describeEachDatabase('schema upgrade from version 3 (instances, change sequence)', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));

  it('upgrades a version 3 database in place and feeds changes from then on', async () => {
    const t = tableNames(prefix);
    const family = target.name === 'sqlite' ? 'sqlite' : target.name;
    const dialect = new Dialect(family);
    const q = (name: string) => dialect.id(name);
    const seed = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    const ds = seed.source;
    await ds.initialize();
    // The tables exactly as version 3 of the package created them, with a task and an instance.
    await seedSchemaVersion((statement) => ds.query(statement), family, prefix, 3);
    const old = blankTask({ funcName: 'Old.task', status: 'success', owner: 'old-host/42/aaaa', version: 3, startTime: 1000, endTime: 2000 });
    // Today's columns, less those later versions added (run_at: version 5).
    const columns = WRITE_COLUMNS.filter((c) => c !== 'run_at');
    const params = toRowParams(old, dialect).filter((_, i) => WRITE_COLUMNS[i] !== 'run_at');
    const placeholders = columns.map(() => '?').join(', ');
    await ds.query(dialect.placeholders(`INSERT INTO ${q(t.tasks)} (${columns.join(', ')}) VALUES (${placeholders})`), params);
    await ds.query(`INSERT INTO ${q(t.instances)} (id, lease_until) VALUES ('old-host/42/aaaa', 1)`);
    await ds.destroy();

    const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    const readers: TypeOrmTaskBackend[] = [];
    try {
      const version = await backend.source.query(`SELECT value FROM ${q(t.meta)} WHERE name = 'schema_version'`);
      expect(String(version[0].value)).toBe(String(SCHEMA_VERSION));
      expect(await backend.getTask(old.id)).toMatchObject({ funcName: 'Old.task', status: 'success', owner: 'old-host/42/aaaa' });

      const before = Date.now();
      await backend.heartbeat('new-host/7/bbbb', 30);
      const instances = new Map((await backend.describeInstances()).map((i) => [i.id, i]));
      expect(instances.get('old-host/42/aaaa')).toMatchObject({ alive: false, startedAt: null, lastHeartbeat: null, pending: 0, running: 0 });
      const fresh = instances.get('new-host/7/bbbb')!;
      expect(fresh).toMatchObject({ alive: true, pending: 0, running: 0 });
      // The database's clock, which may differ from this one by a little.
      expect(Math.abs(fresh.startedAt! - before)).toBeLessThan(5000);
      expect(fresh.lastHeartbeat).toBe(fresh.startedAt);

      const running = blankTask({ funcName: 'New.task', status: 'running', owner: 'new-host/7/bbbb', startTime: Date.now() });
      const pending = blankTask({ funcName: 'New.task', owner: 'new-host/7/bbbb' });
      const cursor = await backend.changeCursor();
      await backend.saveBatch([running, pending]);
      expect((await backend.describeInstances()).find((i) => i.id === 'new-host/7/bbbb')).toMatchObject({ pending: 1, running: 1 });
      expect((await backend.listTasks({ instance: 'new-host/7/bbbb' })).items.map((x) => x.id).sort()).toEqual([running.id, pending.id].sort());
      expect((await backend.listTasks({ instance: 'old-host/42/aaaa' })).items.map((x) => x.id)).toEqual([old.id]);

      if (family === 'postgres') {
        expect(backend.capabilities.changeFeed).toBe('notify');
        return;
      }
      expect(backend.capabilities.changeFeed).toBe('poll');
      // Read as another instance reads them (a writer's own poller moves over its own writes).
      const reader = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
      await reader.open();
      readers.push(reader);
      const first = await reader.changesAfter(cursor, 10);
      expect(first.changes.map((c) => c.id).sort()).toEqual([running.id, pending.id].sort());
      // A later transaction: a higher number, after the cursor; the old row once written again.
      await backend.saveBatch([{ ...old, version: 4, progress: 1 }]);
      const second = await reader.changesAfter(first.cursor, 10);
      expect(second.changes.map((c) => [c.id, c.version, c.owner])).toEqual([[old.id, 4, 'old-host/42/aaaa']]);
      expect(second.cursor.seq).toBeGreaterThan(first.cursor.seq);
      // Paging inside one transaction's rows: one at a time, none twice.
      const paged: string[] = [];
      let at = cursor;
      for (let i = 0; i < 4; i++) {
        const page = await reader.changesAfter(at, 1);
        paged.push(...page.changes.map((c) => c.id));
        at = page.cursor;
      }
      expect(paged.slice(0, 2).sort()).toEqual([running.id, pending.id].sort());
      expect(paged.slice(2)).toEqual([old.id]);
      expect((await reader.changesAfter(at, 10)).changes).toEqual([]);
    } finally {
      for (const reader of readers) await reader.close();
      await backend.close();
    }
  });
});
