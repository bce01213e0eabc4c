import { TaskData, TaskQuery } from '../../lib';
import { groupFailures } from '../../lib/engine/task-insights.service';
import { TypeOrmInsights } from '../../lib/persistence/typeorm/insights';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { pageOf } from '../../lib/storage/task-filter';
import { TASK_SORTS } from '../../lib/task/task-query';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { history } from './seed';

/** The list's sort/search and the insight queries behave the same on every database as in memory. */
describeEachDatabase('dashboard queries', (target) => {
  let backend: TypeOrmTaskBackend;
  let insights: TypeOrmInsights;
  let seeded: TaskData[];
  const now = Date.now();

  beforeAll(async () => {
    backend = new TypeOrmTaskBackend(target.options, { tablePrefix: uniquePrefix() });
    await backend.open();
    seeded = history(now);
    await backend.saveBatch(seeded);
    insights = new TypeOrmInsights(backend);
  });

  afterAll(async () => {
    await backend.dropTables();
    await backend.close();
  });

  /** Rows as comparable keys: equal created_at ties (one pair) are ordered by id in SQL, by arrival in memory. */
  const key = (t: TaskData) =>
    `${t.createdAt} ${t.funcName} ${t.status} ${t.startTime !== null && t.endTime !== null ? t.endTime - t.startTime : null}`;

  it('sorts, filters and pages as the in-memory listing does', async () => {
    const queries: TaskQuery[] = [];
    for (const sort of TASK_SORTS) {
      queries.push({ sort, limit: 100 });
      queries.push({ sort, limit: 7, offset: 5 });
      queries.push({ sort, status: 'failed', limit: 4, offset: 2 });
      queries.push({ sort, funcName: 'Jobs.ok', limit: 6, offset: 3 });
      queries.push({ sort, funcName: 'Jobs.ok', status: 'success', limit: 5, offset: 10 });
      queries.push({ sort, search: 'acme', limit: 5, offset: 1 });
      queries.push({ sort, limit: 5, offset: 1000 });
    }
    for (const query of queries) {
      const got = await backend.listTasks(query);
      const want = pageOf(seeded, query);
      expect([query, got.total, got.items.map(key)]).toEqual([query, want.total, want.items.map(key)]);
    }
  });

  it('searches id, name, error and tags case-insensitively, args only when asked, and % literally', async () => {
    const total = async (query: TaskQuery) => (await backend.listTasks({ ...query, limit: 1 })).total;
    expect(await total({ search: 'ACME' })).toBe(12);
    expect(await total({ search: 'GLOBEX' })).toBe(6);
    expect(await total({ q: 'acme' })).toBe(0);
    expect(await total({ search: 'user3@example.COM' })).toBe(0);
    expect(await total({ search: 'user3@example.COM', searchArgs: true })).toBe(1);
    expect(await total({ search: 'econnrefused' })).toBe(3);
    expect(await total({ search: '%' })).toBe(0);
    expect(await total({ search: '_' })).toBe(0);
    expect(await total({ search: seeded[3].id.toUpperCase() })).toBe(1);
  });

  it('counts finished tasks per minute and status from the end-time index', async () => {
    const from = Math.floor(now / 60_000) * 60_000 - 59 * 60_000;
    const rows = await insights.throughput(from);
    const want = new Map<string, number>();
    for (const t of seeded) {
      const end = t.endTime ?? t.createdAt;
      if (end < from) continue;
      const k = `${Math.floor((end - from) / 60_000)} ${t.status}`;
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    const got = new Map(rows.map((r) => [`${r.minute} ${r.status}`, r.count]));
    expect(got).toEqual(want);
  });

  it('reads per-function counts, percentiles and last failures from the aggregates and one seek each', async () => {
    const functions = await insights.functions();
    const ok = functions.find((f) => f.funcName === 'Jobs.ok')!;
    expect(ok.counts).toEqual({ success: 14, failed: 3, cancelled: 1 });
    expect(ok.p95).toBeCloseTo(1.2, 2);
    const last = await insights.lastFailures(['Jobs.fail', 'Jobs.ok', 'Old.gone']);
    const newest = seeded.filter((t) => t.funcName === 'Jobs.fail').sort((a, b) => b.createdAt - a.createdAt)[0];
    expect(last.get('Jobs.fail')).toEqual(expect.objectContaining({ id: newest.id, error: newest.error }));
    expect(last.has('Old.gone')).toBe(false);
  });

  it('reads the newest failures of a window per status and groups them', async () => {
    const rows = await insights.failures(['failed', 'interrupted'], now - 86_400_000, undefined, 100);
    expect(rows).toHaveLength(10);
    const groups = groupFailures(rows.sort((a, b) => b.createdAt - a.createdAt));
    expect(groups.map((g) => g.count)).toEqual([6, 3, 1]);
    const limited = await insights.failures(['failed'], null, 'Jobs.fail', 2);
    expect(limited.map((r) => r.id)).toEqual(
      seeded
        .filter((t) => t.funcName === 'Jobs.fail')
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, 2)
        .map((t) => t.id),
    );
  });
});
