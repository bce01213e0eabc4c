/**
 * Schema step 7 (the search index) on a real database of version 1 upgraded in place:
 * the rows already there are found by search afterwards, through the index (SQLite: with
 * nothing left queued; MariaDB/MySQL: each row has its words; PostgreSQL: the side table
 * holds each row, with its trigram indexes), and rows written after the upgrade are found as well.
 */
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { SCHEMA_VERSION, tableNames } from '../../lib/persistence/typeorm/schema';
import { toRowParams, WRITE_COLUMNS } from '../../lib/persistence/typeorm/task-rows';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { familyOf, seedOldDatabase } from '../support/old-schema';
import { dropTaskTables } from '../support/persistent-app';
import { blankTask } from '../support/task-data';

/** Columns later versions added (3: result, attempts, executor; 5: run_at): a version 1 row has none of them. */
const LATER = new Set(['result', 'attempts', 'executor', 'run_at']);

describeEachDatabase('schema upgrade from version 1 (search index)', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));

  it('indexes the rows a version 1 database holds, in place', async () => {
    const t = tableNames(prefix);
    const family = familyOf(target);
    const dialect = new Dialect(family);
    const old = [
      blankTask({ funcName: 'Old.task', status: 'failed', error: 'Legacy failure #1717', tags: { tenant: 'old-tenant' }, args: ['old-arg-value'] }),
      blankTask({ funcName: 'Old.task', status: 'success', error: null, tags: { tenant: 'other' } }),
    ];
    const columns = WRITE_COLUMNS.filter((c) => !LATER.has(c));
    await seedOldDatabase(target, prefix, 1, async (query, q) => {
      for (const task of old) {
        const params = toRowParams(task, dialect).filter((_, i) => !LATER.has(WRITE_COLUMNS[i]));
        const values = params.map((p) => (p === null ? 'NULL' : typeof p === 'number' ? String(p) : `'${String(p).replace(/'/g, "''")}'`));
        await query(`INSERT INTO ${q(t.tasks)} (${columns.join(', ')}) VALUES (${values.join(', ')})`);
      }
    });

    const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    try {
      const ds = backend.source;
      const version = await ds.query(`SELECT value FROM ${dialect.id(t.meta)} WHERE name = 'schema_version'`);
      expect(String(version[0].value)).toBe(String(SCHEMA_VERSION));
      if (family === 'sqlite') {
        const queued = await ds.query(`SELECT COUNT(*) AS n FROM ${dialect.id(t.searchQueue)}`);
        expect(Number(queued[0].n)).toBe(0);
        const indexed = await ds.query(`SELECT rowid FROM ${dialect.id(t.search)} WHERE ${dialect.id(t.search)} MATCH '"171"'`);
        expect(indexed).toHaveLength(1);
      } else if (family === 'mysql') {
        const words = await ds.query(`SELECT task_id FROM ${dialect.id(t.search)} ORDER BY task_id`);
        expect(words.map((r: { task_id: string }) => r.task_id)).toEqual(old.map((x) => x.id).sort());
      } else {
        // Since version 10, on the search side table, which holds every row.
        const indexes = await ds.query(`SELECT indexname FROM pg_indexes WHERE tablename = $1 AND indexname LIKE '%trgm' ORDER BY indexname`, [
          t.search,
        ]);
        expect(indexes.map((r: { indexname: string }) => r.indexname)).toEqual([
          `${t.search}_args_trgm`,
          `${t.search}_search_trgm`,
          `${t.search}_tags_trgm`,
        ]);
        const side = await ds.query(`SELECT task_id FROM ${dialect.id(t.search)} ORDER BY task_id`);
        expect(side.map((r: { task_id: string }) => r.task_id)).toEqual(old.map((x) => x.id).sort());
      }
      const found = async (query: object) => (await backend.listTasks(query)).items.map((x) => x.id).sort();
      expect(await found({ q: 'legacy failure #17' })).toEqual([old[0].id]);
      expect(await found({ search: 'old-tenant' })).toEqual([old[0].id]);
      expect(await found({ search: 'old-arg-val', searchArgs: true })).toEqual([old[0].id]);
      expect(await found({ search: '"tenant":"' })).toEqual(old.map((x) => x.id).sort());

      const fresh = blankTask({ funcName: 'New.task', status: 'failed', error: 'Legacy failure #1718' });
      await backend.saveBatch([fresh]);
      expect(await found({ q: 'legacy failure #171' })).toEqual([old[0].id, fresh.id].sort());
    } finally {
      await backend.close();
    }
  });
});
