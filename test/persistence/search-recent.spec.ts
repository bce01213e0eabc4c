import { DataSource } from 'typeorm';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { RECENT_WRITE_SECONDS } from '../../lib/persistence/typeorm/search-index';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';

/**
 * MySQL/MariaDB: the full-text index can leave a just-committed row out of a MATCH for tens
 * of ms under concurrent writes (schema step 9). A lookup therefore also reads the words of
 * the rows written in the last RECENT_WRITE_SECONDS from `terms` itself. Here the index is
 * made to miss a row for good (each of its words is stored with a prefix the full-text
 * parser keeps, so it indexes other words), and only the row's write time decides.
 */
describeEachDatabase(
  'search of rows the full-text index does not name yet',
  (target) => {
    let dataSource: DataSource;
    let prefix: string;
    let writer: TypeOrmTaskBackend;
    const hidden = blankTask({ funcName: 'Recent.kind', status: 'failed', error: 'PaymentDeclined order 7731' });
    const other = blankTask({ funcName: 'Other.kind', status: 'failed', error: 'PaymentDeclined order 5512' });

    beforeAll(async () => {
      dataSource = new DataSource(target.options);
      prefix = uniquePrefix();
      writer = new TypeOrmTaskBackend(dataSource, { tablePrefix: prefix });
      await writer.open();
      await writer.saveBatch([hidden, other]);
      await dataSource.query(`UPDATE \`${writer.tableNames.search}\` SET terms = CONCAT('x', REPLACE(terms, ' ', ' x')) WHERE task_id = ?`, [
        hidden.id,
      ]);
    });

    afterAll(async () => {
      await writer?.dropTables().catch(() => undefined);
      await writer?.close();
      if (dataSource?.isInitialized) await dataSource.destroy();
    });

    /** A backend of its own: its word sample is taken now, from the rows as they are. */
    async function search(q: string): Promise<string[]> {
      const backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: prefix });
      await backend.open();
      try {
        const page = await backend.listTasks({ q, limit: 50 });
        return page.items.map((t) => t.id);
      } finally {
        await backend.close();
      }
    }

    it('finds a row written within the window though the index does not name it', async () => {
      expect(await search('order 7731')).toEqual([hidden.id]);
      expect((await search('paymentdeclined')).sort()).toEqual([hidden.id, other.id].sort());
    });

    it('leaves a row written before the window to the index alone', async () => {
      await dataSource.query(
        `UPDATE \`${writer.tableNames.search}\` SET written_at = NOW(3) - INTERVAL ${RECENT_WRITE_SECONDS + 60} SECOND WHERE task_id = ?`,
        [hidden.id],
      );
      expect(await search('order 7731')).toEqual([]);
      expect(await search('order 5512')).toEqual([other.id]);
    });
  },
  ['mysql'],
);
