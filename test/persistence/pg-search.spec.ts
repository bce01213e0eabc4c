/**
 * PostgreSQL's search side table and queue (schema step 10, pg-search.ts): a version 9
 * database, whose trigram indexes were on the task table, upgraded in place answers
 * searches at once; and instances sharing the database, writing and folding at the same
 * time, leave the side table holding each row's current text exactly, with nothing queued.
 */
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { SCHEMA_VERSION, tableNames } from '../../lib/persistence/typeorm/schema';
import { toRowParams, WRITE_COLUMNS } from '../../lib/persistence/typeorm/task-rows';
import { TaskData } from '../../lib/task/task-record';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { seedOldDatabase } from '../support/old-schema';
import { dropTaskTables } from '../support/persistent-app';
import { blankTask } from '../support/task-data';

const literal = (p: unknown) => (p === null ? 'NULL' : typeof p === 'number' ? String(p) : `'${String(p).replace(/'/g, "''")}'`);

describeEachDatabase(
  'PostgreSQL search side table',
  (target) => {
    const prefixes: string[] = [];
    const fresh = () => {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      return prefix;
    };
    afterAll(async () => {
      for (const prefix of prefixes) await dropTaskTables(target.options, prefix);
    });

    it('upgrades a version 9 database in place: side table filled, task table GINs dropped, searches right at once', async () => {
      const prefix = fresh();
      const t = tableNames(prefix);
      const dialect = new Dialect('postgres');
      const old = [
        blankTask({
          funcName: 'Old.task',
          status: 'failed',
          error: 'Legacy failure #9191',
          tags: { tenant: 'Nine-Tenant' },
          args: ['nine-arg-value'],
        }),
        blankTask({ funcName: 'Old.task', status: 'success', error: null, tags: { tenant: 'other' } }),
      ];
      await seedOldDatabase(target, prefix, 9, async (query) => {
        for (const task of old) {
          await query(`INSERT INTO "${t.tasks}" (${WRITE_COLUMNS.join(', ')}) VALUES (${toRowParams(task, dialect).map(literal).join(', ')})`);
        }
        // What version 9 built after its migration (ensurePgTrigramIndexes, then on the task table).
        await query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
        for (const [name, expression] of [
          ['search', 'search_text'],
          ['tags', 'LOWER(tags)'],
          ['args', 'LOWER(args)'],
        ]) {
          await query(`CREATE INDEX "${t.tasks}_${name}_trgm" ON "${t.tasks}" USING gin ((${expression}) gin_trgm_ops)`);
        }
      });

      const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
      await backend.open();
      try {
        const ds = backend.source;
        const version = await ds.query(`SELECT value FROM "${t.meta}" WHERE name = 'schema_version'`);
        expect(String(version[0].value)).toBe(String(SCHEMA_VERSION));
        const trgm = async (table: string) =>
          (await ds.query(`SELECT indexname FROM pg_indexes WHERE tablename = $1 AND indexname LIKE '%trgm' ORDER BY indexname`, [table])).map(
            (r: { indexname: string }) => r.indexname,
          );
        expect(await trgm(t.tasks)).toEqual([]);
        expect(await trgm(t.search)).toEqual([`${t.search}_args_trgm`, `${t.search}_search_trgm`, `${t.search}_tags_trgm`]);
        const side = await ds.query(`SELECT task_id, tags FROM "${t.search}" ORDER BY task_id`);
        expect(side.map((r: { task_id: string }) => r.task_id)).toEqual(old.map((x) => x.id).sort());
        expect(side.find((r: { task_id: string }) => r.task_id === old[0].id).tags).toBe('{"tenant":"nine-tenant"}');
        expect(await ds.query(`SELECT task_id FROM "${t.searchQueue}"`)).toEqual([]);

        const found = async (query: object) => (await backend.listTasks(query)).items.map((x) => x.id).sort();
        expect(await found({ q: 'legacy failure #91' })).toEqual([old[0].id]);
        expect(await found({ search: 'nine-tenant' })).toEqual([old[0].id]);
        expect(await found({ search: 'NINE-ARG-VAL', searchArgs: true })).toEqual([old[0].id]);
        expect(await found({ search: 'nine-arg-val' })).toEqual([]);
        expect(await found({ search: '"tenant":"' })).toEqual(old.map((x) => x.id).sort());

        // A changed text, before the fold (read from the queue) and after it.
        await backend.saveBatch([{ ...old[1], error: 'Legacy failure #9192', version: 2 }]);
        for (const folded of [false, true]) {
          if (folded) await backend.indexSearch();
          expect(await found({ q: 'legacy failure #919' })).toEqual(old.map((x) => x.id).sort());
        }
      } finally {
        await backend.close();
      }
    });

    it('finds rows written past the queue (an older instance during an upgrade) once the index is rebuilt', async () => {
      const prefix = fresh();
      const t = tableNames(prefix);
      const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
      await backend.open();
      try {
        const stray = blankTask({ funcName: 'Stray.task', status: 'failed', error: 'written-by-version-9' });
        await backend.source.query(
          `INSERT INTO "${t.tasks}" (${WRITE_COLUMNS.join(', ')}) VALUES (${toRowParams(stray, new Dialect('postgres')).map(literal).join(', ')})`,
        );
        expect((await backend.listTasks({ q: 'by-version-9' })).items).toEqual([]);
        await backend.rebuildSearchIndex();
        expect((await backend.listTasks({ q: 'by-version-9' })).items.map((x) => x.id)).toEqual([stray.id]);
        await backend.indexSearch();
        expect((await backend.listTasks({ q: 'by-version-9' })).items.map((x) => x.id)).toEqual([stray.id]);
        expect(await backend.source.query(`SELECT task_id FROM "${t.searchQueue}"`)).toEqual([]);
      } finally {
        await backend.close();
      }
    });

    it('vacuums the queue once a drain has folded many rows: an emptied queue leaves no pages for searches to scan', async () => {
      const prefix = fresh();
      const t = tableNames(prefix);
      const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
      await backend.open();
      try {
        const pages = async () => Number((await backend.source.query(`SELECT pg_relation_size('"${t.searchQueue}"') / 8192 AS n`))[0].n);
        for (let i = 0; i < 4; i++) await backend.saveBatch(Array.from({ length: 3000 }, () => blankTask({ error: `vacuum-${i}` })));
        expect(await pages()).toBeGreaterThan(10);
        await backend.indexSearch();
        expect(await backend.source.query(`SELECT task_id FROM "${t.searchQueue}"`)).toEqual([]);
        // The dead tuples the fold left are gone and the emptied pages truncated.
        expect(await pages()).toBe(0);
        expect((await backend.listTasks({ q: 'vacuum-3', limit: 1 })).total).toBe(3000);
      } finally {
        await backend.close();
      }
    });

    it('leaves the side table exact with two instances writing and folding at once', async () => {
      const prefix = fresh();
      const t = tableNames(prefix);
      const [a, b] = [0, 1].map(() => new TypeOrmTaskBackend(target.options, { tablePrefix: prefix }));
      await a.open();
      await b.open();
      try {
        // The same rows written by both, each text changed several times, folds running in between.
        const tasks: TaskData[] = Array.from({ length: 300 }, (_, i) => blankTask({ funcName: `Race.fn${i % 7}`, error: `first-${i}` }));
        const rounds = 6;
        const write = async (backend: TypeOrmTaskBackend, parity: number) => {
          for (let round = 1; round <= rounds; round++) {
            const version = round * 2 + parity;
            await backend.saveBatch(tasks.map((task, i) => ({ ...task, error: `text-${i}-v${version}`, tags: { v: `t${version}` }, version })));
            await backend.indexSearch();
          }
        };
        await Promise.all([write(a, 0), write(b, 1), a.indexSearch(), b.indexSearch()]);
        await Promise.all([a.indexSearch(), b.indexSearch()]);
        const ds = a.source;
        const mismatched = await ds.query(
          `SELECT x.id FROM "${t.tasks}" x LEFT JOIN "${t.search}" s ON s.task_id = x.id ` +
            'WHERE s.task_id IS NULL OR (s.search_text, s.tags, s.args) IS DISTINCT FROM (x.search_text, LOWER(x.tags), LOWER(x.args))',
        );
        expect(mismatched).toEqual([]);
        expect(Number((await ds.query(`SELECT COUNT(*) AS n FROM "${t.search}"`))[0].n)).toBe(tasks.length);
        expect(await ds.query(`SELECT task_id FROM "${t.searchQueue}"`)).toEqual([]);
        const latest = await ds.query(`SELECT MAX(version) AS v FROM "${t.tasks}"`);
        const v = Number(latest[0].v);
        expect((await a.listTasks({ q: `text-7-v${v}` })).items.map((x) => x.id)).toEqual([tasks[7].id]);
        expect((await b.listTasks({ q: `text-7-v${v - 1}`, limit: 500 })).items).toEqual([]);
      } finally {
        await a.close();
        await b.close();
      }
    });
  },
  ['postgres'],
);
