/**
 * Restart on a large history: 100,000 finished rows seeded straight through the
 * backend. Startup must not load the history into memory: startup time and heap
 * are compared with the same app on an empty table prefix (each measured in a
 * fresh child process, after a full GC), and listTasks / metrics still see every row.
 * SQLite always; PostgreSQL too with TASKFLOW_LARGE_HISTORY_PG=1.
 */
import { randomUUID } from 'node:crypto';
import type { TaskData } from '../../lib';
import { CrashChild } from '../support/crash-child';
import { describeEachOf } from '../support/crash-db';
import { useCrashSuite } from '../support/crash-suite';
import type { DatabaseName } from '../support/databases';
import type { ProbeReport } from './fixtures/startup-probe';

const ROWS = 100_000;
const BATCH = 5000;
const MB = 1024 * 1024;
const PROBE = require.resolve('./fixtures/startup-probe.ts');

function finished(i: number, base: number): TaskData {
  const created = base + i * 10;
  const failed = i % 10 === 0;
  return {
    id: randomUUID(),
    funcName: i % 3 === 0 ? 'Crash.quick' : `Legacy.job${i % 7}`,
    status: failed ? 'failed' : 'success',
    createdAt: created,
    startTime: created + 1,
    endTime: created + 1 + (i % 1000),
    retriesUsed: 0,
    error: failed ? 'Error: seeded failure' : null,
    stacktrace: null,
    logs: [`${new Date(created).toISOString().slice(0, 19)} seeded row ${i}`],
    tags: { seed: String(i % 5) },
    source: 'manual',
    priority: null,
    progress: null,
    args: [i],
    argsCipher: null,
    idempotencyKey: null,
    durable: false,
    owner: null,
    version: 3,
  };
}

async function probe(name: string, database: unknown, prefix: string): Promise<ProbeReport> {
  const child = CrashChild.start(name, { database, prefix }, { fixture: PROBE, nodeArgs: ['--expose-gc'] });
  const report = await child.waitFor((e) => (e as { ev: string }).ev === 'probe', 30_000, 'the probe report');
  await child.exited;
  return report as unknown as ProbeReport;
}

// Seeding 100k rows takes ~4 s on SQLite and ~8 s on PostgreSQL: PostgreSQL only on request.
const DATABASES: DatabaseName[] = process.env.TASKFLOW_LARGE_HISTORY_PG ? ['sqlite', 'postgres'] : ['sqlite'];

describeEachOf(DATABASES, 'restart on a large history', (target) => {
  const empty = useCrashSuite(target.options);
  const big = useCrashSuite(target.options);
  let seedMs = 0;

  beforeAll(async () => {
    const t0 = Date.now();
    const base = Date.now() - ROWS * 10 - 60_000;
    for (let start = 0; start < ROWS; start += BATCH) {
      const batch: TaskData[] = [];
      for (let i = start; i < start + BATCH; i++) batch.push(finished(i, base));
      await big.table.backend.saveBatch(batch);
    }
    seedMs = Date.now() - t0;
  }, 120_000);

  it('starts without loading the history, and still lists and counts all of it', async () => {
    const emptyReport = await probe('empty', target.options, empty.prefix);
    const bigReport = await probe('100k', target.options, big.prefix);

    expect(emptyReport.listTotal).toBe(0);
    expect(bigReport.listTotal).toBe(ROWS);
    expect(bigReport.listItems).toBe(200);
    expect(bigReport.metricsTotal).toBe(ROWS);
    // Nothing of the history is held by the engine.
    expect(bigReport.inMemory).toBe(0);
    expect(bigReport.startupMs).toBeLessThan(5000);
    const heapGrowth = (r: ProbeReport) => r.started.heapUsed - r.before.heapUsed;
    const extra = heapGrowth(bigReport) - heapGrowth(emptyReport);
    expect(extra).toBeLessThan(30 * MB);
    expect(bigReport.afterReads.heapUsed - emptyReport.afterReads.heapUsed).toBeLessThan(30 * MB);

    const fmt = (r: ProbeReport) =>
      `startup ${r.startupMs.toFixed(0)} ms, heap ${(r.before.heapUsed / MB).toFixed(1)} -> ${(r.started.heapUsed / MB).toFixed(1)} MB ` +
      `(after reads ${(r.afterReads.heapUsed / MB).toFixed(1)} MB), RSS ${(r.started.rss / MB).toFixed(0)} MB (after reads ${(r.afterReads.rss / MB).toFixed(0)} MB), ` +
      `listTasks ${r.listMs.toFixed(0)} ms, metrics ${r.metricsMs.toFixed(0)} ms`;
    console.log(
      `[${target.name}] seeded ${ROWS} rows in ${seedMs} ms\n  empty: ${fmt(emptyReport)}\n  100k:  ${fmt(bigReport)}\n  ` +
        `extra heap at startup with 100k rows: ${(extra / MB).toFixed(2)} MB`,
    );
  });
});
