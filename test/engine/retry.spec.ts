import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager, getTaskContext } from '../../lib';
import { createManagerApp } from '../support/app';

@Injectable()
class Flaky {
  attemptTimes: number[] = [];
  failuresLeft = Infinity;

  @BackgroundTask({ retries: 3, delay: 1, backoff: 2 })
  async alwaysFails(): Promise<void> {
    this.attemptTimes.push(Date.now());
    if (this.failuresLeft-- > 0) throw new RangeError(`attempt ${getTaskContext()!.attempt} broke`);
  }

  @BackgroundTask({ retries: 1, timeout: 2 })
  async slow(ms: number): Promise<string> {
    this.attemptTimes.push(Date.now());
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      getTaskContext()!.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(getTaskContext()?.signal.reason ?? new Error('aborted'));
      });
    });
    return 'done';
  }

  @BackgroundTask()
  async throwsEmpty(): Promise<void> {
    throw new Error('');
  }

  @BackgroundTask()
  async throwsString(): Promise<void> {
    // eslint-disable-next-line no-throw-literal -- a non-Error rejection is the case under test
    throw 'plain text';
  }
}

describe('retries, back-off and timeouts (fake timers)', () => {
  let app: INestApplication;
  let manager: TaskManager;
  let flaky: Flaky;

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    ({ app, manager } = await createManagerApp({}, { providers: [Flaky] }));
    flaky = app.get(Flaky);
  });

  afterEach(async () => {
    await app.close();
    jest.useRealTimers();
  });

  it('waits delay * backoff^(n-1): 1 s, 2 s, 4 s, then fails with the last error', async () => {
    const id = manager.addTask(flaky.alwaysFails);
    const done = manager.waitFor(id);
    await jest.advanceTimersByTimeAsync(0);
    expect(flaky.attemptTimes).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(999);
    expect(flaky.attemptTimes).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(flaky.attemptTimes).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(6000);
    const record = await done;
    const gaps = flaky.attemptTimes.slice(1).map((t, i) => t - flaky.attemptTimes[i]);
    expect(gaps).toEqual([1000, 2000, 4000]);
    expect(record.status).toBe('failed');
    expect(record.retries_used).toBe(3);
    expect(record.error).toBe('RangeError: attempt 4 broke');
    expect(record.stacktrace).toContain('RangeError: attempt 4 broke');
    expect(record.logs).toEqual(['--- Retry 1 ---', '--- Retry 2 ---', '--- Retry 3 ---']);
    expect(record.duration).toBe(7);
  });

  it('succeeds on a later attempt and clears the error', async () => {
    flaky.failuresLeft = 1;
    const id = manager.addTask(flaky.alwaysFails);
    const done = manager.waitFor(id);
    await jest.advanceTimersByTimeAsync(1000);
    const record = await done;
    expect(record.status).toBe('success');
    expect(record.retries_used).toBe(1);
    expect(record.error).toBeNull();
  });

  it('fails an attempt that runs past its timeout, aborts its signal and retries it', async () => {
    const id = manager.addTask(flaky.slow, [10_000]);
    const done = manager.waitFor(id);
    await jest.advanceTimersByTimeAsync(2000);
    expect(flaky.attemptTimes).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(2000);
    const record = await done;
    expect(record.status).toBe('failed');
    expect(record.retries_used).toBe(1);
    expect(record.error).toBe('TaskTimeoutError: Attempt timed out after 2 s');
  });

  it('lets an attempt that finishes in time succeed', async () => {
    const id = manager.addTask(flaky.slow, [1500]);
    const done = manager.waitFor(id);
    await jest.advanceTimersByTimeAsync(1500);
    expect((await done).status).toBe('success');
  });

  it('records the error name alone when the message is empty, and wraps non-Error throws', async () => {
    const a = manager.addTask(flaky.throwsEmpty);
    const b = manager.addTask(flaky.throwsString);
    await jest.advanceTimersByTimeAsync(0);
    expect((await manager.waitFor(a)).error).toBe('Error');
    expect((await manager.waitFor(b)).error).toBe('Error: plain text');
  });
});
