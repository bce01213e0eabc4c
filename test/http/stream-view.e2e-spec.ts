import request from 'supertest';
import { HttpApp, createHttpApp, gate, runToEnd, startHeld } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';
import { SseEvent, SseReader } from '../support/http-sse';

const TUNING = { keepAliveMs: 60_000, metricsIntervalMs: 200, flushWindowMs: 20, viewBurstEvents: 20, viewResyncMs: 100 };

const isTask = (e: SseEvent) => e.data !== undefined && e.event === undefined;
const recordOf = (e: SseEvent) => JSON.parse(e.data!) as { task_id: string; func_name: string; status: string };
const success = (id: string) => (e: SseEvent) => isTask(e) && recordOf(e).task_id === id && recordOf(e).status === 'success';

describeEachPlatform('SSE view streams (a dashboard page: GET {path}/dashboard/stream with the filters of its table)', (platform) => {
  let h: HttpApp;
  let stream: string;
  const readers: SseReader[] = [];
  const open = async (query = '') => {
    const reader = await SseReader.open(`${stream}${query}`);
    readers.push(reader);
    return reader;
  };

  beforeAll(async () => {
    h = await createHttpApp({}, { platform, tuning: TUNING });
    stream = `${h.url}/tasks/dashboard/stream`;
  });
  afterEach(() => readers.splice(0).forEach((r) => r.close()));
  afterAll(() => h.close());

  it('sends a filtered client only the changes that match, a plain one every change', async () => {
    const plain = await open();
    const failures = await open('?func_name=Jobs.fail');
    const failed = await open('?status=failed');
    const ok = await runToEnd(h.manager, 'Jobs.ok', 'view-ok');
    const bad = await runToEnd(h.manager, 'Jobs.fail', 'view-bad');
    await plain.waitFor((e) => isTask(e) && recordOf(e).task_id === bad.task_id && recordOf(e).status === 'failed');
    // The last task's failure reached the filtered clients too (events go out in id order).
    await failures.waitFor((e) => isTask(e) && recordOf(e).status === 'failed');
    await failed.waitFor((e) => isTask(e) && recordOf(e).status === 'failed');
    expect(plain.taskEvents().map((e) => e.record.task_id)).toEqual(expect.arrayContaining([ok.task_id, bad.task_id]));
    expect(new Set(failures.taskEvents().map((e) => e.record.func_name))).toEqual(new Set(['Jobs.fail']));
    expect(failed.taskEvents().map((e) => [e.record.task_id, e.record.status])).toEqual([[bad.task_id, 'failed']]);
    // Same events, same ids: a filtered stream skips, it does not renumber.
    const plainIds = new Map(plain.taskEvents().map((e) => [`${e.record.task_id} ${e.record.status}`, e.id]));
    for (const e of failures.taskEvents()) expect(plainIds.get(`${e.record.task_id} ${e.record.status}`)).toBe(e.id);
  });

  it('starts a view stream with the live tasks of its view, and follows its task parameter whatever the filters', async () => {
    const held = await startHeld(h.manager, `view-held-${platform}`);
    const other = await startHeld(h.manager, `view-other-${platform}`);
    const view = await open(`?func_name=Jobs.ok&task=${held}`);
    expect((await view.waitFor(isTask)).data).toContain(held);
    gate(`view-other-${platform}`).open();
    gate(`view-held-${platform}`).open();
    await view.waitFor(success(held));
    await h.manager.waitFor(other);
    expect(view.taskEvents().some((e) => e.record.task_id === other)).toBe(false);
  });

  it('sends one resync instead of a burst, then resyncs until the view has settled', async () => {
    const plain = await open();
    const view = await open('?view=1');
    const ids = Array.from({ length: 200 }, (_, i) => h.manager.addTask('Jobs.ok', [`burst ${i}`]));
    const first = await view.waitFor((e) => e.event === 'resync');
    const hint = JSON.parse(first.data!) as { latest_id: number; sent: number; omitted: number };
    expect(hint).toEqual({ latest_id: expect.any(Number), sent: 0, omitted: expect.any(Number) });
    expect(hint.omitted).toBeGreaterThan(TUNING.viewBurstEvents);
    expect(first.id).toBe(String(hint.latest_id));
    for (const id of ids) await plain.waitFor(success(id), 10_000);
    const lastPlainId = Number(plain.taskEvents().at(-1)!.id);
    // Every change of the burst is covered by a resync whose latest_id is at or past it: none is lost.
    let last = hint;
    while (last.latest_id < lastPlainId) last = JSON.parse((await view.waitFor((e) => e.event === 'resync', 5000)).data!);
    expect(last.latest_id).toBe(lastPlainId);
    // What the page reads after it is the end state.
    const { body } = await request(h.server).get('/tasks').query({ limit: '200', func_name: 'Jobs.ok' }).expect(200);
    expect(new Set((body as { task_id: string; status: string }[]).filter((r) => ids.includes(r.task_id)).map((r) => r.status))).toEqual(
      new Set(['success']),
    );
    // Far fewer task events than the plain stream's, and once the burst is over, changes one by one again
    // (at the latest at the end of the last resync's gap).
    expect(view.taskEvents().length).toBeLessThan(plain.taskEvents().length / 4);
    const after = await runToEnd(h.manager, 'Jobs.ok', 'after the burst');
    await view.waitFor(success(after.task_id));
  });

  it('answers 400 with Nest’s error body to a bad view, before any stream opens', async () => {
    for (const query of ['status=nope', 'view=2', 'since=3w', 'task=%20', 'func_name=a&func_name=b', `search=${'x'.repeat(300)}`]) {
      const res = await request(h.server).get(`/tasks/dashboard/stream?${query}`).expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: expect.any(String), error: 'Bad Request' });
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    }
  });
});
