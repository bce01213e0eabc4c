import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { blankTask } from '../support/task-data';
import { DataSource } from 'typeorm';
import { TypeOrmTaskBackend, sqliteOptions } from '../../lib/persistence/typeorm';
import { Connection } from '../../lib/persistence/typeorm/connection';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { bucketOf, GROWTH, percentile, readMetrics } from '../../lib/persistence/typeorm/metrics';
import { escapeLike } from '../../lib/persistence/typeorm/query-builder';
import { TaskData } from '../../lib/task/task-record';

describe('duration histogram', () => {
  it('puts every duration in a bucket at most 5 % wide', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.4)).toBe(0);
    for (const ms of [1, 2, 7, 99, 100, 101, 1000, 12_345, 86_400_000]) {
      const b = bucketOf(ms);
      expect(b).toBeGreaterThanOrEqual(1);
      const low = GROWTH ** (b - 1);
      const high = GROWTH ** b;
      expect(ms).toBeGreaterThanOrEqual(low * (1 - 1e-9));
      expect(ms).toBeLessThan(high * (1 + 1e-9));
      expect(high / low).toBeCloseTo(1.05, 10);
    }
    expect(bucketOf(1000)).not.toBe(bucketOf(1051));
  });

  it('ranks by nearest rank and reports the mean of the bucket', () => {
    const h = [
      { count: 1, sumMs: 500 },
      { count: 2, sumMs: 2000 },
      { count: 1, sumMs: 3000 },
    ];
    expect(percentile(h, 0.5)).toBe(1); // rank 2 of 4
    expect(percentile(h, 0.95)).toBe(3); // rank 4 of 4
    expect(percentile([], 0.5)).toBeNull();
  });

  it('escapes LIKE wildcards and the escape character itself', () => {
    expect(escapeLike('100%_!x')).toBe('100!%!_!!x');
  });
});

describe('metrics without window functions (MySQL 5.7 / MariaDB < 10.2 path)', () => {
  let dir: string;
  let dataSource: DataSource;
  let backend: TypeOrmTaskBackend;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-metrics-'));
    dataSource = new DataSource(sqliteOptions(path.join(dir, 'm.db')));
    backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: 'm_' });
    await backend.open();
  });

  afterAll(async () => {
    await backend.close();
    await dataSource.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same numbers as the window-function query', async () => {
    const base = Date.UTC(2026, 0, 1);
    const tasks: TaskData[] = [];
    for (let i = 0; i < 300; i++) {
      const funcName = `F${i % 4}`;
      const ms = Math.round(3 + ((i * 7919) % 20_000));
      tasks.push(
        blankTask({
          funcName,
          status: i % 5 === 0 ? 'failed' : i % 11 === 0 ? 'pending' : 'success',
          createdAt: base + i,
          startTime: i % 11 === 0 ? null : base,
          endTime: i % 11 === 0 ? null : base + ms,
        }),
      );
    }
    await backend.saveBatch(tasks);
    const withWindows = await backend.metrics();
    const fallback = new Connection(dataSource, new Dialect('sqlite', { skipLocked: true, windowFunctions: false }));
    const without = await fallback.read((sql) => readMetrics(sql, backend.tableNames));
    expect(without).toEqual(withWindows);
    expect(Object.keys(withWindows.by_function)).toEqual(['F0', 'F1', 'F2', 'F3']);
    for (const f of Object.values(withWindows.by_function)) expect(f.p95_duration_seconds).not.toBeNull();
  });
});
