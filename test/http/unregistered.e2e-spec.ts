import { Injectable } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { BackgroundTask } from '../../lib';
import { createHttpApp } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';

@Injectable()
class Legacy {
  @BackgroundTask({ name: 'Legacy.removed' })
  async run(): Promise<void> {
    throw new Error('legacy failure');
  }
}

describeEachPlatform('retry of a task whose function is no longer registered', (platform) => {
  const dir = mkdtempSync(join(tmpdir(), 'taskflow-http-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers 409 and dispatches nothing', async () => {
    const snapshotDb = join(dir, 'tasks.db');
    const first = await createHttpApp({ snapshotDb }, { providers: [Legacy], platform });
    let id: string;
    try {
      id = first.manager.addTask('Legacy.removed', []);
      expect((await first.manager.waitFor(id)).status).toBe('failed');
    } finally {
      await first.close();
    }
    const second = await createHttpApp({ snapshotDb }, { platform });
    try {
      expect((await request(second.server).get(`/tasks/${id}`).expect(200)).body.func_name).toBe('Legacy.removed');
      const res = await request(second.server).post(`/tasks/${id}/retry`).expect(409);
      expect(res.body).toEqual({ statusCode: 409, error: 'Conflict', message: expect.stringMatching(/Legacy\.removed.*no longer registered/) });
      const bulk = await request(second.server)
        .post('/tasks/bulk-retry')
        .send({ task_ids: [id] })
        .expect(200);
      expect(bulk.body).toEqual({ dispatched: 0, skipped: 1, results: [] });
      expect((await request(second.server).get('/tasks').expect(200)).body).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
