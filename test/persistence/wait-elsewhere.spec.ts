/**
 * `waitFor(id)` on an instance that does not run the task: it resolves with the terminal
 * record once the replica running it finishes, not with the running record at once.
 */
import { pollUntil } from '../support/crash-child';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { createHttpApp, gate, HttpApp, startHeld } from '../support/http-app';

describeEachDatabase(
  'waitFor on another replica',
  (target) => {
    const prefix = uniquePrefix();
    let a: HttpApp;
    let b: HttpApp;

    beforeAll(async () => {
      const options = { database: target.options, tablePrefix: prefix, requeuePending: true, instanceLeaseSeconds: 5 };
      a = await createHttpApp(options);
      b = await createHttpApp(options);
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it("waits for the task A runs to end, then gives A's terminal record", async () => {
      const id = await startHeld(a.manager, `wait-elsewhere-${target.name}`);
      await pollUntil('B sees the task running', async () => (await b.manager.getTask(id))?.status === 'running');
      let settled = false;
      const waited = b.manager.waitFor(id).then((record) => ((settled = true), record));
      // B reads the row twice (every 0.5 s) while A still runs it: still waiting.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(settled).toBe(false);

      gate(`wait-elsewhere-${target.name}`).open();
      const record = await waited;
      expect(record).toMatchObject({ task_id: id, status: 'success', func_name: 'Jobs.hold' });
      expect(record).toEqual(await a.manager.waitFor(id));
    });

    it('rejects with TaskNotFoundError for an unknown id, and gives a finished record at once', async () => {
      await expect(b.manager.waitFor('00000000-0000-4000-8000-000000000000')).rejects.toThrow(/not found/i);
      const id = a.manager.addTask('Jobs.ok', ['done']);
      await a.manager.waitFor(id);
      await a.manager.flush();
      expect(await b.manager.waitFor(id)).toMatchObject({ task_id: id, status: 'success' });
    });
  },
  ['postgres', 'mysql'],
);
