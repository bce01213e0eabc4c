import request from 'supertest';
import { TaskRecord } from '../../lib';
import { HttpApp, createHttpApp, gate, runToEnd, startHeld } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function expectStandardError(body: unknown, status: number, message?: RegExp): void {
  expect(body).toEqual(expect.objectContaining({ statusCode: status, error: expect.any(String), message: expect.anything() }));
  if (message) expect(String((body as { message: unknown }).message)).toMatch(message);
}

describeEachPlatform('REST API without auth (path /tasks)', (platform) => {
  let h: HttpApp;
  let ok1: TaskRecord;
  let ok2: TaskRecord;
  let failed: TaskRecord;

  beforeAll(async () => {
    h = await createHttpApp({ title: 'Ops <b>&</b>' }, { platform });
    ok1 = await runToEnd(h.manager, 'Jobs.ok', 'one', { team: 'a', region: 'eu' });
    ok2 = await runToEnd(h.manager, 'Jobs.ok', 'two', { team: 'b' });
    failed = await runToEnd(h.manager, 'Jobs.fail', 'Boom Needle', { team: 'a' });
  });
  afterAll(() => h.close());

  describe('GET /tasks', () => {
    it('lists newest first with X-Total-Count, exposed to CORS', async () => {
      const res = await request(h.server).get('/tasks').expect(200);
      expect(res.body.map((t: TaskRecord) => t.task_id)).toEqual([failed.task_id, ok2.task_id, ok1.task_id]);
      expect(res.headers['x-total-count']).toBe('3');
      expect(res.headers['access-control-expose-headers']).toMatch(/X-Total-Count/i);
      expect(Object.keys(res.body[0]).slice(0, 15)).toEqual([
        'task_id',
        'func_name',
        'status',
        'created_at',
        'start_time',
        'end_time',
        'duration',
        'retries_used',
        'error',
        'logs',
        'stacktrace',
        'tags',
        'source',
        'priority',
        'executor',
      ]);
      expect(res.body[0].args).toBeUndefined();
    });

    it('filters by status, func_name, q, tags and since, and pages', async () => {
      const ids = async (query: string) => {
        const res = await request(h.server).get(`/tasks?${query}`).expect(200);
        return { ids: res.body.map((t: TaskRecord) => t.task_id), total: res.headers['x-total-count'] };
      };
      expect(await ids('status=failed')).toEqual({ ids: [failed.task_id], total: '1' });
      expect(await ids('func_name=Jobs.ok')).toEqual({ ids: [ok2.task_id, ok1.task_id], total: '2' });
      expect(await ids('q=boom%20NEEDLE')).toEqual({ ids: [failed.task_id], total: '1' });
      expect(await ids(`q=${ok1.task_id.slice(0, 8).toUpperCase()}`)).toEqual({ ids: [ok1.task_id], total: '1' });
      expect(await ids('tag=team:a')).toEqual({ ids: [failed.task_id, ok1.task_id], total: '2' });
      expect(await ids('tag=team:a&tag=region:eu')).toEqual({ ids: [ok1.task_id], total: '1' });
      expect(await ids('tag=team:zzz')).toEqual({ ids: [], total: '0' });
      expect(await ids('since=1h')).toEqual(expect.objectContaining({ total: '3' }));
      expect(await ids('since=all')).toEqual(expect.objectContaining({ total: '3' }));
      expect(await ids('since=0h')).toEqual({ ids: [], total: '0' });
      expect(await ids('limit=1')).toEqual({ ids: [failed.task_id], total: '3' });
      expect(await ids('limit=1&offset=1')).toEqual({ ids: [ok2.task_id], total: '3' });
      expect(await ids('offset=10')).toEqual({ ids: [], total: '3' });
      expect(await ids('limit=5000')).toEqual(expect.objectContaining({ total: '3' }));
      expect(await ids('tag=__proto__:x')).toEqual({ ids: [], total: '0' });
      expect(await ids('unknown=1&_=123')).toEqual(expect.objectContaining({ total: '3' }));
    });

    it.each([
      ['status=done', /status/],
      ['status=pending&status=running', /status.*once/],
      ['limit=0', /limit/],
      ['limit=5001', /limit/],
      ['limit=-1', /limit/],
      ['limit=1.5', /limit/],
      ['limit=1e3', /limit/],
      ['limit=abc', /limit/],
      ['limit=', /limit/],
      ['limit=99999999999999999999999', /limit/],
      ['offset=-1', /offset/],
      ['offset=x', /offset/],
      ['since=6m', /since/],
      ['since=h', /since/],
      ['since=-1h', /since/],
      ['since=99999999999d', /since/],
      ['tag=nocolon', /tag/],
      ['tag=:value', /tag/],
      ['tag=a:1&tag=a:2', /twice/],
      ['func_name=' + 'x'.repeat(300), /func_name/],
      ['q=a&q=b', /q.*once/],
    ])('answers 400 to %s', async (query, message) => {
      const res = await request(h.server).get(`/tasks?${query}`).expect(400);
      expectStandardError(res.body, 400, message);
    });
  });

  it('GET /tasks/metrics is the metrics object, never a task id', async () => {
    const res = await request(h.server).get('/tasks/metrics').expect(200);
    expect(res.body).toEqual(expect.objectContaining({ total: 3, success: 2, failed: 1, cancelled: 0 }));
    expect(res.body.success_rate).toBeCloseTo(2 / 3, 3);
    expect(res.body.by_function['Jobs.ok']).toEqual(expect.objectContaining({ total: 2, success: 2 }));
  });

  it('GET /tasks/schedules and /tasks/registered', async () => {
    expect((await request(h.server).get('/tasks/schedules').expect(200)).body).toEqual([]);
    const registered = (await request(h.server).get('/tasks/registered').expect(200)).body;
    expect(registered.map((r: { name: string }) => r.name)).toEqual(['Jobs.chatty', 'Jobs.fail', 'Jobs.hold', 'Jobs.ok']);
  });

  it('lists no instances without a database, and records carry instance null', async () => {
    expect((await request(h.server).get('/tasks/instances').expect(200)).body).toEqual([]);
    const res = await request(h.server).get(`/tasks/${ok1.task_id}`).expect(200);
    expect(res.body.instance).toBeNull();
    expect(Object.keys(res.body).indexOf('instance')).toBe(Object.keys(res.body).indexOf('progress') + 1);
    expect((await request(h.server).get('/tasks').query({ instance: 'anything' }).expect(200)).body).toEqual([]);
  });

  describe('GET /tasks/:task_id', () => {
    it('returns the record', async () => {
      const res = await request(h.server).get(`/tasks/${ok1.task_id}`).expect(200);
      expect(res.body).toEqual(expect.objectContaining({ task_id: ok1.task_id, status: 'success', logs: [expect.stringMatching(/ok one$/)] }));
    });

    it.each(['3fa85f64-5717-4562-b3fc-2c963f66afa6', 'not-a-task', '%F0%9F%92%A3', '..%2F..%2Fetc', '%00', 'history', 'bulk-retry', 'retry-failed'])(
      'answers 404 to %s',
      async (id) => {
        const res = await request(h.server).get(`/tasks/${id}`).expect(404);
        expectStandardError(res.body, 404);
      },
    );

    it("answers an id longer than any task id with 404, or Fastify's router with its 414 (maxParamLength)", async () => {
      const res = await request(h.server)
        .get(`/tasks/${'a'.repeat(200)}`)
        .expect(platform === 'fastify' ? 414 : 404);
      expectStandardError(res.body, res.status);
    });

    it('answers 400 (not 500) to a broken percent-encoding', async () => {
      const res = await request(h.server).get('/tasks/%E0%A4%A').expect(400);
      expectStandardError(res.body, 400);
    });
  });

  describe('POST /tasks/:task_id/retry', () => {
    it('creates a new record and audits it with actor anonymous', async () => {
      const res = await request(h.server).post(`/tasks/${failed.task_id}/retry`).expect(200);
      expect(res.body.task_id).toMatch(UUID);
      expect(res.body.task_id).not.toBe(failed.task_id);
      expect(res.body.task).toEqual(expect.objectContaining({ task_id: res.body.task_id, func_name: 'Jobs.fail', tags: { team: 'a' } }));
      const again = await h.manager.waitFor(res.body.task_id);
      expect(again.status).toBe('failed');
      expect((await h.manager.getTask(failed.task_id))!.status).toBe('failed');
      const audit = (await request(h.server).get('/tasks/audit').expect(200)).body;
      expect(audit[0]).toEqual(expect.objectContaining({ action: 'retry', task_id: failed.task_id, actor: 'anonymous' }));
    });

    it('answers 400 for a task that did not fail, 404 for an unknown one', async () => {
      const res = await request(h.server).post(`/tasks/${ok1.task_id}/retry`).expect(400);
      expectStandardError(res.body, 400, /success/);
      expectStandardError((await request(h.server).post('/tasks/3fa85f64-5717-4562-b3fc-2c963f66afa6/retry').expect(404)).body, 404);
      expectStandardError((await request(h.server).post('/tasks/metrics/retry').expect(404)).body, 404);
    });
  });

  describe('POST /tasks/:task_id/cancel', () => {
    it('cancels a running task', async () => {
      const id = await startHeld(h.manager, `cancel-running-${platform}`);
      const res = await request(h.server).post(`/tasks/${id}/cancel`).expect(200);
      expect(res.body).toEqual({ task_id: id, task: expect.objectContaining({ task_id: id, status: 'cancelled' }) });
      const audit = (await request(h.server).get('/tasks/audit?limit=1').expect(200)).body;
      expect(audit).toEqual([expect.objectContaining({ action: 'cancel', task_id: id, actor: 'anonymous' })]);
    });

    it('answers 400 for a finished task and 404 for an unknown one', async () => {
      expectStandardError((await request(h.server).post(`/tasks/${ok2.task_id}/cancel`).expect(400)).body, 400, /cancel/);
      expectStandardError((await request(h.server).post('/tasks/nope/cancel').expect(404)).body, 404);
    });
  });

  describe('POST /tasks/bulk-retry', () => {
    it('retries failed tasks, skips the rest, processes duplicates once', async () => {
      const res = await request(h.server)
        .post('/tasks/bulk-retry')
        .send({ task_ids: [failed.task_id, failed.task_id, ok1.task_id, 'missing'] })
        .expect(200);
      expect(res.body).toEqual({
        dispatched: 1,
        skipped: 2,
        results: [{ original_task_id: failed.task_id, new_task_id: expect.stringMatching(UUID) }],
      });
      await h.manager.waitFor(res.body.results[0].new_task_id);
      const audit = (await request(h.server).get('/tasks/audit?limit=1').expect(200)).body;
      expect(audit[0]).toEqual(expect.objectContaining({ action: 'bulk_retry', task_id: 'bulk', actor: 'anonymous' }));
    });

    it('accepts an empty list', async () => {
      const res = await request(h.server).post('/tasks/bulk-retry').send({ task_ids: [] }).expect(200);
      expect(res.body).toEqual({ dispatched: 0, skipped: 0, results: [] });
    });

    it.each<[string, string | object | undefined, string | undefined]>([
      ['no body', undefined, undefined],
      ['an array', [1, 2], undefined],
      ['task_ids missing', { ids: [] }, undefined],
      ['task_ids a string', { task_ids: 'abc' }, undefined],
      ['task_ids with a number', { task_ids: ['a', 1] }, undefined],
      ['task_ids with null', { task_ids: [null] }, undefined],
      ['task_ids with an empty string', { task_ids: [''] }, undefined],
      ['task_ids with a huge string', { task_ids: ['x'.repeat(1000)] }, undefined],
      ['task_ids an object', { task_ids: { 0: 'a' } }, undefined],
      ['a __proto__ key', '{"__proto__":{"task_ids":["a"]}}', 'application/json'],
      ['a form body', 'task_ids[]=a&task_ids[]=b', 'application/x-www-form-urlencoded'],
      ['text/plain JSON', '{"task_ids":[]}', 'text/plain'],
      ['JSON null', 'null', 'application/json'],
      ['a JSON string', '"task_ids"', 'application/json'],
    ])('answers 400 to %s', async (_label, body, type) => {
      let req = request(h.server).post('/tasks/bulk-retry');
      if (type) req = req.set('Content-Type', type);
      const res = await (body === undefined ? req : req.send(body as object)).expect(400);
      expectStandardError(res.body, 400);
    });

    it('answers 400 with the standard body to malformed JSON', async () => {
      const res = await request(h.server).post('/tasks/bulk-retry').set('Content-Type', 'application/json').send('{"task_ids": [').expect(400);
      expectStandardError(res.body, 400);
    });

    it('answers 400 when given more than 5000 ids', async () => {
      const ids = Array.from({ length: 5001 }, (_, i) => `id-${i}`);
      expectStandardError((await request(h.server).post('/tasks/bulk-retry').send({ task_ids: ids }).expect(400)).body, 400, /5000/);
    });
  });

  describe('POST /tasks/retry-failed', () => {
    it('retries failures inside the window once', async () => {
      const fresh = await runToEnd(h.manager, 'Jobs.fail', 'window');
      const res = await request(h.server).post('/tasks/retry-failed?since=1h&func_name=Jobs.fail').expect(200);
      expect(res.body.results).toEqual(expect.arrayContaining([{ original_task_id: fresh.task_id, new_task_id: expect.stringMatching(UUID) }]));
      await Promise.all(res.body.results.map((r: { new_task_id: string }) => h.manager.waitFor(r.new_task_id)));
      const audit = (await request(h.server).get('/tasks/audit?limit=1').expect(200)).body;
      expect(audit[0]).toEqual(expect.objectContaining({ action: 'bulk_retry', task_id: 'bulk', actor: 'anonymous' }));
    });

    it('with since=0h retries nothing; default since is accepted', async () => {
      expect((await request(h.server).post('/tasks/retry-failed?since=0h').expect(200)).body).toEqual({ dispatched: 0, skipped: 0, results: [] });
      await request(h.server).post('/tasks/retry-failed?func_name=Nope.nothing').expect(200);
    });

    it.each(['since=6m', 'since=', 'since=all&since=1h', 'since=1.5h', 'since=%00'])('answers 400 to %s', async (query) => {
      expectStandardError((await request(h.server).post(`/tasks/retry-failed?${query}`).expect(400)).body, 400, /since/);
    });
  });

  describe('DELETE /tasks/history', () => {
    it.each([
      ['', /unit/],
      ['unit=day', /value/],
      ['value=1', /unit/],
      ['value=1&unit=week', /unit/],
      ['value=0&unit=day', /value/],
      ['value=-3&unit=day', /value/],
      ['value=1.5&unit=hour', /value/],
      ['value=abc&unit=min', /value/],
      ['value=36501&unit=day', /value/],
      ['value=1&unit=day&unit=hour', /unit.*once/],
    ])('answers 400 to "%s"', async (query, message) => {
      expectStandardError((await request(h.server).delete(`/tasks/history?${query}`).expect(400)).body, 400, message);
    });

    it('keeps records that ended inside the window and audits the call', async () => {
      expect((await request(h.server).delete('/tasks/history?value=1&unit=day').expect(200)).body).toEqual({ deleted: 0, store: 0, backend: 0 });
      const audit = (await request(h.server).get('/tasks/audit?limit=1').expect(200)).body;
      expect(audit[0]).toEqual(expect.objectContaining({ action: 'delete_history', task_id: null, actor: 'anonymous' }));
      expect((await request(h.server).get(`/tasks/${ok1.task_id}`).expect(200)).body.task_id).toBe(ok1.task_id);
    });

    it('GET /tasks/history is not a route', async () => {
      expectStandardError((await request(h.server).get('/tasks/history').expect(404)).body, 404);
    });
  });

  it('answers 404 on the auth routes when auth is off', async () => {
    expectStandardError((await request(h.server).get('/tasks/auth/login').expect(404)).body, 404);
    expectStandardError((await request(h.server).post('/tasks/auth/login').send({ username: 'a', password: 'b' }).expect(404)).body, 404);
    expectStandardError((await request(h.server).get('/tasks/auth/logout').expect(404)).body, 404);
  });

  it('serves the dashboard placeholder with the title escaped and a strict CSP', async () => {
    const res = await request(h.server).get('/tasks/dashboard').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Ops &lt;b&gt;&amp;&lt;/b&gt;');
    expect(res.text).not.toContain('<b>&</b>');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
    expect(res.text).not.toMatch(/https?:\/\//);
  });

  it('answers a wrong method on a fixed path with 404, not 500', async () => {
    expectStandardError((await request(h.server).post('/tasks/metrics').expect(404)).body, 404);
    expectStandardError((await request(h.server).put('/tasks').expect(404)).body, 404);
  });
});

describeEachPlatform('REST API on a nested path (/admin/jobs) with displayFuncArgs', (platform) => {
  let h: HttpApp;
  beforeAll(async () => {
    h = await createHttpApp({ path: '/admin/jobs/', displayFuncArgs: true }, { platform });
  });
  afterAll(() => h.close());

  it('mounts every route under the nested path', async () => {
    const done = await runToEnd(h.manager, 'Jobs.fail', 'nested');
    const list = await request(h.server).get('/admin/jobs').expect(200);
    expect(list.body).toEqual([expect.objectContaining({ task_id: done.task_id, args: ['nested'] })]);
    await request(h.server).get('/admin/jobs/metrics').expect(200);
    await request(h.server).get('/admin/jobs/audit').expect(200);
    await request(h.server).get('/admin/jobs/schedules').expect(200);
    await request(h.server).get(`/admin/jobs/${done.task_id}`).expect(200);
    const retry = await request(h.server).post(`/admin/jobs/${done.task_id}/retry`).expect(200);
    await h.manager.waitFor(retry.body.task_id);
    await request(h.server).post('/admin/jobs/bulk-retry').send({ task_ids: [] }).expect(200);
    await request(h.server).post('/admin/jobs/retry-failed?since=all').expect(200);
    await request(h.server).delete('/admin/jobs/history?value=1&unit=min').expect(200);
    await request(h.server).get('/admin/jobs/dashboard').expect(200);
    await request(h.server).get('/tasks').expect(404);
    await request(h.server).get('/admin/jobs/auth/login').expect(404);
  });

  it('cancels a pending task behind a held one', async () => {
    const held = await startHeld(h.manager, `nested-hold-${platform}`);
    const res = await request(h.server).post(`/admin/jobs/${held}/cancel`).expect(200);
    expect(res.body.task.status).toBe('cancelled');
    gate(`nested-hold-${platform}`).open();
  });
});

describeEachPlatform('two apps with different paths in one process', (platform) => {
  it('keeps their routes apart', async () => {
    const a = await createHttpApp({ path: '/one' }, { platform });
    const b = await createHttpApp({ path: '/two/deep' }, { platform });
    try {
      await request(a.server).get('/one').expect(200);
      await request(a.server).get('/two/deep').expect(404);
      await request(b.server).get('/two/deep').expect(200);
      await request(b.server).get('/one').expect(404);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
