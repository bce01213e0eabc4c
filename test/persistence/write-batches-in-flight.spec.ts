import { Logger } from '@nestjs/common';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { WriteBehind } from '../../lib/storage/write-behind';
import { TaskData } from '../../lib/task/task-record';
import { DatabaseTarget, describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';

const N = 12_000;
/** Tasks moved one step on (pending -> running -> success) each time a batch is sent. */
const STEP = 2_000;

/**
 * The real backend, watched: how many batches are in flight at once, and that no batch
 * holds a task whose earlier change is still in flight in another one.
 */
class WatchedBackend extends TypeOrmTaskBackend {
  inFlight = 0;
  maxInFlight = 0;
  readonly sending = new Set<string>();
  readonly overtaken: string[] = [];
  /** Per task, the versions in the order their batches were sent. */
  readonly sent = new Map<string, number[]>();
  onSend: () => void = () => undefined;

  override async saveBatch(tasks: readonly TaskData[]): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    for (const task of tasks) {
      if (this.sending.has(task.id)) this.overtaken.push(task.id);
      this.sending.add(task.id);
      const versions = this.sent.get(task.id) ?? [];
      versions.push(task.version);
      this.sent.set(task.id, versions);
    }
    this.onSend();
    try {
      await super.saveBatch(tasks);
    } finally {
      for (const task of tasks) this.sending.delete(task.id);
      this.inFlight--;
    }
  }
}

/**
 * Two batches in flight at once (PostgreSQL: writeBatchesInFlight 2), fed the way the
 * engine feeds them: tasks change again while batches holding them are being written.
 * Every row must end in its last state, the metric aggregates must equal a recount of the
 * rows (two transactions' deltas on the same aggregate rows), and no task's later change
 * may be sent while an earlier one is still in flight. SQLite keeps one batch in flight.
 */
describeEachDatabase(
  'write-behind, batches in flight at once',
  (target: DatabaseTarget) => {
    const prefix = uniquePrefix();
    let backend: WatchedBackend;
    let writer: WriteBehind;

    beforeAll(async () => {
      Logger.overrideLogger(false);
      backend = new WatchedBackend(target.options, { tablePrefix: prefix });
      await backend.open();
    });
    afterAll(async () => {
      Logger.overrideLogger(['log', 'error', 'warn']);
      await writer?.stop(5_000);
      await backend?.dropTables();
      await backend?.close();
    });

    it('stores every task in its last state with exact aggregates, each task in order', async () => {
      writer = new WriteBehind(backend, 60_000);
      const tasks: TaskData[] = [];
      const t0 = Date.now();
      for (let i = 0; i < N; i++) tasks.push(blankTask({ funcName: i % 3 === 0 ? 'Burst.a' : 'Burst.b', durable: true, createdAt: t0 + i }));
      // Each send moves the next STEP tasks one step on, while that batch is in flight.
      let next = 0;
      backend.onSend = () => {
        for (let moved = 0; moved < STEP && next < 2 * N; moved++, next++) {
          const task = tasks[next % N];
          task.version++;
          if (next < N) {
            task.status = 'running';
            task.startTime = t0 + next;
          } else {
            task.status = 'success';
            task.endTime = task.startTime! + (next % 50);
          }
          writer.changed(task);
        }
      };
      for (const task of tasks) writer.changed(task);
      await writer.flush();
      // Changes made by the last sends' hook are queued after flush's batches: written by now too.
      while (writer.backlog > 0) await writer.flush();

      const expected = target.name === 'postgres' ? 2 : 1;
      expect(backend.maxInFlight).toBe(expected);
      expect(backend.overtaken).toEqual([]);
      for (const versions of backend.sent.values()) expect(versions).toEqual([...versions].sort((a, b) => a - b));

      const stored = await backend.getTasks(tasks.map((t) => t.id));
      expect(stored.length).toBe(N);
      const wrong = stored.filter((row) => row.status !== 'success' || row.version !== 3);
      expect(wrong.map((row) => `${row.id}:${row.status}:${row.version}`)).toEqual([]);

      const metrics = await backend.metrics();
      expect([metrics.total, metrics.success, metrics.pending, metrics.running]).toEqual([N, N, 0, 0]);
      const q = (name: string) => backend.source.driver.escape(name);
      const recount = await backend.source.query(`SELECT func_name, status, COUNT(*) AS n FROM ${q(`${prefix}tasks`)} GROUP BY func_name, status`);
      const counts = await backend.source.query(`SELECT func_name, status, cnt FROM ${q(`${prefix}counts`)} WHERE cnt <> 0`);
      const byKey = (rows: Record<string, unknown>[], col: string) =>
        Object.fromEntries(rows.map((r) => [`${String(r.func_name)}/${String(r.status)}`, Number(r[col])]));
      expect(byKey(counts, 'cnt')).toEqual(byKey(recount, 'n'));
      expect(byKey(recount, 'n')).toEqual({ 'Burst.a/success': N / 3, 'Burst.b/success': (2 * N) / 3 });
      const durations = await backend.source.query(
        `SELECT func_name, SUM(cnt) AS n, SUM(sum_ms) AS ms FROM ${q(`${prefix}durations`)} GROUP BY func_name`,
      );
      const rowDurations = await backend.source.query(
        `SELECT func_name, COUNT(*) AS n, SUM(duration_ms) AS ms FROM ${q(`${prefix}tasks`)} WHERE duration_ms IS NOT NULL GROUP BY func_name`,
      );
      const byFunc = (rows: Record<string, unknown>[]) => Object.fromEntries(rows.map((r) => [String(r.func_name), [Number(r.n), Number(r.ms)]]));
      expect(byFunc(durations)).toEqual(byFunc(rowDurations));
    }, 120_000);
  },
  ['postgres', 'sqlite'],
);

describe('write batches in flight by pool size (PostgreSQL options; no connection is opened)', () => {
  const pg = { type: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test' } as const;

  it('two with the default pool (pg: 10) or one of at least 4, one with a smaller pool', () => {
    expect(new TypeOrmTaskBackend(pg).capabilities.writeBatchesInFlight).toBe(2);
    expect(new TypeOrmTaskBackend({ ...pg, poolSize: 4 }).capabilities.writeBatchesInFlight).toBe(2);
    expect(new TypeOrmTaskBackend({ ...pg, poolSize: 3 }).capabilities.writeBatchesInFlight).toBe(1);
    expect(new TypeOrmTaskBackend({ ...pg, extra: { max: 2 } }).capabilities.writeBatchesInFlight).toBe(1);
  });

  it('one on SQLite whatever the pool', () => {
    expect(new TypeOrmTaskBackend({ type: 'better-sqlite3', database: ':memory:' }).capabilities.writeBatchesInFlight).toBe(1);
  });
});
