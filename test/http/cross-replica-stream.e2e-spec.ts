/**
 * One live view across replicas, two apps (two instances) on one database in this
 * process: B's SSE stream carries A's task as it goes running, reports progress, logs
 * a line and succeeds, each within the bound (1 s on PostgreSQL, 2 s on MySQL/MariaDB
 * and SQLite); B's REST shows it running meanwhile; GET /instances on B lists both, and
 * the `instance` filter finds A's task. On PostgreSQL, B's listening connection is killed
 * in the server: a task that finishes while it is down still reaches B's stream.
 */
import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { BackgroundTask, TaskBackend, TypeOrmTaskBackend, reportProgress, taskLog } from '../../lib';
import { TaskRuntime } from '../../lib/engine/task-runtime';
import { TaskStorage } from '../../lib/engine/task-storage';
import { Gate } from '../support/gate';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { createHttpApp, HttpApp } from '../support/http-app';
import { SseReader } from '../support/http-sse';
import { pollUntil } from '../support/crash-child';

/** Each step of `Steps.run` waits for its gate, so the test times what B sees after each. */
const steps = new Map<string, Gate[]>();
function stepsOf(key: string): Gate[] {
  if (!steps.has(key)) steps.set(key, [new Gate(), new Gate(), new Gate()]);
  return steps.get(key)!;
}

@Injectable()
class Steps {
  @BackgroundTask({ name: 'Steps.run' })
  async run(key: string): Promise<string> {
    const [progress, log, finish] = stepsOf(key);
    await progress.promise;
    reportProgress(0.5);
    await log.promise;
    taskLog('half way');
    await finish.promise;
    return key;
  }

  @BackgroundTask({ name: 'Steps.quick' })
  async quick(): Promise<void> {}
}

