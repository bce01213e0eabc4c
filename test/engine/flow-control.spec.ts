import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager, TaskManagerOptions, TaskRecord, UnknownTaskError } from '../../lib';
import { createManagerApp } from '../support/app';
import { Gate } from '../support/gate';
import { maxOverlap, maxStartsInWindow } from '../support/flow-records';

@Injectable()
class Limited {
  running = 0;
  maxRunning = 0;
  order: string[] = [];
  private readonly gates = new Map<string, Gate>();
  readonly opened = new Set<string>();

  gate(label: string): Gate {
    let gate = this.gates.get(label);
    if (!gate) this.gates.set(label, (gate = new Gate()));
    return gate;
  }

  /** Lets the task labelled `label` finish. */
  release(label: string): void {
    this.opened.add(label);
    this.gate(label).open();
  }

  @BackgroundTask({ concurrency: 2 })
  async twoAtOnce(label: string): Promise<void> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.order.push(label);
    await this.gate(label).promise;
    this.running--;
  }

  @BackgroundTask()
  async free(label: string): Promise<void> {
    this.order.push(label);
  }

  @BackgroundTask({ rateLimit: { max: 5, perSeconds: 1 } })
  async rated(label: string): Promise<void> {
    this.order.push(label);
  }

  @BackgroundTask({ rateLimit: { max: 5, perSeconds: 1 }, rateLimitKey: (tenant: string) => tenant })
  async perTenant(tenant: string, i: number): Promise<void> {
    this.order.push(`${tenant}${i}`);
  }

  @BackgroundTask({ rateLimit: { max: 1, perSeconds: 1 }, rateLimitKey: () => 7 as unknown as string })
  async badKey(): Promise<void> {}

  @BackgroundTask()
  async pausable(label: string): Promise<void> {
    this.order.push(label);
    await this.gate(label).promise;
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

let app: INestApplication;
let manager: TaskManager;
let jobs: Limited;

/** A fresh app per test of the describe block; `fakeTimers` installs them once it has started. */
function useApp(options: TaskManagerOptions = {}, fakeTimers = false): void {
  beforeEach(async () => {
    ({ app, manager } = await createManagerApp(options, { providers: [Limited] }));
    jobs = app.get(Limited);
    if (fakeTimers) jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
  });
  afterEach(async () => {
    jest.useRealTimers();
    await app.close();
  });
}

describe('per-function concurrency', () => {
  useApp({ maxConcurrentTasks: 5 });

  it('runs at most 2 of 20 at once, keeps the rest pending and in priority order, and lets other functions pass', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => manager.addTask(jobs.twoAtOnce, [`t${i}`]));
    await turn();
    expect(jobs.order).toEqual(['t0', 't1']);
    const records = await Promise.all(ids.map((id) => manager.getTask(id)));
    expect(records.filter((r) => r!.status === 'pending')).toHaveLength(18);
    // Added while 18 wait, a higher priority goes first among them.
    ids.push(manager.addTask(jobs.twoAtOnce, ['t20'], { priority: 9 }));
    // The other 3 global slots are free for other functions: a held-back function blocks nobody.
    const other = manager.addTask(jobs.free, ['other']);
    expect((await manager.waitFor(other)).status).toBe('success');
    for (let done = 0; done < 21; done++) {
      const running = jobs.order.filter((label) => label.startsWith('t') && !jobs.opened.has(label));
      expect(running.length).toBeLessThanOrEqual(2);
      jobs.release(running[0]);
      const label = running[0];
      await manager.waitFor(ids[Number(label.slice(1))]);
      await turn();
    }
    await manager.drain();
    expect(jobs.maxRunning).toBe(2);
    const finished = (await Promise.all(ids.map((id) => manager.getTask(id)))) as TaskRecord[];
    expect(finished.every((r) => r.status === 'success')).toBe(true);
    expect(maxOverlap(finished)).toBeLessThanOrEqual(2);
    expect(jobs.order.filter((l) => l.startsWith('t'))).toEqual(['t0', 't1', 't20', ...Array.from({ length: 18 }, (_, i) => `t${i + 2}`)]);
  });

  it('frees the slot of a cancelled running task at once', async () => {
    const ids = Array.from({ length: 3 }, (_, i) => manager.addTask(jobs.twoAtOnce, [`c${i}`]));
    await turn();
    expect(jobs.order).toEqual(['c0', 'c1']);
    await manager.cancel(ids[0]);
    await turn();
    expect(jobs.order).toEqual(['c0', 'c1', 'c2']);
    for (const label of ['c0', 'c1', 'c2']) jobs.release(label);
    await manager.drain();
  });
});

