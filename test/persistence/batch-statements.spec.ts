import { PgSearchIndexer } from '../../lib/persistence/typeorm/pg-search-indexer';
import { SearchIndexer } from '../../lib/persistence/typeorm/search-indexer';
import { SqliteWriter } from '../../lib/persistence/typeorm/sqlite-writer';
import { TaskData } from '../../lib/task/task-record';
import { DatabaseTarget, describeEachDatabase } from '../support/databases';
import { suiteBackend } from '../support/suite-backend';
import { blankTask } from '../support/task-data';

const BASE = Date.UTC(2026, 11, 2, 10, 0, 0);

/** Text that is hard for one path or another: PostgreSQL array literals, JSON, UTF-16 surrogates, SQL quoting. */
const AWKWARD = [
  'NULL',
  '',
  '{}',
  '{"a","b"}',
  'a,b',
  'quote " and backslash \\ and \\" both',
  "it's",
  'tab\tnew\nline',
  'Ünïcödé 日本語 😀 e\u0301',
  '?',
  '$1',
];

describeEachDatabase('saveBatch statements', (target: DatabaseTarget) => {
  const suite = suiteBackend(target);
  const { prefix } = suite;

  beforeEach(async () => {
    const quote = (name: string) => (target.name === 'mysql' ? `\`${name}\`` : `"${name}"`);
    const t = suite.backend.tableNames;
    for (const table of [t.tasks, t.counts, t.durations]) await suite.dataSource.query(`DELETE FROM ${quote(table)}`);
  });

  afterEach(() => jest.restoreAllMocks());

  /** The statements `work` sent: through TypeORM's query runners, and to the SQLite writer thread. */
  async function statementsOf(work: () => Promise<void>): Promise<string[]> {
    const sent: string[] = [];
    // The search indexers' forced folds may come during a long batch (PostgreSQL's on
    // connections of its own, SQLite's on the writer thread): their statements are not the batch's.
    for (const indexer of [PgSearchIndexer, SearchIndexer])
      jest.spyOn(indexer.prototype as never, 'tick' as never).mockImplementation((() => undefined) as never);
    if (target.name === 'postgres') await suite.backend.indexSearch(); // and a fold under way is over
    jest.spyOn(suite.dataSource.logger, 'logQuery').mockImplementation((query: string) => void sent.push(query));
    const call = (SqliteWriter.prototype as unknown as { call: (r: { op: string; sql?: string }) => Promise<unknown> }).call;
    jest.spyOn(SqliteWriter.prototype as never, 'call' as never).mockImplementation(function (
      this: SqliteWriter,
      request: { op: string; sql?: string },
    ) {
      sent.push(request.sql ?? request.op);
      return call.call(this, request);
    } as never);
    await work();
    jest.restoreAllMocks();
    return sent;
  }

  function finished(i: number, overrides: Partial<TaskData> = {}): TaskData {
    return blankTask({
      funcName: `Batch.fn${i % 3}`,
      status: 'success',
      createdAt: BASE + i,
      startTime: BASE + i + 1,
      endTime: BASE + i + 11,
      durable: true,
      owner: 'instance-a',
      ...overrides,
    });
  }

  it('writes a batch of 10,000 new rows, then their updates, in as many statements as a batch of 10', async () => {
    const count = async (n: number, offset: number) => {
      const tasks = Array.from({ length: n }, (_, i) => finished(offset + i, { status: 'pending', startTime: null, endTime: null }));
      // SQLite's search indexer folds while the writer is idle: its fold, in between on a busy
      // machine, took the write lock and the batch's transaction was sent again (8 -> 14
      // statements). Folded beforehand, it has nothing to do until the next write has ended.
      await suite.backend.indexSearch();
      const inserts = await statementsOf(() => suite.backend.saveBatch(tasks));
      await suite.backend.indexSearch();
      const updates = await statementsOf(() =>
        suite.backend.saveBatch(tasks.map((t) => ({ ...t, status: 'success' as const, endTime: BASE, startTime: BASE, version: 2 }))),
      );
      return { inserts: inserts.length, updates: updates.length };
    };
    await suite.backend.saveBatch([finished(-1)]); // the SQLite writer thread starts on the first write
    const small = await count(10, 0);
    const large = await count(10_000, 100);
    if (target.name === 'mysql') {
      // Multi-row VALUES of 500 rows (MySQL has no array parameters), 1,000 ids per lookup,
      // and the search index's terms of 500 rows per statement (the side table, search-index.ts).
      const perBatch = 10_000 / 500 + 10_000 / 1000 + 10_000 / 500;
      expect(large.inserts).toBeLessThanOrEqual(small.inserts + perBatch);
      expect(large.updates).toBeLessThanOrEqual(small.updates + perBatch);
    } else {
      // PostgreSQL: one unnest() statement per kind of write and one array lookup; SQLite: one prepared statement stepped per row.
      expect(large).toEqual(small);
    }
    if (target.name === 'postgres') {
      // START, SET ISOLATION, the locking lookup, one statement for the rows and the NOTIFY
      // (data-modifying CTEs: was two more round trips), one for their counts, COMMIT.
      expect(small).toEqual({ inserts: 6, updates: 6 });
    }
    const metrics = await suite.backend.metrics();
    expect(metrics.total).toBe(10_011);
    expect(metrics.success).toBe(10_011);
    expect(metrics.pending).toBe(0);
    if (target.name === 'postgres') {
      const statements = await statementsOf(() => suite.backend.saveBatch([finished(1, { version: 3 })]));
      const writes = statements.filter((s) => s.includes(`"${prefix}tasks"`));
      expect(writes).toHaveLength(2); // the locking lookup and the upsert
      expect(writes[1]).toContain('pg_notify'); // with the change notice
      // One parameter per column (27) and the NOTIFY's 2, whatever the rows.
      expect(writes[1]).toContain('$29');
      expect(writes.every((s) => !s.includes('$30'))).toBe(true);
      // The metric deltas after it, in one statement: 3 for the one count cell, 4 for the one duration cell.
      const deltas = statements.filter((s) => s.includes(`"${prefix}counts"`));
      expect(deltas).toHaveLength(1);
      expect(statements.indexOf(deltas[0])).toBeGreaterThan(statements.indexOf(writes[1]));
      expect(deltas[0]).toContain(`"${prefix}durations"`);
      expect(deltas[0]).toContain('$7');
      expect(deltas[0]).not.toContain('$8');
    }
  });

  it('keeps exact metrics for a batch whose deltas take more parameters than one statement may carry', async () => {
    // 12,000 functions: 12,000 count cells (3 parameters each) and 12,000 duration cells (4 each),
    // 84,000 parameters: past PostgreSQL's 65,535 for one statement, so the deltas go separately.
    const tasks = Array.from({ length: 12_000 }, (_, i) => finished(i, { funcName: `Wide.fn${i}` }));
    const statements = await statementsOf(() => suite.backend.saveBatch(tasks));
    const metrics = await suite.backend.metrics();
    expect(metrics.total).toBe(12_000);
    expect(metrics.success).toBe(12_000);
    expect(metrics.by_function['Wide.fn11999']?.success).toBe(1);
    // (The rows' write keeps its search queue write as a CTE of its own.)
    if (target.name === 'postgres') expect(statements.some((s) => s.startsWith('WITH') && s.includes(`"${prefix}counts"`))).toBe(false);
  });

  it('stores nulls, awkward text, unicode and large text unchanged, for 1 row and for many', async () => {
    const large = 'x'.repeat(2 * 1024 * 1024 - 7) + '😀"\\,}';
    const variants: Partial<TaskData>[] = [
      {},
      {
        error: null,
        stacktrace: null,
        argsCipher: null,
        idempotencyKey: null,
        owner: null,
        priority: null,
        progress: null,
        startTime: null,
        endTime: null,
      },
      ...AWKWARD.map((text, i) => ({
        error: text,
        stacktrace: `${text}\n at x`,
        logs: [text, `line ${i}`],
        tags: { k: text, [text || 'empty']: 'v' },
        args: [text, { nested: text }, i],
        owner: text || null,
        priority: i - 5.5,
        progress: i / 10,
        result: { text },
        attempts: [{ attempt: 1, startTime: BASE, endTime: BASE + 5, error: text }],
        executor: 'worker' as const,
        runAt: BASE + 60_000,
        retriesUsed: i,
      })),
      { logs: [large], error: large.slice(0, 100_000) },
    ];
    const many = variants.map((v, i) => finished(i, { id: `many-${i}`, ...v }));
    const one = finished(0, { id: 'one', ...variants[2] });
    await suite.backend.saveBatch(many);
    await suite.backend.saveBatch([one]);
    for (const expected of [...many, one]) {
      const stored = await suite.backend.getTask(expected.id);
      expect(stored).toMatchObject({
        id: expected.id,
        status: expected.status,
        error: expected.error,
        stacktrace: expected.stacktrace,
        logs: expected.logs,
        tags: expected.tags,
        args: expected.args,
        owner: expected.owner,
        priority: expected.priority,
        progress: expected.progress,
        startTime: expected.startTime,
        endTime: expected.endTime,
        retriesUsed: expected.retriesUsed,
      });
      expect(stored?.result).toEqual(expected.result);
      expect(stored?.attempts).toEqual(expected.attempts);
      expect(stored?.executor).toEqual(expected.executor);
      expect(stored?.runAt).toEqual(expected.runAt);
    }
  });

  it('replaces NUL characters where the database cannot hold them, and searches the rest', async () => {
    const task = finished(1, { error: 'before\u0000after', logs: ['a\u0000b'] });
    await suite.backend.saveBatch([task]);
    const stored = await suite.backend.getTask(task.id);
    const expected = target.name === 'postgres' ? 'before\uFFFDafter' : 'before\u0000after';
    expect(stored?.error).toBe(expected);
    expect(stored?.logs).toEqual(['a\u0000b']); // JSON escapes it
    const page = await suite.backend.listTasks({ q: 'after', limit: 5 });
    expect(page.items.map((t) => t.id)).toEqual([task.id]);
  });

  it('updates conflicting rows only with a newer or equal version, and counts each row once', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => finished(i, { status: 'running', endTime: null, version: 5 }));
    await suite.backend.saveBatch(rows);
    // A stale writer (an older snapshot, or another instance's lapsed lease) loses; the newer one wins.
    const stale = rows.map((t) => ({ ...t, status: 'failed' as const, error: 'stale', version: 4, unstored: false }));
    const newer = rows.slice(0, 10).map((t) => ({ ...t, status: 'success' as const, endTime: BASE + 99, version: 6, unstored: false }));
    await suite.backend.saveBatch([...stale.slice(10), ...newer]);
    await suite.backend.saveBatch(stale.slice(0, 10));
    const page = await suite.backend.listTasks({ limit: 100 });
    const byStatus = (s: string) => page.items.filter((t) => t.status === s).length;
    expect(byStatus('success')).toBe(10);
    expect(byStatus('running')).toBe(40);
    expect(byStatus('failed')).toBe(0);
    const metrics = await suite.backend.metrics();
    expect(metrics.total).toBe(50);
    expect(metrics.success).toBe(10);
    expect(metrics.running).toBe(40);
  });
});
