/**
 * Waits longer than one setTimeout can take (~24.8 days), on jest's fake clock (which, like
 * Node, runs a longer timeout after 1 ms): a retry back-off and an attempt timeout of 30 days
 * keep their length instead of firing at once.
 */
import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager } from '../../lib';
import { setLongTimeout } from '../../lib/engine/long-timeout';
import { createManagerApp } from '../support/app';

const DAY_S = 86_400;
const DAY_MS = DAY_S * 1000;

@Injectable()
class SlowJobs {
  attempts = 0;
  release: (() => void) | null = null;

  @BackgroundTask({ name: 'SlowJobs.monthlyRetry', retries: 1, delay: 30 * DAY_S })
  async monthlyRetry(): Promise<void> {
    if (++this.attempts === 1) throw new Error('first attempt fails');
  }

  @BackgroundTask({ name: 'SlowJobs.monthLong', timeout: 30 * DAY_S })
  async monthLong(): Promise<void> {
    await new Promise<void>((resolve) => (this.release = resolve));
  }
}

describe('waits past the 24.8-day setTimeout limit', () => {
  let app: INestApplication;
  let manager: TaskManager;
  let jobs: SlowJobs;

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'], now: Date.parse('2026-05-01T00:00:00Z') });
    ({ app, manager } = await createManagerApp({}, { providers: [SlowJobs] }));
    jobs = app.get(SlowJobs);
  });

  afterEach(async () => {
    jobs.release?.();
    await app.close();
    jest.useRealTimers();
  });

  it('waits a 30-day retry back-off out, then retries', async () => {
    const id = manager.addTask(jobs.monthlyRetry, []);
    await jest.advanceTimersByTimeAsync(1000);
    expect(jobs.attempts).toBe(1);
    expect((await manager.getTask(id))!.status).toBe('running');

    await jest.advanceTimersByTimeAsync(29 * DAY_MS);
    expect(jobs.attempts).toBe(1);

    await jest.advanceTimersByTimeAsync(DAY_MS);
    expect(jobs.attempts).toBe(2);
    expect((await manager.waitFor(id)).status).toBe('success');
  });

  it('times an attempt out after 30 days, not at once', async () => {
    const id = manager.addTask(jobs.monthLong, []);
    await jest.advanceTimersByTimeAsync(25 * DAY_MS);
    expect((await manager.getTask(id))!.status).toBe('running');

    await jest.advanceTimersByTimeAsync(5 * DAY_MS);
    const ended = await manager.waitFor(id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatch(/timed out|timeout/i);
  });

  it('setLongTimeout: fires once at its time, can be cleared, never fires for Infinity', async () => {
    const fired: string[] = [];
    setLongTimeout(() => fired.push('60 days'), 60 * DAY_MS);
    const cleared = setLongTimeout(() => fired.push('cleared'), 40 * DAY_MS);
    setLongTimeout(() => fired.push('never'), Infinity);
    await jest.advanceTimersByTimeAsync(30 * DAY_MS);
    cleared.clear();
    await jest.advanceTimersByTimeAsync(30 * DAY_MS - 1);
    expect(fired).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['60 days']);
    await jest.advanceTimersByTimeAsync(400 * DAY_MS);
    expect(fired).toEqual(['60 days']);
  });
});
