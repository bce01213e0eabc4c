/**
 * Scenario 8: several replicas on one PostgreSQL database.
 *
 * - `backlog` (a coordinator): `replicas` replica processes start on a fresh table
 *   prefix; the first adds `n` durable tasks at once (`requeuePending`), each waiting
 *   `workMs` (I/O-like), with `maxConcurrentTasks: cap` per replica; timed from the first
 *   addTask to the last success stored (the database's count, polled). With 2 replicas
 *   the second takes a share of the first's backlog through the shared pool.
 * - `lag` (a coordinator): replicas A and B; A adds no-op tasks at `rate` per second for
 *   `seconds`; an SSE client on B's stream stamps each task's `success` event; the lag is
 *   that stamp less the moment A's engine marked the task successful (wall clocks of one machine).
 * - `replica`: one replica (TaskAdminModule on a free port, public stream), driven by the
 *   coordinator over IPC.
 */
import 'reflect-metadata';
import { Injectable, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { BackgroundTask, TaskAdminModule, TaskManager, TypeOrmTaskBackend } from '../../lib';
import { PG_URL, fromParent, percentile, runChild, scenarioMain, sleep, wallMs } from '../common';

export interface ClusterParams {
  mode: 'backlog' | 'lag' | 'replica';
  replicas?: number;
  n?: number;
  cap?: number;
  workMs?: number;
  rate?: number;
  seconds?: number;
  prefix?: string;
}

export interface ClusterResult {
  /** backlog: tasks per second, seconds, and how many each replica ran. */
  perSecond?: number;
  seconds?: number;
  ran?: number[];
  /** lag: p50 / p99 / max in ms over `samples` tasks. */
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  samples?: number;
}

const database = { type: 'postgres' as const, url: PG_URL };

@Injectable()
class ClusterBench {
  static workMs = 0;
  static ran = 0;

  @BackgroundTask({ name: 'ClusterBench.work' })
  async work(): Promise<void> {
    ClusterBench.ran++;
    if (ClusterBench.workMs > 0) await sleep(ClusterBench.workMs);
  }
}

async function replica(p: ClusterParams): Promise<ClusterResult> {
  ClusterBench.workMs = p.workMs ?? 0;
  @Module({
    imports: [
      TaskAdminModule.forRoot({
        database,
        tablePrefix: p.prefix,
        requeuePending: true,
        maxConcurrentTasks: p.cap ?? null,
        instanceLeaseSeconds: 5,
        publicStream: true,
        shutdownGracePeriod: 0,
      }),
    ],
    providers: [ClusterBench],
  })
  class ReplicaApp {}
  const app = await NestFactory.create(ReplicaApp as Type, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const manager = app.get(TaskManager);
  process.send!({ ready: true, url: `http://127.0.0.1:${port}/tasks/dashboard/stream` });
  const done = manager.events$.subscribe((record) => {
    if (record.status === 'success' && p.rate) process.send!({ done: record.task_id, t: wallMs() });
  });
  for (;;) {
    const m = await fromParent<{ add?: number; every?: number; stop?: boolean }>(() => true);
    if (m.stop) break;
    if (m.add) {
      const t = wallMs();
      for (let i = 0; i < m.add; i++) {
        manager.addTask('ClusterBench.work');
        if (m.every) await sleep(m.every);
      }
      process.send!({ added: m.add, t });
    }
  }
  done.unsubscribe();
  const ran = ClusterBench.ran;
  await app.close();
  return { ran: [ran] };
}

/** Starts `count` replicas on `prefix`; resolves once each is ready, with a way to message and stop them. */
async function startReplicas(count: number, params: ClusterParams, onMessage: (i: number, m: Record<string, unknown>) => void) {
  const senders: ((m: unknown) => void)[] = [];
  const urls: string[] = [];
  const ready: Promise<void>[] = [];
  const results: Promise<ClusterResult>[] = [];
  for (let i = 0; i < count; i++) {
    let markReady!: () => void;
    ready.push(new Promise((resolve) => (markReady = resolve)));
    results.push(
      runChild<ClusterResult>(
        'cluster',
        { ...params, mode: 'replica' },
        {
          timeoutMs: 300_000,
          onMessage: (message, send) => {
            senders[i] = send;
            const m = message as Record<string, unknown>;
            if (m.ready) {
              urls[i] = String(m.url);
              markReady();
            } else onMessage(i, m);
          },
        },
      ),
    );
    // One at a time: startup is CPU-bound, and the replicas share two cores.
    await ready[i];
  }
  return {
    urls,
    send: (i: number, m: unknown) => senders[i](m),
    stop: async () => {
      senders.forEach((send) => send({ stop: true }));
      return (await Promise.all(results)).map((r) => r.ran?.[0] ?? 0);
    },
  };
}

async function backlog(p: ClusterParams): Promise<ClusterResult> {
  const prefix = `tfbench_cl_${randomUUID().slice(0, 8)}_`;
  const table = new TypeOrmTaskBackend(database, { tablePrefix: prefix });
  await table.open();
  try {
    let added!: (t: number) => void;
    const addedAt = new Promise<number>((resolve) => (added = resolve));
    const replicas = await startReplicas(p.replicas ?? 1, { ...p, prefix }, (_i, m) => m.added && added(Number(m.t)));
    replicas.send(0, { add: p.n });
    const t0 = await addedAt;
    const done = async () => Number((await table.source.query(`SELECT COUNT(*) AS n FROM "${prefix}tasks" WHERE status = 'success'`))[0].n);
    while ((await done()) < p.n!) await sleep(20);
    const seconds = (wallMs() - t0) / 1000;
    const ran = await replicas.stop();
    return { perSecond: p.n! / seconds, seconds, ran };
  } finally {
    await table.dropTables().catch(() => undefined);
    await table.close();
  }
}

async function lag(p: ClusterParams): Promise<ClusterResult> {
  const prefix = `tfbench_cl_${randomUUID().slice(0, 8)}_`;
  const table = new TypeOrmTaskBackend(database, { tablePrefix: prefix });
  await table.open();
  const doneOnA = new Map<string, number>();
  const seenOnB = new Map<string, number>();
  let request: http.ClientRequest | null = null;
  try {
    let added!: () => void;
    const allAdded = new Promise<void>((resolve) => (added = resolve));
    const replicas = await startReplicas(2, { ...p, prefix, rate: p.rate }, (i, m) => {
      if (i === 0 && m.done) doneOnA.set(String(m.done), Number(m.t));
      if (i === 0 && m.added) added();
    });
    await new Promise<void>((resolve, reject) => {
      request = http.get(replicas.urls[1], { headers: { Accept: 'text/event-stream' } }, (response) => {
        response.setEncoding('utf8');
        let buffer = '';
        response.on('data', (chunk: string) => {
          const at = wallMs();
          buffer += chunk;
          let cut: number;
          while ((cut = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 1);
            if (!line.startsWith('data: {"task_id"')) continue;
            const record = JSON.parse(line.slice(6)) as { task_id: string; status: string };
            if (record.status === 'success' && !seenOnB.has(record.task_id)) seenOnB.set(record.task_id, at);
          }
        });
        resolve();
      });
      request.on('error', reject);
    });
    const total = Math.round((p.rate ?? 50) * (p.seconds ?? 3));
    replicas.send(0, { add: total, every: 1000 / (p.rate ?? 50) });
    await allAdded;
    const deadline = wallMs() + 10_000;
    while (seenOnB.size < total && wallMs() < deadline) await sleep(50);
    await replicas.stop();
    const lags = [...seenOnB].filter(([id]) => doneOnA.has(id)).map(([id, at]) => at - doneOnA.get(id)!);
    return { p50Ms: percentile(lags, 0.5), p99Ms: percentile(lags, 0.99), maxMs: Math.max(...lags), samples: lags.length };
  } finally {
    (request as http.ClientRequest | null)?.destroy();
    await table.dropTables().catch(() => undefined);
    await table.close();
  }
}

scenarioMain<ClusterParams, ClusterResult>(async (p) => {
  if (p.mode === 'replica') return replica(p);
  if (p.mode === 'backlog') return backlog(p);
  return lag(p);
});
