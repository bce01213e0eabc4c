import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TaskData } from '../../lib';
import { blankTask } from '../support/task-data';
import { sqliteOptions, TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { prng } from '../support/prng';

/** A finished (or live) task record as the engine stores it, for seeding a history. */
export function taskData(partial: Partial<TaskData> & Pick<TaskData, 'funcName' | 'status'>): TaskData {
  const createdAt = partial.createdAt ?? Date.now();
  const live = partial.status === 'pending' || partial.status === 'running';
  const startTime = partial.startTime !== undefined ? partial.startTime : partial.status === 'pending' ? null : createdAt + 5;
  const endTime = partial.endTime !== undefined ? partial.endTime : live ? null : (startTime ?? createdAt) + 120;
  return blankTask({ createdAt, startTime, endTime, version: 3, ...partial });
}

/** A temp SQLite file holding `tasks` (written the way the backend writes them). */
export async function seedSqlite(tasks: TaskData[], file?: string): Promise<{ file: string; dispose(): void }> {
  const dir = file ? path.dirname(file) : fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-dash-'));
  const db = file ?? path.join(dir, 'tasks.db');
  const backend = new TypeOrmTaskBackend(sqliteOptions(db));
  await backend.open();
  for (let i = 0; i < tasks.length; i += 5000) await backend.saveBatch(tasks.slice(i, i + 5000));
  await backend.close();
  return { file: db, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function tempDbFile(): { file: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-dash-'));
  return { file: path.join(dir, 'tasks.db'), dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

interface FunctionProfile {
  name: string;
  weight: number;
  minMs: number;
  maxMs: number;
  failRate: number;
  errors: ((n: number) => string)[];
  priority: number | null;
  scheduled?: boolean;
}

/** Functions of a plausible application (registered by `SeededJobs` in the tests). */
export const PROFILES: FunctionProfile[] = [
  {
    name: 'EmailService.sendWelcome',
    weight: 30,
    minMs: 60,
    maxMs: 450,
    failRate: 0.01,
    errors: [() => 'SmtpError: 421 Service not available, closing transmission channel'],
    priority: 5,
  },
  {
    name: 'BillingService.charge',
    weight: 18,
    minMs: 180,
    maxMs: 1600,
    failRate: 0.08,
    errors: [(n) => `CardDeclinedError: card ending ${1000 + (n % 9000)} was declined for order #${20000 + n}`],
    priority: 9,
  },
  {
    name: 'WebhookService.deliver',
    weight: 20,
    minMs: 90,
    maxMs: 3200,
    failRate: 0.12,
    errors: [(n) => `FetchError: connect ETIMEDOUT 10.1.${n % 200}.${(n * 7) % 250}:443`, () => 'HttpError: 502 Bad Gateway from hooks.example.com'],
    priority: null,
  },
  {
    name: 'ImportService.importRows',
    weight: 8,
    minMs: 900,
    maxMs: 9000,
    failRate: 0.1,
    errors: [(n) => `ValidationError: row ${100 + n} of batch ${3000 + n}: email is required`],
    priority: null,
  },
  {
    name: 'ReportService.generate',
    weight: 4,
    minMs: 2500,
    maxMs: 48000,
    failRate: 0.04,
    errors: [() => 'TimeoutError: attempt exceeded 60 s'],
    priority: 2,
  },
  { name: 'CacheService.warm', weight: 6, minMs: 40, maxMs: 320, failRate: 0, errors: [], priority: null, scheduled: true },
];

/**
 * `count` finished tasks: most within the last hour (a busy afternoon), the rest over
 * the previous week; a few interrupted and cancelled.
 */
export function realisticHistory(now: number, count: number, seed = 42): TaskData[] {
  const rand = prng(seed);
  const total = PROFILES.reduce((n, p) => n + p.weight, 0);
  const pick = () => {
    let r = rand() * total;
    for (const p of PROFILES) if ((r -= p.weight) < 0) return p;
    return PROFILES[0];
  };
  const tasks: TaskData[] = [];
  for (let i = 0; i < count; i++) {
    const p = pick();
    const recent = rand() < 0.75;
    // Within the hour, more load towards now (and a dip 20 minutes ago).
    const minutesAgo = recent ? 60 * rand() ** 1.3 : 60 + rand() * 7 * 24 * 60;
    const createdAt = Math.round(now - minutesAgo * 60_000 - 500 - rand() * 1000);
    const durationMs = Math.round(p.minMs * (p.maxMs / p.minMs) ** rand());
    const startTime = createdAt + Math.round(5 + rand() * 40);
    const r = rand();
    let status: TaskData['status'] = r < p.failRate ? 'failed' : 'success';
    if (r > 0.996) status = 'interrupted';
    else if (r > 0.992) status = 'cancelled';
    const n = Math.floor(rand() * 5000);
    const error =
      status === 'failed'
        ? p.errors[Math.floor(rand() * p.errors.length)](n)
        : status === 'interrupted'
          ? 'Interrupted: the application shut down'
          : null;
    const retries = status === 'failed' ? 2 : rand() < 0.05 ? 1 : 0;
    const logs = [`${iso(startTime)} started ${p.name.split('.')[1]}`];
    for (let a = 1; a <= retries; a++) logs.push(`${iso(startTime)} ${error ?? 'transient error'}`, `--- Retry ${a} ---`);
    if (status === 'success') logs.push(`${iso(startTime + durationMs)} done`);
    tasks.push(
      taskData({
        funcName: p.name,
        status,
        createdAt,
        startTime: status === 'cancelled' ? null : startTime,
        endTime: status === 'cancelled' ? createdAt + 200 : startTime + durationMs,
        error,
        stacktrace: error
          ? `${error}\n    at ${p.name} (src/${p.name.split('.')[0].toLowerCase()}.ts:${20 + (n % 80)}:11)\n    at TaskExecution.runAttempt (node_modules/nestjs-taskflow/dist/lib/engine/task-execution.js:125:36)`
          : null,
        logs,
        retriesUsed: retries,
        tags: { tenant: ['acme', 'globex', 'initech', 'umbrella'][n % 4], ...(p.scheduled ? {} : { origin: n % 3 ? 'api' : 'admin' }) },
        source: p.scheduled ? 'scheduled' : 'manual',
        priority: p.priority,
        progress: p.name === 'ReportService.generate' ? 1 : null,
        args: p.name === 'EmailService.sendWelcome' ? [`user${n}@example.com`] : [{ id: n }],
      }),
    );
  }
  return tasks;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

const MINUTE = 60_000;

/** A small history with every case the list, the insights and the export care about. */
export function history(now: number): TaskData[] {
  const tasks: TaskData[] = [];
  const at = (minutesAgo: number, plusMs = 0) => now - minutesAgo * MINUTE + plusMs;
  // Creation times are all distinct (but the one pair below), so both orders agree exactly.
  let unique = 0;
  const created = (minutesAgo: number) => at(minutesAgo) - ++unique;
  for (let i = 0; i < 12; i++) {
    tasks.push(
      taskData({
        funcName: 'Jobs.ok',
        status: 'success',
        createdAt: created(50 - i * 4),
        startTime: at(50 - i * 4, 10),
        endTime: at(50 - i * 4, 10 + (i + 1) * 100),
        tags: { tenant: i % 2 ? 'acme' : 'globex' },
        args: [`user${i}@example.com`],
        logs: ['2026-01-01T00:00:00 ok'],
      }),
    );
  }
  for (let i = 0; i < 6; i++) {
    tasks.push(
      taskData({
        funcName: 'Jobs.fail',
        status: 'failed',
        createdAt: created(40 - i * 5),
        startTime: at(40 - i * 5, 5),
        endTime: at(40 - i * 5, 5 + 2000 + i),
        error: `TypeError: bad input #${1000 + i}`,
        stacktrace: `TypeError: bad input #${1000 + i}\n    at Jobs.fail (jobs.ts:1:1)`,
        tags: { tenant: 'acme' },
        args: [`=HYPERLINK("http://evil.example","x${i}")`],
        retriesUsed: 2,
      }),
    );
  }
  for (let i = 0; i < 3; i++) {
    tasks.push(
      taskData({
        funcName: 'Jobs.ok',
        status: 'failed',
        createdAt: created(30 - i),
        startTime: at(30 - i, 5),
        endTime: at(30 - i, 400),
        error: `Error: connect ECONNREFUSED 10.0.0.${i + 1}:5432`,
      }),
    );
  }
  tasks.push(
    taskData({
      funcName: 'Jobs.hold',
      status: 'interrupted',
      createdAt: created(20),
      startTime: at(20, 1),
      endTime: at(19),
      error: '=HYPERLINK("http://evil.example","Interrupted")',
    }),
  );
  tasks.push(taskData({ funcName: 'Jobs.ok', status: 'cancelled', createdAt: created(10), startTime: null, endTime: at(10, 50) }));
  tasks.push(
    taskData({ funcName: 'Old.gone', status: 'success', createdAt: at(60 * 24 * 3), startTime: at(60 * 24 * 3, 1), endTime: at(60 * 24 * 3, 7000) }),
  );
  // Two created in the same millisecond: ties are broken by id.
  tasks.push(taskData({ funcName: 'Jobs.ok', status: 'success', createdAt: at(5), startTime: at(5, 1), endTime: at(5, 51) }));
  tasks.push(taskData({ funcName: 'Jobs.ok', status: 'success', createdAt: at(5), startTime: at(5, 1), endTime: at(5, 51) }));
  return tasks;
}
