/**
 * Cancel from any replica: two apps (two instances) on one database; a task running on
 * A is cancelled through B's REST API. B answers 200 with the task cancelled at once;
 * A aborts the task's signal within 2 s, and the task makes no further attempt.
 */
import request from 'supertest';
import { pollUntil } from '../support/crash-child';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { createHttpApp, HttpApp, startHeld } from '../support/http-app';
import { HTTP_PLATFORMS } from '../support/http-platforms';

describeEachDatabase(
  'cancel through another replica',
  (target) => {
    const prefix = uniquePrefix();
    let a: HttpApp;
    let b: HttpApp;

    // The replicas run on different platforms where both are tested (A Express, B Fastify):
    // the cancel goes through B's routes, the owner A aborts its task.
    const [platformA, platformB] = [HTTP_PLATFORMS[0], HTTP_PLATFORMS[HTTP_PLATFORMS.length - 1]];

    beforeAll(async () => {
      const options = { database: target.options, tablePrefix: prefix, requeuePending: true, instanceLeaseSeconds: 5 };
      a = await createHttpApp(options, { platform: platformA });
      b = await createHttpApp(options, { platform: platformB });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it(`answers cancelled at once on B (${platformB}), and the owner A (${platformA}) aborts the task's signal within 2 s`, async () => {
      const id = await startHeld(a.manager, 'remote-cancel');
      await pollUntil('B sees the task running', async () => (await b.manager.getTask(id))?.status === 'running');
      const ended = a.manager.waitFor(id);

      const sentAt = Date.now();
      const res = await request(b.server).post(`/tasks/${id}/cancel`).expect(200);
      expect(res.body).toMatchObject({ task_id: id, task: { task_id: id, status: 'cancelled' } });

      const record = await ended;
      const abortedMs = Date.now() - sentAt;
      console.log(`[${target.name}] cancelled through B; A aborted the task ${abortedMs} ms after the request`);
      expect(record).toMatchObject({ status: 'cancelled', retries_used: 0 });
      expect(abortedMs).toBeLessThan(2000);
      await a.manager.flush();
      expect(await b.manager.getTask(id)).toMatchObject({ status: 'cancelled' });
      expect((await request(a.server).get(`/tasks/${id}`).expect(200)).body).toMatchObject({ status: 'cancelled' });
    });
  },
  ['postgres', 'mysql'],
);