describe('rate limits (fake timers)', () => {
  useApp({}, true);

  /** Advances the fake clock by `ms` in steps, letting started tasks settle in between. */
  async function advance(ms: number, step = 50): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      jest.advanceTimersByTime(Math.min(step, ms - t));
      await turn();
    }
  }

  it('starts at most 5 in any 1 s window, holding the rest pending (not failed), and runs them all', async () => {
    const ids = Array.from({ length: 17 }, (_, i) => manager.addTask(jobs.rated, [`r${i}`]));
    await turn();
    expect(jobs.order).toHaveLength(5);
    const waiting = await Promise.all(ids.slice(5).map((id) => manager.getTask(id)));
    expect(waiting.map((r) => r!.status)).toEqual(Array(12).fill('pending'));
    await advance(999);
    expect(jobs.order).toHaveLength(5);
    await advance(50);
    expect(jobs.order).toHaveLength(10);
    await advance(3000);
    await manager.drain();
    const records = (await Promise.all(ids.map((id) => manager.getTask(id)))) as TaskRecord[];
    expect(records.every((r) => r.status === 'success')).toBe(true);
    expect(maxStartsInWindow(records, 1000)).toBe(5);
    // FIFO: the window lets them go in the order they were added.
    expect(jobs.order).toEqual(ids.map((_, i) => `r${i}`));
  });

  it('keeps one window per key: each tenant gets its own 5 per second', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) for (const tenant of ['a', 'b']) ids.push(manager.addTask(jobs.perTenant, [tenant, i]));
    await turn();
    expect(jobs.order.sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4']);
    await advance(1100);
    await manager.drain();
    const records = (await Promise.all(ids.map((id) => manager.getTask(id)))) as TaskRecord[];
    for (const tenant of ['a', 'b']) {
      const own = records.filter((_, i) => i % 2 === (tenant === 'a' ? 0 : 1));
      expect(own.every((r) => r.status === 'success')).toBe(true);
      expect(maxStartsInWindow(own, 1000)).toBe(5);
    }
    expect(maxStartsInWindow(records, 1000)).toBe(10);
  });

  it('fails a task whose rateLimitKey does not return a string, naming the function', async () => {
    const id = manager.addTask(jobs.badKey);
    const record = await manager.waitFor(id);
    expect(record.status).toBe('failed');
    expect(record.start_time).toBeNull();
    expect(record.error).toBe('TypeError: rateLimitKey of Limited.badKey must return a string, got number');
  });
});

describe('pause and resume (memory)', () => {
  useApp();

  it('holds new and waiting tasks pending while paused, lets a running one finish, and runs them in order on resume', async () => {
    const running = manager.addTask(jobs.pausable, ['running']);
    await turn();
    expect(await manager.pause(jobs.pausable, { actor: 'ops' })).toEqual({ func_name: 'Limited.pausable', paused: true });
    const held = [manager.addTask(jobs.pausable, ['low']), manager.addTask(jobs.pausable, ['high'], { priority: 5 })];
    jobs.release('running');
    expect((await manager.waitFor(running)).status).toBe('success');
    const other = manager.addTask(jobs.free, ['other']);
    expect((await manager.waitFor(other)).status).toBe('success');
    await turn();
    expect((await Promise.all(held.map((id) => manager.getTask(id)))).map((r) => r!.status)).toEqual(['pending', 'pending']);
    expect(manager.registeredTasks().find((r) => r.name === 'Limited.pausable')).toMatchObject({ paused: true });
    expect(manager.registeredTasks().find((r) => r.name === 'Limited.free')).toMatchObject({ paused: false });

    expect(await manager.resume('Limited.pausable')).toEqual({ func_name: 'Limited.pausable', paused: false });
    jobs.release('low');
    jobs.release('high');
    await manager.drain();
    expect(jobs.order.filter((l) => l !== 'other')).toEqual(['running', 'high', 'low']);
    const audit = await manager.audit();
    expect(audit.slice(0, 2)).toEqual([
      expect.objectContaining({ action: 'resume', task_id: null, actor: 'system', detail: { func_name: 'Limited.pausable' } }),
      expect.objectContaining({ action: 'pause', task_id: null, actor: 'ops', detail: { func_name: 'Limited.pausable' } }),
    ]);
  });

  it('refuses to pause what is not registered', async () => {
    await expect(manager.pause('Nope.nothing')).rejects.toBeInstanceOf(UnknownTaskError);
  });

  it('never runs a task cancelled while its function was paused', async () => {
    await manager.pause('Limited.pausable');
    const id = manager.addTask(jobs.pausable, ['victim']);
    await manager.cancel(id);
    await manager.resume('Limited.pausable');
    await manager.drain();
    expect(jobs.order).toEqual([]);
    expect((await manager.getTask(id))!.status).toBe('cancelled');
  });
});
