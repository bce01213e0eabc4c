/**
 * Scenario 2's baseline: BullMQ on the local Redis. A Queue and a Worker in this one
 * process (as our manager is), the same async no-op as the job, default job options
 * (completed jobs are kept, as our history keeps records). Jobs are added with addBulk
 * in chunks of 1,000 (BullMQ's fastest way in; our side has no batch API and calls
 * addTask once per task, batched into transactions by the write-behind).
 */
import { randomUUID } from 'node:crypto';
import { Job, Queue, Worker } from 'bullmq';
import { MB, REDIS, nowMs, percentile, rssMB, scenarioMain, sleep, wallMs } from '../common';
import { bareNoop } from '../fixtures';

export interface BullParams {
  mode: 'throughput' | 'latency';
  n: number;
  concurrency: number;
  rate?: number;
  seconds?: number;
}

export interface BullResult {
  n: number;
  addSeconds: number;
  drainSeconds: number;
  perSecond: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  samples?: number;
  rssMB: number;
}

const CHUNK = 1000;

scenarioMain<BullParams, BullResult>(async (p) => {
  const name = `tfbench-${randomUUID().slice(0, 8)}`;
  const connection = { ...REDIS, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection });
  let completed = 0;
  let wake: (() => void) | null = null;
  let target = Infinity;
  const started = new Map<string, number>();
  const worker = new Worker(
    name,
    async (job: Job) => {
      if (p.mode === 'latency') started.set(String(job.id), wallMs());
      await bareNoop();
    },
    { connection, concurrency: p.concurrency, autorun: true },
  );
  worker.on('completed', () => {
    completed++;
    if (completed >= target && wake) wake();
  });
  const done = (count: number) =>
    new Promise<void>((resolve) => {
      target = count;
      wake = resolve;
      if (completed >= count) resolve();
    });
  try {
    await worker.waitUntilReady();
    await queue.waitUntilReady();
    // Warm-up.
    await queue.addBulk(Array.from({ length: 500 }, () => ({ name: 'noop', data: {} })));
    await done(500);
    completed = 0;
    if (p.mode === 'throughput') {
      const t0 = nowMs();
      for (let i = 0; i < p.n; i += CHUNK) {
        const count = Math.min(CHUNK, p.n - i);
        await queue.addBulk(Array.from({ length: count }, () => ({ name: 'noop', data: {} })));
      }
      const added = nowMs();
      await done(p.n);
      const t1 = nowMs();
      return {
        n: p.n,
        addSeconds: (added - t0) / 1000,
        drainSeconds: (t1 - t0) / 1000,
        perSecond: p.n / ((t1 - t0) / 1000),
        rssMB: rssMB(),
      };
    }
    const total = Math.round((p.rate ?? 200) * (p.seconds ?? 5));
    const interval = 1000 / (p.rate ?? 200);
    const enqueuedAt = new Map<string, number>();
    const adds: Promise<unknown>[] = [];
    const t0 = nowMs();
    for (let k = 0; k < total; k++) {
      const wait = t0 + k * interval - nowMs();
      if (wait > 1) await sleep(wait);
      const id = `j${k}`;
      enqueuedAt.set(id, wallMs());
      adds.push(queue.add('noop', {}, { jobId: id }));
    }
    await Promise.all(adds);
    await done(total);
    const samples: number[] = [];
    for (const [id, at] of enqueuedAt) {
      const s = started.get(id);
      if (s !== undefined) samples.push(s - at);
    }
    return {
      n: total,
      addSeconds: 0,
      drainSeconds: 0,
      perSecond: 0,
      latencyP50Ms: percentile(samples, 0.5),
      latencyP99Ms: percentile(samples, 0.99),
      samples: samples.length,
      rssMB: process.memoryUsage().rss / MB,
    };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
});
