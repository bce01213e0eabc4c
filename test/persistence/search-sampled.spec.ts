import { DataSource } from 'typeorm';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { SAMPLE_ROWS } from '../../lib/persistence/typeorm/search-rarity';
import { TaskData } from '../../lib/task/task-record';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';

/**
 * MySQL/MariaDB: past SAMPLE_ROWS rows the lookup asks only for the needle's rarest words,
 * chosen on a sample of the index; the answers stay exactly those of the LIKE, whether the
 * needle's words are in every row, in a few, in none the sample saw, or too many rows match
 * for the list (then it scans).
 */
describeEachDatabase(
  'search words chosen on a sample',
  (target) => {
    let dataSource: DataSource;
    let backend: TypeOrmTaskBackend;
    const rows: TaskData[] = Array.from({ length: SAMPLE_ROWS + 500 }, (_, i) =>
      blankTask({
        funcName: `Common.job${i % 7}`,
        status: i % 10 ? 'success' : 'failed',
        error: i % 10 ? null : `ValueError: bad input #${i}`,
        tags: { tenant: `t${i % 50}` },
      }),
    );

    beforeAll(async () => {
      dataSource = new DataSource(target.options);
      const prefix = uniquePrefix();
      const writer = new TypeOrmTaskBackend(dataSource, { tablePrefix: prefix });
      await writer.open();
      await writer.saveBatch(rows);
      // A backend opened on the filled table: its first search samples it.
      backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: prefix });
      await backend.open();
    });

    afterAll(async () => {
      await backend?.dropTables().catch(() => undefined);
      await backend?.close();
      if (dataSource?.isInitialized) await dataSource.destroy();
    });

    async function found(q: string): Promise<string[]> {
      const page = await backend.listTasks({ q, limit: 5000 });
      expect(page.total).toBe(page.items.length);
      return page.items.map((t) => t.id).sort();
    }

    function expected(q: string): string[] {
      return rows
        .filter((r) => `${r.id}\u001f${r.funcName}\u001f${r.error ?? ''}`.toLowerCase().includes(q.toLowerCase()))
        .map((r) => r.id)
        .sort();
    }

    it('finds what the LIKE finds, for needles common, rare and absent', async () => {
      for (const q of ['bad input #42', 'bad input #1', 'Bad Input', 'common.job3', rows[1234].id.slice(4, 20), 'input #99999', 'zzz']) {
        expect({ q, ids: await found(q) }).toEqual({ q, ids: expected(q) });
      }
    });

    it('finds a row written after the sample was taken, with words the sample never saw', async () => {
      await found('bad input #42');
      const fresh = blankTask({ funcName: 'Fresh.kind', status: 'failed', error: 'quux-unseen-words 42' });
      await backend.saveBatch([fresh]);
      expect(await found('quux-unseen')).toEqual([fresh.id]);
      expect(await found('unseen-words 42')).toEqual([fresh.id]);
    });

    it('scans when the index names fewer rows than the sample holds with the words asked for', async () => {
      await found('bad input #1');
      // The index loses the words of those rows (their task rows stay): the sample still holds
      // some of them, so the lookup's empty answer is not trusted.
      const holders = expected('bad input #1');
      await dataSource.query(`DELETE FROM \`${backend.tableNames.search}\` WHERE task_id IN (${holders.map(() => '?').join(', ')})`, holders);
      expect(await found('bad input #1')).toEqual(holders);
    });
  },
  ['mysql'],
);
