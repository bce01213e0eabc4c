import { LoggerService } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { HttpApp, createHttpApp } from '../support/http-app';

/** Keeps what the app logs at error level, to check that client mistakes are not logged as failures. */
class CapturingLogger implements LoggerService {
  readonly errors: unknown[][] = [];
  log(): void {}
  warn(): void {}
  debug(): void {}
  verbose(): void {}
  error(...params: unknown[]): void {
    this.errors.push(params);
  }
}

const hasStack = (params: unknown[]) => params.some((p) => p instanceof Error || (typeof p === 'string' && /\n\s+at /.test(p)));

describe('body parser errors on the admin routes', () => {
  let h: HttpApp;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    h = await createHttpApp({}, { logger });
  });
  afterAll(() => h.close());
  beforeEach(() => logger.errors.splice(0));

  it("answers 50 oversized bodies with 413 in Nest's body and logs no error with a stack", async () => {
    const big = JSON.stringify({ task_ids: ['x'.repeat(2 * 1024 * 1024)] });
    for (let i = 0; i < 50; i++) {
      const res = await request(h.server).post('/tasks/bulk-retry').set('Content-Type', 'application/json').send(big).expect(413);
      expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
    }
    expect(logger.errors.filter(hasStack)).toEqual([]);
    expect(logger.errors).toEqual([]);
  });

  it('answers a form body over the limit with 413 too', async () => {
    const res = await request(h.server)
      .post('/tasks/auth/login')
      .type('form')
      .send(`username=${'a'.repeat(200 * 1024)}&password=x`)
      .expect(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
    expect(logger.errors).toEqual([]);
  });

  it('answers an unsupported charset or content encoding with 415 and logs nothing', async () => {
    const charset = await request(h.server)
      .post('/tasks/bulk-retry')
      .set('Content-Type', 'application/json; charset=klingon')
      .send('{"task_ids":[]}')
      .expect(415);
    expect(charset.body).toEqual({ statusCode: 415, error: 'Unsupported Media Type', message: expect.stringMatching(/charset/) });
    const encoding = await request(h.server)
      .post('/tasks/bulk-retry')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'klingon')
      .send('{"task_ids":[]}')
      .expect(415);
    expect(encoding.body).toEqual({ statusCode: 415, error: 'Unsupported Media Type', message: expect.any(String) });
    expect(logger.errors).toEqual([]);
  });

  it('answers malformed JSON with 400 and logs nothing', async () => {
    const res = await request(h.server).post('/tasks/bulk-retry').set('Content-Type', 'application/json').send('{"task_ids": [').expect(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    expect(logger.errors).toEqual([]);
  });

  it('accepts 5,000 UUIDs in one bulk-retry body and refuses 5,001 with the cap message', async () => {
    const ids = Array.from({ length: 5000 }, () => randomUUID());
    const accepted = await request(h.server).post('/tasks/bulk-retry').send({ task_ids: ids }).expect(200);
    expect(accepted.body).toEqual({ dispatched: 0, skipped: 5000, results: [] });
    const refused = await request(h.server)
      .post('/tasks/bulk-retry')
      .send({ task_ids: [...ids, randomUUID()] })
      .expect(400);
    expect(refused.body).toEqual({ statusCode: 400, error: 'Bad Request', message: '"task_ids" must be an array of at most 5000 strings' });
  });

  it('keeps the default limit on the other routes', async () => {
    const res = await request(h.server)
      .post('/tasks/retry-failed')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ pad: 'x'.repeat(200 * 1024) }))
      .expect(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
  });
});
