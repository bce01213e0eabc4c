import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { SCHEMA_VERSION } from '../../lib/persistence/typeorm/schema';
import { AuditEntry } from '../../lib/task/audit-entry';
import { TaskData } from '../../lib/task/task-record';
import { DatabaseTarget, describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';

const BASE = Date.UTC(2026, 3, 30, 10, 0, 0);

function task(overrides: Partial<TaskData> = {}): TaskData {
  return blankTask({ funcName: 'EmailService.sendEmail', createdAt: BASE, ...overrides });
}

/** A finished task that ran for `ms` milliseconds. */
function finished(funcName: string, status: TaskData['status'], ms: number, overrides: Partial<TaskData> = {}): TaskData {
  return task({ funcName, status, startTime: BASE + 1000, endTime: BASE + 1000 + ms, ...overrides });
}

function audit(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    entry_id: randomUUID(),
    action: 'retry',
    task_id: randomUUID(),
    actor: 'anonymous',
    timestamp: new Date(BASE).toISOString(),
    detail: {},
    ...overrides,
  };
}

describeEachDatabase('TypeOrmTaskBackend', (target: DatabaseTarget) => {
  const prefix = uniquePrefix();
  let dataSource: DataSource;
  let backend: TypeOrmTaskBackend;
  /** A second DataSource on the same database: another instance of the app. */
  let otherSource: DataSource;
  let other: TypeOrmTaskBackend;

  beforeAll(async () => {
    dataSource = new DataSource(target.options);
    backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: prefix });
    await backend.open();
    otherSource = new DataSource(target.options);
    other = new TypeOrmTaskBackend(otherSource, { tablePrefix: prefix });
    await other.open();
  });

  afterAll(async () => {
    await backend?.dropTables().catch(() => undefined);
    await other?.close();
    await backend?.close();
    if (otherSource?.isInitialized) await otherSource.destroy();
    if (dataSource?.isInitialized) await dataSource.destroy();
  });

  beforeEach(async () => {
    const quote = (name: string) => (target.name === 'mysql' ? `\`${name}\`` : `"${name}"`);
    const t = backend.tableNames;
    for (const table of [t.tasks, t.instances, t.leases, t.idempotency, t.audit, t.counts, t.durations]) {
      await dataSource.query(`DELETE FROM ${quote(table)}`);
    }
  });

  describe('open and kind', () => {
    it('reports the database kind', () => {
      const expected = { sqlite: ['sqlite'], postgres: ['postgres'], mysql: ['mysql', 'mariadb'] }[target.name];
      expect(expected).toContain(backend.kind);
    });

    it('opens again on existing tables, and records the schema version', async () => {
      await backend.open();
      const third = new TypeOrmTaskBackend(dataSource, { tablePrefix: prefix });
      await third.open();
      await third.close();
      expect(dataSource.isInitialized).toBe(true);
      const quote = target.name === 'mysql' ? '`' : '"';
      const rows = await dataSource.query(`SELECT value FROM ${quote}${prefix}meta${quote} WHERE name = 'schema_version'`);
      expect(rows.map((r: { value: string }) => String(r.value))).toEqual([String(SCHEMA_VERSION)]);
    });

    it('rejects a table prefix that is not a plain identifier', () => {
      expect(() => new TypeOrmTaskBackend(dataSource, { tablePrefix: 'x"; DROP' })).toThrow(/tablePrefix/);
    });
  });

  describe('saveBatch and getTask', () => {
    it('round-trips every field, including unicode, quotes and JSON-looking text', async () => {
      const nasty = `it's "quoted" \\ back\\slash 100% _under_ \u00e9\u00e8 \u65e5\u672c \u{1F680} {"json":true} ' OR 1=1; --`;
      const full = task({
        id: randomUUID(),
        funcName: 'Reports.build\u00e9',
        status: 'failed',
        createdAt: BASE,
        startTime: BASE + 1000,
        endTime: BASE + 2020,
        retriesUsed: 3,
        error: `Error: ${nasty}`,
        stacktrace: `Error: ${nasty}\n    at x (file.ts:1:2)`,
        logs: ['2026-04-30T10:00:01 first', nasty, '--- Retry 1 ---', ''],
        tags: { source: 'signup', [nasty]: nasty, 'a"b': 'c\\d', empty: '' },
        source: 'scheduled',
        priority: 2.5,
        progress: 0.75,
        args: [nasty, 42, null, true, { nested: [1, 'two', { three: nasty }] }, [], 1.5e-7],
        argsCipher: 'c2VjcmV0',
        idempotencyKey: `key ${nasty}`,
        durable: true,
        owner: 'instance-1',
        version: 7,
      });
      const minimal = task({ id: randomUUID() });
      await backend.saveBatch([full, minimal]);
      expect(await backend.getTask(full.id)).toEqual(full);
      expect(await backend.getTask(minimal.id)).toEqual(minimal);
      expect(await backend.getTask('missing')).toBeNull();
    });

    it('stores NUL characters (PostgreSQL text columns get U+FFFD instead, JSON columns keep them)', async () => {
      const t = task({ error: 'Error: a\u0000b', logs: ['x\u0000y'], tags: { k: 'v\u0000' }, args: ['\u0000'] });
      await backend.saveBatch([t]);
      const stored = await backend.getTask(t.id);
      expect(stored?.logs).toEqual(['x\u0000y']);
      expect(stored?.tags).toEqual({ k: 'v\u0000' });
      expect(stored?.args).toEqual(['\u0000']);
      expect(stored?.error).toBe(target.name === 'postgres' ? 'Error: a\uFFFDb' : 'Error: a\u0000b');
    });

    it('inserts tasks created here without a lookup, and still updates one whose row exists after all', async () => {
      const fresh = task({ id: randomUUID(), unstored: true, version: 1 });
      await backend.saveBatch([fresh]);
      expect(await backend.getTask(fresh.id)).toEqual(expect.objectContaining({ id: fresh.id, status: 'pending', version: 1 }));
      // Its first write committed but was never confirmed: it is still flagged unstored.
      const again = { ...fresh, status: 'success' as const, startTime: BASE + 10, endTime: BASE + 30, version: 3 };
      const newer = task({ id: randomUUID(), unstored: true, version: 1 });
      await backend.saveBatch([again, newer]);
      expect(await backend.getTask(fresh.id)).toEqual(expect.objectContaining({ status: 'success', version: 3 }));
      expect(await backend.getTask(newer.id)).toEqual(expect.objectContaining({ status: 'pending' }));
      const metrics = await backend.metrics();
      expect([metrics.total, metrics.pending, metrics.success]).toEqual([2, 1, 1]);
    });

    it('does not let an older version overwrite a newer one', async () => {
      const id = randomUUID();
      await backend.saveBatch([task({ id, status: 'running', version: 2, startTime: BASE })]);
      await backend.saveBatch([task({ id, status: 'pending', version: 1 })]);
      expect((await backend.getTask(id))?.status).toBe('running');
      await backend.saveBatch([finished('EmailService.sendEmail', 'success', 100, { id, version: 2 })]);
      expect((await backend.getTask(id))?.status).toBe('success');
      await backend.saveBatch([task({ id, status: 'failed', version: 3 })]);
      expect((await backend.getTask(id))?.status).toBe('failed');
      // several copies of one task in a batch: the highest version wins
      const twin = randomUUID();
      await backend.saveBatch([task({ id: twin, status: 'running', version: 5 }), task({ id: twin, status: 'pending', version: 4 })]);
      expect((await backend.getTask(twin))?.version).toBe(5);
      const metrics = await backend.metrics();
      expect(metrics.total).toBe(2);
      expect(metrics.failed).toBe(1);
      expect(metrics.running).toBe(1);
      expect(metrics.success).toBe(0);
      expect(metrics.pending).toBe(0);
    });

    it('a stale write from another instance is ignored too', async () => {
      const id = randomUUID();
      await backend.saveBatch([task({ id, version: 3, status: 'running' })]);
      await other.saveBatch([task({ id, version: 2, status: 'cancelled' })]);
      expect((await other.getTask(id))?.status).toBe('running');
    });

    it('keeps rows and metrics exact when two instances write the same new tasks at once', async () => {
      const ids = Array.from({ length: 300 }, () => randomUUID());
      const batches = (status: TaskData['status'], version: number) =>
        Array.from({ length: 6 }, (_, b) =>
          ids
            .slice(b * 50, b * 50 + 50)
            .map((id) =>
              status === 'success' ? finished('Race.fn', status, 250, { id, version }) : task({ id, funcName: 'Race.fn', status, version }),
            ),
        );
      const started = Date.now();
      await Promise.all([
        ...batches('running', 1).map((batch) => backend.saveBatch(batch)),
        ...batches('success', 2).map((batch) => other.saveBatch(batch)),
      ]);
      expect(Date.now() - started).toBeLessThan(5000); // nobody waited out a busy timeout
      const m = await backend.metrics();
      expect(m).toMatchObject({ total: 300, success: 300, running: 0, avg_duration_seconds: 0.25 });
      const page = await backend.listTasks({ funcName: 'Race.fn', limit: 500 });
      expect(page.items.every((t) => t.status === 'success' && t.version === 2)).toBe(true);
      expect(page.total).toBe(300);
    });

    // How many statements a batch takes: batch-statements.spec.ts counts them (the durable bench rows measure the speed).
    it('writes a batch of 10,000 rows, and their updates, keeping listing and metrics exact', async () => {
      const tasks = Array.from({ length: 10_000 }, (_, i) =>
        finished(`Bulk.fn${i % 7}`, i % 10 === 0 ? 'failed' : 'success', 10 + (i % 100), {
          createdAt: BASE + i,
          logs: [`line ${i}`],
          tags: { n: String(i % 3) },
        }),
      );
      await backend.saveBatch(tasks);
      await backend.saveBatch(tasks.map((t) => ({ ...t, version: t.version + 1 })));
      const metrics = await backend.metrics();
      expect(metrics.total).toBe(10_000);
      expect(metrics.failed).toBe(1000);
      const page = await backend.listTasks({ limit: 5 });
      expect(page.total).toBe(10_000);
      expect(page.items.map((t) => t.createdAt)).toEqual([9999, 9998, 9997, 9996, 9995].map((i) => BASE + i));
    });
  });

  describe('listTasks', () => {
    const ids = {
      a: '00000000-0000-4000-8000-00000000000a',
      b: '00000000-0000-4000-8000-00000000000b',
      c: '00000000-0000-4000-8000-00000000000c',
    };

    async function fixtures(): Promise<TaskData[]> {
      const rows = [
        task({ id: ids.a, funcName: 'Mail.send', status: 'success', createdAt: BASE + 3000 }),
        task({ id: ids.b, funcName: 'Mail.send', status: 'failed', createdAt: BASE + 3000, error: 'SmtpError: 50% of_quota EXCEEDED' }),
        task({ id: ids.c, funcName: 'mail.SEND', status: 'pending', createdAt: BASE + 1000 }),
        task({ funcName: 'Report.build', status: 'running', createdAt: BASE + 2000, error: null }),
        task({ funcName: 'Report.build', status: 'failed', createdAt: BASE, error: 'TypeError: Ünïcödé BROKE' }),
      ];
      await backend.saveBatch(rows);
      return rows;
    }

    it('orders newest first, ties by id descending, and pages with a total', async () => {
      const rows = await fixtures();
      const all = await backend.listTasks({});
      expect(all.total).toBe(5);
      expect(all.items.map((t) => t.id)).toEqual([ids.b, ids.a, rows[3].id, ids.c, rows[4].id]);
      const page = await backend.listTasks({ limit: 2, offset: 1 });
      expect(page.items.map((t) => t.id)).toEqual([ids.a, rows[3].id]);
      expect(page.total).toBe(5);
      const beyond = await backend.listTasks({ limit: 2, offset: 10 });
      expect(beyond).toEqual({ items: [], total: 5 });
    });

    it('filters by status, exact function name and since', async () => {
      await fixtures();
      const failed = await backend.listTasks({ status: 'failed', limit: 1 });
      expect(failed.total).toBe(2);
      expect(failed.items).toHaveLength(1);
      const mail = await backend.listTasks({ funcName: 'Mail.send' });
      expect(mail.items.map((t) => t.id).sort()).toEqual([ids.a, ids.b]);
      expect(mail.total).toBe(2);
      expect((await backend.listTasks({ funcName: 'mail.send' })).total).toBe(0);
      const both = await backend.listTasks({ funcName: 'Mail.send', status: 'failed', limit: 1, offset: 0 });
      expect(both).toMatchObject({ total: 1 });
      expect(both.items[0].id).toBe(ids.b);
      const since = await backend.listTasks({ since: BASE + 2000, limit: 1 });
      expect(since.total).toBe(3);
      expect(since.items[0].id).toBe(ids.b);
    });

    it('searches id, function name and error case-insensitively, with % and _ taken literally', async () => {
      const rows = await fixtures();
      expect((await backend.listTasks({ q: 'MAIL.SEND' })).total).toBe(3);
      expect((await backend.listTasks({ q: '50% of_quota' })).items.map((t) => t.id)).toEqual([ids.b]);
      expect((await backend.listTasks({ q: '5_%' })).total).toBe(0);
      expect((await backend.listTasks({ q: '%' })).items.map((t) => t.id)).toEqual([ids.b]);
      expect((await backend.listTasks({ q: '_' })).items.map((t) => t.id)).toEqual([ids.b]);
      expect((await backend.listTasks({ q: 'SmtpError_' })).total).toBe(0);
      expect((await backend.listTasks({ q: '00000000000C' })).items.map((t) => t.id)).toEqual([ids.c]);
      expect((await backend.listTasks({ q: 'exceeded' })).items.map((t) => t.id)).toEqual([ids.b]);
      expect((await backend.listTasks({ q: 'ünïcödé broke' })).items.map((t) => t.id)).toEqual([rows[4].id]);
      const page = await backend.listTasks({ q: 'mail', limit: 1, offset: 1 });
      expect(page.total).toBe(3);
      expect(page.items.map((t) => t.id)).toEqual([ids.a]);
    });

    it('matches every tag exactly, including quotes, wildcards, backslashes and unicode', async () => {
      const special = { 'we"ird': 'va"l\\ue', 'pct%': '100%', und_er: 'a_b', ключ: 'значение 🚀', 'a:b': 'c:d' };
      const match = task({ createdAt: BASE + 10, tags: { ...special, source: 'signup' } });
      const partial = task({ createdAt: BASE + 9, tags: { 'we"ird': 'va"l\\ue' } });
      const lookalikes = task({
        createdAt: BASE + 8,
        tags: { 'pct%': '100x', und_er: 'aXb', 'x"pct%': '100%', 'a"und_er': 'a_b', source: 'signupX' },
      });
      const escapedKey = task({ createdAt: BASE + 7, tags: { 'x"source': 'signup' } });
      await backend.saveBatch([match, partial, lookalikes, escapedKey]);

      const bySpecial = await backend.listTasks({ tags: special });
      expect(bySpecial.items.map((t) => t.id)).toEqual([match.id]);
      expect(bySpecial.total).toBe(1);
      expect((await backend.listTasks({ tags: { 'we"ird': 'va"l\\ue' } })).total).toBe(2);
      expect((await backend.listTasks({ tags: { 'pct%': '100%' } })).items.map((t) => t.id)).toEqual([match.id]);
      expect((await backend.listTasks({ tags: { und_er: 'a_b' } })).items.map((t) => t.id)).toEqual([match.id]);
      // `{"x\"source":"signup"}` contains `"source":"signup"`: excluded by the exact check
      const source = await backend.listTasks({ tags: { source: 'signup' } });
      expect(source.items.map((t) => t.id)).toEqual([match.id]);
      expect(source.total).toBe(1);
      expect((await backend.listTasks({ tags: { source: 'SIGNUP' } })).total).toBe(0);
      expect((await backend.listTasks({ tags: { ключ: 'значение 🚀', 'a:b': 'c:d' }, status: 'pending' })).total).toBe(1);
      const paged = await backend.listTasks({ tags: { 'we"ird': 'va"l\\ue' }, limit: 1, offset: 1 });
      expect(paged).toMatchObject({ total: 2 });
      expect(paged.items.map((t) => t.id)).toEqual([partial.id]);
    });
  });

  describe('metrics', () => {
    it('is empty on an empty table', async () => {
      expect(await backend.metrics()).toEqual({
        total: 0,
        pending: 0,
        running: 0,
        success: 0,
        failed: 0,
        interrupted: 0,
        cancelled: 0,
        success_rate: null,
        avg_duration_seconds: null,
        p50_duration_seconds: null,
        p95_duration_seconds: null,
        by_function: {},
      });
    });

    it('computes counts, rates, averages and percentiles from the aggregate', async () => {
      // durations (ms) 500, 1000, 2000, 3000, 4000, 10000: one per histogram bucket, so exact
      await backend.saveBatch([
        finished('A', 'success', 1000),
        finished('A', 'success', 2000),
        finished('A', 'success', 3000),
        finished('A', 'failed', 500),
        task({ funcName: 'A', status: 'running', startTime: BASE }),
        task({ funcName: 'A', status: 'pending' }),
        finished('B', 'success', 10000),
        task({ funcName: 'B', status: 'cancelled', endTime: BASE + 5 }),
        finished('B', 'interrupted', 4000),
      ]);
      const m = await backend.metrics();
      expect(m).toMatchObject({ total: 9, pending: 1, running: 1, success: 4, failed: 1, interrupted: 1, cancelled: 1 });
      expect(m.success_rate).toBe(Math.round((4 / 7) * 1e6) / 1e6);
      expect(m.avg_duration_seconds).toBeCloseTo(20.5 / 6, 6);
      // nearest rank over [0.5, 1, 2, 3, 4, 10]: p50 = 3rd = 2, p95 = 6th = 10
      expect(m.p50_duration_seconds).toBeCloseTo(2, 6);
      expect(m.p95_duration_seconds).toBeCloseTo(10, 6);
      expect(Object.keys(m.by_function).sort()).toEqual(['A', 'B']);
      expect(m.by_function.A).toEqual({
        total: 6,
        success: 3,
        failed: 1,
        success_rate: 0.75,
        avg_duration_seconds: 1.625,
        p95_duration_seconds: 3,
      });
      expect(m.by_function.B.total).toBe(3);
      expect(m.by_function.B.success).toBe(1);
      expect(m.by_function.B.failed).toBe(0);
      expect(m.by_function.B.success_rate).toBe(0.333333);
      expect(m.by_function.B.avg_duration_seconds).toBeCloseTo(7, 6);
      expect(m.by_function.B.p95_duration_seconds).toBeCloseTo(10, 6);
    });

    it('keeps percentiles within the histogram resolution for spread-out durations', async () => {
      const durations = Array.from({ length: 200 }, (_, i) => 37 + i * i * 3);
      await backend.saveBatch(durations.map((ms) => finished('Spread', 'success', ms)));
      const sorted = [...durations].sort((a, b) => a - b);
      const rank = (p: number) => sorted[Math.ceil(p * sorted.length) - 1] / 1000;
      const m = await backend.metrics();
      expect(Math.abs(m.p50_duration_seconds! - rank(0.5)) / rank(0.5)).toBeLessThanOrEqual(0.05);
      expect(Math.abs(m.p95_duration_seconds! - rank(0.95)) / rank(0.95)).toBeLessThanOrEqual(0.05);
      expect(m.avg_duration_seconds).toBeCloseTo(durations.reduce((a, b) => a + b, 0) / 200 / 1000, 5);
    });

    it('follows a task through its statuses without double counting', async () => {
      const t = task({ funcName: 'Flow', status: 'pending', version: 1 });
      await backend.saveBatch([t]);
      await backend.saveBatch([{ ...t, status: 'running', startTime: BASE, version: 2 }]);
      await backend.saveBatch([{ ...t, status: 'success', startTime: BASE, endTime: BASE + 1500, version: 3 }]);
      await backend.saveBatch([{ ...t, status: 'success', startTime: BASE, endTime: BASE + 1500, version: 3, logs: ['x'] }]);
      const m = await backend.metrics();
      expect(m).toMatchObject({ total: 1, pending: 0, running: 0, success: 1, success_rate: 1 });
      expect(m.avg_duration_seconds).toBe(1.5);
      expect(m.by_function.Flow).toMatchObject({ total: 1, success: 1, p95_duration_seconds: 1.5 });
    });
  });

  describe('deleteTerminalBefore', () => {
    it('deletes old terminal rows in batches, keeping metrics and idempotency keys right', async () => {
      const cutoff = BASE + 10_000;
      const oldSuccess = finished('P', 'success', 1000, { createdAt: BASE });
      const oldFailed = finished('P', 'failed', 2000, { createdAt: BASE, idempotencyKey: 'k-old' });
      const cancelledNoEnd = task({ funcName: 'P', status: 'cancelled', createdAt: BASE });
      const recent = finished('P', 'success', 1000, { createdAt: BASE, endTime: cutoff + 1, startTime: cutoff - 999 });
      const oldPending = task({ funcName: 'P', status: 'pending', createdAt: BASE - 1_000_000 });
      const oldRunning = task({ funcName: 'P', status: 'running', createdAt: BASE - 1_000_000, startTime: BASE });
      await backend.saveBatch([oldSuccess, oldFailed, cancelledNoEnd, recent, oldPending, oldRunning]);
      expect(await backend.reserveIdempotencyKey('k-old', oldSuccess.id)).toBe(oldSuccess.id);

      const first = await backend.deleteTerminalBefore(cutoff, 2);
      expect(first).toHaveLength(2);
      const second = await backend.deleteTerminalBefore(cutoff, 2);
      expect(second).toHaveLength(1);
      expect(await backend.deleteTerminalBefore(cutoff, 2)).toEqual([]);
      expect([...first, ...second].sort()).toEqual([oldSuccess.id, oldFailed.id, cancelledNoEnd.id].sort());

      const m = await backend.metrics();
      expect(m).toMatchObject({ total: 3, success: 1, pending: 1, running: 1, failed: 0, cancelled: 0 });
      expect(m.avg_duration_seconds).toBe(1);
      expect(m.by_function.P).toMatchObject({ total: 3, success: 1, failed: 0, success_rate: 1 });
      expect((await backend.listTasks({})).total).toBe(3);
      expect((await backend.listTasks({ status: 'success' })).total).toBe(1);
      // the key of the pruned task is free again
      const fresh = randomUUID();
      expect(await backend.reserveIdempotencyKey('k-old', fresh)).toBe(fresh);
    });
  });

  describe('claims and instances', () => {
    it('claims durable unfinished orphans only, and bumps their version', async () => {
      await backend.heartbeat('alive', 60);
      await backend.heartbeat('dead', -5);
      const orphanNoOwner = task({ durable: true, status: 'pending', createdAt: BASE + 1 });
      const orphanDeadOwner = task({ durable: true, status: 'running', owner: 'dead', createdAt: BASE + 2 });
      const orphanUnknownOwner = task({ durable: true, status: 'pending', owner: 'gone', createdAt: BASE + 3 });
      const held = task({ durable: true, status: 'pending', owner: 'alive' });
      const notDurable = task({ durable: false, status: 'pending' });
      const done = finished('X', 'success', 10, { durable: true });
      await backend.saveBatch([orphanNoOwner, orphanDeadOwner, orphanUnknownOwner, held, notDurable, done]);

      const claimed = await backend.claimOrphans('me', 10);
      expect(claimed.map((t) => t.id)).toEqual([orphanNoOwner.id, orphanDeadOwner.id, orphanUnknownOwner.id]);
      expect(claimed.every((t) => t.owner === 'me')).toBe(true);
      expect(claimed[0]).toEqual({ ...orphanNoOwner, owner: 'me', version: 2 });
      expect((await backend.getTask(orphanDeadOwner.id))?.owner).toBe('me');
      // 'me' has no lease yet: another claimer may take them; once it heartbeats, nobody can
      await backend.heartbeat('me', 60);
      expect(await other.claimOrphans('you', 10)).toEqual([]);
      expect(await backend.claimOrphans('me', 0)).toEqual([]);
    });

    it('recovers the tasks of an instance whose lease expired or that was removed', async () => {
      await backend.heartbeat('first', 60);
      const tasks = Array.from({ length: 5 }, (_, i) => task({ durable: true, status: 'running', owner: 'first', createdAt: BASE + i }));
      await backend.saveBatch(tasks);
      expect(await other.claimOrphans('second', 100)).toEqual([]);
      await backend.heartbeat('first', -1); // its lease is now in the past: it is dead
      await other.heartbeat('second', 60);
      const recovered = await other.claimOrphans('second', 100);
      expect(recovered.map((t) => t.id)).toEqual(tasks.map((t) => t.id));
      await other.removeInstance('second'); // clean shutdown: its tasks are free again
      await backend.heartbeat('third', 60);
      expect((await backend.claimOrphans('third', 2)).map((t) => t.id)).toEqual(tasks.slice(0, 2).map((t) => t.id));
      expect((await backend.claimOrphans('third', 100)).map((t) => t.id)).toEqual(tasks.slice(2).map((t) => t.id));
    });

    it('claims each task exactly once when instances race', async () => {
      const tasks = Array.from({ length: 120 }, (_, i) => task({ durable: true, status: i % 2 ? 'pending' : 'running', createdAt: BASE + i }));
      await backend.saveBatch(tasks);
      const callers = [
        { b: backend, id: 'racer-1' },
        { b: other, id: 'racer-2' },
        { b: backend, id: 'racer-3' },
        { b: other, id: 'racer-4' },
      ];
      await Promise.all(callers.map((c) => c.b.heartbeat(c.id, 60)));
      const won = new Map<string, string>();
      let duplicates = 0;
      await Promise.all(
        callers.map(async (c) => {
          for (;;) {
            const got = await c.b.claimOrphans(c.id, 7);
            if (!got.length) return;
            for (const t of got) {
              if (won.has(t.id)) duplicates++;
              won.set(t.id, c.id);
              expect(t.owner).toBe(c.id);
            }
          }
        }),
      );
      expect(duplicates).toBe(0);
      expect(won.size).toBe(120);
      const stored = await backend.listTasks({ limit: 500 });
      for (const t of stored.items) expect(t.owner).toBe(won.get(t.id));
    });
  });

  describe('idempotency keys', () => {
    it('keeps a key with its live holder and releases it after failure, interruption or cancellation', async () => {
      const key = `order:42 "quoted" % _ ${'x'.repeat(600)} \u{1F680}`;
      const t1 = task({ status: 'running', idempotencyKey: key });
      expect(await backend.reserveIdempotencyKey(key, t1.id)).toBe(t1.id);
      // holder not written yet: live
      expect(await backend.reserveIdempotencyKey(key, 'other-id')).toBe(t1.id);
      expect(await backend.reserveIdempotencyKey(key, t1.id)).toBe(t1.id);
      await backend.saveBatch([t1]);
      expect(await backend.reserveIdempotencyKey(key, 'other-id')).toBe(t1.id);
      await backend.saveBatch([{ ...t1, status: 'success', version: 2 }]);
      expect(await other.reserveIdempotencyKey(key, 'other-id')).toBe(t1.id);
      for (const status of ['failed', 'interrupted', 'cancelled'] as const) {
        const holder = await backend.reserveIdempotencyKey(key, 'probe');
        await backend.saveBatch([task({ id: holder, status, version: 10 })]);
        const next = randomUUID();
        expect(await other.reserveIdempotencyKey(key, next)).toBe(next);
      }
      // keys differing only in case or trailing spaces are different keys
      const a = await backend.reserveIdempotencyKey('Key', 'a');
      const b = await backend.reserveIdempotencyKey('key', 'b');
      const c = await backend.reserveIdempotencyKey('key ', 'c');
      expect([a, b, c]).toEqual(['a', 'b', 'c']);
    });

    it('has exactly one winner when instances race for a new key', async () => {
      const contenders = Array.from({ length: 12 }, (_, i) => ({ b: i % 2 ? other : backend, id: `contender-${i}` }));
      const results = await Promise.all(contenders.map((c) => c.b.reserveIdempotencyKey('race-key', c.id)));
      expect(new Set(results).size).toBe(1);
      expect(contenders.map((c) => c.id)).toContain(results[0]);
    });

    it('has exactly one winner when instances race to take over a released key', async () => {
      const failed = task({ status: 'failed', version: 2 });
      await backend.saveBatch([failed]);
      expect(await backend.reserveIdempotencyKey('takeover', failed.id)).toBe(failed.id);
      const contenders = Array.from({ length: 12 }, (_, i) => ({ b: i % 2 ? other : backend, id: `taker-${i}` }));
      const results = await Promise.all(contenders.map((c) => c.b.reserveIdempotencyKey('takeover', c.id)));
      expect(new Set(results).size).toBe(1);
      expect(contenders.map((c) => c.id)).toContain(results[0]);
    });
  });

  describe('leases', () => {
    it('belongs to one holder until it expires, and renews for that holder', async () => {
      expect(await backend.tryAcquireLease('retention', 'h1', 60)).toBe(true);
      expect(await other.tryAcquireLease('retention', 'h2', 60)).toBe(false);
      expect(await backend.tryAcquireLease('retention', 'h1', 60)).toBe(true);
      expect(await backend.tryAcquireLease('other-lease', 'h2', 60)).toBe(true);
      // h1 renews with a ttl already in the past: the lease is expired and h2 takes it
      expect(await backend.tryAcquireLease('retention', 'h1', -1)).toBe(true);
      expect(await other.tryAcquireLease('retention', 'h2', 60)).toBe(true);
      expect(await backend.tryAcquireLease('retention', 'h1', 60)).toBe(false);
    });

    it('has exactly one holder when instances race', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? other : backend).tryAcquireLease('schedule:slot', `holder-${i}`, 60)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      await backend.tryAcquireLease('expired', 'old', -10);
      const retake = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : backend).tryAcquireLease('expired', `new-${i}`, 60)));
      expect(retake.filter(Boolean)).toHaveLength(1);
    });

    it('deletes only leases that expired before the given time', async () => {
      await backend.tryAcquireLease('prune:old', 'h1', -3600);
      await backend.tryAcquireLease('prune:live', 'h1', 3600);
      const deleted = await backend.deleteExpiredLeases(Date.now() - 1000);
      expect(deleted).toBeGreaterThanOrEqual(1);
      // The old one is gone (anyone takes it fresh); the live one still belongs to h1.
      expect(await other.tryAcquireLease('prune:live', 'h2', 60)).toBe(false);
      expect(await other.tryAcquireLease('prune:old', 'h2', 60)).toBe(true);
      expect(await backend.deleteExpiredLeases(Date.now() - 1000)).toBe(0);
    });
  });

  describe('audit', () => {
    it('lists entries newest first, with paging and intact details', async () => {
      const e1 = audit({ timestamp: new Date(BASE).toISOString(), detail: { note: 'first "one" ü' } });
      const e2 = audit({ timestamp: new Date(BASE + 1000).toISOString(), action: 'cancel' });
      const e3 = audit({ timestamp: new Date(BASE + 1000).toISOString(), action: 'bulk_retry', task_id: 'bulk', detail: { ids: ['a', 'b'] } });
      const e4 = audit({
        timestamp: new Date(BASE + 2000).toISOString(),
        action: 'delete_history',
        task_id: null,
        actor: 'admin',
        detail: { deleted: 3 },
      });
      for (const e of [e1, e2, e3, e4]) await backend.appendAudit(e);
      await backend.appendAudit(e1); // the same entry again is ignored
      expect(await backend.listAudit(10, 0)).toEqual([e4, e3, e2, e1]);
      expect(await other.listAudit(2, 1)).toEqual([e3, e2]);
      expect(await backend.listAudit(10, 4)).toEqual([]);
    });
  });

  describe('closing', () => {
    it('never destroys a DataSource the caller owns, even one it initialized', async () => {
      const own = new DataSource(target.options);
      const b = new TypeOrmTaskBackend(own, { tablePrefix: prefix });
      expect(b.ownsConnection).toBe(false);
      await b.open();
      expect(own.isInitialized).toBe(true);
      await b.close();
      expect(own.isInitialized).toBe(true);
      await own.destroy();
    });

    it('destroys the DataSource it built from options', async () => {
      const b = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
      expect(b.ownsConnection).toBe(true);
      await b.open();
      expect(b.source.isInitialized).toBe(true);
      expect((await b.metrics()).total).toBe(0);
      await b.close();
      expect(b.source.isInitialized).toBe(false);
      await expect(b.metrics()).rejects.toThrow(/not open/);
    });
  });
});
