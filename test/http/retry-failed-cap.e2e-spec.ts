import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { BackgroundTask } from '../../lib';
import { RETRY_FAILED_MAX_PER_CALL } from '../../lib/task/bulk-retry-result';
import { HttpApp, createHttpApp } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';

/** Fails while the test seeds its history, then succeeds, so the replayed copies never become candidates again. */
@Injectable()
class Flaky {
  failing = true;

  @BackgroundTask()
  async run(): Promise<void> {
    if (this.failing) throw new Error('seeded failure');
  }
}

/**
 * How long `work` held the event loop: the largest gap between ticks of a 1 ms
 * interval, in wall time and in CPU time the process spent within that gap. On a
 * shared machine the wall gap also counts time the OS ran other processes; the
 * CPU time counts only work done here (this thread, plus GC helpers). `turns`: the
 * event loop's turns meanwhile, counted by a chain of setImmediate (the interval's
 * ticks were counted before, and a request done in under 10 ms could not show 10).
 */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; wallMs: number; cpuMs: number; turns: number }> {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let wallMs = 0;
  let cpuMs = 0;
  let turns = 0;
  const countTurn = () => {
    turns++;
    turn = setImmediate(countTurn);
  };
  let turn = setImmediate(countTurn);
  const sample = () => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    wallMs = Math.max(wallMs, now - last);
    cpuMs = Math.max(cpuMs, (cpu.user + cpu.system) / 1000);
    last = now;
    lastCpu = process.cpuUsage();
  };
  const timer = setInterval(sample, 1);
  try {
    const result = await work();
    sample();
    return { result, wallMs, cpuMs, turns };
  } finally {
    clearInterval(timer);
    clearImmediate(turn);
  }
}

const SEEDED = 10_000;

describeEachPlatform('POST /tasks/retry-failed with 10,000 failed tasks', (platform) => {
  let h: HttpApp;
  let flaky: Flaky;

  beforeAll(async () => {
    h = await createHttpApp({ maxInMemory: 50_000 }, { providers: [Flaky], platform });
    flaky = h.app.get(Flaky);
    const ids = Array.from({ length: SEEDED }, () => h.manager.addTask('Flaky.run', []));
    await Promise.all(ids.map((id) => h.manager.waitFor(id)));
    flaky.failing = false;
  }, 120_000);
  afterAll(() => h.close());

  it('dispatches at most the cap per call, reports the rest, and keeps the event loop turning', async () => {
    expect(RETRY_FAILED_MAX_PER_CALL).toBe(1000);
    const first = await longestStall(() => request(h.server).post('/tasks/retry-failed?since=all').expect(200));
    expect(Object.keys(first.result.body)).toEqual(['dispatched', 'skipped', 'results', 'remaining']);
    expect(first.result.body).toEqual(expect.objectContaining({ dispatched: 1000, skipped: 0, remaining: SEEDED - 1000 }));
    expect(first.result.body.results).toHaveLength(1000);
    // Before the cap and the yields: one block of ~270 ms (all 10,000 dispatched in one turn).
    expect(first.cpuMs).toBeLessThan(100);
    // At least one turn per page read and per 100 dispatches.
    expect(first.turns).toBeGreaterThanOrEqual(10);

    const second = await request(h.server).post('/tasks/retry-failed?since=all').expect(200);
    expect(second.body).toEqual(expect.objectContaining({ dispatched: 1000, skipped: 0, remaining: SEEDED - 2000 }));
    const replayed = new Set(first.result.body.results.map((r: { original_task_id: string }) => r.original_task_id));
    expect(second.body.results.some((r: { original_task_id: string }) => replayed.has(r.original_task_id))).toBe(false);
  });
});
