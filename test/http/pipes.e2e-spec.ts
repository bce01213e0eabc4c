import request from 'supertest';
import { HttpApp, createHttpApp } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';

/** What the pipes need from the request, checked through HTTP: the path of an unknown route, the content type of a body. */
describeEachPlatform('pipes behind the admin routes', (platform) => {
  let h: HttpApp;

  beforeAll(async () => {
    // On Fastify with express's 100 kB limit, so that bulk-retry's own 1 MB is what lets the 5,000 ids in.
    h = await createHttpApp({}, { platform, fastifyBodyLimit: 100 * 1024, configure: (app) => app.setGlobalPrefix('api') });
  });
  afterAll(() => h.close());

  it('answers a fixed route name taken as a task id as Nest answers an unknown route', async () => {
    const res = await request(h.server).post('/api/tasks/metrics/retry?x=1').expect(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot POST /api/tasks/metrics/retry' });
    const get = await request(h.server).get('/api/tasks/bulk-retry').expect(404);
    expect(get.body.message).toBe('Cannot GET /api/tasks/bulk-retry');
  });

  it('answers an id that cannot be one without echoing it', async () => {
    const res = await request(h.server).get('/api/tasks/..%2F..%2Fetc').expect(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Task not found' });
  });

  it('gives bulk-retry a form body as no body at all', async () => {
    const res = await request(h.server).post('/api/tasks/bulk-retry').type('form').send('task_ids=a&task_ids=b').expect(400);
    expect(res.body.message).toBe('Request body must be a JSON object {"task_ids": [string, ...]} sent as application/json');
  });

  it('reads large bulk-retry bodies under a global prefix too', async () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `${'x'.repeat(120)}-${i}`);
    const res = await request(h.server).post('/api/tasks/bulk-retry').send({ task_ids: ids }).expect(200);
    expect(res.body).toEqual({ dispatched: 0, skipped: 5000, results: [] });
    const big = await request(h.server)
      .post('/api/tasks/retry-failed')
      .send({ pad: 'x'.repeat(200 * 1024) })
      .expect(413);
    expect(big.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
  });
});
