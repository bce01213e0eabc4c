/**
 * Row 1's baselines: the same N async no-ops through p-queue 10 and fastq 1.20 with the
 * engine's cap, timed as the engine is (first add to the last job done), after the same
 * warm-up. p-queue is ESM-only and this bench compiles to CommonJS: it is loaded through a
 * real dynamic import (tsc would turn a plain `import()` into `require`).
 */
import fastq from 'fastq';
import { nowMs, scenarioMain, settle } from '../common';
import { bareNoop } from '../fixtures';

export interface QueueLibraryParams {
  library: 'p-queue' | 'fastq';
  n: number;
  cap: number;
}

export interface QueueLibraryResult {
  n: number;
  drainSeconds: number;
  perSecond: number;
}

interface Queue {
  add(job: () => Promise<void>): void;
  idle(): Promise<void>;
}

const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<{ default: unknown }>;

async function pQueue(cap: number): Promise<Queue> {
  const PQueue = (await importEsm('p-queue')).default as new (options: { concurrency: number }) => {
    add(job: () => Promise<void>): Promise<void>;
    onIdle(): Promise<void>;
  };
  const queue = new PQueue({ concurrency: cap });
  return { add: (job) => void queue.add(job), idle: () => queue.onIdle() };
}

function fastQueue(cap: number): Queue {
  const queue = fastq.promise((job: () => Promise<void>) => job(), cap);
  return { add: (job) => void queue.push(job), idle: () => queue.drained() };
}

async function timed(queue: Queue, n: number): Promise<number> {
  const t0 = nowMs();
  for (let i = 0; i < n; i++) queue.add(bareNoop);
  await queue.idle();
  return (nowMs() - t0) / 1000;
}

scenarioMain<QueueLibraryParams, QueueLibraryResult>(async (p) => {
  const queue = p.library === 'p-queue' ? await pQueue(p.cap) : fastQueue(p.cap);
  await timed(queue, 2000);
  await settle();
  const seconds = await timed(queue, p.n);
  return { n: p.n, drainSeconds: seconds, perSecond: p.n / seconds };
});
