/**
 * By-hand check (not a test) of TypeOrmTaskBackend on SQLite at history scale.
 *
 *   npx tsc --outDir /tmp/tf-bench --rootDir . --module commonjs --target ES2022 \
 *     --esModuleInterop --experimentalDecorators --emitDecoratorMetadata --skipLibCheck \
 *     --types node bench/history-scale.ts && node /tmp/tf-bench/bench/history-scale.js [rows]
 *
 * Writes `rows` (default 1,000,000) tasks in batches of 10,000 into a temp SQLite file
 * (WAL, synchronous=NORMAL, as `snapshotDb` uses), then times reads.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sqliteOptions, TypeOrmTaskBackend } from '../lib/persistence/typeorm';
import { TaskData } from '../lib/task/task-record';
import { TaskStatus } from '../lib/task/task-status';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const BATCH = 10_000;
const BASE = Date.UTC(2026, 0, 1);
const FUNCS = Array.from({ length: 20 }, (_, i) => `Service${i % 5}.job${i}`);

function statusFor(r: number): TaskStatus {
  if (r < 0.8) return 'success';
  if (r < 0.9) return 'failed';
  if (r < 0.93) return 'cancelled';
  if (r < 0.95) return 'interrupted';
  if (r < 0.98) return 'pending';
  return 'running';
}

function makeTask(i: number): TaskData {
  const status = statusFor(Math.random());
  const createdAt = BASE + i * 100;
  const started = status !== 'pending' && status !== 'cancelled';
  const ended = started && status !== 'running';
  const duration = Math.round(Math.exp(Math.random() * 10)); // 1 ms .. 22 s
  return {
    id: randomUUID(),
    funcName: FUNCS[i % FUNCS.length],
    status,
    createdAt,
    startTime: started ? createdAt + 5 : null,
    endTime: ended ? createdAt + 5 + duration : status === 'cancelled' ? createdAt + 1 : null,
    retriesUsed: status === 'failed' ? 2 : 0,
    error: status === 'failed' ? `ValueError: bad input #${i}` : null,
    stacktrace: status === 'failed' ? `ValueError: bad input #${i}\n    at handler (svc.ts:10:5)` : null,
    logs: ['2026-01-01T00:00:00 start', `2026-01-01T00:00:01 item ${i}`, '2026-01-01T00:00:02 done'],
    tags: { tenant: `t${i % 50}`, source: i % 3 ? 'api' : 'cron' },
    source: i % 3 ? 'manual' : 'scheduled',
    priority: null,
    progress: ended ? 1 : null,
    args: [`user${i}@example.com`, { n: i }],
    argsCipher: null,
    idempotencyKey: null,
    durable: status === 'pending' || status === 'running',
    owner: null,
    version: 3,
  };
}

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return `p50 ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms, max ${s[s.length - 1].toFixed(2)} ms`;
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, result];
}

async function sample(label: string, runs: number, fn: () => Promise<unknown>): Promise<void> {
  await fn(); // warm the statement cache
  const samples: number[] = [];
  let last: unknown;
  for (let i = 0; i < runs; i++) {
    const [ms, result] = await time(fn);
    samples.push(ms);
    last = result;
  }
  const note =
    last && typeof last === 'object' && 'total' in last ? ` (total ${(last as { total: number }).total})` : '';
  console.log(`${label.padEnd(46)} ${stats(samples)}${note}`);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-bench-'));
  const file = path.join(dir, 'history.db');
  const backend = new TypeOrmTaskBackend(sqliteOptions(file));
  await backend.open();
  try {
    console.log(`SQLite ${file}: writing ${ROWS.toLocaleString()} tasks in batches of ${BATCH.toLocaleString()}`);
    const batchTimes: number[] = [];
    const started = Date.now();
    let lastBatch: TaskData[] = [];
    for (let i = 0; i < ROWS; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, ROWS - i) }, (_, j) => makeTask(i + j));
      const [ms] = await time(() => backend.saveBatch(batch));
      batchTimes.push(ms);
      lastBatch = batch;
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `saveBatch (insert 10k)                         ${stats(batchTimes)}; ` +
        `first ${batchTimes[0].toFixed(0)} ms, last ${batchTimes[batchTimes.length - 1].toFixed(0)} ms; ` +
        `${Math.round(ROWS / seconds).toLocaleString()} rows/s overall incl. generation`,
    );
    const updates = lastBatch.map((t) => ({ ...t, version: t.version + 1, logs: [...t.logs, 'more'] }));
    const [updateMs] = await time(() => backend.saveBatch(updates));
    console.log(`saveBatch (update 10k existing, at full size)  ${updateMs.toFixed(0)} ms`);
    console.log(`file size ${(fs.statSync(file).size / 1024 / 1024).toFixed(0)} MB`);

    const runs = 50;
    await sample('listTasks first page (limit 200)', runs, () => backend.listTasks({}));
    await sample('listTasks first page (limit 50)', runs, () => backend.listTasks({ limit: 50 }));
    await sample('metrics()', runs, () => backend.metrics());
    await sample('getTask(id)', runs, () => backend.getTask(lastBatch[17].id));
    await sample('listTasks status=failed', runs, () => backend.listTasks({ status: 'failed' }));
    await sample('listTasks funcName', runs, () => backend.listTasks({ funcName: FUNCS[3] }));
    await sample('listTasks funcName+status=interrupted', runs, () =>
      backend.listTasks({ funcName: FUNCS[3], status: 'interrupted' }),
    );
    await sample('listTasks since=last hour', runs, () => backend.listTasks({ since: BASE + ROWS * 100 - 3_600_000 }));
    await sample('listTasks status=failed, offset 10000', runs, () => backend.listTasks({ status: 'failed', offset: 10_000 }));
    await sample('listTasks q (full scan)', 5, () => backend.listTasks({ q: 'bad input #4242' }));
    await sample('listTasks tag tenant=t7 (scan + JS check)', 5, () => backend.listTasks({ tags: { tenant: 't7' } }));
    await sample('listTasks tag + status=failed', 5, () => backend.listTasks({ tags: { tenant: 't7' }, status: 'failed' }));
    await sample('claimOrphans(limit 100)', 5, () => backend.claimOrphans(randomUUID(), 100));

    const cutoff = BASE + 50_000 * 100;
    const [pruneMs, deleted] = await time(() => backend.deleteTerminalBefore(cutoff, 10_000));
    console.log(`deleteTerminalBefore(batch 10k)                ${pruneMs.toFixed(0)} ms for ${deleted.length} rows`);
    const m = await backend.metrics();
    console.log(`metrics after prune: total ${m.total}, p50 ${m.p50_duration_seconds}s, p95 ${m.p95_duration_seconds}s`);
  } finally {
    await backend.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