describeEachDatabase('one live view across replicas', (target) => {
  const prefix = uniquePrefix();
  const boundMs = target.name === 'postgres' ? 1000 : 2000;
  let a: HttpApp;
  let b: HttpApp;
  let stream: SseReader;

  beforeAll(async () => {
    const options = { database: target.options, tablePrefix: prefix, instanceLeaseSeconds: 5 };
    a = await createHttpApp(options, { providers: [Steps] });
    b = await createHttpApp(options, { providers: [Steps] });
    stream = await SseReader.open(`${b.url}/tasks/dashboard/stream`);
  });
  afterAll(async () => {
    stream?.close();
    await b?.close();
    await a?.close();
  });

  /** The first event on B's stream of task `id` matching `match`, and how long after `since` it came. */
  /** How long after `since` B's stream carried a change of task `id` matching `match`. */
  async function seenOnB(id: string, since: number, match: (r: Record<string, unknown>) => boolean): Promise<number> {
    await stream.waitForTask(id, match, 10_000);
    return Date.now() - since;
  }

  it("streams A's task on B as it runs, reports progress, logs and succeeds, within the bound", async () => {
    const key = `live-${target.name}`;
    const [progress, log, finish] = stepsOf(key);
    let at = Date.now();
    const id = a.manager.addTask('Steps.run', [key]);
    const lags: Record<string, number> = {};
    lags.running = await seenOnB(id, at, (r) => r.status === 'running');

    const rest = (await request(b.server).get(`/tasks/${id}`).expect(200)).body;
    expect(rest).toMatchObject({ status: 'running' });
    expect(rest.instance).toBe(a.app.get(TaskStorage).instanceId);

    at = Date.now();
    progress.open();
    lags.progress = await seenOnB(id, at, (r) => r.progress === 0.5);
    at = Date.now();
    log.open();
    lags.log = await seenOnB(id, at, (r) => (r.logs as string[]).some((line) => line.endsWith(' half way')));
    at = Date.now();
    finish.open();
    lags.success = await seenOnB(id, at, (r) => r.status === 'success');
    console.log(`[${target.name}] A's changes on B's stream after: ${JSON.stringify(lags)} ms`);
    for (const lag of Object.values(lags)) expect(lag).toBeLessThan(boundMs);
  });

  it('lists both instances on either, alive, and filters the task list by instance', async () => {
    // Both apps run in this one process: B's start took A's row for its own predecessor's
    // (same host, same pid) and removed it, until A's next heartbeat writes it again.
    const ids = await pollUntil('both instances listed on A', async () => {
      const listed = (await request(a.server).get('/tasks/instances').expect(200)).body.map((i: { instance_id: string }) => i.instance_id);
      return listed.length === 2 && listed;
    });
    const onB = (await request(b.server).get('/tasks/instances').expect(200)).body;
    expect(onB.map((i: { instance_id: string }) => i.instance_id).sort()).toEqual([...ids].sort());
    expect(onB).toHaveLength(2);
    for (const instance of onB) {
      expect(Object.keys(instance)).toEqual(['instance_id', 'host', 'pid', 'started_at', 'last_heartbeat', 'alive', 'running', 'pending']);
      expect(instance).toMatchObject({ alive: true, pid: process.pid, running: 0, pending: 0 });
      expect(instance.started_at).toMatch(/Z$/);
    }
    const id = a.manager.addTask('Steps.quick');
    const done = await a.manager.waitFor(id);
    await a.manager.flush();
    const listed = await request(b.server).get('/tasks').query({ instance: done.instance }).expect(200);
    expect(listed.body.map((r: { task_id: string }) => r.task_id)).toContain(id);
    expect(listed.body.every((r: { instance: string }) => r.instance === done.instance)).toBe(true);
    const other = ids.find((i: string) => i !== done.instance);
    const none = await request(b.server).get('/tasks').query({ instance: other }).expect(200);
    expect(none.body.map((r: { task_id: string }) => r.task_id)).not.toContain(id);
  });

  it("follows other instances only while a stream is open, and a stream opened later lists A's running task", async () => {
    stream.close();
    const key = `late-${target.name}`;
    const [progress, log, finish] = stepsOf(key);
    const id = a.manager.addTask('Steps.run', [key]);
    await pollUntil('A running it', async () => (await a.manager.getTask(id))?.status === 'running');
    await a.manager.flush();
    // Nobody watches on B: nothing of A's is read there.
    await new Promise((resolve) => setTimeout(resolve, boundMs));
    expect(b.app.get(TaskRuntime).remote.liveTasks()).toEqual([]);
    const at = Date.now();
    stream = await SseReader.open(`${b.url}/tasks/dashboard/stream`);
    const lag = await seenOnB(id, at, (r) => r.status === 'running');
    expect(lag).toBeLessThan(boundMs);
    for (const gate of [progress, log, finish]) gate.open();
    await seenOnB(id, at, (r) => r.status === 'success');
  });

  if (target.name === 'postgres') {
    it("reconnects B's listener after its connection is killed, and catches up on what it missed", async () => {
      const sql = (app: HttpApp) => (app.app.get(TaskBackend) as TypeOrmTaskBackend).source;
      const listening = `SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN "${prefix}changes"'`;
      const killed = (await sql(a).query(`SELECT pg_terminate_backend(pid) FROM (${listening}) l`)) as unknown[];
      expect(killed).toHaveLength(2);
      // Both listeners were killed; A's change made while B is away must still reach B.
      const id = a.manager.addTask('Steps.quick');
      await a.manager.waitFor(id);
      await a.manager.flush();
      // Written while nobody listened (the listeners come back after 250 ms): only B's catch-up can find it.
      expect((await sql(a).query(listening)) as unknown[]).toHaveLength(0);
      await seenOnB(id, Date.now(), (r) => r.status === 'success');
      // And B listens again: a later change arrives as a notice.
      await pollUntil('both listening again', async () => ((await sql(a).query(listening)) as unknown[]).length === 2);
      const at = Date.now();
      const next = a.manager.addTask('Steps.quick');
      expect(await seenOnB(next, at, (r) => r.status === 'success')).toBeLessThan(boundMs);
    });
  }
});
