import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { BackgroundTask, TaskRecord, taskLog } from '../../lib';
import { DEFAULT_ADMIN_TUNING } from '../../lib/options/admin-tuning';
import { TaskEventHub } from '../../lib/stream/task-event-hub';
import { HttpApp, createHttpApp, gate, runToEnd, startHeld } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';
import { SseEvent, SseReader } from '../support/http-sse';

const TUNING = { keepAliveMs: 200, metricsIntervalMs: 300, flushWindowMs: 20 };

const isTask = (e: SseEvent) => e.data !== undefined && e.event === undefined;
const recordOf = (e: SseEvent) => JSON.parse(e.data!) as { task_id: string; status: string; logs: string[] };
const taskEvent = (id: string, status?: string) => (e: SseEvent) =>
  isTask(e) && recordOf(e).task_id === id && (status === undefined || recordOf(e).status === status);

/** Resolves once `condition` holds, polling; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

@Injectable()
class Steps {
  /** A live task whose logs grow in place: one line, then its gate, then another. */
  @BackgroundTask()
  async run(key: string): Promise<void> {
    taskLog('step 1');
    await gate(key).promise;
    taskLog('step 2');
  }
}

describeEachPlatform('SSE stream', (platform) => {
  let h: HttpApp;
  let stream: string;
  const readers: SseReader[] = [];
  const open = async (headers: Record<string, string> = {}, options: { paused?: boolean } = {}) => {
    const reader = await SseReader.open(stream, headers, options);
    readers.push(reader);
    return reader;
  };

  beforeAll(async () => {
    h = await createHttpApp({ maxConcurrentTasks: 1, displayFuncArgs: true }, { platform, tuning: TUNING });
    stream = `${h.url}/tasks/dashboard/stream`;
  });
  afterEach(() => readers.splice(0).forEach((r) => r.close()));
  afterAll(() => h.close());

  it('sends the contract headers', async () => {
    const sse = await open();
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toBe('text/event-stream');
    expect(sse.headers['cache-control']).toBe('no-cache');
    expect(sse.headers['x-accel-buffering']).toBe('no');
  });

  it('sends every pending and running task first, with increasing ids, then changes as they happen', async () => {
    await runToEnd(h.manager, 'Jobs.ok', 'finished-before');
    const running = await startHeld(h.manager, `first-batch-${platform}`);
    const pending = h.manager.addTask('Jobs.ok', ['waiting']);
    const sse = await open();
    const first = [await sse.next(), await sse.next()];
    expect(first.map((e) => [e.event, recordOf(e).task_id, recordOf(e).status])).toEqual([
      [undefined, running, 'running'],
      [undefined, pending, 'pending'],
    ]);
    expect(first.every((e) => /^\d+$/.test(e.id!))).toBe(true);
    expect(BigInt(first[1].id!)).toBeGreaterThan(BigInt(first[0].id!));
    expect(recordOf(first[1])).toEqual(expect.objectContaining({ args: ['waiting'] }));

    gate(`first-batch-${platform}`).open();
    const done = await sse.waitFor(taskEvent(pending, 'success'));
    expect(BigInt(done.id!)).toBeGreaterThan(BigInt(first[1].id!));
    expect(sse.events.filter(isTask).some((e) => recordOf(e).task_id !== running && recordOf(e).task_id !== pending)).toBe(false);
    // Ids only increase along the stream.
    const ids = sse.events.filter(isTask).map((e) => BigInt(e.id!));
    expect([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('replays exactly the events after Last-Event-ID, in order, instead of the first batch', async () => {
    const witness = await open();
    const a = h.manager.addTask('Jobs.ok', ['replay-a']);
    const seen = await witness.waitFor(taskEvent(a, 'success'));

    const b = await runToEnd(h.manager, 'Jobs.ok', 'replay-b');
    const c = await runToEnd(h.manager, 'Jobs.fail', 'replay-c');
    await witness.waitFor(taskEvent(c.task_id, 'failed'));
    const expected = witness.events.slice(witness.events.indexOf(seen) + 1).filter(isTask);
    expect(expected.some(taskEvent(b.task_id, 'success'))).toBe(true);

    const resumed = await open({ 'Last-Event-ID': seen.id! });
    const replayed: SseEvent[] = [];
    for (let i = 0; i < expected.length; i++) replayed.push(await resumed.waitFor(isTask));
    expect(replayed).toEqual(expected);
  });

  it('replays changes made while no client was connected, each event with the state of its own flush', async () => {
    const app = await createHttpApp({ displayFuncArgs: true }, { platform, tuning: TUNING, providers: [Steps] });
    const latest = new Map<string, TaskRecord>();
    const sub = app.manager.events$.subscribe((r) => latest.set(r.task_id, r));
    try {
      const url = `${app.url}/tasks/dashboard/stream`;
      const hub = app.app.get(TaskEventHub);
      // Every change received has been numbered: nothing waits in a flush window.
      const numbered = () => until(() => hub.stats.events + hub.stats.coalesced === hub.stats.changes);
      const witness = await SseReader.open(url);
      const before = await runToEnd(app.manager, 'Jobs.ok', 'offline-mark');
      const mark = await witness.waitFor(taskEvent(before.task_id, 'success'));
      witness.close();
      await until(() => hub.stats.clients === 0);

      // Each step's changes fall in one flush window (they happen within one turn), so
      // each step is one event per task, carrying that task's state at the step's end.
      const expected: TaskRecord[] = [];
      const steps = app.manager.addTask('Steps.run', [`offline-${platform}`]);
      await numbered();
      expected.push(latest.get(steps)!);
      const failed = await runToEnd(app.manager, 'Jobs.fail', 'offline-fail');
      await numbered();
      expected.push(latest.get(failed.task_id)!);
      gate(`offline-${platform}`).open();
      await app.manager.waitFor(steps);
      await numbered();
      expected.push(latest.get(steps)!);
      expect(expected.map((r) => [r.task_id, r.status, r.logs.length])).toEqual([
        [steps, 'running', 1],
        [failed.task_id, 'failed', 0],
        [steps, 'success', 2],
      ]);

      const resumed = await SseReader.open(url, { 'Last-Event-ID': mark.id! });
      const replayed = [await resumed.waitFor(isTask), await resumed.waitFor(isTask), await resumed.waitFor(isTask)];
      expect(replayed.map(recordOf)).toEqual(expected);
      const ids = replayed.map((e) => BigInt(e.id!));
      expect(ids).toEqual([BigInt(mark.id!) + 1n, BigInt(mark.id!) + 2n, BigInt(mark.id!) + 3n]);
      // Nothing else (no first batch either) by the first keep-alive.
      await resumed.waitFor((e) => e.comment === 'keep-alive', 2000);
      expect(resumed.taskEvents()).toHaveLength(3);

      // A later replay from the middle sends the same events as the first one.
      const again = await SseReader.open(url, { 'Last-Event-ID': replayed[0].id! });
      expect([await again.waitFor(isTask), await again.waitFor(isTask)]).toEqual(replayed.slice(1));
      [resumed, again].forEach((r) => r.close());
    } finally {
      sub.unsubscribe();
      await app.close();
    }
  });

  it('leaves out of a replay the events whose record cannot be serialised, and sends the others', async () => {
    const hub = h.app.get(TaskEventHub);
    const witness = await open();
    const mark = await witness.waitFor(taskEvent((await runToEnd(h.manager, 'Jobs.ok', 'unserialisable-mark')).task_id, 'success'));
    witness.close();
    await until(() => hub.stats.clients === 0);
    // Shown with displayFuncArgs, a BigInt argument makes the record unserialisable.
    const bad = h.manager.addTask('Jobs.ok', [10n as unknown as string]);
    await h.manager.waitFor(bad);
    const good = await runToEnd(h.manager, 'Jobs.ok', 'unserialisable-after');
    await until(() => hub.stats.events + hub.stats.coalesced === hub.stats.changes);
    for (let i = 0; i < 2; i++) {
      const resumed = await open({ 'Last-Event-ID': mark.id! });
      const first = await resumed.waitFor(isTask);
      expect(recordOf(first)).toEqual(expect.objectContaining({ task_id: good.task_id, status: 'success' }));
      expect(BigInt(first.id!)).toBeGreaterThan(BigInt(mark.id!));
      await resumed.waitFor((e) => e.comment === 'keep-alive', 2000);
      expect(resumed.taskEvents()).toHaveLength(1);
    }
  });

  it('sends the first batch when Last-Event-ID is unknown, malformed or older than the buffer', async () => {
    const live = await startHeld(h.manager, `old-id-${platform}`);
    for (const id of ['1', 'abc', '99999999999999999', '-5', '']) {
      const sse = await open(id === '' ? {} : { 'Last-Event-ID': id });
      const first = await sse.waitFor(isTask);
      expect(recordOf(first)).toEqual(expect.objectContaining({ task_id: live, status: 'running' }));
    }
    gate(`old-id-${platform}`).open();
    await h.manager.waitFor(live);
  });

  it('falls back to the first batch once the Last-Event-ID left the replay buffer (default size at least 1000)', async () => {
    expect(DEFAULT_ADMIN_TUNING.replayBufferSize).toBeGreaterThanOrEqual(1000);
    const tiny = await createHttpApp({}, { platform, tuning: { ...TUNING, replayBufferSize: 3 } });
    try {
      const url = `${tiny.url}/tasks/dashboard/stream`;
      const witness = await SseReader.open(url);
      const live = await startHeld(tiny.manager, `evicted-${platform}`);
      const mark = await witness.waitFor(taskEvent(live, 'running'));
      // Inside the buffer: exact replay.
      const a = await runToEnd(tiny.manager, 'Jobs.ok', 'evict-a');
      await witness.waitFor(taskEvent(a.task_id, 'success'));
      const inside = await SseReader.open(url, { 'Last-Event-ID': mark.id! });
      expect(recordOf(await inside.waitFor(isTask)).task_id).toBe(a.task_id);
      // Pushed out of the buffer by later events: the first batch (the live task) instead.
      for (let i = 0; i < 4; i++) await witness.waitFor(taskEvent((await runToEnd(tiny.manager, 'Jobs.ok', `evict-${i}`)).task_id, 'success'));
      const outside = await SseReader.open(url, { 'Last-Event-ID': mark.id! });
      const first = await outside.waitFor(isTask);
      expect(recordOf(first)).toEqual(expect.objectContaining({ task_id: live, status: 'running' }));
      expect(first.id).toBe(mark.id);
      [witness, inside, outside].forEach((r) => r.close());
      gate(`evicted-${platform}`).open();
    } finally {
      await tiny.close();
    }
  });

  it('sends ": keep-alive" comments on the keep-alive interval', async () => {
    const sse = await open();
    expect(await sse.waitFor((e) => e.comment !== undefined, 2000)).toEqual({ comment: 'keep-alive' });
    expect(await sse.waitFor((e) => e.comment !== undefined, 2000)).toEqual({ comment: 'keep-alive' });
  });

  it('sends a named metrics event after changes, at most once per interval', async () => {
    const sse = await open();
    const arrivals: number[] = [];
    const sub = h.manager.events$.subscribe();
    const first = await runToEnd(h.manager, 'Jobs.ok', 'm1');
    const metrics = await sse.waitFor((e) => e.event === 'metrics');
    arrivals.push(Date.now());
    // It carries the id of the latest task event, so it never moves the client's Last-Event-ID elsewhere.
    const taskIds = sse.events.filter((e) => e.event === undefined && e.id !== undefined).map((e) => e.id);
    expect(metrics.id).toBe(taskIds[taskIds.length - 1]);
    expect(JSON.parse(metrics.data!)).toEqual(
      expect.objectContaining({ total: expect.any(Number), success: expect.any(Number), by_function: expect.any(Object) }),
    );
    expect(first.status).toBe('success');
    for (let i = 0; i < 4; i++) {
      await runToEnd(h.manager, 'Jobs.ok', `m-burst-${i}`);
      await sse.waitFor((e) => e.event === 'metrics');
      arrivals.push(Date.now());
    }
    sub.unsubscribe();
    for (let i = 1; i < arrivals.length; i++) expect(arrivals[i] - arrivals[i - 1]).toBeGreaterThanOrEqual(TUNING.metricsIntervalMs - 20);
  });

  it('merges changes of one task within a flush window into one event with its latest state', async () => {
    const sse = await open();
    let changes = 0;
    const id = await new Promise<string>((resolve) => {
      let taskId = '';
      const sub = h.manager.events$.subscribe((r) => {
        if (r.task_id !== taskId) return;
        changes++;
        if (r.status === 'success') {
          sub.unsubscribe();
          resolve(taskId);
        }
      });
      taskId = h.manager.addTask('Jobs.chatty', [200]);
    });
    const last = await sse.waitFor(taskEvent(id, 'success'));
    expect(recordOf(last).logs).toHaveLength(200);
    const forTask = sse.events.filter(taskEvent(id));
    expect(changes).toBeGreaterThan(200);
    expect(forTask.length).toBeLessThan(10);
    expect(h.app.get(TaskEventHub).stats.coalesced).toBeGreaterThan(190);
  });

  it('accepts the session on the stream when auth is on', async () => {
    const authed = await createHttpApp({ auth: ['u', 'p'], secretKey: 'k'.repeat(32) }, { platform, tuning: TUNING });
    try {
      const url = `${authed.url}/tasks/dashboard/stream`;
      const token = (await request(authed.server).post('/tasks/auth/login').send({ username: 'u', password: 'p' }).expect(200)).body.access_token;
      const byBearer = await SseReader.open(url, { Authorization: `Bearer ${token}` });
      const byCookie = await SseReader.open(url, { Cookie: `taskflow_token=${token}` });
      const none = await SseReader.open(url);
      const tampered = await SseReader.open(url, { Authorization: `Bearer ${token}x` });
      expect([byBearer.status, byCookie.status, none.status, tampered.status]).toEqual([200, 200, 401, 401]);
      const done = await runToEnd(authed.manager, 'Jobs.ok', 'authed');
      await byBearer.waitFor(taskEvent(done.task_id, 'success'));
      await byCookie.waitFor(taskEvent(done.task_id, 'success'));
      [byBearer, byCookie, none, tampered].forEach((r) => r.close());
    } finally {
      await authed.close();
    }
  });

  it('drops a client that stops reading once its queue passes the bound, and keeps the others', async () => {
    const small = await createHttpApp({ displayFuncArgs: true }, { platform, tuning: { ...TUNING, maxClientQueueBytes: 256 * 1024 } });
    try {
      const hub = small.app.get(TaskEventHub);
      const stalled = await SseReader.open(`${small.url}/tasks/dashboard/stream`, {}, { paused: true });
      const reading = await SseReader.open(`${small.url}/tasks/dashboard/stream`);
      const big = 'x'.repeat(8 * 1024);
      // Waves of 10 tasks of ~16 kB each: every wave fits the bound, the sum (16 MB) does not.
      for (let wave = 0; wave < 100 && hub.stats.clients === 2; wave++) {
        const ids = Array.from({ length: 10 }, (_, i) => small.manager.addTask('Jobs.ok', [`${wave}-${i}-${big}`]));
        await small.manager.drain();
        await reading.waitFor(taskEvent(ids[ids.length - 1], 'success'), 10_000);
      }
      expect(hub.stats.clients).toBe(1);
      stalled.resume();
      await stalled.waitForEnd(20_000);
      expect(stalled.events.at(-1)!.comment).toMatch(/^dropped/);
      expect(reading.ended).toBe(false);
      reading.close();
    } finally {
      await small.close();
    }
  });

  it('ends open streams cleanly when the app shuts down', async () => {
    const other = await createHttpApp({}, { platform, tuning: TUNING });
    const sse = await SseReader.open(`${other.url}/tasks/dashboard/stream`);
    expect(sse.status).toBe(200);
    await other.close();
    await sse.waitForEnd(2000);
  });
});
