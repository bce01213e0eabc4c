import { DataSource } from 'typeorm';
import { TaskData, TypeOrmTaskBackend } from '../../lib';
import { ftsMatch } from '../../lib/persistence/typeorm/search-terms';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';

/**
 * SQLite's indexer folds the search queue into FTS5 in transactions of many rows (see
 * foldQueued): every search stays exact while it does, and a changed row's older text
 * leaves the index itself (a search's LIKE would hide a stale entry, so the index is read).
 * The crash mid-fold is test/crash/search-fold.spec.ts.
 */
describeEachDatabase(
  'SQLite search fold',
  (target) => {
    let dataSource: DataSource;
    let backend: TypeOrmTaskBackend;

    beforeEach(async () => {
      dataSource = new DataSource(target.options);
      backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: uniquePrefix() });
      await backend.open();
    });

    afterEach(async () => {
      await backend.dropTables().catch(() => undefined);
      await backend.close();
      if (dataSource.isInitialized) await dataSource.destroy();
    });

    async function save(tasks: TaskData[]): Promise<void> {
      for (let i = 0; i < tasks.length; i += 5000) await backend.saveBatch(tasks.slice(i, i + 5000));
    }

    async function count(sql: string, params: unknown[] = []): Promise<number> {
      return Number(((await dataSource.query(sql, params)) as { n: number }[])[0].n);
    }

    const queued = () => count(`SELECT COUNT(*) AS n FROM "${backend.tableNames.searchQueue}"`);
    const search = () => `"${backend.tableNames.search}"`;
    const indexed = (needle: string) => count(`SELECT COUNT(*) AS n FROM ${search()} WHERE ${search()} MATCH ?`, [ftsMatch(needle)]);

    it('answers every search exactly while a fold of many rows is under way', async () => {
      const rows = 20_000;
      await save(Array.from({ length: rows }, (_, i) => blankTask({ status: 'failed', error: `during-fold-needle #${i}`, endTime: 1 })));
      let done = false;
      const folding = backend.indexSearch().finally(() => (done = true));
      let midway = 0;
      while (!done) {
        const left = await queued();
        expect((await backend.listTasks({ q: 'during-fold-needle', limit: 1 })).total).toBe(rows);
        if (left > 0 && left < rows) midway++;
        // better-sqlite3 answers in microtasks only: the writer thread's replies need a turn.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await folding;
      expect(midway).toBeGreaterThan(0); // some searches ran between two folds
      expect(await queued()).toBe(0);
      expect(await indexed('during-fold-needle')).toBe(rows);
    }, 120_000);

    it("takes changed rows' older text out of the index itself", async () => {
      const tasks = Array.from({ length: 3000 }, (_, i) => blankTask({ status: 'failed', error: `older-text-needle #${i}`, endTime: 1 }));
      await save(tasks);
      await backend.indexSearch();
      expect(await indexed('older-text-needle')).toBe(tasks.length);
      await save(tasks.map((task, i) => ({ ...task, error: `newer-text-needle #${i}`, version: 2 })));
      expect((await backend.listTasks({ q: 'newer-text-needle', limit: 1 })).total).toBe(tasks.length);
      await backend.indexSearch();
      expect(await queued()).toBe(0);
      expect(await indexed('older-text-needle')).toBe(0);
      expect(await indexed('newer-text-needle')).toBe(tasks.length);
      expect((await backend.listTasks({ q: 'older-text-needle', limit: 1 })).total).toBe(0);
    }, 60_000);
  },
  ['sqlite'],
);
