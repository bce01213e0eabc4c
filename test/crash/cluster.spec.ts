/**
 * One cluster of two app processes (A and B, HTTP, no auth) on one real database, shared
 * by the cases below (started once, short leases):
 * - B's SSE stream carries A's task going running, reporting progress, logging a line and
 *   succeeding, each within the bound (1 s on PostgreSQL, 2 s on MySQL/MariaDB), and B's
 *   REST shows it running meanwhile;
 * - a burst of 10,000 tasks on A reaches B's change feed at a bounded cost: B's statements
 *   to the database meanwhile are counted (a TypeORM logger in B), and are a small
 *   fraction of the changes;
 * - GET /instances on either lists both alive; after A is SIGKILLed and its lease ended, B
 *   lists A as not alive (last: it kills A).
 */
import request from 'supertest';
import { CrashChild, pollUntil } from '../support/crash-child';
import { describeEachOf } from '../support/crash-db';
import { useCrashSuite } from '../support/crash-suite';
import { SseReader } from '../support/http-sse';
import * as path from 'node:path';

const FIXTURE = path.join(__dirname, 'fixtures', 'cluster-app.ts');
const LEASE_SECONDS = 3;
const BURST = 10_000;

interface Ready {
  ev: 'ready';
  url: string;
  instance: string;
  pid: number;
}

describeEachOf(['postgres', 'mysql'], 'one cluster: live view, instances', (target) => {
  const suite = useCrashSuite(target.options, undefined, { shareChildren: true });
  const boundMs = target.name === 'postgres' ? 1000 : 2000;
  let a: CrashChild;
  let b: CrashChild;
  let readyA: Ready;
  let readyB: Ready;
  let stream: SseReader;

  beforeAll(async () => {
    const config = { database: target.options, prefix: suite.prefix, options: { instanceLeaseSeconds: LEASE_SECONDS } };
    a = CrashChild.start('A', config, { fixture: FIXTURE });
    b = CrashChild.start('B', config, { fixture: FIXTURE });
    readyA = (await a.waitFor((e) => e.ev === 'ready', 30_000, '"ready"')) as unknown as Ready;
    readyB = (await b.waitFor((e) => e.ev === 'ready', 30_000, '"ready"')) as unknown as Ready;
    stream = await SseReader.open(`${readyB.url}/tasks/dashboard/stream`);
  }, 60_000);
  afterAll(() => stream?.close());

  /** How long after `since` B's stream carried a change of task `id` matching `match`. */
  async function seenOnB(id: string, since: number, match: (r: Record<string, unknown>) => boolean): Promise<number> {
    await stream.waitForTask(id, match, 15_000);
    return Date.now() - since;
  }

  /** When A took step `n` of the task `key` (A's clock: the same machine's). */
  async function stepAt(key: string, n: number): Promise<number> {
    const event = (await a.waitFor((e) => {
      const step = e as unknown as { ev: string; key?: string; n?: number };
      return step.ev === 'step' && step.key === key && step.n === n;
    })) as unknown as { t: number };
    return event.t;
  }

  it("streams A's task on B as it runs, reports progress, logs and succeeds; B's REST shows it running", async () => {
    const key = `cluster-${target.name}`;
    const sent = Date.now();
    a.send(`start ${key}`);
    const { id } = (await a.waitFor((e) => (e as unknown as { ev: string; key?: string }).ev === 'started')) as unknown as { id: string };
    const lags: Record<string, number> = { running: await seenOnB(id, sent, (r) => r.status === 'running') };
    const rest = await request(readyB.url).get(`/tasks/${id}`).expect(200);
    expect(rest.body).toMatchObject({ status: 'running', instance: readyA.instance });
    const listed = await request(readyB.url).get('/tasks').query({ status: 'running', instance: readyA.instance }).expect(200);
    expect(listed.body.map((r: { task_id: string }) => r.task_id)).toEqual([id]);

    a.send(`step ${key}`);
    lags.progress = await seenOnB(id, await stepAt(key, 1), (r) => r.progress === 0.5);
    a.send(`step ${key}`);
    lags.log = await seenOnB(id, await stepAt(key, 2), (r) => (r.logs as string[]).some((line) => line.endsWith(' half way')));
    a.send(`step ${key}`);
    lags.success = await seenOnB(id, await stepAt(key, 3), (r) => r.status === 'success');
    console.log(`[${target.name}] A's task on B's stream (ms after A's change, the first from addTask): ${JSON.stringify(lags)}`);
    for (const lag of Object.values(lags)) expect(lag).toBeLessThan(boundMs);
  }, 60_000);

  it(`costs B a bounded number of queries for a burst of ${BURST.toLocaleString('en')} tasks on A`, async () => {
    const stats = async () =>
      (await request(readyB.url).get('/debug/stats').expect(200)).body as { queries: number; remoteSeen: number; remoteFinished: number };
    const before = await stats();
    const startedAt = Date.now();
    a.send(`burst ${BURST}`);
    const after = await pollUntil(
      "B's feed brought every task of the burst, finished",
      async () => {
        const now = await stats();
        return now.remoteFinished - before.remoteFinished >= BURST && now;
      },
      60_000,
      100,
    );
    const seconds = (Date.now() - startedAt) / 1000;
    const queries = after.queries - before.queries;
    console.log(
      `[${target.name}] ${BURST} tasks on A reached B in ${seconds.toFixed(1)} s; B sent ${queries} statements meanwhile (all of its work, timers included)`,
    );
    // A query per change would be 10,000 or more; reads of 500 ids, polls of 1000 changes and B's timers stay far below.
    expect(queries).toBeLessThan(BURST / 20);
  }, 90_000);

  it('lists both instances on either, then A not alive once A is killed and its lease ended', async () => {
    for (const url of [readyA.url, readyB.url]) {
      const listed = (await request(url).get('/tasks/instances').expect(200)).body as { instance_id: string; alive: boolean; pid: number }[];
      expect(listed.map((i) => [i.instance_id, i.alive, i.pid]).sort()).toEqual(
        [
          [readyA.instance, true, readyA.pid],
          [readyB.instance, true, readyB.pid],
        ].sort(),
      );
    }
    await a.kill();
    const listed = await pollUntil(
      'A listed as not alive on B',
      async () => {
        const body = (await request(readyB.url).get('/tasks/instances').expect(200)).body as { instance_id: string; alive: boolean }[];
        return body.find((i) => i.instance_id === readyA.instance)?.alive === false && body;
      },
      (LEASE_SECONDS + 10) * 1000,
      200,
    );
    // Alive first.
    expect(listed.map((i) => [i.instance_id, i.alive])).toEqual([
      [readyB.instance, true],
      [readyA.instance, false],
    ]);
    await b.close();
  }, 60_000);
});
