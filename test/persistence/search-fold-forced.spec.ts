import { DataSource } from 'typeorm';
import { TaskData, TypeOrmTaskBackend } from '../../lib';
import { Connection } from '../../lib/persistence/typeorm/connection';
import { FORCED_EVERY_MS } from '../../lib/persistence/typeorm/fold-due';
import { SQLITE_DOC } from '../../lib/persistence/typeorm/search-index';
import { SearchIndexer } from '../../lib/persistence/typeorm/search-indexer';
import { ftsMatch } from '../../lib/persistence/typeorm/search-terms';
import { IDLE_MS } from '../../lib/persistence/typeorm/write-tracker';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';

/**
 * SQLite's indexer under writes that never pause for IDLE_MS (fold-due.ts): a fold once a
 * second, and at every tick once the queue passes its bound, so the queue every search reads
 * stays bounded. Driven by a fake clock and the indexer's ticks by hand (the backend's own
 * indexer stopped), each tick's fold sent beside a batch so that the two interleave on the
 * writer thread; every check runs with nothing in flight.
 */
describeEachDatabase(
  'SQLite search fold under writes that never pause',
  (target) => {
    /** Half the idle threshold between two writes: the writer is never idle. */
    const STEP_MS = IDLE_MS / 2;
    let dataSource: DataSource;
    let backend: TypeOrmTaskBackend;
    let clock: number;

    beforeEach(async () => {
      dataSource = new DataSource(target.options);
      backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: uniquePrefix() });
      await backend.open();
      await (backend as unknown as { indexer: SearchIndexer }).indexer.stop();
      clock = 0;
    });

    afterEach(async () => {
      await backend.dropTables().catch(() => undefined);
      await backend.close();
      if (dataSource.isInitialized) await dataSource.destroy();
    });

    function indexer(queueBound: number): SearchIndexer {
      const connection = (backend as unknown as { conn(): Connection }).conn();
      return new SearchIndexer(connection, backend.tableNames, { now: () => clock, queueBound });
    }

    /** One round: the clock moves on by STEP_MS, the indexer ticks, and its fold (if any) runs beside a batch. */
    async function round(indexing: SearchIndexer, batch: TaskData[]): Promise<void> {
      clock += STEP_MS;
      const internals = indexing as unknown as { tick(): void; running: Promise<void> | null };
      internals.tick();
      await Promise.all([internals.running, indexing.writing(batch.length, () => backend.saveBatch(batch))]);
    }

    async function rowids(sql: string, params: unknown[] = []): Promise<number[]> {
      return ((await dataSource.query(sql, params)) as { id: number }[]).map((row) => Number(row.id)).sort((a, b) => a - b);
    }

    const queue = () => `"${backend.tableNames.searchQueue}"`;
    const queued = async () => Number(((await dataSource.query(`SELECT COUNT(*) AS n FROM ${queue()}`)) as { n: number }[])[0].n);

    /**
     * The index against a scan for `needle`: each matching row is in the index or the queue,
     * no row outside the queue is in the index without matching (an older text), no row
     * queued as new is in the index already, and no row is in the index twice.
     */
    async function expectIndexAsScan(needle: string): Promise<void> {
      const search = `"${backend.tableNames.search}"`;
      const scan = await rowids(`SELECT rowid AS id FROM "${backend.tableNames.tasks}" WHERE ${SQLITE_DOC} LIKE ?`, [`%${needle}%`]);
      const indexed = await rowids(`SELECT rowid AS id FROM ${search} WHERE ${search} MATCH ?`, [ftsMatch(needle)]);
      const inQueue = new Set(await rowids(`SELECT task_rowid AS id FROM ${queue()}`));
      const asNew = new Set(await rowids(`SELECT task_rowid AS id FROM ${queue()} WHERE indexed = 0`));
      const inIndex = new Set(indexed);
      expect(indexed.length).toBe(inIndex.size);
      expect(scan.filter((id) => !inIndex.has(id) && !inQueue.has(id))).toEqual([]);
      const scanned = new Set(scan);
      expect(indexed.filter((id) => !scanned.has(id) && !inQueue.has(id))).toEqual([]);
      expect(indexed.filter((id) => asNew.has(id))).toEqual([]);
    }

    const failed = (error: string) => blankTask({ status: 'failed', error, endTime: 1 });

    it('folds once a second, and only then, while the writes never pause', async () => {
      const indexing = indexer(Number.POSITIVE_INFINITY);
      const perRound = 100;
      const rounds = (3 * FORCED_EVERY_MS) / STEP_MS;
      const shrankAt: number[] = [];
      let before = 0;
      for (let r = 1; r <= rounds; r++) {
        await round(
          indexing,
          Array.from({ length: perRound }, (_, i) => failed(`steady-needle r${r}-${i}`)),
        );
        const now = await queued();
        if (now < before + perRound) shrankAt.push(clock);
        before = now;
        expect((await backend.listTasks({ q: 'steady-needle', limit: 1 })).total).toBe(r * perRound);
      }
      // A second of writes from the start, then a second from each fold's end.
      expect(shrankAt).toEqual([1, 2, 3].map((s) => s * FORCED_EVERY_MS));
      expect(before).toBeLessThan(rounds * perRound);
      await expectIndexAsScan('steady-needle');
    }, 120_000);

    it('keeps the queue under its bound, each row indexed once with its current text, while folds interleave with batches', async () => {
      const bound = 2000;
      const indexing = indexer(bound);
      const fresh = 500;
      const rewritten = 200;
      const rounds = 40;
      const written: TaskData[][] = [];
      let most = 0;
      for (let r = 0; r < rounds; r++) {
        const added = Array.from({ length: fresh }, (_, i) => failed(`older-text-needle r${r}-${i}`));
        // Rows of two rounds ago get a new text: folded already (their index entry must go) or still queued.
        const changed = (written[r - 2] ?? []).slice(0, rewritten).map((task) => ({ ...task, error: `newer-text-needle ${task.id}`, version: 2 }));
        written.push(added);
        await round(indexing, [...added, ...changed]);
        most = Math.max(most, await queued());
        if (r % 5 === 4) {
          await expectIndexAsScan('older-text-needle');
          await expectIndexAsScan('newer-text-needle');
        }
      }
      const rows = rounds * fresh;
      const renamed = (rounds - 2) * rewritten;
      // A fold takes a chunk (1,000 rows) or more, more than a round queues (700).
      expect(most).toBeLessThanOrEqual(bound + fresh + rewritten);
      expect((await backend.listTasks({ q: 'older-text-needle', limit: 1 })).total).toBe(rows - renamed);
      expect((await backend.listTasks({ q: 'newer-text-needle', limit: 1 })).total).toBe(renamed);
      await indexing.drain();
      expect(await queued()).toBe(0);
      await expectIndexAsScan('older-text-needle');
      await expectIndexAsScan('newer-text-needle');
    }, 120_000);
  },
  ['sqlite'],
);
